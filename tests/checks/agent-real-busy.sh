#!/usr/bin/env bash
# systemBusy from the live probe (real ps): a package manager at work (a process named dpkg, a python script named
# unattended-upgrade run by the real interpreter), and SSM commands. The SSM agent runs each command in its own
# "/usr/bin/ssm-document-worker <command id>" process and aws:runShellScript runs the script with "sh -c"
# (amazon-ssm-agent outofproc/master.go, plugins/runscript/runshellscript.go), so the probe itself always runs under
# a worker: here it runs under a process named ssm-document-worker through sh, as SSM runs it. That worker is its own
# ancestor and never counts; a second worker (another command, e.g. Patch Manager's AWS-RunPatchBaseline) does.
# Runs in its own PID namespace (unshare --pid --mount-proc) so that the lists are exact on a shared machine. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${AUTOSTOP_IN_PIDNS:-}" ] || exec unshare --pid --fork --mount-proc env AUTOSTOP_IN_PIDNS=$$ bash "$0" "$@"
PROBE=$PWD/agent/session-probe.sh
DIR=$(mktemp -d /tmp/autostop-busy.XXXXXX)
trap 'rm -rf "$DIR"' EXIT   # the processes die with this namespace's init, this script
PYTHON=$(python3 -c 'import sys; print(sys.executable)')   # the interpreter itself, not a wrapper such as pyenv's

# The probe as SSM runs it: worker -> sh -c _script.sh -> bash. "; :" keeps each shell from exec'ing its last command.
cat >"$DIR/_script.sh" <<SCRIPT
AUTOSTOP_PROBE_AUTH_LOG=/dev/null bash "$PROBE" >"$DIR/line"; :
SCRIPT
under_worker() { (exec -a /usr/bin/ssm-document-worker bash -c 'sh -c "sh $1"; :' _ "$DIR/_script.sh"); LINE=$(<"$DIR/line"); }
busy() { python3 -c 'import json,sys; print("|".join(json.loads(sys.argv[1])["systemBusy"]))' "$LINE"; }
expect() { # name, got, want
  if [ "$2" != "$3" ]; then echo "FAIL: $1 is '$2', expected '$3'"; echo "probe: $LINE"; ps -eo pid,ppid,args; exit 1; fi
  echo "ok: $1 = '$2'"
}

# 1. Only the probe's own command: not busy.
under_worker
expect "systemBusy, the probe under its own ssm-document-worker" "$(busy)" ""

# 2. Another SSM command at work and a package manager (dpkg unpacking; unattended-upgrade, a python script).
(exec -a /usr/bin/ssm-document-worker sleep 300) & other=$!
(exec -a dpkg sleep 300) & dpkg=$!
printf 'import time\ntime.sleep(300)\n' >"$DIR/unattended-upgrade"
"$PYTHON" "$DIR/unattended-upgrade" & uu=$!
for _ in $(seq 50); do ps -o args= -p "$uu" | grep -q unattended-upgrade && break; sleep 0.1; done
under_worker
expect "systemBusy, under its own worker, with another command and package managers at work" "$(busy)" \
  "ssm-document-worker: another SSM command (pid $other)|dpkg (pid $dpkg)|unattended-upgrade (pid $uu)"

# 3. The other command and the package managers finish: not busy again.
kill "$other" "$dpkg" "$uu"; wait "$other" "$dpkg" "$uu" 2>/dev/null || true
under_worker
expect "systemBusy once they ended" "$(busy)" ""
echo "real processes: the probe's own ssm-document-worker never counts; another one, dpkg and unattended-upgrade do, each by pid"
