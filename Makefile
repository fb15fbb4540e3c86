# The README's commands. Each runs scripts/setup.sh first (installs what is missing, idempotent).
BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)

.PHONY: build run test bench repro setup clean format

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job on the default sample corpus.
run: build
	@bash scripts/run_sample.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@/usr/bin/python3 bench/tokenizer_vs_hf.py --build $(BUILD)
	@/usr/bin/python3 bench/ingest_vs_tokenize.py --build $(BUILD)
	@/usr/bin/python3 bench/mix_pack_bench.py --build $(BUILD)
	@$(BUILD)/bench/bench_model --memory-context 8192
	@/usr/bin/python3 bench/needle_grid_bench.py --build $(BUILD)
	@/usr/bin/python3 bench/train_vs_torch.py $(BUILD)
	@/usr/bin/python3 bench/arch_cost.py --build $(BUILD)

# The paper's experiment at CPU scale (examples/repro/README.md): ~40 minutes on 2 cores.
repro: build
	@bash examples/repro/run.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
