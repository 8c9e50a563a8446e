#!/usr/bin/env bash
# Builds every cargo-fuzz target on the stable toolchain and runs each for a
# short budget, replaying its seed corpus and the regression inputs first.
# A crash fails the run; the input is left in fuzz/artifacts/<target>/.
#
#   bash ci/fuzz.sh                 # 20 s per target (CI)
#   FUZZ_SECONDS=3600 FUZZ_SEED=$RANDOM bash ci/fuzz.sh open_file   # a long run
# CI uses a fixed seed (1) so a run is reproducible; long runs should vary it.
#
# Stable Rust: `-s none` (no sanitizer) needs no nightly flag. libFuzzer
# itself is C++, so a C++ compiler is needed (g++); the main workspace is
# unaffected (fuzz/ is its own workspace).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-20}
# Targets CI only replays (corpus + regressions, no new inputs): open_file
# still finds damaged files on which redb 4.6 panics twice and aborts
# (fuzz/known-aborts/), which nothing in the engine can catch, so a random
# search there fails runs for a known upstream cause. Long runs of it are
# opt-in: FUZZ_REPLAY_ONLY= FUZZ_SECONDS=600 bash ci/fuzz.sh open_file
replay_only=${FUZZ_REPLAY_ONLY-open_file}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode_record open_file model_ops_redb model_ops_memory)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz 0.13.2"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
if ! command -v c++ >/dev/null 2>&1; then
  echo "libFuzzer needs a C++ compiler (c++/g++); install g++" >&2
  exit 1
fi

cargo fuzz build -s none -O
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
  echo "-- fuzzing $target for ${seconds}s"
  mkdir -p "$work/$target"
  inputs=("corpus/$target")
  [ -d "regressions/$target" ] && inputs+=("regressions/$target")
  # New inputs go to a scratch directory so the committed corpus only
  # changes on purpose (cargo fuzz cmin, then commit).
  budget=(-max_total_time="$seconds")
  if [[ " $replay_only " == *" $target "* ]]; then
    echo "   (replay only: every corpus and regression input once)"
    budget=(-runs=0)
  fi
  status=0
  cargo fuzz run -s none -O "$target" "$work/$target" "${inputs[@]}" -- \
    -seed="${FUZZ_SEED:-1}" "${budget[@]}" -rss_limit_mb=4096 -timeout=30 > "$work/$target.log" 2>&1 || status=$?
  grep -E '^(Done|INFO: seed corpus|==|SUMMARY)|panicked|Reproduce|artifact|INITED' "$work/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$work/$target.log" >&2
    echo "fuzz target $target failed (exit $status); see fuzz/artifacts/$target/" >&2
    exit "$status"
  fi
done
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no crash"
