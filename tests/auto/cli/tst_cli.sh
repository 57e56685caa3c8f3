#!/usr/bin/env bash
# tst_cli.sh CASE LATCHKEY_CLI LATCHKEY_SERVER
#
# latchkey-cli against a real latchkey-server and the real Secret Service: every latchkey-cli
# line is a new process, so a session survives between them only through the keychain. Each case
# runs in a keyring of its own (it re-runs itself under tests/support/with-keyring.sh): every
# latchkey-cli shares one keychain service, and a case that stops its server frees a loopback
# port the next case's server may get, so cases sharing a keyring could wipe each other's
# entries. No sleeps: token expiry is forced through the server's --test-hooks endpoints.
#
# Cases: walkthrough, bad_credentials, usage, http_error, dead_server, offline_logout,
#        revoked_session, stdin_password, memory_store, profile_file, parallel_processes,
#        refresh_blips, redirect_loop, keychain_unavailable, tls_ca_file
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${LATCHKEY_CLI_OWN_KEYRING:-}" != 1 ]; then
  export LATCHKEY_CLI_OWN_KEYRING=1
  exec "$here/../../support/with-keyring.sh" "$here/$(basename "${BASH_SOURCE[0]}")" "$@"
fi

if [ $# -ne 3 ]; then
  echo "usage: $0 CASE LATCHKEY_CLI LATCHKEY_SERVER" >&2
  exit 64
fi
CASE=$1 CLI=$2 SERVER=$3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tst_cli.XXXXXX")
SERVER_PID=
URL=
GUEST=guest@latchkey.test
GUEST_PASSWORD='Guest-2026!'
SERVICE=Latchkey/latchkey-cli # organization/application of latchkey-cli: the keychain service
SERVER_EXTRA=() # more latchkey-server arguments (--tls-cert, --tls-key)
CURL_EXTRA=()   # more curl arguments (--cacert)

cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL ($CASE): $*" >&2
  if [ -s "$WORK/server.err" ]; then
    echo "--- latchkey-server stderr (last lines)" >&2
    tail -n 20 "$WORK/server.err" >&2
  fi
  exit 1
}

# start_server: a fresh server on a free port with an in-memory database; sets URL.
start_server() {
  exec {server_fd}< <(exec "$SERVER" --port 0 --db :memory: --seed-demo --test-hooks \
    --access-ttl 2 --pbkdf2-iterations 1000 ${SERVER_EXTRA[@]+"${SERVER_EXTRA[@]}"} \
    2>>"$WORK/server.err")
  SERVER_PID=$!
  local line=
  read -r -t 60 -u "$server_fd" line || fail "latchkey-server printed no address"
  [[ $line =~ ^listening\ on\ (https?://[^[:space:]]+) ]] || fail "unexpected first line: $line"
  URL=${BASH_REMATCH[1]%/}
  # Keep draining its stdout so that it never blocks on a full pipe.
  cat <&"$server_fd" >>"$WORK/server.out" &
  exec {server_fd}<&-
  echo "# latchkey-server at $URL"
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

hook() { # hook NAME JSON: a --test-hooks endpoint
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' ${CURL_EXTRA[@]+"${CURL_EXTRA[@]}"} \
    -X POST "$URL/test/$1" -H 'Content-Type: application/json' -d "$2")
  [ "$status" = 204 ] || fail "hook $1 answered $status"
}

# expect CODE ARGS...: runs `latchkey-cli --profile latchkey --base-url $URL ARGS` with stdin
# from $STDIN (default /dev/null), checks its exit code; its output is in $WORK/out, $WORK/err
# and is appended to $WORK/transcript.
expect() {
  local want=$1
  shift
  local got=0
  "$CLI" --profile latchkey --base-url "$URL" "$@" <"${STDIN:-/dev/null}" \
    >"$WORK/out" 2>"$WORK/err" || got=$?
  echo "[exit $got] latchkey-cli $*"
  sed 's/^/    stderr: /' "$WORK/err"
  cat "$WORK/out" "$WORK/err" >>"$WORK/transcript"
  if [ "$got" != "$want" ]; then
    echo "--- stdout" && cat "$WORK/out"
    echo "--- stderr" && cat "$WORK/err"
    fail "latchkey-cli $* exited $got, expected $want"
  fi
}

out_has() { grep -q -- "$1" "$WORK/out" || fail "stdout lacks '$1': $(cat "$WORK/out")"; }
err_has() { grep -q -- "$1" "$WORK/err" || fail "stderr lacks '$1': $(cat "$WORK/err")"; }

# The keychain entries of latchkey-cli that name this server (attributes only; never the secret).
keychain_entries() {
  local port=${URL##*:}
  secret-tool search --all xdg:schema org.qt.keychain server "$SERVICE" 2>&1 |
    grep '^attribute\.user = ' | grep -F -- "$port" || true
}
expect_keychain_entry() {
  [ -n "$(keychain_entries)" ] || fail "no keychain entry for $URL while signed in"
}
expect_no_keychain_entry() {
  local left
  left=$(keychain_entries)
  [ -z "$left" ] || fail "keychain entries left for $URL: $left"
}

no_secrets_in_transcript() {
  if grep -q 'eyJ' "$WORK/transcript"; then fail "latchkey-cli printed a JWT"; fi
  if grep -qF -- "$GUEST_PASSWORD" "$WORK/transcript"; then fail "latchkey-cli printed the password"; fi
}

login_guest() {
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 0 login "$GUEST"
}

# ---------------------------------------------------------------------------------------------

case_walkthrough() { # the "Done when" of issue 2
  start_server
  login_guest
  out_has "$GUEST"
  expect_keychain_entry
  expect 0 get /api/user/profile
  out_has "\"email\""
  out_has "$GUEST"
  # Instead of `sleep 3` with --access-ttl 2: the server now rejects every access token issued.
  hook expire-access-tokens '{}'
  expect 0 get /api/bookings # restored from the keychain, refreshed
  out_has '"bookings"'
  expect 0 post /api/bookings --data '{"hotel":"Harbour View","checkIn":"2027-03-01","checkOut":"2027-03-04","guests":2}'
  out_has 'Harbour View'
  expect 0 status
  out_has 'SignedIn'
  out_has "$GUEST"
  out_has 'guest'
  # The same, with every latchkey.* log category on: still no token.
  QT_LOGGING_RULES='latchkey.*=true' expect 0 --verbose status
  expect_keychain_entry
  if grep -rlF -- "$GUEST_PASSWORD" "$HOME" 2>/dev/null; then
    fail "the password is in a file under \$HOME (listed above)"
  fi
  expect 0 logout
  expect_no_keychain_entry
  expect 2 get /api/bookings
  err_has 'NotSignedIn'
  expect 2 status
  out_has 'SignedOut'
  expect 0 logout # already signed out: nothing to do
  no_secrets_in_transcript
}

case_bad_credentials() {
  start_server
  LATCHKEY_PASSWORD='wrong-password' expect 2 login "$GUEST"
  err_has 'InvalidCredentials'
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 2 login nobody@latchkey.test
  err_has 'InvalidCredentials'
  expect_no_keychain_entry
  expect 2 get /api/user/profile
  no_secrets_in_transcript
}

case_usage() {
  URL=http://127.0.0.1:9 # never contacted
  expect 64
  expect 64 frobnicate
  expect 64 get
  expect 64 get /a /b
  expect 64 login
  expect 64 post /api/bookings
  expect 64 get /api/bookings --data '{}'
  expect 64 --store floppy status
  expect 64 --bogus status
  expect 64 --base-url 'ftp://example.com' status
  expect 64 --profile "$WORK/no-such-profile.json" status
  err_has 'no-such-profile'
  expect 64 post /api/bookings --data "@$WORK/no-such-file.json"
  expect 0 --help
  out_has 'Exit codes'
}

case_http_error() {
  start_server
  login_guest
  expect 1 get /api/admin/users # role manager only: 403
  err_has 'HTTP 403'
  [ -s "$WORK/out" ] || fail "the error body was not printed"
  expect 1 post /api/bookings --data '{"hotel":""}'
  err_has 'HTTP 400'
  expect 0 logout
}

case_dead_server() {
  start_server
  stop_server # nothing listens on $URL any more
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 3 login "$GUEST"
  err_has 'Network'
  expect_no_keychain_entry
}

case_offline_logout() {
  start_server
  login_guest
  stop_server
  expect 3 get /api/bookings # the session is kept for when the server is back
  err_has 'Network'
  expect_keychain_entry
  expect 3 logout # wiped locally anyway
  expect_no_keychain_entry
  expect 2 status
}

case_revoked_session() {
  start_server
  login_guest
  hook revoke-sessions "{\"email\":\"$GUEST\"}"
  expect 2 get /api/bookings # the refresh is rejected: session expired, entry removed
  err_has 'SessionExpired'
  expect_no_keychain_entry
  expect 2 status
}

case_refresh_blips() { # a server that answers 503/502 a few times, then again
  start_server
  login_guest
  hook fail-refresh '{"status":503,"count":3,"retryAfter":1}'
  hook expire-access-tokens "{\"email\":\"$GUEST\"}"
  expect 0 --timeout 30 get /api/bookings # three refused attempts, the fourth gets through
  hook fail-refresh '{"status":502,"count":2}'
  hook expire-access-tokens "{\"email\":\"$GUEST\"}"
  expect 0 --timeout 30 get /api/bookings
  expect_keychain_entry
  expect 0 logout
}

case_redirect_loop() { # following a redirect loop ends in an error, never in a success
  start_server
  login_guest
  expect 3 get /test/redirect-loop
  err_has 'Network'
  expect 0 logout
}

case_stdin_password() {
  start_server
  printf '%s\n' "$GUEST_PASSWORD" >"$WORK/password"
  STDIN=$WORK/password expect 0 login "$GUEST"
  rm -f "$WORK/password"
  expect 0 get /api/user/profile
  out_has "$GUEST"
  expect 0 logout
  expect_no_keychain_entry
  no_secrets_in_transcript
}

case_memory_store() {
  start_server
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 0 --store memory login "$GUEST"
  expect_no_keychain_entry
  expect 2 --store memory status # nothing survives the process
}

# A keychain that is locked, or missing altogether: the error says so and names the way out,
# and a locked one keeps the session for after the unlock. latchkey-keyring-tool (its path in
# LATCHKEY_KEYRING_TOOL) locks and unlocks the keyring over D-Bus.
case_keychain_unavailable() {
  local tool=${LATCHKEY_KEYRING_TOOL:-}
  [ -x "$tool" ] || fail "LATCHKEY_KEYRING_TOOL does not name latchkey-keyring-tool"
  start_server
  login_guest
  "$tool" lock || fail "could not lock the keyring"
  expect 3 get /api/bookings
  err_has 'KeychainUnavailable'
  err_has 'keychain is locked'
  err_has '--store memory'
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 3 login "$GUEST"
  err_has 'keychain is locked'
  err_has '--store memory'
  "$tool" unlock || fail "could not unlock the keyring"
  expect 0 get /api/bookings # the session was kept
  out_has '"bookings"'
  # No Secret Service at all (no session bus to reach).
  DISPLAY='' DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/latchkey-test-bus \
    expect 3 get /api/bookings
  err_has 'KeychainUnavailable'
  err_has '--store memory'
  no_secrets_in_transcript
}

# Several latchkey-cli processes at once restore the same keychain entry; each refresh rotates
# it and the server revokes the session if a spent token comes back. They take turns (a lock in
# the runtime directory) and re-read the entry first, so all succeed and the session lives on.
case_parallel_processes() {
  start_server
  login_guest
  local pids=() i
  for i in 1 2 3 4; do
    "$CLI" --profile latchkey --base-url "$URL" get /api/bookings >"$WORK/par$i.out" 2>"$WORK/par$i.err" &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    wait "${pids[$i]}" || fail "parallel get #$((i + 1)) failed: $(cat "$WORK/par$((i + 1)).err")"
  done
  echo "[exit 0] 4 × latchkey-cli get /api/bookings, at once"
  expect 0 get /api/bookings
  curl -s "$URL/metrics" | grep -q '^latchkey_refresh_total{result="reused"} 0$' ||
    fail "a spent refresh token was presented: $(curl -s "$URL/metrics" | grep reused)"
}

# --profile FILE: profiles written from a server's documentation, as docs/profiles.md teaches
# (the server's RFC 6749 endpoint and its JSON API, described by hand, not the built-ins).
case_profile_file() {
  start_server
  cat >"$WORK/acme-oauth.json" <<'JSON'
{
  "name": "acme-oauth",
  "login":   { "path": "/oauth/token", "encoding": "form",
               "fields": { "identity": "username", "password": "password" },
               "extra": { "grant_type": "password", "client_id": "latchkey-demo" } },
  "refresh": { "path": "/oauth/token", "encoding": "form",
               "send": { "in": "body", "name": "refresh_token" },
               "extra": { "grant_type": "refresh_token", "client_id": "latchkey-demo" } },
  "logout":  { "path": "/oauth/revoke", "encoding": "form", "send": { "in": "body", "name": "token" },
               "extra": { "client_id": "latchkey-demo" } },
  "tokens":  { "access": "/access_token", "refresh": { "in": "body", "pointer": "/refresh_token" },
               "expiresIn": "/expires_in" },
  "errors":  { "message": ["/error_description", "/error"] }
}
JSON
  cat >"$WORK/acme-jwt.json" <<'JSON'
{
  "name": "acme-jwt",
  "login":   { "path": "/api/auth/login" },
  "refresh": { "path": "/api/auth/refresh", "send": { "in": "cookie", "name": "refresh_token" } },
  "logout":  { "path": "/api/auth/logout", "send": { "in": "cookie", "name": "refresh_token" } },
  "tokens":  { "access": "/access_token", "refresh": { "in": "cookie", "name": "refresh_token" } }
}
JSON
  for profile in "$WORK/acme-oauth.json" "$WORK/acme-jwt.json"; do
    LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 0 --profile "$profile" login "$GUEST"
    expect 0 --profile "$profile" get /api/bookings
    out_has '"bookings"'
    hook expire-access-tokens '{}'
    expect 0 --profile "$profile" get /api/user/profile # restored, refreshed
    expect_keychain_entry
    expect 0 --profile "$profile" logout
    expect 2 --profile "$profile" get /api/bookings
  done
  LATCHKEY_PASSWORD=wrong expect 2 --profile "$WORK/acme-oauth.json" login "$GUEST"
  err_has 'InvalidCredentials'
  echo '{"name":"broken","login":{"path":"/x"},"tokens":{"access":"access_token"}}' >"$WORK/broken.json"
  expect 64 --profile "$WORK/broken.json" status
  err_has 'tokens.access'
  no_secrets_in_transcript
}

# make_certificates: in $WORK, made by openssl now: ca.pem (a private CA), server.pem/.key (for
# 127.0.0.1, signed by that CA) and other-ca.pem (a CA that signed nothing here).
make_certificates() {
  local newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  local ca_ext=(-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign)
  (
    cd "$WORK"
    openssl req -x509 "${newkey[@]}" -days 2 -keyout ca.key -out ca.pem \
      -subj '/CN=Latchkey CLI Test CA' "${ca_ext[@]}"
    openssl req -x509 "${newkey[@]}" -days 2 -keyout other-ca.key -out other-ca.pem \
      -subj '/CN=Another CA' "${ca_ext[@]}"
    openssl req "${newkey[@]}" -keyout server.key -out server.csr -subj '/CN=127.0.0.1'
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.pem
  ) >"$WORK/openssl.log" 2>&1 || fail "openssl could not make the certificates: $(cat "$WORK/openssl.log")"
}

# A server behind a private CA: refused until --ca-file names that CA, then every command works
# over HTTPS (sign-in, restore, refresh, sign-out); a bad --ca-file is a usage error.
case_tls_ca_file() {
  make_certificates
  SERVER_EXTRA=(--tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key")
  CURL_EXTRA=(--cacert "$WORK/ca.pem")
  start_server
  [[ $URL == https://127.0.0.1:* ]] || fail "expected an https URL, got $URL"
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 3 login "$GUEST" # the system's CAs only
  err_has 'Network'
  err_has 'SSL'
  expect_no_keychain_entry
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 0 --ca-file "$WORK/ca.pem" login "$GUEST"
  expect_keychain_entry
  expect 0 --ca-file "$WORK/ca.pem" get /api/bookings
  out_has '"bookings"'
  hook expire-access-tokens '{}'
  expect 0 --ca-file "$WORK/ca.pem" get /api/user/profile # restored and refreshed over HTTPS
  out_has "$GUEST"
  expect 3 get /api/bookings # without it: refused, the session kept
  err_has 'SSL'
  expect 3 --ca-file "$WORK/other-ca.pem" get /api/bookings # another CA: refused too
  err_has 'SSL'
  expect_keychain_entry
  expect 64 --ca-file "$WORK/no-such-ca.pem" status
  err_has 'no-such-ca.pem'
  printf 'not a certificate\n' >"$WORK/garbage.pem"
  expect 64 --ca-file "$WORK/garbage.pem" status
  err_has 'garbage.pem'
  expect 0 --ca-file "$WORK/ca.pem" logout
  expect_no_keychain_entry
  no_secrets_in_transcript
}

command -v curl >/dev/null || fail "curl is missing (scripts/deps.sh installs it)"
command -v secret-tool >/dev/null || fail "secret-tool is missing (scripts/deps.sh installs it)"
command -v openssl >/dev/null || fail "openssl is missing (scripts/deps.sh installs it)"
[ -x "$CLI" ] || fail "not executable: $CLI"
[ -x "$SERVER" ] || fail "not executable: $SERVER"
declare -F "case_$CASE" >/dev/null || fail "unknown case $CASE"
"case_$CASE"
echo "PASS ($CASE)"
