#!/usr/bin/env bash
# Establishes, on a real OpenSSH sshd on 127.0.0.1, which sessions the old method's sample
#   ps ax | grep sshd | grep '\[priv\]'
# counts and which it misses. Prints one line per session kind: "kind matches=N" (N = lines the grep adds).
# bench/run.sh feeds these counts into the old method's model. Needs root (sshd, a throwaway user); logs in with a
# throwaway key through its own AuthorizedKeysFile, so no password on the machine is touched.
set -euo pipefail
if ! command -v /usr/sbin/sshd >/dev/null || ! command -v mosh-server >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server mosh >/dev/null
fi
DIR=$(mktemp -d /tmp/autostop-establish.XXXXXX)
ASUSER=asold$$   # a throwaway user of its own, so it never meets another test's
PIDS=()
cleanup() { pkill -f "$DIR" 2>/dev/null || true; pkill -u "$ASUSER" 2>/dev/null || true; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null; userdel -r "$ASUSER" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$DIR/client_key"
cp "$DIR/client_key.pub" "$DIR/authorized_keys"; chmod 755 "$DIR"; chmod 644 "$DIR/authorized_keys"
mkdir -p /run/sshd
cat >"$DIR/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $PORT
HostKey $DIR/host_key
AuthorizedKeysFile $DIR/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM yes
PidFile $DIR/sshd.pid
CFG
id "$ASUSER" >/dev/null 2>&1 || useradd -m "$ASUSER"
/usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
for _ in $(seq 50); do [ -s "$DIR/sshd.pid" ] && break; sleep 0.1; done
SSHD_PID=$(cat "$DIR/sshd.pid")
SSH=(-i "$DIR/client_key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p "$PORT")
# The old method's sample, `ps ax | grep sshd | grep '\[priv\]'`, applied to this test's own processes only (the sshd
# listener and its descendants, plus the tree of the case being measured), so other sshd servers or session workers
# on the machine cannot disturb the measurement.
own_processes() { # extra root pids...
  ps -eo pid=,ppid=,args= | awk -v roots="$SSHD_PID $*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) isroot[r[i]] = 1 }
    { pid[NR] = $1; parent[$1] = $2; line[NR] = $0 }
    END { for (i = 1; i <= NR; i++) { p = pid[i]; while (p != "" && !(p in isroot) && p > 1) p = parent[p]; if (p in isroot) print line[i] } }'
}
# shellcheck disable=SC2009 # this is the old method's own sample, on purpose
count() { own_processes "$@" | sed -E 's/^ *[0-9]+ +[0-9]+ //' | grep sshd | grep -c '\[priv\]' || true; }
titles() { own_processes "$@" | awk -v l="$SSHD_PID" '$1 != l' | sed -E 's/^ *[0-9]+ +[0-9]+ //' | grep -E '^(sshd|ssm-session-worker|mosh-server)' | sed "s/$ASUSER/USER/g" | paste -sd';' | sed 's/;/; /g' || true; }
settle() { sleep 1.5; }
kill -0 "$SSHD_PID" 2>/dev/null || { echo "establish: the test sshd is not running" >&2; exit 1; }
base=$(count)
descendants() { ps -eo pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 } END { for (p in parent) { q = p; while (q > 1 && q != root) q = parent[q]; if (q == root) print p } }'; }
echo "openssh $(/usr/sbin/sshd -V 2>&1 | head -1 | cut -d, -f1)"

measure() { # kind, true session count, command...
  local kind=$1 sessions=$2; shift 2
  [ "$(count)" -eq "$base" ] || { echo "establish: sshd processes left over before the $kind case" >&2; exit 1; }
  "$@" & local pid=$!; PIDS+=("$pid"); settle
  kill -0 "$pid" 2>/dev/null || { echo "establish: the $kind case exited before it was measured" >&2; exit 1; }
  local matches; matches=$(( $(count "$pid") - base ))
  echo "$kind sessions=$sessions matches=$matches processes=\"$(titles "$pid")\""
  # End the whole case (script(1) and ssh run below it), then wait for its sshd children to go, so no case
  # leaves a process behind for the next one to count.
  local p; for p in $(descendants "$pid") "$pid"; do kill "$p" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
  for _ in $(seq 40); do [ "$(own_processes | wc -l)" -le 1 ] && break; sleep 0.25; done
  [ "$(own_processes | wc -l)" -le 1 ] || { echo "establish: the $kind case left sshd processes behind:" >&2; own_processes >&2; exit 1; }
}
measure user-tty   1 ssh -tt "${SSH[@]}" "$ASUSER"@127.0.0.1 'sleep 20'
measure user-notty 1 ssh -T "${SSH[@]}" "$ASUSER"@127.0.0.1 'sleep 20'
measure root-tty   1 ssh -tt "${SSH[@]}" root@127.0.0.1 'sleep 20'
measure root-notty 1 ssh -T "${SSH[@]}" root@127.0.0.1 'sleep 20'
measure preauth    0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; echo SSH-2.0-scanner >&3; sleep 20"
: >"$DIR/no-input"
measure password-prompt 0 bash -c "tail -f $DIR/no-input | script -qfc 'ssh -o PubkeyAuthentication=no -o PreferredAuthentications=password -o StrictHostKeyChecking=no -o UserKnownHostsFile=$DIR/kh -p $PORT $ASUSER@127.0.0.1' /dev/null >/dev/null 2>&1"
# A Session Manager session: the agent runs one ssm-session-worker per session (its shell runs under it, not sshd).
measure ssm-session-worker 1 bash -c "exec -a ssm-session-worker sleep 20"

# A mosh session (mosh 1.x, as `mosh user@host` runs it): the client logs in over SSH only to run `mosh-server new`,
# which prints "MOSH CONNECT <port> <key>", detaches (init adopts it) and serves the terminal over UDP; the SSH login
# then closes. Measured with a real mosh-server started through the test sshd and a real mosh-client connected to it
# (under script(1) for a terminal of 24x80: mosh-client refuses a 0x0 one), once the bootstrap login has closed: the person is typing through mosh now.
[ "$(count)" -eq "$base" ] || { echo "establish: sshd processes left over before the mosh case" >&2; exit 1; }
boot=$(ssh -T "${SSH[@]}" "$ASUSER"@127.0.0.1 'LC_ALL=C.UTF-8 mosh-server new -s -i 127.0.0.1 -l LC_ALL=C.UTF-8' 2>&1 </dev/null) || true
read -r MOSH_PORT MOSH_KEY_VALUE < <(printf '%s\n' "$boot" | awk '/^MOSH CONNECT/ { print $3, $4 }')
MOSH_SERVER=$(printf '%s\n' "$boot" | sed -nE 's/.*detached, pid = ([0-9]+).*/\1/p')
if [ -z "${MOSH_PORT:-}" ] || [ -z "$MOSH_SERVER" ]; then echo "establish: mosh-server did not start: $boot" >&2; exit 1; fi
PIDS+=("$MOSH_SERVER")
bash -c "tail -f $DIR/no-input | TERM=xterm LC_ALL=C.UTF-8 MOSH_KEY=$MOSH_KEY_VALUE script -qfc 'stty rows 24 cols 80; exec mosh-client 127.0.0.1 $MOSH_PORT' /dev/null >/dev/null 2>&1" &
MOSH_CLIENT=$!; PIDS+=("$MOSH_CLIENT"); settle
if ! kill -0 "$MOSH_SERVER" 2>/dev/null || ! kill -0 "$MOSH_CLIENT" 2>/dev/null; then echo "establish: the mosh case ended before it was measured" >&2; exit 1; fi
echo "mosh sessions=1 matches=$(( $(count "$MOSH_SERVER" "$MOSH_CLIENT") - base )) processes=\"$(titles "$MOSH_SERVER" "$MOSH_CLIENT")\""
# script(1) outlives a TERM to its child, so the case's own processes get KILL after TERM.
mosh_tree=$(descendants "$MOSH_CLIENT"; echo "$MOSH_CLIENT"; descendants "$MOSH_SERVER"; echo "$MOSH_SERVER")
for p in $mosh_tree; do kill "$p" 2>/dev/null || true; done
sleep 0.5
for p in $mosh_tree; do kill -KILL "$p" 2>/dev/null || true; done
