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
#        revoked_session, status_offline, body_newline, lockout_message, stdin_password,
#        memory_store, profile_file, base_url_path, parallel_processes, refresh_blips,
#        redirect_loop, keychain_unavailable, tls_ca_file,
#        oidc_browser, oidc_device, oidc_client_credentials, oidc_usage (against the real OpenID
#        provider of tests/support/oidc, on Node.js: scripts/deps.sh installs it)
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
CLI_ARGS=()     # when set, expect() passes these instead of --profile latchkey --base-url $URL
OIDC_DIR=$(cd "$here/../../support/oidc" && pwd)
NODE_PIDS=()    # start_node's processes
NODE_URL=
ISSUER=         # the OpenID provider's issuer URL (start_provider)
API=            # the resource server's URL (start_api)

cleanup() {
  stop_server
  stop_nodes
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL ($CASE): $*" >&2
  if [ -s "$WORK/server.err" ]; then
    echo "--- latchkey-server stderr (last lines)" >&2
    tail -n 20 "$WORK/server.err" >&2
  fi
  if [ -s "$WORK/provider.err" ]; then
    echo "--- OpenID provider stderr (last lines)" >&2
    tail -n 20 "$WORK/provider.err" >&2
  fi
  if [ -s "$WORK/browser.log" ]; then
    echo "--- browser.sh log (last lines)" >&2
    tail -n 20 "$WORK/browser.log" >&2
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

# start_node SCRIPT ARGS...: runs `node SCRIPT ARGS`, whose first stdout line is
# "LISTENING <url>"; sets NODE_URL. Its stdin is a FIFO that only this script holds open, so it
# ends when this script does, however that ends (provider.mjs exits when its stdin closes).
start_node() {
  if [ -z "${keep_fd:-}" ]; then
    mkfifo "$WORK/keepalive"
    exec {keep_fd}<>"$WORK/keepalive"
  fi
  local name
  name=$(basename "$1" .mjs)
  exec {node_fd}< <(exec node "$@" <"$WORK/keepalive" {keep_fd}>&- 2>>"$WORK/$name.err")
  NODE_PIDS+=($!)
  local line=
  read -r -t 60 -u "$node_fd" line || fail "$name printed no address: $(cat "$WORK/$name.err")"
  [[ $line =~ ^LISTENING\ (http://[^[:space:]]+) ]] || fail "unexpected first line of $name: $line"
  NODE_URL=${BASH_REMATCH[1]%/}
  cat <&"$node_fd" >>"$WORK/$name.out" {keep_fd}>&- &
  exec {node_fd}<&-
  echo "# $name at $NODE_URL"
}

stop_nodes() {
  local pid
  for pid in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"}; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  NODE_PIDS=()
}

# start_provider: the real OpenID provider (tests/support/oidc/README.md) with its test hooks and
# a device-code poll interval of 1 s; sets ISSUER.
start_provider() {
  command -v node >/dev/null || fail "node is missing (scripts/deps.sh installs it)"
  [ -d "$OIDC_DIR/node_modules" ] || fail "$OIDC_DIR/node_modules is missing: run scripts/deps.sh"
  start_node "$OIDC_DIR/provider.mjs" --port 0 --test-hooks --device-interval 1
  ISSUER=$NODE_URL
}

# start_api: a resource server that answers any GET with what the provider's introspection says
# of its bearer token (active, client_id, sub, scope; never the token): 200 when active, else
# 401. Sets API.
start_api() {
  cat >"$WORK/api.mjs" <<'JS'
import http from 'node:http';
const issuer = process.argv[2];
const basic = 'Basic ' + Buffer.from('latchkey-introspector:introspector-secret').toString('base64');
const server = http.createServer(async (req, res) => {
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  let facts = { active: false };
  if (bearer) {
    const answer = await fetch(issuer + '/token/introspection', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      body: new URLSearchParams({ token: bearer[1] }),
    });
    const { active, client_id, sub, scope } = await answer.json();
    facts = { active: !!active, client_id, sub, scope };
  }
  res.writeHead(facts.active ? 200 : 401, { 'content-type': 'application/json' });
  res.end(JSON.stringify(facts));
});
process.stdin.on('end', () => process.exit(0)).resume();
server.listen(0, '127.0.0.1', () => console.log(`LISTENING http://127.0.0.1:${server.address().port}`));
JS
  start_node "$WORK/api.mjs" "$ISSUER"
  API=$NODE_URL
}

provider_counter() { # provider_counter JQ-LIKE-KEY: a number of GET /test/counters, e.g. revocation
  curl -s "$ISSUER/test/counters" | node -e \
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];console.log(v??0)})' "$1"
}

provider_hook() { # provider_hook NAME [JSON]: a --test-hooks endpoint of the provider
  local status body='{}'
  [ $# -lt 2 ] || body=$2
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$ISSUER/test/$1" \
    -H 'Content-Type: application/json' -d "$body")
  [[ $status == 2* ]] || fail "provider hook $1 answered $status"
}

hook() { # hook NAME JSON: a --test-hooks endpoint
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' ${CURL_EXTRA[@]+"${CURL_EXTRA[@]}"} \
    -X POST "$URL/test/$1" -H 'Content-Type: application/json' -d "$2")
  [ "$status" = 204 ] || fail "hook $1 answered $status"
}

# expect CODE ARGS...: runs `latchkey-cli --profile latchkey --base-url $URL ARGS` (or
# `latchkey-cli $CLI_ARGS ARGS` when CLI_ARGS is set) with stdin from $STDIN (default /dev/null),
# checks its exit code; its output is in $WORK/out, $WORK/err and is appended to
# $WORK/transcript.
expect() {
  local want=$1
  shift
  local got=0 base=(--profile latchkey --base-url "$URL")
  [ ${#CLI_ARGS[@]} -eq 0 ] || base=("${CLI_ARGS[@]}")
  "$CLI" "${base[@]}" "$@" <"${STDIN:-/dev/null}" >"$WORK/out" 2>"$WORK/err" || got=$?
  check_exit "$want" "$got" "$*"
}

check_exit() { # check_exit WANT GOT ARGS: reports a finished latchkey-cli run (see expect)
  echo "[exit $2] latchkey-cli $3"
  sed 's/^/    stderr: /' "$WORK/err"
  cat "$WORK/out" "$WORK/err" >>"$WORK/transcript"
  if [ "$2" != "$1" ]; then
    echo "--- stdout" && cat "$WORK/out"
    echo "--- stderr" && cat "$WORK/err"
    fail "latchkey-cli $3 exited $2, expected $1"
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

case_status_offline() { # the server down: the stored session is still shown, as unconfirmed
  start_server
  login_guest
  stop_server
  expect 3 status
  out_has "identity: $GUEST"
  out_has 'not confirmed'
  err_has 'Network'
  expect_keychain_entry
}

case_body_newline() { # a body without a final newline and the error line read together (2>&1)
  start_server
  login_guest
  local got=0
  "$CLI" --profile latchkey --base-url "$URL" get /api/admin/users >"$WORK/both" 2>&1 || got=$?
  [ "$got" = 1 ] || fail "get /api/admin/users exited $got: $(cat "$WORK/both")"
  grep -q '^latchkey-cli: HTTP 403' "$WORK/both" ||
    fail "the error line ran into the body: $(cat "$WORK/both")"
  # stdout on its own (a pipe or file of its own) stays byte for byte the server's body.
  expect 1 get /api/admin/users
  [ -n "$(tail -c 1 "$WORK/out")" ] || fail "a newline was added to the body read on its own"
  expect 0 logout
}

case_lockout_message() { # attempts left before a lockout; the lockout's end said once
  SERVER_EXTRA=(--lockout-threshold 3)
  start_server
  LATCHKEY_PASSWORD='wrong-1' expect 2 login "$GUEST"
  err_has 'InvalidCredentials'
  err_has '2 sign-in attempts left'
  LATCHKEY_PASSWORD='wrong-2' expect 2 login "$GUEST"
  err_has '1 sign-in attempt left'
  LATCHKEY_PASSWORD='wrong-3' expect 2 login "$GUEST" # the third failure locks
  LATCHKEY_PASSWORD=$GUEST_PASSWORD expect 2 login "$GUEST"
  err_has 'AccountLocked'
  local times
  times=$(grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}' "$WORK/err" | wc -l)
  [ "$times" = 1 ] || fail "the lockout's end is said $times times: $(cat "$WORK/err")"
  err_has 'try again at'
  # An unknown email counts down alike (the answer does not tell which accounts exist).
  LATCHKEY_PASSWORD='wrong-1' expect 2 login nobody@latchkey.test
  err_has '2 sign-in attempts left'
  LATCHKEY_PASSWORD='wrong-2' expect 2 login nobody@latchkey.test
  err_has '1 sign-in attempt left'
  expect_no_keychain_entry
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
case_base_url_path() { # a base URL with a path: request paths are joined as a profile's are
  start_server
  cat >"$WORK/prefixed.json" <<'JSON'
{
  "name": "prefixed",
  "login":   { "path": "/auth/login" },
  "refresh": { "path": "/auth/refresh", "send": { "in": "body", "name": "refresh_token" } },
  "logout":  { "path": "/auth/logout", "bearer": true,
               "send": { "in": "body", "name": "refresh_token" } },
  "tokens":  { "access": "/access_token", "refresh": { "in": "body", "pointer": "/refresh_token" } }
}
JSON
  for base in "$URL/api" "$URL/api/"; do # with and without the final slash: the same URLs
    CLI_ARGS=(--profile "$WORK/prefixed.json" --base-url "$base")
    login_guest                                  # $URL/api/auth/login
    expect 0 get /bookings                       # $URL/api/bookings, not $URL/bookings
    out_has '"bookings"'
    expect 0 get bookings                        # no leading slash: the same
    out_has '"bookings"'
    expect 0 get "$URL/api/bookings?from=cli"    # a full URL stays as it is
    out_has '"bookings"'
    expect 0 logout
  done
  CLI_ARGS=()
}

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

# ---------------------------------------------------------------------------------------------
# OpenID Connect, against the real provider of tests/support/oidc (any login, password
# "correct horse"; clients latchkey-native, latchkey-confidential, latchkey-service).

oidc_cli() { # oidc_cli CLIENT_ID [MORE ARGS]: the flags of an OIDC run; the API is the provider
  CLI_ARGS=(--profile oidc --issuer "$ISSUER" --client-id "$1" --base-url "${API:-$ISSUER}" "${@:2}")
}

# login --browser with $BROWSER = browser.sh (the headless user agent signs in as alice and
# consents); every later command is another process that restores the session from the keychain.
case_oidc_browser() {
  start_provider
  URL=$ISSUER # keychain_entries: the session is stored for this base URL
  oidc_cli latchkey-native
  export BROWSER="$OIDC_DIR/browser.sh" LATCHKEY_TEST_BROWSER_LOG="$WORK/browser.log"
  expect 0 login --browser
  out_has 'Signed in as alice@example.com'
  err_has "$ISSUER/auth?" # the authorization URL is printed too
  expect_keychain_entry
  expect 0 status
  out_has 'SignedIn'
  out_has 'alice@example.com'
  expect 0 get /me # the provider's userinfo: the bearer of a restored, refreshed session
  out_has '"sub":"alice"'
  provider_hook expire-access-tokens
  expect 0 get /me # refreshed again at the provider
  out_has '"sub":"alice"'
  provider_hook reset-counters
  expect 0 logout
  out_has 'Signed out'
  [ "$(provider_counter revocation)" -ge 1 ] || fail "logout revoked nothing at the provider"
  err_has "$ISSUER/session/end?"
  local end_session
  end_session=$(grep -o "$ISSUER/session/end?[^[:space:]]*" "$WORK/err" | head -1)
  node "$OIDC_DIR/useragent.mjs" "$end_session" >"$WORK/ua.out" 2>&1 ||
    fail "the end-session URL did not work: $(cat "$WORK/ua.out")"
  grep -q 'SIGNED OUT' "$WORK/ua.out" || fail "end-session: $(cat "$WORK/ua.out")"
  expect_no_keychain_entry
  expect 2 status
  out_has 'SignedOut'
  expect 2 get /me

  # Refused on the provider's page: AccessDenied, exit 2; nothing stored.
  LATCHKEY_TEST_BROWSER_ARGS=--deny expect 2 login --browser
  err_has 'AccessDenied'
  expect_no_keychain_entry
  # A browser that never comes back: the wait ends after --timeout, AuthorizationExpired, exit 2.
  BROWSER=true expect 2 --timeout 2 login --browser
  err_has 'AuthorizationExpired'
  expect_no_keychain_entry

  # --issuer and --client-id give a profile file its "oidc" object; the secret of a confidential
  # client comes from $LATCHKEY_CLIENT_SECRET.
  printf '{"name":"acme-oidc","oidc":{"clientAuth":"basic","scopes":"openid email offline_access","prompt":"consent"}}\n' \
    >"$WORK/acme-oidc.json"
  CLI_ARGS=(--profile "$WORK/acme-oidc.json" --issuer "$ISSUER" --client-id latchkey-confidential
            --base-url "$ISSUER")
  LATCHKEY_CLIENT_SECRET=confidential-secret LATCHKEY_TEST_BROWSER_ARGS='--login bob' \
    expect 0 login --browser
  out_has 'Signed in as bob@example.com'
  LATCHKEY_CLIENT_SECRET=confidential-secret expect 0 get /me
  out_has '"sub":"bob"'
  LATCHKEY_CLIENT_SECRET=confidential-secret expect 0 logout
  expect_no_keychain_entry
  no_secrets_in_transcript
}

# device_login WANT ACTION [USER AGENT ARGS]: `latchkey-cli $CLI_ARGS login --device` in the
# background; once it printed the page and the code, ACTION happens: "approve" or "deny" (the
# user agent enters the code, with ARGS) or "expire" (the provider's codes expire); then the
# run must exit WANT.
device_login() {
  local want=$1 action=$2 page= code= line= got=0
  shift 2
  rm -f "$WORK/device.fifo"
  mkfifo "$WORK/device.fifo"
  "$CLI" "${CLI_ARGS[@]}" login --device </dev/null >"$WORK/out" 2>"$WORK/device.fifo" &
  local pid=$!
  exec {device_fd}<"$WORK/device.fifo"
  : >"$WORK/err"
  while [ -z "$page" ] || [ -z "$code" ]; do
    IFS= read -r -t 60 -u "$device_fd" line || break
    printf '%s\n' "$line" >>"$WORK/err"
    if [[ $line =~ ^[[:space:]]+page:\ (.+)$ ]]; then page=${BASH_REMATCH[1]}; fi
    if [[ $line =~ ^[[:space:]]+code:\ (.+)$ ]]; then code=${BASH_REMATCH[1]}; fi
  done
  cat <&"$device_fd" >>"$WORK/err" &
  local drain=$!
  exec {device_fd}<&-
  if [ -z "$page" ] || [ -z "$code" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" || true
    fail "login --device printed no page and code: $(cat "$WORK/err")"
  fi
  case $action in
    approve | deny)
      local deny=()
      [ "$action" = approve ] || deny=(--deny)
      if ! node "$OIDC_DIR/useragent.mjs" --device "$page" --user-code "$code" \
        ${deny[@]+"${deny[@]}"} "$@" >"$WORK/ua.out" 2>&1; then
        kill "$pid" 2>/dev/null || true
        fail "the user agent failed on $page: $(cat "$WORK/ua.out")"
      fi
      ;;
    expire) provider_hook expire-device-codes ;;
  esac
  wait "$pid" || got=$?
  wait "$drain" || true
  check_exit "$want" "$got" "${CLI_ARGS[*]} login --device ($action)"
}

case_oidc_device() {
  start_provider
  URL=$ISSUER
  oidc_cli latchkey-native
  device_login 0 approve --login alice --password 'correct horse'
  out_has 'Signed in as alice@example.com'
  err_has "$ISSUER/device"
  expect_keychain_entry
  expect 0 get /me # another process: restored from the keychain
  out_has '"sub":"alice"'
  expect 0 logout
  expect_no_keychain_entry
  device_login 2 deny
  err_has 'AccessDenied'
  expect_no_keychain_entry
  device_login 2 expire
  err_has 'AuthorizationExpired'
  expect_no_keychain_entry
  expect 2 status
  no_secrets_in_transcript
}

# Client credentials: the secret from $LATCHKEY_CLIENT_SECRET, the session in one process only.
case_oidc_client_credentials() {
  start_provider
  start_api
  URL=$API
  oidc_cli latchkey-service --scopes api:read
  LATCHKEY_CLIENT_SECRET=service-secret expect 0 login --client-credentials
  out_has 'Signed in as client latchkey-service'
  expect_no_keychain_entry
  LATCHKEY_CLIENT_SECRET=service-secret expect 0 --client-credentials get /reports
  out_has '"active":true'
  out_has '"client_id":"latchkey-service"'
  LATCHKEY_CLIENT_SECRET=service-secret expect 0 --client-credentials status
  out_has 'SignedIn'
  out_has 'latchkey-service'
  expect_no_keychain_entry
  expect 2 get /reports # nothing was stored: that session lived in its process only
  LATCHKEY_CLIENT_SECRET=wrong-secret expect 2 login --client-credentials
  err_has 'InvalidCredentials'
  LATCHKEY_CLIENT_SECRET=wrong-secret expect 2 --client-credentials get /reports
  err_has 'InvalidCredentials'
  expect 64 login --client-credentials # no secret
  err_has 'LATCHKEY_CLIENT_SECRET'
  LATCHKEY_CLIENT_SECRET=service-secret expect 64 --client-credentials logout
  if grep -qF -- 'service-secret' "$WORK/transcript"; then fail "latchkey-cli printed the secret"; fi
  no_secrets_in_transcript
}

# The command line of the OIDC sign-ins: what is missing or does not fit is a usage error (64)
# that says what to pass; nothing is contacted.
case_oidc_usage() {
  URL=http://127.0.0.1:9 # never contacted
  CLI_ARGS=(--profile oidc --base-url "$URL")
  expect 64 login --browser
  err_has 'names no OpenID provider: pass --issuer URL'
  expect 64 status
  err_has '--issuer'
  expect 64 --issuer "$URL" login --device
  err_has 'pass --client-id ID'
  expect 64 --issuer "$URL" --client-id c login alice # the oidc profile has no password sign-in
  err_has 'login --browser'
  expect 64 --issuer 'ftp://idp.example.com' --client-id c login --browser
  err_has 'Invalid --issuer'
  expect 64 --issuer "$URL" --client-id c --scopes ' ' login --browser
  err_has '--scopes'
  expect 64 --issuer "$URL" --client-id c login --browser --device
  err_has 'one of --browser, --device'
  expect 64 --issuer "$URL" --client-id c login --browser alice
  err_has 'no IDENTITY'
  expect 64 --issuer "$URL" --client-id c --browser get /me
  err_has 'for login'
  CLI_ARGS=()
  expect 64 login --browser # the latchkey profile is no OpenID Connect profile
  err_has 'need an OpenID Connect profile'
  expect 64 login
  err_has 'IDENTITY'
  expect 0 --help
  out_has '--issuer'
  out_has '--client-credentials'
  out_has 'LATCHKEY_CLIENT_SECRET'
}

command -v curl >/dev/null || fail "curl is missing (scripts/deps.sh installs it)"
command -v secret-tool >/dev/null || fail "secret-tool is missing (scripts/deps.sh installs it)"
command -v openssl >/dev/null || fail "openssl is missing (scripts/deps.sh installs it)"
[ -x "$CLI" ] || fail "not executable: $CLI"
[ -x "$SERVER" ] || fail "not executable: $SERVER"
declare -F "case_$CASE" >/dev/null || fail "unknown case $CASE"
"case_$CASE"
echo "PASS ($CASE)"
