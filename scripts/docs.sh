#!/usr/bin/env bash
# scripts/docs.sh
#
# Builds the API reference with Doxygen (docs/Doxyfile) from the public headers
# (sdk/include/latchkey/) and the QML types (qml/), with docs/reference.md as the main page, into
# build/docs/html/ (open build/docs/html/index.html). Fails, listing them, on any Doxygen warning:
# an undocumented public symbol, a broken reference, a malformed command. Takes a few seconds.
# Doxygen comes from Debian's doxygen package (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v doxygen >/dev/null 2>&1; then
  echo "docs.sh: doxygen is not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi

out=build/docs
rm -rf "$out/html"
mkdir -p "$out"
version=$(sed -n 's/^project(Latchkey VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
LATCHKEY_DOCS_DIR="$out" LATCHKEY_VERSION="$version" doxygen docs/Doxyfile

# Doxygen writes its warnings to $out/warnings.log (WARN_LOGFILE), one per line as
# "<file>:<line>: warning: <text>", with absolute paths.
log="$out/warnings.log"
sed -i "s|^$PWD/||" "$log"
fatal=$(cat "$log")
if [ -n "$fatal" ]; then
  printf '%s\n' "$fatal" >&2
  echo "docs.sh: FAILED: $(wc -l <<<"$fatal") Doxygen warning(s) above; document every public symbol" >&2
  exit 1
fi
echo "docs.sh: API reference in $out/html/index.html"
