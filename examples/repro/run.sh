#!/usr/bin/env bash
# The paper's experiment (Fu et al. 2024, "Data Engineering for Scaling Language Models to 128K
# Context") at a size two CPU cores afford: its Table 5 comparison of data mixtures, with seeds.
#
#   1. pretrain a ~5M-parameter LLaMA on short sequences (T0 = 512) of the sample corpus;
#   2. from that checkpoint, continue at 8x the length (T1 = 4096) with a 10x RoPE base (ABF) on
#      each mixture of STRATEGIES (original, per-source, global, upsample book / code, cut at T0),
#      every one on the same number of training tokens, SEEDS times each (seed = the mixture's
#      sampling, the packing order and the training data order);
#   3. one longer per-source run, checkpoints at 1/4, 1/2, 1 and 2 x the budget (the Figure 3 curve);
#   4. evaluate: validation loss per domain x document-length bin and by position (every run and
#      checkpoint), needle-in-a-haystack (the pretrained model and the first seed of each mixture);
#   5. one report: training curves, Table 5 with the seeds' spreads, the curve, the heatmaps;
#      table5.txt is the table as text.
#
# usage: examples/repro/run.sh [BUILD]   (`make repro`; outputs in out/repro/, a rerun resumes)
# Every size below can be overridden from the environment, e.g. PRE_STEPS=100 examples/repro/run.sh.
# Smoke run (a few minutes): PRE_STEPS=10 CONT_STEPS=4 SEEDS=2 VAL_TOKENS=16K OUT=/tmp/repro-smoke examples/repro/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
L="$BUILD/longctx"
OUT=${OUT:-out/repro}
TOK=data/tokenizers/llama2/tokenizer.json
T0=${T0:-512} T1=${T1:-4096}
PRE_STEPS=${PRE_STEPS:-400} PRE_BATCH=${PRE_BATCH:-8192} PRE_LR=${PRE_LR:-2e-3}
# 40 steps of 2 sequences (327,680 tokens) per continuation: 6 mixtures x 3 seeds + the curve fit
# in 90 minutes on 2 cores (examples/repro/README.md, "Time").
CONT_STEPS=${CONT_STEPS:-40} CONT_BATCH=${CONT_BATCH:-8192} CONT_LR=${CONT_LR:-3e-4}
THETA0=${THETA0:-10000} THETA1=${THETA1:-100000}
SEED=${SEED:-20240215}  # pretraining's; continuation seed i (1..SEEDS) is SEED + i
SEEDS=${SEEDS:-3}
STRATEGIES=${STRATEGIES:-"original per-source global upsample:RedPajamaBook upsample:RedPajamaGithub cut:$T0"}
KEEP_SHORT=${KEEP_SHORT:-0.1}  # probability of keeping a short document (the paper's p)
MAX_REPEAT=${MAX_REPEAT:-4}  # passes over the store a budget may take (upsampling one domain needs more)
NEEDLE=${NEEDLE:-first}      # needle runs: first (seed 1 of each mixture) | all | none
CURVE=${CURVE:-1}            # 0: no Figure 3 run
VAL_TOKENS=${VAL_TOKENS:-all}  # validation tokens evaluated (all: ~237K; fewer for a quick smoke run)
mkdir -p "$OUT"
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)"; }
name_of() { echo "${1//:/-}"; }  # a strategy as a folder name: upsample:RedPajamaBook -> upsample-RedPajamaBook

# 1. Data. Every 10th document is held out for validation, except the book (Moby-Dick, one
# 320K-token document), whose text is split: its last tenth is a validation document, the rest is
# training (split_corpus.py). The needle haystack is the same book (the default of `needle`).
CORPUS=out/sample/slimpajama_sample.jsonl.zst
SPLIT_TEXT=${SPLIT_TEXT:-RedPajamaBook}
if [[ ! -s $CORPUS ]]; then /usr/bin/python3 scripts/make_sample_corpus.py . "$CORPUS"; fi
if [[ ! -s $OUT/corpus/train.jsonl || ! -s $OUT/corpus/val.jsonl ]]; then
  zstd -dc "$CORPUS" | /usr/bin/python3 examples/repro/split_corpus.py "$OUT/corpus" --split-text "$SPLIT_TEXT"
fi
for split in train val; do
  step "ingest $split"
  [[ -s $OUT/$split-store/manifest.json ]] || "$L" ingest "$OUT/corpus/$split.jsonl" --tokenizer "$TOK" --out "$OUT/$split-store" --quiet
done

# mix + pack once per data set (skipped when complete).
data() {  # NAME STORE SEQ_LEN SEED MIX-ARGS...
  local name=$1 store=$2 len=$3 seed=$4
  shift 4
  [[ -s $OUT/$name/manifest.json ]] && return
  "$L" mix "$store" "$@" --seed "$seed" -o "$OUT/$name-plan" -q
  "$L" pack "$OUT/$name-plan" --seq-len "$len" --seed "$seed" --format flat --out "$OUT/$name" -q
}
mix_args() {  # STRATEGY -> its mix options; "long" is longer than the pretraining length (the paper: 4K)
  case $1 in
    original | cut:*) echo "--strategy $1" ;;
    *) echo "--strategy $1 --long-threshold $T0 --keep-short $KEEP_SHORT --max-repeat $MAX_REPEAT" ;;
  esac
}
step "data"
data pre-data "$OUT/train-store" "$T0" "$SEED" --strategy original --tokens "$(( PRE_STEPS * PRE_BATCH / 2 + T0 ))"
# The same budget for every continuation: exactly the tokens training reads (CONT_STEPS x
# CONT_BATCH, + 1 for the last sequence's label). per-source, global and upsample plan it to the
# token; original and cut:T0 take whole documents (cut: as T0 pieces) until they reach it, so their
# plans can be longer by one document: training then reads a seeded random subset of their
# sequences, the same number of tokens as every other run (plans.txt lists what each plan holds).
CONT_TOKENS=$(( CONT_STEPS * CONT_BATCH + 1 ))
for s in $(seq 1 "$SEEDS"); do
  for strat in $STRATEGIES; do
    # shellcheck disable=SC2046  # mix_args is a list of options
    data "cont-$(name_of "$strat")-s$s" "$OUT/train-store" "$T1" "$(( SEED + s ))" $(mix_args "$strat") --tokens "$CONT_TOKENS"
  done
done
# The Figure 3 run: per-source on twice the budget, checkpoints at 1/4, 1/2, 1 and 2 x CONT_STEPS.
Q=$(( CONT_STEPS / 4 > 0 ? CONT_STEPS / 4 : 1 ))
if [[ $CURVE == 1 ]]; then
  # shellcheck disable=SC2046
  data curve-data "$OUT/train-store" "$T1" "$(( SEED + 1 ))" $(mix_args per-source) --tokens "$(( 8 * Q * CONT_BATCH + 1 ))"
fi
# Validation: every held-out token (VAL_TOKENS=all), or a seeded sample of whole documents (a smoke run).
[[ $VAL_TOKENS == all ]] && VAL_TOKENS=$("$L" stats "$OUT/val-store" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"] - 1)')
data val "$OUT/val-store" "$T1" "$SEED" --strategy original --tokens "$VAL_TOKENS"
"$L" stats "$OUT/train-store" --long-threshold "$T0" > "$OUT/train-stats.txt"
/usr/bin/python3 examples/repro/plans.py "$OUT" "$CONT_TOKENS" "$SEEDS" $STRATEGIES > "$OUT/plans.txt"

cat > "$OUT/model.json" <<JSON
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000, "hidden_size": 128,
 "intermediate_size": 384, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 4,
 "max_position_embeddings": $T0, "rms_norm_eps": 1e-5, "rope_theta": $THETA0, "tie_word_embeddings": true,
 "bos_token_id": 1, "eos_token_id": 2}
JSON

# 2. Pretraining: two passes over the short-sequence data, cosine schedule (data repeats: the
# sample corpus is 2.6M tokens).
step "pretrain: $PRE_STEPS steps x $PRE_BATCH tokens at T=$T0"
"$L" train --data "$OUT/pre-data" --config "$OUT/model.json" --out "$OUT/base" --log "$OUT/base.log" \
  --steps "$PRE_STEPS" --batch-tokens "$PRE_BATCH" --lr "$PRE_LR" --schedule cosine --warmup 20 --min-lr-ratio 0.1 \
  --weight-decay 0.1 --beta2 0.95 --seed "$SEED" --save-every 50 --resume --quiet

# 3. Continual pretraining at 8x the length with a 10x RoPE base, constant LR (the paper's recipe).
continue_on() {  # DATA OUT_NAME STEPS SEED SAVE_EVERY KEEP
  local data=$1 name=$2 steps=$3 seed=$4
  [[ -e $OUT/$name-model/done ]] && return
  "$L" train --data "$OUT/$data" --init "$OUT/base" --out "$OUT/$name-model" --log "$OUT/$name.log" \
    --steps "$steps" --batch-tokens "$CONT_BATCH" --lr "$CONT_LR" --schedule constant --warmup 5 --weight-decay 0.1 \
    --beta2 0.95 --rope-theta "$THETA1" --max-position "$T1" --seed "$seed" --save-every "$5" --keep "$6" --resume --quiet
  touch "$OUT/$name-model/done"
}
for s in $(seq 1 "$SEEDS"); do
  for strat in $STRATEGIES; do
    n="cont-$(name_of "$strat")-s$s"
    step "continue on $strat, seed $s: $CONT_STEPS steps x $CONT_BATCH tokens at T=$T1, rope_theta $THETA1"
    continue_on "$n" "$n" "$CONT_STEPS" "$(( SEED + s ))" 16 1
    rm -rf "$OUT/$n-model"/checkpoint-*  # the final model is the folder itself; checkpoints were for resuming
  done
done
if [[ $CURVE == 1 ]]; then
  step "curve: per-source, $(( 8 * Q )) steps, checkpoints every $Q"
  continue_on curve-data curve "$(( 8 * Q ))" "$(( SEED + 1 ))" "$Q" 0
fi

# 4. Evaluation: loss per domain x length bin and by position; needle (lengths up to T1, 5 depths).
POSITIONS="$T0,$(( 2 * T0 )),$(( 4 * T0 )),$T1"  # within the pretraining length, then each doubling
eval_loss() {  # MODEL_DIR NAME
  [[ -s $OUT/loss-$2.json ]] && return
  "$L" eval-loss --model "$1" --data "$OUT/val" --bins "0,$T0,4K" --positions "$POSITIONS" --json > "$OUT/loss-$2.json.tmp"
  mv "$OUT/loss-$2.json.tmp" "$OUT/loss-$2.json"
}
LENGTHS=$(/usr/bin/python3 -c "print(','.join(str($T1 * k // 8) for k in range(1, 9)))")
needle() {  # MODEL_DIR NAME
  [[ -e $OUT/needle-$2.done ]] && return
  "$L" needle --model "$1" --tokenizer "$TOK" --out "$OUT/needle-$2" --lengths "$LENGTHS" --depths 0,25,50,75,100 \
    --answer-prefix " The best thing to do in San Francisco is" --train-length "$T0" --quiet
  touch "$OUT/needle-$2.done"
}
step "evaluate base"
eval_loss "$OUT/base" base
[[ $NEEDLE == none ]] || needle "$OUT/base" base
NEEDLE_RUNS=("$OUT/needle-base")
[[ $NEEDLE == none ]] && NEEDLE_RUNS=()
for s in $(seq 1 "$SEEDS"); do
  for strat in $STRATEGIES; do
    n="cont-$(name_of "$strat")-s$s"
    step "evaluate $n"
    eval_loss "$OUT/$n-model" "$n"
    if [[ $NEEDLE == all || ($NEEDLE == first && $s == 1) ]]; then
      needle "$OUT/$n-model" "$n"
      NEEDLE_RUNS+=("$OUT/needle-$n")
    fi
  done
done
CURVE_ARGS=()
if [[ $CURVE == 1 ]]; then
  CURVE_ARGS=(--curve "0=$OUT/loss-base.json")
  for k in 1 2 4 8; do
    step "evaluate curve checkpoint $(( k * Q ))"
    eval_loss "$OUT/curve-model/checkpoint-$(( k * Q ))" "curve-$(( k * Q ))"
    CURVE_ARGS+=(--curve "$(( k * Q * CONT_BATCH ))=$OUT/loss-curve-$(( k * Q )).json")
  done
  for c in "$OUT"/curve-model/checkpoint-*; do  # only the curve's points are kept (each ~60 MB)
    case ${c##*-} in "$Q" | "$(( 2 * Q ))" | "$(( 4 * Q ))" | "$(( 8 * Q ))") ;; *) rm -rf "$c" ;; esac
  done
fi

# 5. The report and table5.txt. Every mixture's seeds under one label: the table shows means and
# spreads; the pretrained model (no continuation) as one more column.
step "report"
REPORT_ARGS=()
for strat in $STRATEGIES; do
  files=()
  for s in $(seq 1 "$SEEDS"); do files+=("$OUT/loss-cont-$(name_of "$strat")-s$s.json"); done
  REPORT_ARGS+=(--loss "$strat=$(IFS=,; echo "${files[*]}")")
done
REPORT_ARGS+=(--loss "pretrained only=$OUT/loss-base.json" --train-log "pretrain (T $T0)=$OUT/base.log")
for strat in $STRATEGIES; do REPORT_ARGS+=(--train-log "$strat seed 1=$OUT/cont-$(name_of "$strat")-s1.log"); done
[[ $CURVE == 1 ]] && REPORT_ARGS+=(--train-log "per-source, curve run=$OUT/curve.log")
mapfile -t PLAN_NOTES < <(sed -n 's/^note: //p' "$OUT/plans.txt")  # the plans' domain shares (Figure 2)
for n in "${PLAN_NOTES[@]}"; do REPORT_ARGS+=(--note "$n"); done
"$L" report "${NEEDLE_RUNS[@]}" --train-length "$T0" "${CURVE_ARGS[@]}" \
  --title "longctx repro: the paper's Table 5 mixtures at CPU scale ($SEEDS seeds each)" \
  --note "Pretrained at T=$T0 (rope_theta $THETA0) for $PRE_STEPS steps of $PRE_BATCH tokens; continued at T=$T1 with rope_theta $THETA1 for $CONT_STEPS steps of $CONT_BATCH tokens on each mixture (the same $(( CONT_STEPS * CONT_BATCH )) training tokens each), seeds $(( SEED + 1 ))..$(( SEED + SEEDS )) (mixture sampling, packing order, data order). Validation: every 10th document of the sample corpus and the last tenth of the book, held out." \
  --note "Figure 3 curve: one per-source run of $(( 8 * Q )) steps, evaluated at steps $Q, $(( 2 * Q )), $(( 4 * Q )), $(( 8 * Q )); the point at 0 tokens is the pretrained model (rope_theta $THETA0, past its training length beyond $T0)." \
  "${REPORT_ARGS[@]}" --table "$OUT/table5.txt" -o "$OUT/report.html"
cat "$OUT/plans.txt" "$OUT/table5.txt"
step "done: open $OUT/report.html"
