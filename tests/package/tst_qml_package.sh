#!/usr/bin/env bash
# tst_qml_package.sh BUILD_DIR SOURCE_DIR [QMLTESTRUNNER]: installs the SDK and the QML module
# from BUILD_DIR into a temporary prefix, then
#  1. builds the app of docs/qml.md ("A complete app": Main.qml, main.cpp, CMakeLists.txt, copied
#     from the page) with find_package(Latchkey 0.2 COMPONENTS Core Qml) against that prefix only,
#     and runs it offscreen until its Session has started restoring (the QML loaded, `import
#     Latchkey` resolved, the C++ of the installed library running);
#  2. loads the installed plugin with no app linking it: qmltestrunner -import <prefix>/lib/qml
#     on tst_installed_module.qml.
# Nothing may come from the build tree: no import path, library path or run path points there.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) qmltestrunner=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-qml-package.XXXXXX")
app_pid=
cleanup() {
  if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
prefix=$work/prefix

cmake --install "$build/sdk" --prefix "$prefix" >/dev/null
cmake --install "$build/qml" --prefix "$prefix" >/dev/null
for f in lib/qml/Latchkey/qmldir lib/qml/Latchkey/LatchkeyQml.qmltypes \
         lib/qml/Latchkey/libLatchkeyQmlplugin.so lib/cmake/Latchkey/LatchkeyQmlTargets.cmake \
         include/latchkey/qml/networkaccessmanagerfactory.h include/latchkey/qml/latchkeyqml_export.h; do
  test -e "$prefix/$f" || fail "not installed: $f"
done
grep -qx "module Latchkey" "$prefix/lib/qml/Latchkey/qmldir" || fail "qmldir names another module"
# Installed binaries find their libraries in the prefix, never in the build tree.
while IFS= read -r -d '' elf; do
  if readelf -d "$elf" 2>/dev/null | grep -E "RUNPATH|RPATH" | grep -qF "$build"; then
    fail "$elf has a run path into the build tree"
  fi
done < <(find "$prefix" -name "*.so*" -type f -print0)

# The build tree must not be found by accident: no variable points there.
unset QML_IMPORT_PATH QML2_IMPORT_PATH QT_PLUGIN_PATH LD_LIBRARY_PATH
export QT_QPA_PLATFORM=offscreen QT_QUICK_CONTROLS_STYLE=Fusion

# 1. The app of docs/qml.md, its three files taken from the page (marked `<!-- docs-example: F -->`).
mkdir "$work/app"
for file in Main.qml main.cpp CMakeLists.txt; do
  awk -v marker="<!-- docs-example: $file -->" '
    $0 == marker { found = 1; next }
    found && !open && /^```/ { open = 1; next }
    open && /^```/ { exit }
    open { print }' "$src/docs/qml.md" >"$work/app/$file"
  test -s "$work/app/$file" || fail "docs/qml.md has no block for $file"
done
cmake -S "$work/app" -B "$work/app-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure"; }
cmake --build "$work/app-build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
ldd "$work/app-build/hello" | grep -E "liblatchkey(qml)?\.so" >"$work/ldd"
test "$(grep -c "=> $prefix/lib/" "$work/ldd")" = 2 || { cat "$work/ldd"; fail "the app does not load the installed libraries"; }

# The first state change of the Session's restore() is logged by the SDK: the QML is loaded.
HOME=$work/home XDG_RUNTIME_DIR=$work/run QT_LOGGING_RULES="latchkey.auth.debug=true" \
  "$work/app-build/hello" >"$work/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 600); do # bounds the wait only (60 s); done as soon as the line is there
  grep -q "state.*Restoring" "$work/app.log" && break
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "state.*Restoring" "$work/app.log"; then
  cat "$work/app.log" >&2
  fail "the docs/qml.md app did not load (see its output above)"
fi
kill "$app_pid" 2>/dev/null || true
wait "$app_pid" 2>/dev/null || true
app_pid=
if grep -qiE "is not installed|module .* not found|cannot load library" "$work/app.log"; then
  cat "$work/app.log" >&2
  fail "QML import errors"
fi
echo "PASS: the docs/qml.md app built against the install prefix and ran offscreen"

# 2. The installed plugin, loaded by a program that does not link the module.
if [ -z "$qmltestrunner" ]; then
  echo "SKIP: no qmltestrunner to load the installed plugin with"
  exit 0
fi
QML_IMPORT_TRACE=1 "$qmltestrunner" -import "$prefix/lib/qml" \
  -input "$src/tests/package/tst_installed_module.qml" >"$work/runner.log" 2>&1 \
  || { cat "$work/runner.log" >&2; fail "qmltestrunner with the installed module"; }
# (The test's Session resolving proves the plugin and liblatchkeyqml loaded: qmltestrunner links
# neither, and no library path is set.)
grep -qF "loaded \"$prefix/lib/qml/Latchkey/qmldir\"" "$work/runner.log" \
  || { grep -i latchkey "$work/runner.log" >&2; fail "the module was not found in the prefix"; }
grep -E "^(PASS|Totals)" "$work/runner.log"
echo "PASS: import Latchkey from <prefix>/lib/qml (qmldir, type info, plugin)"
