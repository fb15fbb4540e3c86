#!/usr/bin/env bash
# `make run`: the main job on the default sample corpus. So far: build the SlimPajama-style sample
# corpus (.jsonl.zst, four domains; scripts/make_sample_corpus.py), ingest it into a document store
# with the LLaMA-2 tokenizer (the paper's), and measure it: the per-domain length table on stdout,
# the HTML report beside the store. Outputs go to out/sample/ (git-ignored). Rerunning is cheap:
# an ingest whose store is complete does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=out/sample
CORPUS=$OUT/slimpajama_sample.jsonl.zst
STORE=$OUT/store-llama2
mkdir -p "$OUT"
if [[ ! -s $CORPUS || scripts/make_sample_corpus.py -nt $CORPUS ]]; then
  /usr/bin/python3 scripts/make_sample_corpus.py . "$CORPUS"
  rm -rf "$STORE"  # a new corpus: the old store describes other inputs
fi
echo "sample corpus: $CORPUS ($(du -h "$CORPUS" | cut -f1) compressed, $(zstd -dc "$CORPUS" | wc -l) documents)"
"$BUILD/longctx" ingest --tokenizer data/tokenizers/llama2/tokenizer.json --out "$STORE" "$CORPUS"
"$BUILD/longctx" stats "$STORE" --report "$OUT/report.html"
echo "store: $STORE (Megatron-LM data.bin/.idx, docs.bin sidecar, manifest.json); report: $OUT/report.html"
