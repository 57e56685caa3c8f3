#!/usr/bin/env bash
# Installs every Debian 12 package Latchkey's build, tests and demo need.
# Idempotent: installs only what is missing; runs `apt-get update` at most once; installs the
# OIDC test provider's npm packages (tests/support/oidc) when its package-lock.json changed.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-format
  # Qt 6 (SDK, server, QML module, demo)
  qt6-base-dev qt6-base-dev-tools qt6-declarative-dev qt6-declarative-dev-tools
  qt6-httpserver-dev qt6-websockets-dev qtkeychain-qt6-dev libqt6sql6-sqlite
  libgl-dev libvulkan-dev
  qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
  qml6-module-qtquick-templates qml6-module-qtquick-window qml6-module-qtqml-workerscript
  qml6-module-qttest qml6-module-qtquick-dialogs
  # real keychain for tests: Secret Service on a private D-Bus session
  gnome-keyring dbus dbus-x11 libsecret-tools
  # the schema test validates profiles against docs/profile.schema.json (tests/schema)
  python3 python3-jsonschema
  # the API reference (scripts/docs.sh, docs/Doxyfile): no graphviz, class diagrams are Doxygen's own
  doxygen
  # CLI tests call the server's test hooks
  curl
  # TLS tests make their CA and certificates at test time
  openssl
  # headless GUI, screenshots
  xvfb xauth
  # fuzz targets (tests/fuzz, scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # benchmarks (tests/bench): instruction counts, heap profiles, the storm plot
  valgrind heaptrack jq gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# The OIDC tests run a real OpenID provider (tests/support/oidc) on Node.js: an existing node
# (any >= 18) is kept; without one, Debian's nodejs and npm are installed.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
else
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists once if they are absent or older than a day.
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
    $SUDO apt-get update -qq
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "deps: done"
fi

# The provider's npm packages, exactly as package-lock.json pins them; again only when the lock
# file changed since the last install (the stamp lives inside node_modules).
oidc_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/support/oidc"
stamp="$oidc_dir/node_modules/.latchkey-npm-ci.stamp"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "deps: node $(node --version) is too old for oidc-provider 8.8.1 (needs 18 or later)" >&2
  exit 1
fi
if [ ! -f "$stamp" ] || [ "$oidc_dir/package-lock.json" -nt "$stamp" ]; then
  echo "deps: npm ci in tests/support/oidc"
  npm ci --prefix "$oidc_dir" --no-audit --no-fund --loglevel=error </dev/null
  touch "$stamp"
else
  echo "deps: tests/support/oidc/node_modules up to date"
fi
