#!/usr/bin/env bash
# The profile for the profile-guided build of the tokenize path (CMakeLists.txt, "Profile-guided
# optimisation"): builds BUILD/pgo with counters, runs tools/pgo_train over training text with
# every tokenizer setup installed, and leaves the profile in BUILD/pgo/profile with a stamp of
# the sources it was made from. Does nothing when that stamp is current, or with LONGCTX_PGO=0,
# or without g++ (the main build then takes no profile: see the Makefile).
#
# The training text is not the benchmark corpus: Debian's license texts and Python's standard
# library (on every machine setup prepares), so that the bench measures text the profile has not
# seen. ~1.5 MB: the counts settle well before that.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PGO=$BUILD/pgo
PROFILE=$(realpath -m "$PGO/profile")
[[ ${LONGCTX_PGO:-1} == 0 ]] && exit 0
command -v g++ >/dev/null || exit 0
compgen -G "data/tokenizers/*/tokenizer.json" >/dev/null || exit 0

sources=(CMakeLists.txt scripts/pgo_profile.sh tools/pgo_train/main.cpp tools/longctx/tokenize_lines.h
         $(ls src/util/* src/text/* src/corpus/* src/tokenizer/* include/longctx/util/* include/longctx/text/* \
              include/longctx/corpus/* include/longctx/tokenizer/* 2>/dev/null | sort))
stamp=$( (g++ --version | head -1; cat "${sources[@]}"; ls data/tokenizers) | sha256sum | cut -d' ' -f1)
if [[ -f $PROFILE/stamp && $(cat "$PROFILE/stamp") == "$stamp" ]]; then exit 0; fi

rm -rf "$PROFILE"
mkdir -p "$PGO"
LOG=$PGO/pgo.log
# An optimisation only: if making the profile fails, say so and build without one.
fail() {
  echo "pgo: $1 (see $LOG); building without a profile" >&2
  rm -rf "$PROFILE"
  exit 0
}
echo "pgo: building the instrumented tokenize path in $PGO"
cmake -S . -B "$PGO" -DCMAKE_BUILD_TYPE=Release -DLONGCTX_PGO_GENERATE="$PROFILE" -DLONGCTX_PGO_USE= \
  -DLONGCTX_BUILD_TESTS=OFF -DLONGCTX_BUILD_BENCH=OFF -DLONGCTX_PYTHON=OFF -DLONGCTX_CUDA=OFF >"$LOG" 2>&1 ||
  fail "configuring the instrumented build failed"
cmake --build "$PGO" --target longctx_pgo_train -j "${JOBS:-$(nproc)}" >>"$LOG" 2>&1 ||
  fail "building the instrumented trainer failed"
/usr/bin/python3 - "$PGO/train.jsonl" <<'PY' || fail "writing the training text failed"
import glob, json, sys
files = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(glob.glob("/usr/lib/python3*/*.py"))
total = 0
with open(sys.argv[1], "w") as out:
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        out.write(json.dumps({"text": text}) + "\n")
        total += len(text)
        if total > 1_500_000:
            break
PY
echo "pgo: training on $(du -h "$PGO/train.jsonl" | cut -f1) of text with $(ls data/tokenizers | wc -l) tokenizers"
# First only the loads, over no text: they write this build's tokenizer load caches. Then the
# counted run, which loads from them as every run after the first does. Without address
# randomisation where the kernel allows it: the profile also records pointer alignments (GCC's
# "ior" counters), and fixed addresses make those the same every time.
norandom=()
setarch "$(uname -m)" -R true 2>/dev/null && norandom=(setarch "$(uname -m)" -R)
for text in /dev/null "$PGO/train.jsonl"; do
  rm -rf "$PROFILE"
  "${norandom[@]}" "$PGO/longctx_pgo_train" "$text" data/tokenizers/*/tokenizer.json >>"$LOG" 2>&1 ||
    fail "the training run failed"
done
echo "$stamp" > "$PROFILE/stamp"
