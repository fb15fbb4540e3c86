# The README's commands. Each runs scripts/setup.sh first (installs what is missing, idempotent).
BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)

.PHONY: build run test test-sanitize test-tsan fuzz bench repro setup clean format python

setup:
	@bash scripts/setup.sh

# The tokenize path is built profile-guided (scripts/pgo_profile.sh; LONGCTX_PGO=0: without).
PGO_PROFILE = $(if $(filter 0,$(LONGCTX_PGO)),,$(abspath $(BUILD))/pgo/profile)
build: setup
	@LONGCTX_PGO=$(LONGCTX_PGO) JOBS=$(JOBS) bash scripts/pgo_profile.sh $(BUILD)
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DLONGCTX_PGO_USE=$$([ -n "$(PGO_PROFILE)" ] && [ -f "$(PGO_PROFILE)/stamp" ] && echo "$(PGO_PROFILE)") >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job on the default sample corpus.
run: build
	@bash scripts/run_sample.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The Python package (python/longctx + the _longctx extension): built into $(BUILD)/python by
# `make build`; this installs it with pip (no network; PEP 668: into the system site as root).
python: build
	@/usr/bin/python3 -m pip install --no-build-isolation --no-deps --break-system-packages --quiet . && \
	  /usr/bin/python3 -c "import longctx; print('longctx', longctx.__file__)"

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (g++, build-asan; README.md:
# "Sanitizers and fuzzing"). SANITIZE_EXCLUDE: a ctest -E regex of tests left out (none by default).
ASAN_BUILD ?= build-asan
# -fno-sanitize=alignment: Megatron .idx arrays start at byte 34 and are read in place (src/store/megatron.cpp).
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-sanitize=alignment -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g
SANITIZE_EXCLUDE ?=
test-sanitize: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Release -DLONGCTX_BUILD_BENCH=ON \
	  -DCMAKE_CXX_FLAGS="$(SANITIZE_FLAGS)" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) $(if $(SANITIZE_EXCLUDE),-E '$(SANITIZE_EXCLUDE)')

# ThreadSanitizer on the threaded parts (g++ -fsanitize=thread, build-tsan): tokenize and ingest
# with threads, mix + pack with --threads, the trainer with --threads 2, serve with concurrent
# clients. TSAN_TESTS: the ctest -R regex; tests/tsan.supp leaves out OpenBLAS's own threads (not
# instrumented).
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= ^(cli_tokenize|cli_ingest|cli_mix_pack|train_bare_jsonl|train_checkpoint_integrity|serve_http|serve_load)$$
test-tsan: setup
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Release -DLONGCTX_BUILD_BENCH=OFF -DLONGCTX_PYTHON=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer -g" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target longctx make_synthetic_store
	@cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

# libFuzzer harnesses (tests/fuzz/README.md), clang++ with ASan + UBSan in build-fuzz, each run for
# FUZZ_SECONDS; FUZZ_HARNESSES picks some. Needs Debian's clang (installed here if missing).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES ?= model_config safetensors tokenizer_json encode decode json_document byte_source store_manifest store \
  serve report_inputs plan packed checkpoint bookqa
fuzz: setup
	@command -v clang++ >/dev/null && ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y --no-install-recommends clang libclang-rt-14-dev; }
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DLONGCTX_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_HARNESSES))
	@bash tests/fuzz/run_fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

bench: build
	@/usr/bin/python3 bench/tokenizer_vs_hf.py --build $(BUILD)
	@/usr/bin/python3 bench/ingest_vs_tokenize.py --build $(BUILD)
	@/usr/bin/python3 bench/mix_pack_bench.py --build $(BUILD)
	@$(BUILD)/bench/bench_model --memory-context 8192
	@/usr/bin/python3 bench/needle_grid_bench.py --build $(BUILD)
	@/usr/bin/python3 bench/train_vs_torch.py $(BUILD)
	@/usr/bin/python3 bench/arch_cost.py --build $(BUILD)
	@/usr/bin/python3 bench/python_package.py --build $(BUILD)

# The paper's Table 5 mixtures at CPU scale, 3 seeds each (examples/repro/README.md): ~80 minutes on 2 cores.
repro: build
	@bash examples/repro/run.sh $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
