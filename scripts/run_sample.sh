#!/usr/bin/env bash
# `make run`: the main job on the default sample corpus. Builds the SlimPajama-style sample corpus
# (.jsonl.zst, four domains; scripts/make_sample_corpus.py) and runs the data pipeline on it with
# `longctx prepare examples/sample.json`: ingest (LLaMA-2 tokenizer) -> length statistics ->
# per-source upsampling -> 64K sequences in the paper's JSONL schema -> report. Outputs go to
# out/sample/ (git-ignored). A rerun resumes: complete stages are verified and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=out/sample
CORPUS=$OUT/slimpajama_sample.jsonl.zst
mkdir -p "$OUT"
if [[ ! -s $CORPUS || scripts/make_sample_corpus.py -nt $CORPUS || scripts/corpus_sources.py -nt $CORPUS ]]; then
  /usr/bin/python3 scripts/make_sample_corpus.py . "$CORPUS"
  rm -rf "$OUT/run"  # a new corpus: the old run describes other inputs
fi
# A plan made before exact budgets (no "exact_budgets" in plan.json) is refused by prepare as made
# with other settings: redo the stages from mix on (the store is kept).
if [[ -s $OUT/run/plan/plan.json ]] && ! grep -q '"exact_budgets"' "$OUT/run/plan/plan.json"; then
  rm -rf "$OUT/run/plan" "$OUT/run/packed" "$OUT/run/report.json" "$OUT/run/report.html"
fi
echo "sample corpus: $CORPUS ($(du -h "$CORPUS" | cut -f1) compressed, $(zstd -dc "$CORPUS" | wc -l) documents)"
"$BUILD/longctx" prepare examples/sample.json
"$BUILD/longctx" stats "$OUT/run/store"
echo "outputs: $OUT/run/{store,plan,packed}/, stats.json, report.json; open $OUT/run/report.html"
