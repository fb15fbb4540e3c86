#!/usr/bin/env bash
# Runs each libFuzzer harness of BUILD (build-fuzz) for SECONDS: `make fuzz` (README.md here).
#   tests/fuzz/run_fuzz.sh BUILD SECONDS HARNESS...
# Seeds: tests/fuzz/corpus/HARNESS/ (read only); what the fuzzer adds goes to BUILD/fuzz-corpus/HARNESS/,
# crashes / hangs / leaks / out-of-memory inputs to BUILD/fuzz-artifacts/HARNESS/. The figures of
# each run (executions, cov, ft, corpus) are appended to BUILD/fuzz-summary.txt and printed.
# Exit status 1 if any harness left an artifact.
set -u
BUILD=$1
SECONDS_EACH=$2
shift 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
summary=$BUILD/fuzz-summary.txt
failed=0
# Per-harness input size limits (bytes): big enough for the seeds, small enough to stay fast.
max_len() {
  case $1 in
    tokenizer_json) echo 65536 ;;
    byte_source) echo 8192 ;;
    model_config | store_manifest | safetensors | plan | packed) echo 8192 ;;
    checkpoint) echo 16384 ;;
    *) echo 4096 ;;
  esac
}
printf '%-16s %10s %8s %8s %8s %s\n' harness execs cov ft corpus findings | tee -a "$summary"
for h in "$@"; do
  bin=$BUILD/tests/fuzz/fuzz_$h
  [ -x "$bin" ] || { echo "no $bin: build it first (make fuzz)"; exit 2; }
  work=$BUILD/fuzz-corpus/$h
  art=$BUILD/fuzz-artifacts/$h
  mkdir -p "$work" "$art"
  seeds=("$ROOT/tests/fuzz/corpus/$h")
  if [ "$h" = tokenizer_json ]; then
    # Shrunk copies of the installed tokenizer files (data/tokenizers/ may not be committed).
    /usr/bin/python3 "$ROOT/tests/fuzz/make_seeds.py" --tokenizers "$BUILD/fuzz-seeds/tokenizer_json" && seeds+=("$BUILD/fuzz-seeds/tokenizer_json")
  fi
  log=$BUILD/fuzz-logs/$h.log
  mkdir -p "$(dirname "$log")"
  LONGCTX_NO_TOKENIZER_CACHE=1 ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${UBSAN_SUPPRESSIONS:+:suppressions=$UBSAN_SUPPRESSIONS} \
    "$bin" -max_total_time="$SECONDS_EACH" -rss_limit_mb=3072 -malloc_limit_mb=2048 -timeout=20 \
      -max_len="$(max_len "$h")" -print_final_stats=1 -artifact_prefix="$art/" "$work" "${seeds[@]}" > "$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
  corp=$(echo "$last" | grep -o 'corp: [0-9]*' | grep -o '[0-9]*')
  n=$(find "$art" -type f | wc -l)
  printf '%-16s %10s %8s %8s %8s %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$([ $rc -eq 0 ] && [ "$n" -eq 0 ] && echo none || echo "exit $rc, $n artifact(s) in $art, log $log")" | tee -a "$summary"
  [ $rc -eq 0 ] && [ "$n" -eq 0 ] || failed=1
done
exit $failed
