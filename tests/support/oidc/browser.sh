#!/usr/bin/env bash
# A $BROWSER for the CLI tests: "opens" the URL with the headless user agent (useragent.mjs),
# which signs in as alice and consents. Extra user-agent options (--login, --password, --deny)
# come from $LATCHKEY_TEST_BROWSER_ARGS (split on spaces; quote nothing in it). With
# $LATCHKEY_TEST_BROWSER_LOG set, the URL, the user agent's output and its exit code are
# appended to that file.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
url="${1:?usage: browser.sh <url>}"
# shellcheck disable=SC2206
extra=(${LATCHKEY_TEST_BROWSER_ARGS:-})
log="${LATCHKEY_TEST_BROWSER_LOG:-/dev/null}"
{
  echo "browser.sh: open $url"
  node "$here/useragent.mjs" "$url" "${extra[@]}" 2>&1
  rc=$?
  echo "browser.sh: exit $rc"
} >>"$log" 2>&1
exit "$rc"
