#!/usr/bin/env bash
# tst_package.sh BUILD_DIR SOURCE_DIR [CXX_FLAGS LINKER_FLAGS]: installs the SDK from BUILD_DIR into a temporary prefix,
# then configures, builds and runs tests/package/consumer against it with find_package(Latchkey),
# and runs the installed programs from <prefix>/bin.
set -euo pipefail
build=$1 src=$2 cxxflags=${3:-} ldflags=${4:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
cmake --install "$build/sdk" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/latchkey/authclient.h"
test -f "$work/prefix/include/latchkey/latchkey_export.h"
if ls "$work/prefix/include/latchkey/"*_p.h >/dev/null 2>&1; then
  echo "FAIL: a private header was installed" >&2
  exit 1
fi
if grep -rq "qt6keychain/keychain.h" "$work/prefix/include"; then
  echo "FAIL: an installed header includes QtKeychain" >&2
  exit 1
fi
cmake -S "$src/tests/package/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$work/consumer/consumer" | tee "$work/out"
grep -q "profiles: .*latchkey.*valid: yes manager: yes" "$work/out"
echo "PASS (find_package(Latchkey) from an installed prefix)"

# The programs install into bin/ and run from there with no library path: their run path finds
# lib/ relative to themselves. (Each only if it was built: LATCHKEY_BUILD_DEMO, _SERVER, _QML.)
expected=$(sed -n 's/^project(Latchkey VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
for program in demo-app/cli/latchkey-cli server/latchkey-server \
               demo-app/service-bot/latchkey-service-bot demo-app/app/latchkey-demo; do
  [ -x "$build/$program" ] || continue
  if [ "$program" = demo-app/app/latchkey-demo ]; then # needs liblatchkeyqml
    cmake --install "$build/qml" --prefix "$work/prefix" >/dev/null
  fi
  cmake --install "$build/$(dirname "$program")" --prefix "$work/prefix" >/dev/null
  name=$(basename "$program")
  installed=$work/prefix/bin/$name
  test -x "$installed" || { echo "FAIL: $name is not in <prefix>/bin" >&2; exit 1; }
  case $name in
    latchkey-cli|latchkey-server)
      out=$(env -u LD_LIBRARY_PATH "$installed" --version)
      test "$out" = "$name $expected" || { echo "FAIL: installed $name says '$out'" >&2; exit 1; } ;;
    *)
      env -u LD_LIBRARY_PATH QT_QPA_PLATFORM=offscreen "$installed" --help >"$work/help" \
        || { echo "FAIL: installed $name --help" >&2; exit 1; } ;;
  esac
  echo "PASS ($name runs from <prefix>/bin)"
done
