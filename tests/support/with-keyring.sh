#!/usr/bin/env bash
# with-keyring.sh CMD [ARGS...]
#
# Runs CMD against the real Secret Service, isolated from the user's own: a private HOME and XDG
# directories (a fresh mktemp dir, removed afterwards, unless LATCHKEY_TEST_HOME names one to
# keep), a private D-Bus session (dbus-run-session) and an unlocked gnome-keyring-daemon with
# only the secrets component. Checks that a secret can be stored before running CMD, and fails
# loudly (exit 69) if not. The daemon is killed when CMD ends. Exits with CMD's status.
# CMD finds the keyring's password in LATCHKEY_KEYRING_PASSWORD, to unlock it after locking it
# (latchkey-keyring-tool, tests/support/keyringcontrol.h).
set -euo pipefail

me="with-keyring"
die() {
  echo "$me: $*" >&2
  exit 69
}

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 64
fi

# ---------------------------------------------------------------------------------------------
# Inside the private D-Bus session: start and check the keyring, run CMD, stop the keyring.
if [ "${LATCHKEY_KEYRING_INNER:-}" = 1 ]; then
  unset LATCHKEY_KEYRING_INNER
  for tool in gnome-keyring-daemon secret-tool dbus-send; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh installs it)"
  done

  bus_call() {
    dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      "org.freedesktop.DBus.$1" "string:$2" 2>/dev/null
  }

  # The password only unlocks this throwaway login keyring; it creates it on first use.
  export LATCHKEY_KEYRING_PASSWORD=latchkey-test
  echo -n "$LATCHKEY_KEYRING_PASSWORD" |
    gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null ||
    die "gnome-keyring-daemon did not start"

  # --daemonize returns before the daemon owns org.freedesktop.secrets; wait (bounded) so that
  # the first client does not D-Bus-activate a second daemon.
  for _ in $(seq 1 100); do
    case "$(bus_call NameHasOwner org.freedesktop.secrets || true)" in *true*) break ;; esac
    sleep 0.05
  done
  keyring_pid=$(bus_call GetConnectionUnixProcessID org.freedesktop.secrets | awk '{print $NF}' || true)
  [ -n "$keyring_pid" ] || die "no Secret Service on the private D-Bus session"
  stop_keyring() { kill "$keyring_pid" 2>/dev/null || true; }
  trap stop_keyring EXIT

  probe=(xdg:schema org.qt.keychain server latchkey-with-keyring-probe user probe)
  printf probe | secret-tool store --label=latchkey-probe "${probe[@]}" ||
    die "cannot store a secret in gnome-keyring (locked keyring?)"
  [ "$(secret-tool lookup "${probe[@]}")" = probe ] || die "cannot read back a stored secret"
  secret-tool clear "${probe[@]}" || die "cannot remove a stored secret"

  set +e
  "$@"
  rc=$?
  set -e
  exit "$rc"
fi

# ---------------------------------------------------------------------------------------------
# Outside: make the private home, then re-run this script inside a private D-Bus session.
command -v dbus-run-session >/dev/null || die "dbus-run-session is missing (scripts/deps.sh installs it)"

if [ -n "${LATCHKEY_TEST_HOME:-}" ]; then
  home=$LATCHKEY_TEST_HOME
  mkdir -p "$home"
  home=$(cd "$home" && pwd)
  keep_home=1
else
  home=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-home.XXXXXX")
  keep_home=0
fi
cleanup() {
  if [ "$keep_home" = 0 ]; then rm -rf "$home"; fi
}
trap cleanup EXIT

export HOME="$home"
export XDG_DATA_HOME="$home/.local/share"
export XDG_CACHE_HOME="$home/.cache"
export XDG_CONFIG_HOME="$home/.config"
export XDG_RUNTIME_DIR="$home/.run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$home" "$XDG_RUNTIME_DIR"
# Never talk to the caller's session bus or keyring from in here.
unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL SSH_AUTH_SOCK

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
set +e
LATCHKEY_KEYRING_INNER=1 dbus-run-session -- "$self" "$@"
rc=$?
set -e
exit "$rc"
