#!/usr/bin/env bash
# Remote shells other than sshd, seen by the live probe (real ps, real ptys, no seam for processes or devices):
# - a real mosh-server (Debian's mosh package) started as a throwaway user, first alone (its forkpty child waits on the
#   new pty for a client), then serving a real mosh-client over 127.0.0.1 (the child has exec'd the user's bash there);
#   that pty's idle time ages while nobody types, jumps back when a key is typed through the client, and an hours-old
#   pty (a forgotten mosh session) reads as hours;
# - an Eternal Terminal session: ET is not in Debian, so python's pty.fork (forkpty: the child gets a new session with
#   the pty as its terminal, as etterminal's PseudoUserTerminal does) runs under the name etterminal via exec -a.
# Runs in its own PID namespace (unshare --pid --mount-proc): the probe's ps sees only this test's processes, so the
# counts are exact on a machine other people's tests share. Needs root (namespace, throwaway user, touching a pty).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${AUTOSTOP_IN_PIDNS:-}" ]; then
  need=()
  command -v mosh-server >/dev/null || need+=(mosh)
  command -v script >/dev/null || need+=(bsdutils)
  if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi
  # Everything started below dies with the namespace's init (this script) when it exits.
  exec unshare --pid --fork --mount-proc env AUTOSTOP_IN_PIDNS=$$ bash "$0" "$@"
fi
PROBE=$PWD/agent/session-probe.sh
U=asrsh${AUTOSTOP_IN_PIDNS}
DIR=$(mktemp -d /tmp/autostop-rsh.XXXXXX); chmod 755 "$DIR"
cleanup() {
  pkill -u "$U" 2>/dev/null || true; sleep 0.3
  userdel -r "$U" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
id "$U" >/dev/null 2>&1 || useradd -m -s /bin/bash "$U"

# The machine's logs are not this test's business (tests/checks/agent-real-sshd.sh reads real ones).
probe() { AUTOSTOP_PROBE_AUTH_LOG=/dev/null bash "$PROBE"; }
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(",".join(v) if isinstance(v,list) else v)' "$1" "$2"; }
expect() { # name, got, want
  if [ "$2" != "$3" ]; then echo "FAIL: $1 is '$2', expected '$3'"; echo "probe: $LINE"; ps -eo pid,ppid,tty,user,args; exit 1; fi
  echo "ok: $1 = $2"
}
wait_for() { # field, test operator (= or -lt), value: until the probe's field passes `[ got op value ]`; bounded
  local got=""
  for _ in $(seq 50); do
    LINE=$(probe); got=$(field "$LINE" "$1")
    case $2 in
      =) [ "$got" = "$3" ] && return 0 ;;
      -lt) [ "$got" -lt "$3" ] 2>/dev/null && return 0 ;;
    esac
    sleep 0.2
  done
  echo "FAIL: after 10 s $1 is '$got', not $2 $3"; echo "probe: $LINE"; ps -eo pid,ppid,tty,user,args; exit 1
}
as_user() { setpriv --reuid "$U" --regid "$U" --init-groups env -i HOME="/home/$U" USER="$U" LOGNAME="$U" SHELL=/bin/bash LANG=C.UTF-8 PATH=/usr/bin:/bin "$@"; }

# 1. mosh-server as mosh's client starts it over ssh ("mosh-server new ..."), bound to loopback. It prints
#    "MOSH CONNECT <port> <key>" and detaches (the printing parent exits).
out=$(as_user mosh-server new -i 127.0.0.1 -l LANG=C.UTF-8 2>&1)
read -r _ _ port key < <(grep '^MOSH CONNECT' <<<"$out")
server=$(sed -n 's/.*mosh-server detached, pid = \([0-9]*\).*/\1/p' <<<"$out")
if [ -z "$port" ] || [ -z "$server" ]; then echo "FAIL: mosh-server did not start: $out"; exit 1; fi
wait_for remoteShellSessions = 1   # a mosh-server whose child waits on its pty for the client
expect remoteShellKinds "$(field "$LINE" remoteShellKinds)" mosh-server
expect users "$(field "$LINE" users)" "$U"
expect sshSessions "$(field "$LINE" sshSessions)" 0

# 2. A real client on a terminal (script gives it one, 80x24: mosh-client asserts a non-empty window), its keyboard a
#    file we append to.
: >"$DIR/keys"
(tail -f "$DIR/keys" | script -qfc "stty rows 24 cols 80; exec env MOSH_KEY=$key LANG=C.UTF-8 TERM=xterm mosh-client 127.0.0.1 $port" /dev/null >/dev/null 2>&1) &
shell=""
for _ in $(seq 100); do   # the server's child execs the user's shell once the first client packet arrives
  shell=$(ps -o pid=,args= --ppid "$server" | awk '$2 ~ /bash$/ { print $1 }')
  [ -n "$shell" ] && break; sleep 0.1
done
[ -n "$shell" ] || { echo "FAIL: mosh-client never got a shell"; ps -eo pid,ppid,tty,user,args; exit 1; }
pty=$(ps -o tty= -p "$shell" | tr -d ' ')
echo "ok: mosh-client connected: mosh-server $server serves $U's shell $shell on $pty"
LINE=$(probe)
echo "probe: $LINE"
expect remoteShellSessions "$(field "$LINE" remoteShellSessions)" 1
expect users "$(field "$LINE" users)" "$U"

# 3. Nobody types: the pty's idle time grows with the clock (the client's keep-alives never reach the pty).
t0=$(date +%s); LINE=$(probe); i0=$(field "$LINE" minTtyIdleSeconds)
sleep 9
LINE=$(probe); i1=$(field "$LINE" minTtyIdleSeconds); t1=$(date +%s)
# It grew by the time between the two probes: at least the 9 s slept (less 1 for whole seconds), at most all that passed.
if ! [[ $i0 =~ ^[0-9]+$ && $i1 =~ ^[0-9]+$ ]] || [ $(( i1 - i0 )) -lt 8 ] || [ $(( i1 - i0 )) -gt $(( t1 - t0 + 1 )) ]; then
  echo "FAIL: minTtyIdleSeconds went from '$i0' to '$i1' over $(( t1 - t0 )) s of nobody typing"; echo "probe: $LINE"; exit 1
fi
echo "ok: idle mosh pty ages: minTtyIdleSeconds $i0 -> $i1 over $(( t1 - t0 )) s of nobody typing"

# 4. A key typed at the client reaches the shell through mosh-server; the shell's read of the pty is activity.
printf 'true\r' >>"$DIR/keys"
wait_for minTtyIdleSeconds -lt 5
echo "ok: typing through mosh-client: minTtyIdleSeconds = $(field "$LINE" minTtyIdleSeconds)"

# 5. A mosh session left for hours (the laptop went to sleep; mosh keeps the server): its pty was last read 2 h ago.
touch -a -d "@$(( $(date +%s) - 7200 ))" "/dev/$pty"
LINE=$(probe); idle=$(field "$LINE" minTtyIdleSeconds)
if ! [[ $idle =~ ^[0-9]+$ ]] || [ "$idle" -lt 7195 ] || [ "$idle" -gt 7230 ]; then
  echo "FAIL: a pty last read 2 h ago gives minTtyIdleSeconds '$idle'"; echo "probe: $LINE"; exit 1
fi
echo "ok: forgotten mosh session: minTtyIdleSeconds = $idle"

# 6. An Eternal Terminal session beside it: a process named etterminal holding a pty master, its shell on the slave.
# The interpreter itself, not a wrapper script (pyenv's python3 is one), so that exec -a names the process.
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
# shellcheck disable=SC2016 # python
(exec -a etterminal "$PYTHON" -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sleep", ["-zsh", "300"])
os.waitpid(pid, 0)' </dev/null >/dev/null 2>&1) &
wait_for remoteShellSessions = 2   # mosh and ET
expect remoteShellKinds "$(field "$LINE" remoteShellKinds)" "mosh-server,etterminal"
expect users "$(field "$LINE" users)" "$U,root"

# 7. The mosh session ends (server killed, its shell hung up): only ET is left.
kill "$server"
wait_for remoteShellSessions = 1   # ET only, once the mosh-server ended
expect remoteShellKinds "$(field "$LINE" remoteShellKinds)" etterminal
python3 - "$LINE" <<'PY'
import json, sys
line = sys.argv[1]
assert len(line) <= 2000, len(line)
json.loads(line)
PY
echo "real mosh $(dpkg-query -W -f '${Version}' mosh): mosh-server alone and with a real client, ET stand-in: counted exactly, users named, pty idle ages, resets on a key, reads hours when forgotten"
