#!/usr/bin/env bash
# tst_demo_screenshot.sh LATCHKEY_DEMO LATCHKEY_SERVER
#
# `latchkey-demo --screenshot FILE --page NAME` against a real latchkey-server, offscreen: it
# exits 0 and writes a PNG of the window's size for a signed-out page and a signed-in one, also
# phone-sized (400x800). (That the pixels are not blank and nothing is clipped is checked in
# tst_demo_screenshots.qml.) Memory store: no keychain.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 LATCHKEY_DEMO LATCHKEY_SERVER" >&2
  exit 64
fi
DEMO=$1 SERVER=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tst_demo_screenshot.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

exec {server_fd}< <(exec "$SERVER" --port 0 --db :memory: --seed-demo --test-hooks \
  --pbkdf2-iterations 1000 2>"$WORK/server.err")
SERVER_PID=$!
read -r -t 60 -u "$server_fd" line || fail "latchkey-server printed no address"
[[ $line =~ ^listening\ on\ (http://[^[:space:]]+) ]] || fail "unexpected first line: $line"
URL=${BASH_REMATCH[1]%/}
cat <&"$server_fd" >/dev/null &
exec {server_fd}<&-

# png_size FILE: "WIDTH HEIGHT" from the IHDR chunk.
png_size() {
  [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
  local hex
  hex=$(head -c 24 "$1" | tail -c 8 | od -An -tx1 | tr -d ' \n')
  echo "$((16#${hex:0:8})) $((16#${hex:8:8}))"
}

export QT_QPA_PLATFORM=offscreen
"$DEMO" --base-url "$URL" --store memory --page signin --size 900x600 \
  --screenshot "$WORK/signin.png" >/dev/null || fail "--page signin exited $?"
[ "$(png_size "$WORK/signin.png")" = "900 600" ] || fail "signin.png is not a 900x600 PNG"

LATCHKEY_PASSWORD='Guest-2026!' "$DEMO" --base-url "$URL" --store memory \
  --sign-in guest@latchkey.test --page bookings --screenshot "$WORK/bookings.png" >/dev/null ||
  fail "--page bookings exited $?"
[ "$(png_size "$WORK/bookings.png")" = "1120 740" ] || fail "bookings.png is not a 1120x740 PNG"

# A phone held upright: the window takes that size (no minimum width in the way).
"$DEMO" --base-url "$URL" --store memory --page signin --size 400x800 \
  --screenshot "$WORK/signin-phone.png" >/dev/null || fail "--page signin --size 400x800 exited $?"
[ "$(png_size "$WORK/signin-phone.png")" = "400 800" ] ||
  fail "signin-phone.png is $(png_size "$WORK/signin-phone.png"), not 400x800"
LATCHKEY_PASSWORD='Guest-2026!' "$DEMO" --base-url "$URL" --store memory \
  --sign-in guest@latchkey.test --page bookings --size 400x800 \
  --screenshot "$WORK/bookings-phone.png" >/dev/null || fail "--page bookings --size 400x800 exited $?"
[ "$(png_size "$WORK/bookings-phone.png")" = "400 800" ] ||
  fail "bookings-phone.png is $(png_size "$WORK/bookings-phone.png"), not 400x800"

# Usage errors exit 64.
rc=0
"$DEMO" --base-url "$URL" --page nowhere --screenshot "$WORK/x.png" 2>/dev/null || rc=$?
[ "$rc" = 64 ] || fail "an unknown page exited $rc, not 64"
echo "ok"
