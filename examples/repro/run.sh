#!/usr/bin/env bash
# The paper's experiment (Fu et al. 2024, "Data Engineering for Scaling Language Models to 128K
# Context") at a size two CPU cores afford in well under an hour:
#
#   1. pretrain a ~5M-parameter LLaMA on short sequences (T0 = 512) of the sample corpus;
#   2. from that checkpoint, continue at 8x the length (T1 = 4096) with a 10x RoPE base (ABF),
#      (a) on the original mixture and (b) on per-source length-upsampled data, same token budget;
#   3. evaluate the pretrained model and both continuations: needle-in-a-haystack at lengths up to
#      T1, and validation loss per domain x document-length bin on held-out documents;
#   4. one report: the training curves, the three heatmaps, a Table-5-style loss table.
#
# usage: examples/repro/run.sh [BUILD]   (`make repro`; outputs in out/repro/, a rerun resumes)
# Every size below can be overridden from the environment, e.g. PRE_STEPS=100 examples/repro/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
L="$BUILD/longctx"
OUT=${OUT:-out/repro}
TOK=data/tokenizers/llama2/tokenizer.json
T0=${T0:-512} T1=${T1:-4096}
PRE_STEPS=${PRE_STEPS:-400} PRE_BATCH=${PRE_BATCH:-8192} PRE_LR=${PRE_LR:-2e-3}
CONT_STEPS=${CONT_STEPS:-48} CONT_BATCH=${CONT_BATCH:-16384} CONT_LR=${CONT_LR:-3e-4}
THETA0=${THETA0:-10000} THETA1=${THETA1:-100000}
SEED=${SEED:-20240215}
mkdir -p "$OUT"
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)"; }

# Held-out documents: every 10th line of the sample corpus is validation, the rest is training.
# The book domain is left out: it is one 320K-token document (Moby-Dick), which can be neither
# held out nor sampled in proportion (kept whole it is 40% of a continuation's budget on its own);
# it stays the needle haystack, text the models never trained on, as the paper's essays.
CORPUS=out/sample/slimpajama_sample.jsonl.zst
EXCLUDE=${EXCLUDE:-RedPajamaBook}
if [[ ! -s $CORPUS ]]; then /usr/bin/python3 scripts/make_sample_corpus.py . "$CORPUS"; fi
for split in train val; do
  if [[ ! -s $OUT/corpus/$split.jsonl ]]; then
    mkdir -p "$OUT/corpus"
    if [[ $split == val ]]; then keep='NR % 10 == 0'; else keep='NR % 10 != 0'; fi
    zstd -dc "$CORPUS" | awk "$keep" | { if [[ -n $EXCLUDE ]]; then grep -vF "\"$EXCLUDE\"" || true; else cat; fi; } \
      > "$OUT/corpus/$split.jsonl.tmp" && mv "$OUT/corpus/$split.jsonl.tmp" "$OUT/corpus/$split.jsonl"
  fi
  step "ingest $split"
  [[ -s $OUT/$split-store/manifest.json ]] || "$L" ingest "$OUT/corpus/$split.jsonl" --tokenizer "$TOK" --out "$OUT/$split-store" --quiet
done

# mix + pack once per data set (skipped when complete).
data() {  # NAME STORE SEQ_LEN MIX-ARGS...
  local name=$1 store=$2 len=$3
  shift 3
  [[ -s $OUT/$name/manifest.json ]] && return
  "$L" mix "$store" "$@" --seed "$SEED" -o "$OUT/$name-plan" -q
  "$L" pack "$OUT/$name-plan" --seq-len "$len" --format flat --out "$OUT/$name" -q
}
step "data"
data pre-data "$OUT/train-store" "$T0" --strategy original --tokens "$(( PRE_STEPS * PRE_BATCH / 2 + T0 ))" 
# The same token budget for both continuations; per-source keeps each domain's share and
# upsamples documents longer than the pretraining length inside it (the paper: longer than 4K).
CONT_TOKENS=$(( CONT_STEPS * CONT_BATCH + T1 ))
data cont-original "$OUT/train-store" "$T1" --strategy original --tokens "$CONT_TOKENS"
data cont-per-source "$OUT/train-store" "$T1" --strategy per-source --long-threshold "$T0" --tokens "$CONT_TOKENS"
data val "$OUT/val-store" "$T1" --strategy original --tokens "$("$L" stats "$OUT/val-store" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"] - 1)')"
"$L" stats "$OUT/train-store" --long-threshold "$T0" > "$OUT/train-stats.txt"

cat > "$OUT/model.json" <<JSON
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000, "hidden_size": 128,
 "intermediate_size": 384, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 4,
 "max_position_embeddings": $T0, "rms_norm_eps": 1e-5, "rope_theta": $THETA0, "tie_word_embeddings": true,
 "bos_token_id": 1, "eos_token_id": 2}
JSON

# 1. Pretraining: two passes over the short-sequence data, cosine schedule (data repeats: the
# sample corpus is 2.6M tokens).
step "pretrain: $PRE_STEPS steps x $PRE_BATCH tokens at T=$T0"
"$L" train --data "$OUT/pre-data" --config "$OUT/model.json" --out "$OUT/base" --log "$OUT/base.log" \
  --steps "$PRE_STEPS" --batch-tokens "$PRE_BATCH" --lr "$PRE_LR" --schedule cosine --warmup 20 --min-lr-ratio 0.1 \
  --weight-decay 0.1 --beta2 0.95 --seed "$SEED" --save-every 50 --resume

# 2. Continual pretraining at 8x the length with a 10x RoPE base, constant LR (the paper's recipe).
for mix in original per-source; do
  step "continue on $mix: $CONT_STEPS steps x $CONT_BATCH tokens at T=$T1, rope_theta $THETA1"
  "$L" train --data "$OUT/cont-$mix" --init "$OUT/base" --out "$OUT/cont-$mix-model" --log "$OUT/cont-$mix.log" \
    --steps "$CONT_STEPS" --batch-tokens "$CONT_BATCH" --lr "$CONT_LR" --schedule constant --warmup 5 --weight-decay 0.1 \
    --beta2 0.95 --rope-theta "$THETA1" --max-position "$T1" --seed "$SEED" --save-every 10 --resume
done

# 3. Evaluation: needle (lengths up to T1, 5 depths) and loss per domain x length bin.
LENGTHS=$(/usr/bin/python3 -c "print(','.join(str($T1 * k // 8) for k in range(1, 9)))")
POSITIONS="$T0,$(( 2 * T0 )),$(( 4 * T0 )),$T1"  # loss by position: within the pretraining length, then each doubling
for m in base cont-original cont-per-source; do
  dir=$OUT/$m; [[ $m == base ]] || dir=$OUT/$m-model
  step "evaluate $m"
  "$L" needle --model "$dir" --tokenizer "$TOK" --out "$OUT/needle-$m" --lengths "$LENGTHS" --depths 0,25,50,75,100 \
    --answer-prefix " The best thing to do in San Francisco is" --train-length "$T0" --quiet
  "$L" eval-loss --model "$dir" --data "$OUT/val" --bins "0,$T0,4K" --positions "$POSITIONS" --json > "$OUT/loss-$m.json.tmp"
  mv "$OUT/loss-$m.json.tmp" "$OUT/loss-$m.json"
done
"$L" eval-loss --model "$OUT/cont-per-source-model" --data "$OUT/val" --bins "0,$T0,4K" --positions "$POSITIONS" --baseline "$OUT/loss-cont-original.json" \
  > "$OUT/table5.txt"

step "report"
"$L" report "$OUT/needle-base" "$OUT/needle-cont-original" "$OUT/needle-cont-per-source" --train-length "$T0" \
  --loss "original=$OUT/loss-cont-original.json" --loss "per-source=$OUT/loss-cont-per-source.json" --loss "base (no continual)=$OUT/loss-base.json" \
  --train-log "pretrain (T $T0)=$OUT/base.log" --train-log "original (T $T1)=$OUT/cont-original.log" \
  --train-log "per-source (T $T1)=$OUT/cont-per-source.log" \
  --title "longctx repro: continual pretraining 8x longer, original vs per-source mixture" \
  --note "Pretrained at T=$T0 (rope_theta $THETA0) for $PRE_STEPS steps of $PRE_BATCH tokens; continued at T=$T1 with rope_theta $THETA1 for $CONT_STEPS steps of $CONT_BATCH tokens on each mixture (same budget). Validation: every 10th document of the sample corpus, held out." \
  -o "$OUT/report.html"
cat "$OUT/table5.txt"
step "done: open $OUT/report.html"
