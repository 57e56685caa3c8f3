#!/usr/bin/env bash
# scripts/test.sh [CTEST ARGS...]
#
# Installs what is missing (scripts/deps.sh), builds the API reference (scripts/docs.sh: fails on
# any Doxygen warning), configures and builds with a CMake preset, then runs
# every test under a private HOME and an unlocked gnome-keyring on a private D-Bus session
# (tests/support/with-keyring.sh). Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`
# or `scripts/test.sh -R cli`. LATCHKEY_PRESET chooses the preset (dev, the default, or asan).
# Exits non-zero when any step or any test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

preset=${LATCHKEY_PRESET:-dev}
step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/deps.sh

step "API reference (scripts/docs.sh)"
scripts/docs.sh

step "configure (preset $preset)"
cmake --preset "$preset"

step "build (preset $preset)"
cmake --build --preset "$preset"

if [ "$preset" = asan ]; then
  # Leaks inside system libraries (OpenSSL) are theirs: tests/support/lsan.supp names them.
  export LSAN_OPTIONS="suppressions=$PWD/tests/support/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi

step "test (preset $preset)"
log="build/$preset/test-output.log"
set +e
tests/support/with-keyring.sh ctest --preset "$preset" --no-tests=error "$@" </dev/null 2>&1 |
  tee "$log"
rc=${PIPESTATUS[0]}
set -e

# CTest's summary once more at the end, where nothing else scrolls it away.
step "summary"
sed -n '/tests passed, /,$p' "$log" | grep -v '^Errors while running CTest' || true
if [ "$rc" -ne 0 ]; then
  echo "scripts/test.sh: FAILED (exit $rc); full output in $log" >&2
else
  echo "scripts/test.sh: all tests passed"
fi
exit "$rc"
