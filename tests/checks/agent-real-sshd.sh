#!/usr/bin/env bash
# The probe on a real OpenSSH sshd (127.0.0.1, a free port, a throwaway host key and config): root with a terminal,
# root running a command without one, a normal user without one, one multiplexed connection carrying two channels, one connection left at the password
# prompt, and a login that already ended. The counts must be exact. Logouts: the login that ended is read back as
# lastLogoutAgeSeconds from sshd's own "Disconnected from user" line, and from the real /var/log/wtmp, where sshd
# records a terminal session's login and logout (loginrec.c; session.c session_pty_cleanup2 record_logout) and the
# probe reads it with the real `last -f`. Needs root (it starts sshd, adds two users, may create /var/log/wtmp).
set -euo pipefail
cd "$(dirname "$0")/../.."
PROBE=$PWD/agent/session-probe.sh
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v script >/dev/null || need+=(bsdutils)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; fi

DIR=$(mktemp -d /tmp/autostop-sshd.XXXXXX)
# Throwaway users named per run: other tests on the same machine (bench/old-method) create and remove their own.
U1=asp$$a; U2=asp$$b
chmod 755 "$DIR"
PIDS=()
cleanup() {
  # Every process this test starts names $DIR in its arguments: end them all, so nothing holds our output open.
  pkill -f "$DIR" 2>/dev/null || true
  pkill -u "$U1" 2>/dev/null || true; pkill -u "$U2" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for u in "$U1" "$U2"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do userdel -r "$u" >/dev/null 2>&1 && break; id "$u" >/dev/null 2>&1 || break; sleep 0.3; done
  done
  [ -z "${CREATED_WTMP:-}" ] || rm -f /var/log/wtmp
  [ -z "${CREATED_UTMP:-}" ] || rm -f /run/utmp
  rm -rf "$DIR"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$DIR/client_key"
cp "$DIR/client_key.pub" "$DIR/authorized_keys"; chmod 644 "$DIR/authorized_keys"
for u in "$U1" "$U2"; do id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"; done
mkdir -p /run/sshd
cat >"$DIR/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $PORT
HostKey $DIR/host_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication yes
KbdInteractiveAuthentication yes
UsePAM yes
CFG
AUTH_LOG=$DIR/auth.log
# sshd -e logs to stderr without timestamps; stamp each line as syslog would, so the probe reads it like auth.log.
/usr/sbin/sshd -D -e -f "$DIR/sshd_config" 2> >(while IFS= read -r line; do printf '%(%b %e %H:%M:%S)T localhost sshd[%d]: %s\n' -1 "$$" "$line"; done >>"$AUTH_LOG") &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

SSH=(ssh -i "$DIR/client_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes -p "$PORT")
probe() { AUTOSTOP_PROBE_AUTH_LOG=$AUTH_LOG bash "$PROBE"; }
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(",".join(sorted(v)) if isinstance(v,list) else v)' "$1" "$2"; }
expect() { # name, got, want
  if [ "$2" != "$3" ]; then echo "FAIL: $1 is '$2', expected '$3'"; echo "probe: $LINE"; pgrep -a sshd; exit 1; fi
  echo "ok: $1 = $2"
}
wait_for() { # until the probe's field reaches the value (bounded); fails the test loudly when it never does
  local got=""
  for _ in $(seq 50); do
    LINE=$(probe) || LINE="(probe exited non-zero) $LINE"
    got=$(field "$LINE" "$1" 2>/dev/null) || got="(not readable from the probe's line)"
    [ "$got" = "$2" ] && return 0; sleep 0.2
  done
  echo "FAIL: after 10 s $1 is '$got', still not '$2'"; echo "probe: $LINE"; pgrep -a sshd || true; exit 1
}

# 1. A login that came and went: nothing live, but its age is known.
"${SSH[@]}" -T "$U1"@127.0.0.1 true
sleep 2
LINE=$(probe)
expect "sshSessions after the login ended" "$(field "$LINE" sshSessions)" 0
age=$(field "$LINE" lastLoginAgeSeconds)
if ! [[ $age =~ ^[0-9]+$ ]] || [ "$age" -lt 1 ] || [ "$age" -gt 30 ]; then
  echo "FAIL: lastLoginAgeSeconds '$age' does not reflect the login 2 s ago"; echo "$LINE"; tail -5 "$AUTH_LOG"; exit 1
fi
echo "ok: lastLoginAgeSeconds = $age after a login that ended"
out_age=$(field "$LINE" lastLogoutAgeSeconds)
if ! [[ $out_age =~ ^[0-9]+$ ]] || [ "$out_age" -gt "$age" ] || [ "$out_age" -gt 30 ]; then
  echo "FAIL: lastLogoutAgeSeconds '$out_age' does not reflect the session that closed 2 s ago (login $age s ago)"; echo "$LINE"; tail -5 "$AUTH_LOG"; exit 1
fi
grep -q "Disconnected from user $U1 127.0.0.1 port" "$AUTH_LOG" || { echo "FAIL: sshd logged no 'Disconnected from user $U1'"; tail -5 "$AUTH_LOG"; exit 1; }
echo "ok: lastLogoutAgeSeconds = $out_age from sshd's 'Disconnected from user $U1 ...'"

# 1b. A terminal session that came and went, read back from the real wtmp only (as on an instance without auth.log
#     and journal). sshd appends to wtmp only when the file exists (loginrec.c wtmp_write opens it O_APPEND), and
#     Debian's build records through login(3)/logout(3): the logout reaches wtmp only when logout(3) found the login in
#     utmp (loginrec.c syslogin_perform_logout), so without /run/utmp (a container; systemd creates it on every boot
#     of an instance) sshd writes the login and never the logout. Both are created here when missing, as on an instance.
if [ ! -e /var/log/wtmp ]; then install -m 664 /dev/null /var/log/wtmp; CREATED_WTMP=1; fi
if [ ! -e /run/utmp ]; then install -m 664 /dev/null /run/utmp; CREATED_UTMP=1; fi
before=$(date +%s)
"${SSH[@]}" -tt "$U2"@127.0.0.1 true >/dev/null 2>&1 </dev/null
sleep 1
session=$(last -f /var/log/wtmp -w --time-format iso -n 50 "$U2" 2>/dev/null | grep -a "^$U2 " | head -1)
[[ $session =~ \ -\ [0-9]{4}- ]] || { echo "FAIL: wtmp has no finished session of $U2: '$session'"; exit 1; }
LINE=$(AUTOSTOP_PROBE_WTMP=/var/log/wtmp bash "$PROBE")
out_age=$(field "$LINE" lastLogoutAgeSeconds); in_age=$(field "$LINE" lastLoginAgeSeconds)
elapsed=$(( $(date +%s) - before ))
if ! [[ $out_age =~ ^[0-9]+$ && $in_age =~ ^[0-9]+$ ]] || [ "$out_age" -gt "$elapsed" ] || [ "$in_age" -gt "$elapsed" ] || [ "$out_age" -gt "$in_age" ]; then
  echo "FAIL: from wtmp, lastLoginAgeSeconds '$in_age' / lastLogoutAgeSeconds '$out_age' do not reflect $U2's session of the last $elapsed s"
  echo "wtmp: $session"; echo "probe: $LINE"; exit 1
fi
echo "ok: real wtmp ($session): lastLoginAgeSeconds = $in_age, lastLogoutAgeSeconds = $out_age"

# 2. Live sessions.
"${SSH[@]}" -tt root@127.0.0.1 "exec -a autostop-test-$DIR sleep 60" >/dev/null 2>&1 </dev/null & PIDS+=($!)                       # root, terminal
"${SSH[@]}" -T "$U1"@127.0.0.1 "exec -a autostop-test-$DIR sleep 60" >/dev/null 2>&1 </dev/null & PIDS+=($!)                       # user, no terminal
"${SSH[@]}" root@127.0.0.1 "exec -a autostop-test-$DIR sleep 60" >/dev/null 2>&1 </dev/null & PIDS+=($!)                          # root, a command, no -t: no terminal
"${SSH[@]}" -o ControlMaster=yes -o ControlPath="$DIR/cm" -tt "$U2"@127.0.0.1 "exec -a autostop-test-$DIR sleep 60" >/dev/null 2>&1 </dev/null & PIDS+=($!)
for _ in $(seq 50); do [ -S "$DIR/cm" ] && break; sleep 0.1; done
"${SSH[@]}" -o ControlPath="$DIR/cm" -tt "$U2"@127.0.0.1 "exec -a autostop-test-$DIR sleep 60" >/dev/null 2>&1 </dev/null & PIDS+=($!)  # second channel, same connection
# Authenticated but no channel ever opened (port forwarding only): sshd titles these by the bare user name.
FWD_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"${SSH[@]}" -N -T -L "127.0.0.1:$FWD_PORT:127.0.0.1:$PORT" "$U1"@127.0.0.1 >/dev/null 2>&1 </dev/null & PIDS+=($!)
"${SSH[@]}" -N -T root@127.0.0.1 >/dev/null 2>&1 </dev/null & PIDS+=($!)
# Stays at the password prompt: a terminal (script) and no password ever typed.
: >"$DIR/no-input"
(tail -f "$DIR/no-input" | script -qfc "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=$DIR/prompt_known_hosts -o PubkeyAuthentication=no -o PreferredAuthentications=password -p $PORT $U1@127.0.0.1" /dev/null >/dev/null 2>&1) & PIDS+=($!)
wait_for sshSessions 6
sleep 1
LINE=$(probe)
echo "probe: $LINE"
expect sshSessions "$(field "$LINE" sshSessions)" 6
expect sshNoTtySessions "$(field "$LINE" sshNoTtySessions)" 4
expect users "$(field "$LINE" users)" "$U1,$U2,root"
expect preauthConnections "$(field "$LINE" preauthConnections)" 1
expect ssmSessions "$(field "$LINE" ssmSessions)" 0
idle=$(field "$LINE" minTtyIdleSeconds)
[[ $idle =~ ^[0-9]+$ ]] || { echo "FAIL: minTtyIdleSeconds '$idle' with two terminals open"; exit 1; }
echo "ok: minTtyIdleSeconds = $idle"
python3 - "$LINE" <<'PY'
import json, sys
line = sys.argv[1]
assert len(line) < 2500, len(line)
json.loads(line)
PY
echo "real sshd ($(/usr/sbin/sshd -V 2>&1 | head -1 | cut -d, -f1)): 6 sessions (root+tty, root command without tty, user notty, 2-channel multiplexed, 2 port-forward-only), 1 at the password prompt, ended login and its logout seen (auth log and real wtmp): exact"
