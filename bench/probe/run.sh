#!/usr/bin/env bash
# Wall time of agent/session-probe.sh with 1 to 1,000 SSH sessions' worth of processes, live: it starts a fake
# sshd process tree (a "[listener]" process, per connection a "[priv]" monitor and a "user@notty" child, renamed
# with exec -a) so the probe's real `ps` path sees 2 processes per session.
# It runs in its own PID namespace (unshare --pid --mount-proc): the process table the probe reads is exactly the
# bench's (so "processes" is what the probe parsed, not whatever else the shared machine runs), and the namespace's
# pid counter (/proc/sys/kernel/ns_last_pid) counts the processes each probe run started: that number must not grow
# with the process table. Writes bench/probe/RESULTS.md. Target: median under 200 ms with 1,000 processes, output
# at most 2,000 characters.
# Wall time on a shared machine moves with other people's load, so it also records the probe's CPU time (user+sys,
# children included) and the load average. PROBE=path benches another version of the script (e.g. an older one,
# for a before/after on the same machine state); RESULTS=path writes elsewhere. Needs root (the namespace).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "${AUTOSTOP_IN_PIDNS:-}" ] || exec unshare --pid --fork --mount-proc env AUTOSTOP_IN_PIDNS=$$ bash "$0" "$@"
PROBE=${PROBE:-$PWD/agent/session-probe.sh}
RESULTS=${RESULTS:-bench/probe/RESULTS.md}
RUNS=${RUNS:-21}
TAG="autostop-probe-bench-$AUTOSTOP_IN_PIDNS"   # the pid outside the namespace: unique on the machine
cleanup() { pkill -f "$TAG" 2>/dev/null || true; }


start_tree() { # n sessions under one fake listener
  local n=$1
  # shellcheck disable=SC2016 # expanded by the inner shells
  (exec -a "sshd: /usr/sbin/sshd -D [listener] $TAG" bash -c '
     for i in $(seq 1 "$1"); do
       (exec -a "sshd: user$i [priv] $2" bash -c "(exec -a \"sshd: user$i@notty $2\" sleep 600) & wait" ) &
     done
     wait' _ "$n" "$TAG") &
  for _ in $(seq 300); do
    [ "$(pgrep -fc "^sshd: user[0-9]+@notty $TAG" || true)" -ge "$n" ] && return 0   # the children themselves
    sleep 0.1
  done
  echo "could not start $n fake sessions" >&2; exit 1
}

measure() { # probe label: one run, appended to $DATA as "label wall_ms cpu_ms started bytes sessions_seen"
  local probe=$1 label=$2 real user sys before after out=/tmp/$TAG.out timing=/tmp/$TAG.time line seen
  local TIMEFORMAT='%R %U %S'
  read -r before </proc/sys/kernel/ns_last_pid
  { time bash "$probe" >"$out"; } 2>"$timing"
  read -r after </proc/sys/kernel/ns_last_pid   # processes started by the run, the probe's own bash included
  read -r real user sys <"$timing"; line=$(<"$out")
  seen=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["sshSessions"])' "$line")
  awk -v l="$label" -v r="$real" -v u="$user" -v s="$sys" -v f=$(( after - before )) -v b=${#line} -v n="$seen" \
    'BEGIN { printf "%s %d %d %d %d %d\n", l, r * 1000, (u + s) * 1000, f, b, n }' >>"$DATA"
}
summary() { # label: median_wall p95_wall median_cpu started bytes seen (started, bytes, seen: the last run's)
  local label=$1
  awk -v l="$label" '$1 == l' "$DATA" | sort -k2,2n | awk -v runs="$RUNS" '
    { w[NR] = $2; f = $4; b = $5; n = $6 }
    END { printf "%d %d ", w[int(runs / 2) + 1], w[int(runs * 95 / 100) + 1] }' 
  awk -v l="$label" '$1 == l' "$DATA" | sort -k3,3n | awk -v runs="$RUNS" '
    { c[NR] = $3; f = $4; b = $5; n = $6 } END { printf "%d %d %d %d\n", c[int(runs / 2) + 1], f, b, n }'
}

# The previous release, measured run for run alternately with this one, so both see the same machine state (the
# machine is shared: absolute times move with other people's load, the comparison much less). BASELINE_REF= (empty)
# skips it; without git history (a shallow clone) it is skipped too.
BASELINE_REF=${BASELINE_REF-374c47a}   # probe 1.2.1
BASE=""; BASE_VERSION=""
if [ -n "$BASELINE_REF" ] && git show "$BASELINE_REF:agent/session-probe.sh" >"/tmp/$TAG.base.sh" 2>/dev/null; then
  BASE=/tmp/$TAG.base.sh; BASE_VERSION=$(sed -n 's/^VERSION="\(.*\)"/\1/p' "$BASE")
fi
DATA=/tmp/$TAG.data
trap 'cleanup; rm -f "/tmp/$TAG".*' EXIT

# Which login source the live probe takes here (the probe's order: auth.log/secure; else the journal, then wtmp
# when the journal has no login).
if [ -r /var/log/auth.log ] || [ -r /var/log/secure ]; then LOGIN_SOURCE="auth.log/secure"
elif command -v journalctl >/dev/null 2>&1; then
  if [ -S /run/systemd/journal/socket ]; then LOGIN_SOURCE="the journal (journald runs here), then wtmp when it has no login"
  elif [ -d /run/log/journal ] || [ -d /var/log/journal ]; then LOGIN_SOURCE="a journal on disk (journald does not run), then wtmp when it has no login"
  else LOGIN_SOURCE="wtmp (last). journald does not run on this machine (a container without systemd) and there is no journal directory, so the probe skips journalctl and the time of a real journal read is not measured here; the probe bounds that read to 500 entries and 1 s"; fi
else LOGIN_SOURCE="wtmp (last)"; fi

rows=()
for n in 1 50 250 500 1000; do
  start_tree "$n"
  read -r load _ </proc/loadavg
  procs=$(( $(ps -e --no-headers | wc -l) - 2 ))   # less this ps and wc
  : >"$DATA"
  for _ in $(seq "$RUNS"); do
    measure "$PROBE" new
    [ -z "$BASE" ] || measure "$BASE" base
  done
  read -r median p95 cpu forks bytes seen < <(summary new)
  base="-"
  if [ -n "$BASE" ]; then read -r b_median _ b_cpu b_forks _ _ < <(summary base); base="$b_median / $b_cpu / $b_forks"; fi
  rows+=("| $n | $procs | $seen | $median | $p95 | $cpu | $forks | $bytes | $base | $load |")
  cleanup; sleep 0.5
done

{
  echo "# Probe benchmark"
  echo
  echo "Generated by \`bash bench/probe/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($(uname -m), $(nproc) cores, $(bash --version | head -1 | cut -d' ' -f1-4)). Do not edit by hand."
  echo
  echo "The live probe ($(sed -n 's/^VERSION="\(.*\)"/\1/p' "$PROBE"); real \`ps\`, /proc, no seam) in its own PID namespace with a fake sshd process tree of N sessions (2 processes each), $RUNS runs each. Processes: the namespace's whole table while the probe runs (the tree and the bench's shell)."
  echo
  echo "| sessions | processes | sessions the probe saw | median wall (ms) | p95 wall (ms) | median CPU user+sys (ms) | processes started per run | output (bytes) | ${BASE_VERSION:-no baseline}: median wall / CPU (ms) / processes started | load average before |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Login source on this machine: $LOGIN_SOURCE"
  echo "Targets: median under 200 ms with 1,000 processes (the 500-session row), whatever the process count the same number of processes started per run, and at most 2,000 characters of output (the SSM agent keeps 2,400 of a plugin's output, stderr included). The machine is shared (2 cores, other people's builds and tests): the load average column says how busy it was, CPU time is the steadier number."
} >"$RESULTS"
cat "$RESULTS"
