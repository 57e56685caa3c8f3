#!/usr/bin/env bash
# scripts/demo.sh [--cli | --oidc]
#
# Installs what is missing, builds (preset dev), starts latchkey-server with the demo data and the
# test hooks (--seed-demo --test-hooks), runs the demo against it, and stops the server.
#
#   (default)  opens latchkey-demo, the Qt Quick app. The server keeps its database in
#              build/dev/demo-state/ and listens on 127.0.0.1:$LATCHKEY_DEMO_PORT (8765), so a
#              session survives quitting: run it again and the app starts signed in. Without a
#              display the app renders its pages to build/dev/demo-state/screenshots/ instead.
#   --cli      the latchkey-cli walkthrough: a fresh database on a free port, each step a process.
#   --oidc     latchkey-demo against a real OpenID provider (tests/support/oidc/provider.mjs on a
#              free port, needs node): "Sign in with your browser" (any login, password
#              "correct horse") or "Sign in on another device"; the provider's userinfo (/me) is
#              the API. Without a display the sign-in and device pages are rendered to
#              build/dev/demo-state/screenshots/ instead.
#
# The refresh token goes to the Secret Service of the current D-Bus session when there is one;
# else to a private gnome-keyring (tests/support/with-keyring.sh) — kept in
# build/dev/demo-state/home for the app, thrown away for --cli.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

BUILD=$root/build/dev
SERVER=$BUILD/server/latchkey-server
CLI=$BUILD/demo-app/cli/latchkey-cli
APP=$BUILD/demo-app/app/latchkey-demo
STATE=$BUILD/demo-state
PORT=${LATCHKEY_DEMO_PORT:-8765}

mode=app
case "${1:-}" in
--cli) mode=cli ;;
--oidc) mode=oidc ;;
--run-cli | --run-app | --run-oidc | "") ;;
-h | --help)
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
  ;;
*)
  echo "usage: $0 [--cli | --oidc]" >&2
  exit 64
  ;;
esac

# ---------------------------------------------------------------------------------------------
# The demo itself; $URL is the running server. Each latchkey-cli line is a new process: the
# session survives between them only through the keychain.
run_demo() {
  step 0 "sign in (password from \$LATCHKEY_PASSWORD)" \
    env LATCHKEY_PASSWORD='Guest-2026!' "$CLI" login guest@latchkey.test
  show_keychain
  step 0 "who is signed in (never a token)" "$CLI" status
  step 0 "an authorized request" "$CLI" get /api/user/profile
  note "the server now rejects every access token issued so far"
  curl -s -X POST "$URL/test/expire-access-tokens" -d '{}' >/dev/null
  step 0 "still works: restored from the keychain, refreshed" "$CLI" get /api/bookings
  step 0 "a POST" "$CLI" post /api/bookings \
    --data '{"hotel":"Harbour View","checkIn":"2027-03-01","checkOut":"2027-03-04","guests":2}'
  step 1 "an HTTP error: guests may not list users (403)" "$CLI" get /api/admin/users
  step 0 "sign out: revoked on the server, removed from the keychain" "$CLI" logout
  show_keychain
  step 2 "signed out: exit 2" "$CLI" get /api/bookings
}

# ---------------------------------------------------------------------------------------------
failures=0
note() { printf '\n# %s\n' "$*"; }
# step EXPECTED_EXIT DESCRIPTION CMD...: runs CMD, shows it and its exit code.
step() {
  local want=$1 what=$2
  shift 2
  note "$what"
  local shown=("$@")
  [ "${shown[0]}" = env ] && shown=("${shown[@]:1}") && shown[0]='LATCHKEY_PASSWORD=***'
  printf '$ %s\n' "${shown[*]//"$CLI"/latchkey-cli}"
  local rc=0 out
  out=$("$@" 2>&1) || rc=$?
  [ -z "$out" ] || printf '%s\n' "$out"
  if [ "$rc" = "$want" ]; then
    printf '[exit %s]\n' "$rc"
  else
    printf '[exit %s, expected %s]\n' "$rc" "$want"
    failures=$((failures + 1))
  fi
}
show_keychain() {
  note "keychain entries of latchkey-cli (attributes only)"
  secret-tool search --all xdg:schema org.qt.keychain server Latchkey/latchkey-cli 2>&1 |
    grep '^attribute\.user' || echo "(none)"
}

# start_server DIR [PORT]: the database and the log in DIR; a free port unless PORT is given.
start_server() {
  local tmp=$1 port=${2:-0}
  exec {server_fd}< <(exec "$SERVER" --port "$port" --db "$tmp/demo.sqlite" --seed-demo \
    --test-hooks 2>>"$tmp/server.log")
  SERVER_PID=$!
  local line=
  if ! read -r -t 60 -u "$server_fd" line ||
    [[ ! $line =~ ^listening\ on\ (http://[^[:space:]]+) ]]; then
    echo "demo: latchkey-server did not start:" >&2
    tail -n 20 "$tmp/server.log" >&2
    if [ "$port" != 0 ]; then echo "demo: is port $port taken? Set LATCHKEY_DEMO_PORT." >&2; fi
    exit 1
  fi
  URL=${BASH_REMATCH[1]%/}
  cat <&"$server_fd" >>"$tmp/server.log" &
  exec {server_fd}<&-
  export LATCHKEY_BASE_URL=$URL
  echo "latchkey-server: $URL (database $tmp/demo.sqlite, log $tmp/server.log)"
}

# The Qt Quick app against the server; pages rendered to PNG when there is no display.
run_app() {
  if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    echo "demo: opening latchkey-demo (sign in as guest@latchkey.test / Guest-2026! or"
    echo "      manager@latchkey.test / Manager-2026!); quit the window to stop the server"
    "$APP" --base-url "$URL"
    return
  fi
  local shots=$STATE/screenshots
  mkdir -p "$shots"
  echo "demo: no display: rendering the pages offscreen to $shots/"
  "$APP" --base-url "$URL" --page signin --store memory --screenshot "$shots/signin.png"
  local page
  for page in dashboard bookings admin; do
    LATCHKEY_PASSWORD='Guest-2026!' "$APP" --base-url "$URL" --store memory \
      --sign-in guest@latchkey.test --page "$page" --screenshot "$shots/$page.png"
  done
}

# start_provider DIR: the OpenID provider on a free port; $ISSUER is its URL. It ends when its
# stdin closes: a FIFO this script holds open, so it goes with the script however that ends.
start_provider() {
  local tmp=$1
  rm -f "$tmp/provider.stdin"
  mkfifo -m 600 "$tmp/provider.stdin"
  exec {provider_keep}<>"$tmp/provider.stdin"
  exec {provider_fd}< <(exec node "$root/tests/support/oidc/provider.mjs" --port 0 \
    <"$tmp/provider.stdin" {provider_keep}>&- 2>>"$tmp/provider.log")
  PROVIDER_PID=$!
  local line=
  if ! read -r -t 60 -u "$provider_fd" line || [[ ! $line =~ ^LISTENING\ (http://[^[:space:]]+) ]]; then
    echo "demo: the OpenID provider did not start:" >&2
    tail -n 20 "$tmp/provider.log" >&2
    exit 1
  fi
  ISSUER=${BASH_REMATCH[1]%/}
  cat <&"$provider_fd" >>"$tmp/provider.log" {provider_keep}>&- &
  exec {provider_fd}<&-
  echo "OpenID provider: $ISSUER (log $tmp/provider.log)"
}

# The Qt Quick app against the provider; the sign-in and device pages rendered to PNG when there
# is no display.
run_oidc() {
  local args=(--profile oidc --issuer "$ISSUER" --client-id latchkey-native --base-url "$ISSUER")
  if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    echo "demo: opening latchkey-demo; sign in at the provider with any login and the password"
    echo "      \"correct horse\"; quit the window to stop the provider"
    "$APP" "${args[@]}"
    return
  fi
  local shots=$STATE/screenshots
  mkdir -p "$shots"
  echo "demo: no display: rendering the pages offscreen to $shots/"
  "$APP" "${args[@]}" --store memory --page signin --screenshot "$shots/oidc-signin.png"
  "$APP" "${args[@]}" --store memory --page device --screenshot "$shots/oidc-device.png"
}

# Phase 2 (inside a keychain session): the provider, the app, until the window closes. Each run
# is a new provider (a free port, its grants in memory): the app starts signed out.
if [ "${1:-}" = --run-oidc ]; then
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  PROVIDER_PID=
  stop() { if [ -n "$PROVIDER_PID" ]; then kill "$PROVIDER_PID" 2>/dev/null || true; fi; }
  trap stop EXIT
  start_provider "$STATE"
  run_oidc
  exit 0
fi

# Phase 2 (inside a keychain session): the app with its kept server, until the window closes.
if [ "${1:-}" = --run-app ]; then
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  SERVER_PID=
  stop() { if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi; }
  trap stop EXIT
  start_server "$STATE" "$PORT"
  run_app
  exit 0
fi

# Phase 2 (inside a keychain session): server up, CLI walkthrough, server down.
if [ "${1:-}" = --run-cli ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-demo.XXXXXX")
  SERVER_PID=
  stop() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$tmp"
  }
  trap stop EXIT
  start_server "$tmp"
  run_demo
  if [ "$failures" -ne 0 ]; then
    printf '\ndemo: %s step(s) did not end as expected\n' "$failures" >&2
    exit 1
  fi
  printf '\ndemo: done\n'
  exit 0
fi

# Phase 1: dependencies, build, then choose the keychain.
scripts/deps.sh
# (The demo needs these two even in a build tree configured without them.)
cmake --preset dev -DLATCHKEY_BUILD_SERVER=ON -DLATCHKEY_BUILD_DEMO=ON -DLATCHKEY_BUILD_QML=ON
targets=(latchkey-server latchkey-cli)
if [ "$mode" = app ] || [ "$mode" = oidc ]; then targets+=(latchkey-demo); fi
cmake --build --preset dev --target "${targets[@]}"

has_secret_service() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true
}
if has_secret_service; then
  echo "demo: using the Secret Service of this D-Bus session"
  exec "$0" "--run-$mode"
fi
if [ "$mode" = app ] || [ "$mode" = oidc ]; then
  # A keyring that outlives this run (the session must survive quitting); X still needs its
  # cookie once HOME moves.
  echo "demo: no Secret Service on this session; using a private gnome-keyring in $STATE/home"
  mkdir -p "$STATE"
  if [ -n "${DISPLAY:-}" ]; then export XAUTHORITY=${XAUTHORITY:-$HOME/.Xauthority}; fi
  LATCHKEY_TEST_HOME=$STATE/home exec tests/support/with-keyring.sh "$root/scripts/demo.sh" "--run-$mode"
fi
echo "demo: no Secret Service on this session; using a private gnome-keyring"
exec tests/support/with-keyring.sh "$root/scripts/demo.sh" --run-cli
