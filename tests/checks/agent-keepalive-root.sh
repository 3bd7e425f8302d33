#!/usr/bin/env bash
# agent/autostop-keepalive run by a user who is not root: writing the marker needs root, so it re-runs itself
# through sudo when sudo is there (a stand-in sudo on PATH records how it was called) and otherwise says clearly that
# it needs root, writing nothing. Reading (status) needs no root. Needs root itself (it switches to nobody).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "FAIL: run as root (it runs the helper as nobody)"; exit 1; }
DIR=$(mktemp -d /tmp/autostop-keepalive.XXXXXX); trap 'rm -rf "$DIR"' EXIT
chmod 755 "$DIR"
install -m 0755 agent/autostop-keepalive "$DIR/autostop-keepalive"
MARKER=$DIR/run/autostop/keepalive-until; mkdir -p "$DIR/run"; chmod 755 "$DIR/run"   # root's, like /run
# A PATH with only what the helper uses, so whether sudo is found is up to this test.
mkdir "$DIR/bin" "$DIR/sudo-bin"
for tool in bash date dirname sed mkdir mv rm tr id; do ln -s "$(command -v "$tool")" "$DIR/bin/$tool"; done
printf '#!/bin/sh\necho "$@" >"%s/sudo.args"\n' "$DIR" >"$DIR/sudo-bin/sudo"; chmod 755 "$DIR/sudo-bin/sudo"
touch "$DIR/sudo.args"; chmod 666 "$DIR/sudo.args"
as_nobody() { # PATH, then helper arguments; prints "exit-code" and leaves stderr in $DIR/err
  local path=$1; shift
  set +e
  setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$path" AUTOSTOP_KEEPALIVE_FILE="$MARKER" \
    "$DIR/autostop-keepalive" "$@" >"$DIR/out" 2>"$DIR/err"
  echo $?; set -e
}
fail() { echo "FAIL: $*"; echo "stderr: $(cat "$DIR/err")"; exit 1; }

code=$(as_nobody "$DIR/bin" 2h)
[ "$code" -eq 2 ] || fail "without sudo, exit $code (expected 2)"
grep -q "needs root" "$DIR/err" || fail "without sudo, no 'needs root' message"
[ ! -e "$MARKER" ] || fail "without sudo, a marker was written"
echo "ok: not root, no sudo: exit 2, '$(cat "$DIR/err")'"

code=$(as_nobody "$DIR/sudo-bin:$DIR/bin" 2h)
[ "$code" -eq 0 ] || fail "with sudo, exit $code"
grep -q "through sudo" "$DIR/err" || fail "with sudo, no message that it runs through sudo"
[ "$(cat "$DIR/sudo.args")" = "-- $DIR/autostop-keepalive 2h" ] || fail "sudo called as '$(cat "$DIR/sudo.args")'"
echo "ok: not root, sudo present: re-ran itself as 'sudo $(cat "$DIR/sudo.args")'"

: >"$DIR/sudo.args"
code=$(as_nobody "$DIR/sudo-bin:$DIR/bin" off)
if ! { [ "$code" -eq 0 ] && [ "$(cat "$DIR/sudo.args")" = "-- $DIR/autostop-keepalive off" ]; }; then fail "off did not go through sudo"; fi
echo "ok: 'off' goes through sudo too"

AUTOSTOP_KEEPALIVE_FILE=$MARKER "$DIR/autostop-keepalive" 2h >/dev/null || fail "as root, setting failed"
[ -s "$MARKER" ] || fail "as root, no marker"
: >"$DIR/sudo.args"
code=$(as_nobody "$DIR/sudo-bin:$DIR/bin" status)
if ! { [ "$code" -eq 0 ] && grep -q "keeping up until" "$DIR/out" && [ ! -s "$DIR/sudo.args" ]; }; then
  fail "status as nobody: exit $code, '$(cat "$DIR/out")'"
fi
echo "ok: as root it writes the marker; status needs no root ('$(cat "$DIR/out")')"
