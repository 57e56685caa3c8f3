#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]
#
# Builds the libFuzzer targets (CMake preset `fuzz`: clang, ASan, UBSan; tests/fuzz/) and runs
# each for SECONDS (default 60) on a copy of its seed corpus in build/fuzz/run/<target>/, so the
# committed corpus in tests/fuzz/corpus/ is never written to. Exits non-zero when any target
# finds a crash, a hang, a sanitizer report or a broken property, and prints the reproducer:
# run `build/fuzz/tests/fuzz/fuzz_<target> <reproducer>` to replay it.
# LATCHKEY_FUZZ_TARGETS="jwtclaims setcookie" runs only those.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS]" >&2
  exit 64
fi
targets=(${LATCHKEY_FUZZ_TARGETS:-jwtclaims serverprofile tokenresponse setcookie retryafter oidc})
step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/deps.sh

step "configure (preset fuzz)"
cmake --preset fuzz >/dev/null

step "build (preset fuzz)"
cmake --build --preset fuzz

failed=()
for t in "${targets[@]}"; do
  step "fuzz_$t for ${seconds} s"
  run="build/fuzz/run/$t"
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/artifacts"
  cp tests/fuzz/corpus/"$t"/* "$run/corpus/"
  cat tests/fuzz/dict/json.dict > "$run/dict"
  if [ -f "tests/fuzz/dict/$t.dict" ]; then cat "tests/fuzz/dict/$t.dict" >> "$run/dict"; fi
  set +e
  # -timeout: one input running 10 s is a hang; -rss_limit_mb: a leak or a blow-up is a finding.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "build/fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -dict="$run/dict" -artifact_prefix="$run/artifacts/" -print_final_stats=1 \
    "$run/corpus" >"$run/log" 2>&1
  rc=$?
  set -e
  grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$run/log" || true
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR:|runtime error:|property violated|SUMMARY:' "$run/log" | head -5 || true
    for f in "$run"/artifacts/*; do
      [ -e "$f" ] && echo "reproducer: $f   (replay: build/fuzz/tests/fuzz/fuzz_$t $f)"
    done
    echo "full log: $run/log"
    failed+=("$t")
  fi
done

step "summary"
if [ ${#failed[@]} -ne 0 ]; then
  echo "scripts/fuzz.sh: FINDINGS in ${failed[*]} (reproducers above)" >&2
  exit 1
fi
echo "scripts/fuzz.sh: ${#targets[@]} targets, ${seconds} s each, nothing found"
