#!/usr/bin/env bash
# `make run`: the main job on the default sample corpus. Until ingest/mix/pack land, that is:
# build the SlimPajama-style sample corpus (.jsonl.zst, four domains; scripts/make_sample_corpus.py)
# and tokenize it with each shipped tokenizer, printing throughput. Outputs go to out/sample/
# (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=out/sample
CORPUS=$OUT/slimpajama_sample.jsonl.zst
mkdir -p "$OUT"
if [[ ! -s $CORPUS || scripts/make_sample_corpus.py -nt $CORPUS ]]; then
  /usr/bin/python3 scripts/make_sample_corpus.py . "$CORPUS"
fi
echo "sample corpus: $CORPUS ($(du -h "$CORPUS" | cut -f1) compressed, $(zstd -dc "$CORPUS" | wc -l) documents)"
for t in llama2 mistral llama3; do
  "$BUILD/longctx" tokenize --tokenizer "data/tokenizers/$t/tokenizer.json" --out "$OUT/$t.ids" "$CORPUS" 2>&1 |
    sed "s/^tokenize:/$t:/"
done
echo "token ids (one JSON array per document): $OUT/{llama2,mistral,llama3}.ids"
