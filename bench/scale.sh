#!/usr/bin/env bash
# The scale run (issue 15; not part of `make test`): a SlimPajama-shaped corpus
# (bench/make_slimpajama_like.py) through the whole data pipeline, with per-stage time,
# throughput and peak RSS, and a sample of documents and packed sequences checked against a direct
# `longctx tokenize` of their source lines by an independent reader (bench/scale_check.py).
# Memory: peak anonymous memory of the process tree (what the stage allocates) and, apart, its
# peak file-backed resident memory (the memory-mapped store and outputs: page cache).
#
#   bench/scale.sh [BUILD]        SIZE=20G (corpus JSONL bytes) TOKENS=1B (mixture) SEQ=80K
#                                 RANKS=2 MAX_REPEAT=3 WORK=/tmp/longctx-scale KEEP=0 REUSE_STORE=0
#
# MAX_REPEAT: per-source keeps a short document with probability 0.1, so a domain of short
# documents (C4: median 315 tokens) needs about 10x its budget in scanned tokens; SlimPajama has
# that for the paper's 5B (627B scanned), a 20 GB corpus (~5G tokens) does not for 1B, so such
# domains may take up to MAX_REPEAT passes (the plan records how many they took).
#
# Stages: generate, ingest (RANKS MPI ranks), stats, mix (per-source, TOKENS), pack (SEQ; megatron
# and jsonl.zst), verify (store, plan, both outputs), one train step reading the megatron output and
# eval-loss of one jsonl.zst sequence (a one-layer model). The table goes to stdout and WORK/scale.md; everything
# but the table is removed at the end unless KEEP=1 (about 2.5 x SIZE of disk while it runs).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
L=$(realpath "$BUILD/longctx")
SIZE=${SIZE:-20G} TOKENS=${TOKENS:-1B} SEQ=${SEQ:-80K} RANKS=${RANKS:-2} MAX_REPEAT=${MAX_REPEAT:-3}
WORK=${WORK:-/tmp/longctx-scale} KEEP=${KEEP:-0}
TOK=data/tokenizers/llama2/tokenizer.json
mkdir -p "$WORK"
TABLE=$WORK/scale.md
echo "| stage | input | seconds | throughput | peak anonymous memory | peak file-backed (mmap, page cache) |" > "$TABLE"
echo "|---|---|---|---|---|---|" >> "$TABLE"

# stage NAME INPUT_DESCRIPTION UNITS_FOR_THROUGHPUT UNIT_NAME -- COMMAND...: runs it under
# bench/peak_mem.py (peak anonymous and file-backed memory of the whole process tree, mpirun's
# ranks included) and adds a row.
stage() {
  local name=$1 input=$2 units=$3 unit=$4
  shift 5
  echo "== $name: $*" >&2
  /usr/bin/python3 bench/peak_mem.py "$WORK/$name.mem" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || { cat "$WORK/$name.err" >&2; exit 1; }
  /usr/bin/python3 - "$WORK/$name.mem" "$name" "$input" "$units" "$unit" <<'PY' | tee -a "$TABLE"
import json, sys
m = json.load(open(sys.argv[1]))
name, what, units, unit = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
rate = f"{units / m['seconds'] / 1e6:.1f} M{unit}/s" if units and units / m["seconds"] >= 1e6 else (f"{units / m['seconds']:.0f} {unit}/s" if units else "-")
print(f"| {name} | {what} | {m['seconds']:.1f} | {rate} | {m['anon_bytes'] / 2**20:.0f} MB | {m['file_bytes'] / 2**20:.0f} MB |")
PY
}
bytes_of() { du -sb "$1" | cut -f1; }

# 1. The corpus (kept between runs of the same size: generating is not what is measured).
CORPUS=$WORK/corpus-$SIZE
if [[ ! -f $CORPUS/.done ]]; then
  /usr/bin/python3 bench/make_slimpajama_like.py "$CORPUS" --bytes "$SIZE" --build "$BUILD" --procs "$(nproc)" > "$WORK/generate.json"
  touch "$CORPUS/.done"
fi
RAW=$(/usr/bin/python3 -c "import json; print(json.load(open('$WORK/generate.json'))['bytes_written_now'])" 2>/dev/null || echo 0)
[[ $RAW -gt 0 ]] || RAW=$(( $(numfmt --from=iec "$SIZE") ))

# REUSE_STORE=1 keeps a complete store from an earlier run (no ingest row): for rerunning the later stages.
if [[ ${REUSE_STORE:-0} == 1 && -s $WORK/store/manifest.json ]]; then
  rm -rf "$WORK/plan" "$WORK/megatron" "$WORK/jsonl" "$WORK/train"
else
  rm -rf "$WORK/store" "$WORK/plan" "$WORK/megatron" "$WORK/jsonl" "$WORK/train"
  stage ingest "$SIZE JSONL (zstd), $RANKS ranks" "$RAW" B -- mpirun --allow-run-as-root --oversubscribe -n "$RANKS" \
    "$L" ingest "$CORPUS" --tokenizer "$TOK" --domain-field meta.redpajama_set_name --out "$WORK/store" --threads 1 --quiet
fi
STORE_TOKENS=$("$L" stats "$WORK/store" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')
stage stats "$STORE_TOKENS tokens" "$STORE_TOKENS" tok -- "$L" stats "$WORK/store" --json
stage mix "per-source, $TOKENS of $STORE_TOKENS" "$STORE_TOKENS" tok -- "$L" mix "$WORK/store" --strategy per-source --tokens "$TOKENS" --seed 1 \
  --max-repeat "$MAX_REPEAT" --out "$WORK/plan" --quiet
PLAN_TOKENS=$(/usr/bin/python3 -c "import json; print(json.load(open('$WORK/plan/plan.json'))['tokens'])")
stage pack-megatron "$PLAN_TOKENS tokens, L=$SEQ" "$PLAN_TOKENS" tok -- "$L" pack "$WORK/plan" --seq-len "$SEQ" --format megatron --out "$WORK/megatron" --quiet
stage pack-jsonl.zst "$PLAN_TOKENS tokens, L=$SEQ" "$PLAN_TOKENS" tok -- "$L" pack "$WORK/plan" --seq-len "$SEQ" --format jsonl.zst --out "$WORK/jsonl" --quiet
stage verify-store "$(bytes_of "$WORK/store") bytes" "$(bytes_of "$WORK/store")" B -- "$L" verify "$WORK/store"
stage verify-plan "$PLAN_TOKENS tokens" 0 - -- "$L" verify "$WORK/plan"
stage verify-megatron "$(bytes_of "$WORK/megatron") bytes" "$(bytes_of "$WORK/megatron")" B -- "$L" verify "$WORK/megatron"
stage verify-jsonl.zst "$(bytes_of "$WORK/jsonl") bytes" "$(bytes_of "$WORK/jsonl")" B -- "$L" verify "$WORK/jsonl"

# A tiny model (one layer: at 80K tokens attention is T^2 work even for it, minutes on two cores),
# trained one step on the packed output (read through mmap), then evaluated on one sequence.
cat > "$WORK/tiny.json" <<JSON
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64,
 "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 131072,
 "rms_norm_eps": 1e-5, "rope_theta": 5000000.0, "tie_word_embeddings": true}
JSON
L_TOK=$(/usr/bin/python3 -c "import json; print(json.load(open('$WORK/megatron/manifest.json'))['seq_len'])")
stage train-1-step "megatron, 1 x $L_TOK tokens" "$L_TOK" tok -- "$L" train --data "$WORK/megatron" --config "$WORK/tiny.json" --out "$WORK/train" \
  --steps 1 --batch-tokens "$L_TOK" --micro-batch 1 --quiet
stage eval-loss "jsonl.zst, 1 x $L_TOK tokens" "$L_TOK" tok -- "$L" eval-loss --model "$WORK/train" --data "$WORK/jsonl" --max-sequences 1 --json

# Independent check of a random sample against direct tokenization of the source lines.
/usr/bin/python3 bench/scale_check.py "$BUILD" "$CORPUS" "$WORK/store" "$WORK/megatron" "$TOK" | tee -a "$TABLE"
echo "table: $TABLE"
if [[ $KEEP != 1 ]]; then rm -rf "$WORK/store" "$WORK/plan" "$WORK/megatron" "$WORK/jsonl" "$WORK/train" "$CORPUS"; fi
