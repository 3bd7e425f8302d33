#!/usr/bin/env bash
# AutoStop session probe, run as root by SSM Run Command (document AutoStop-SessionProbe). Read-only: it changes
# nothing on the instance and writes one line of JSON (agent/schema.json, version 1) to stdout.
#
# What counts (established on a real OpenSSH 9.2 sshd, see tests/checks/agent-real-sshd.sh, and on the process
# titles of OpenSSH 7.4 to 10.x in tests/Agent.Tests/Fixtures):
# - Every client connection is one process forked by the sshd listener ("sshd: /usr/sbin/sshd -D [listener] 0 of
#   10-100 startups"), its "monitor": "sshd: user [priv]", "sshd: [accepted]", or, on 9.8+, the exec'd
#   "sshd-session: [rexeced]" / "sshd-session: [accepted]" / "sshd-session: user [priv]". Its pre-auth child is
#   "sshd: [net]" / "sshd: user [net]" (9.8-9.9: "sshd-session: ..."; 10.0+: the exec'd sshd-auth, "sshd-auth:
#   [session-auth early]", "sshd-auth: [session-auth]", "sshd-auth: user [net]"). Once the connection has
#   authenticated, exactly one process of that connection carries the title "user@pts/N[,pts/M]" or "user@notty"
#   (before 10.0, for root it is the monitor itself: "sshd: root@pts/0"; otherwise the monitor's child). Multiplexed
#   channels share it ("alice@pts/2,pts/4"). Titles per release: openssh-portable sshd.c, sshd-session.c,
#   sshd-auth.c, monitor.c, auth2.c, session.c (cited in the 9.9 and 10.0 fixtures).
#   An authenticated connection with no channel open (`ssh -N`, port forwarding only) is titled by the bare user
#   name ("sshd: alice" under "sshd: alice [priv]", or "sshd: root" alone): seen on the real 9.2 sshd, and it is
#   set by do_authenticated() in every release since 7.4, so it counts as a session without a terminal.
# - So: a connection is authenticated (an SSH session) when its process tree has a "user@..." title; otherwise it
#   is pre-auth (a scanner, a password prompt), never a session. The old `grep sshd | grep '\[priv\]'` misses
#   root logins (no [priv] process) and counts a user sitting at the password prompt ("sshd: alice [priv]").
# - A Session Manager session is one ssm-session-worker process.
#
# Test seam (environment variables; unset on instances):
#   AUTOSTOP_PROBE_PS            file holding "PID PPID ARGS" lines (as `ps -eo pid=,ppid=,args=`) instead of live ps
#   AUTOSTOP_PROBE_AUTH_LOG      auth log to read logins from instead of auth.log/secure
#   AUTOSTOP_PROBE_JOURNAL       file holding what `journalctl -r -o short-unix _COMM=sshd _COMM=sshd-session` prints
#                                (newest first) instead of running journalctl
#   AUTOSTOP_PROBE_WTMP          a binary wtmp file for `last -f` instead of /var/log/wtmp
#   When any of these three is set, only the sources set are read (auth log, then journal, then wtmp, first login
#   found wins), so a test reaches each branch whatever the machine has.
#   AUTOSTOP_PROBE_NOW           the current time, epoch seconds
#   AUTOSTOP_PROBE_KEEPALIVE     keep-alive marker file (default /run/autostop/keepalive-until)
#   AUTOSTOP_PROBE_DEV           where tty devices live (default /dev), for terminal idle times
#   AUTOSTOP_PROBE_PROC          the proc filesystem (default /proc), for uptime, load and CPU count
set -u
export LC_ALL=C
VERSION="1.2.1"
# Cost: a handful of forks whatever the process count (ps | awk; tac | head | grep and one date for the auth log;
# one stat for all terminals). No $(...) in loops; no per-line shell work. bench/probe/RESULTS.md has the numbers.
if [ -n "${AUTOSTOP_PROBE_NOW:-}" ]; then NOW=$AUTOSTOP_PROBE_NOW; else printf -v NOW '%(%s)T' -1; fi   # bash 4.2+
PROC=${AUTOSTOP_PROBE_PROC:-/proc}
DEV=${AUTOSTOP_PROBE_DEV:-/dev}
KEEPALIVE=${AUTOSTOP_PROBE_KEEPALIVE:-/run/autostop/keepalive-until}
# Errors accumulate as a JSON fragment, not an array: bash < 4.4 (AL2 has 4.2) treats "${A[@]}" of an empty array
# as unbound under set -u and exits before printing anything (tests/checks/agent-bash42.sh guards this).
ERRORS_JSON=""; ERROR_COUNT=0

json_escape() { # JSON=$1 truncated to $2 bytes and made safe inside a JSON string
  # LC_ALL=C, so patterns match bytes: every control byte (0x00-0x1f, 0x7f) and every byte >= 0x80 becomes "?", so
  # neither a control character nor invalid UTF-8 (a marker or a file name can hold anything) can break the line.
  JSON=${1:0:${2:-160}}
  JSON=${JSON//[! -~]/?}; JSON=${JSON//\\/\\\\}; JSON=${JSON//\"/\\\"}
}
add_error() {
  [ "$ERROR_COUNT" -lt 8 ] || return 0
  json_escape "$1" 160; ERRORS_JSON+="${ERRORS_JSON:+,}\"$JSON\""; ERROR_COUNT=$((ERROR_COUNT + 1))
}

# --- processes: one awk pass classifies every sshd connection and counts the other session kinds ------------------
# Prints: ssh notty preauth ssm mux cpus rows users(JSON strings, comma-joined, or -) ttys(comma list or -)
# shellcheck disable=SC2016 # an awk program
PS_AWK='
  function sshd_title(a) { return a ~ /^sshd(-session|-auth)?: / }
  function listener(a) { return a ~ /\[listener\]/ || a ~ /^(\/usr)?(\/local)?\/s?bin\/sshd( |$)/ || a ~ /^sshd( -|$)/ }
  function add_user(u) { if (u != "" && !(u in seen_user)) { seen_user[u] = 1; nu++; ulist[nu] = u } }
  $1 ~ /^[0-9]+$/ {
    pid = $1; ppid[pid] = $2
    args = $0; sub(/^[ \t]*[0-9]+[ \t]+[0-9]+[ \t]*/, "", args); title[pid] = args
    n++; order[n] = pid
  }
  END {
    ssh = notty = preauth = ssm = mux = 0; users = ""; ttys = ""
    for (i = 1; i <= n; i++) {
      p = order[i]; a = title[p]
      split(a, w, " "); cmd = w[1]; sub(/.*\//, "", cmd)
      if (cmd == "ssm-session-worker") {
        ssm++
        u = w[2]; sub(/-[^-]*$/, "", u); add_user(u)
      }
      # A tmux server daemonizes (parent pid 1 or a systemd --user subreaper) and, on Linux builds such as Debian
      # 12 tmux 3.3a, keeps the argv of the client that started it ("tmux new -d -s job"), not a "tmux: server"
      # title; clients have a shell or sshd as parent. Each server holds at least one session. The screen backend
      # renames itself SCREEN.
      q = ppid[p]
      if (a ~ /^tmux: server/ || cmd == "SCREEN") mux++
      else if (cmd == "tmux" && (q == 1 || !(q in title) || title[q] ~ /systemd --user/)) mux++
      if (!sshd_title(a) || listener(a)) continue
      if (q in title && sshd_title(title[q]) && !listener(title[q])) continue   # not the root of its connection
      root[p] = 1
    }
    for (i = 1; i <= n; i++) {   # each authenticated title belongs to the connection root above it
      p = order[i]; a = title[p]
      if (!sshd_title(a) || listener(a)) continue
      s = a; sub(/^[^ ]+ /, "", s)
      # "user@tty" / "user@notty" once a channel is open; a bare "user" after authentication before any channel
      # (ssh -N port forwarding keeps that title for its whole life). Pre-auth titles always carry a [bracket].
      bare = (s != "" && s !~ /[ @\/]/ && index(s, "[") == 0)
      if (s !~ /^[^ @]+@[^ ]+/ && !bare) continue
      r = p
      while (!(r in root) && (r in ppid) && (ppid[r] in title)) r = ppid[r]
      if (!(r in root) || (r in authed)) continue
      authed[r] = 1; ssh++
      u = s; sub(/@.*/, "", u); t = bare ? "notty" : s; sub(/^[^@]*@/, "", t); sub(/ .*/, "", t)
      add_user(u)
      if (t !~ /^(pts|tty)/) notty++
      else { m = split(t, tl, ","); for (k = 1; k <= m; k++) if (tl[k] ~ /^(pts\/[0-9]+|tty[A-Za-z0-9]+)$/) ttys = ttys (ttys == "" ? "" : ",") tl[k] }
    }
    for (r in root) if (!(r in authed)) preauth++
    for (k = 1; k <= nu && k <= 16; k++) {
      u = substr(ulist[k], 1, 32); gsub(/[^A-Za-z0-9._-]/, "?", u)
      users = users (users == "" ? "" : ",") "\"" u "\""
    }
    cpus = 0
    while ((getline line < cpuinfo) > 0) if (line ~ /^processor/) cpus++
    print ssh, notty, preauth, ssm, mux, cpus, n + 0, (users == "" ? "-" : users), (ttys == "" ? "-" : ttys)
  }'
# Without the process table the session counts are unknown, not zero: the line still says why (errors), and the exit
# status is 3 so that SSM reports the command Failed and the controller never takes the zeros for an idle instance.
SESSIONS_UNKNOWN=""
if [ -n "${AUTOSTOP_PROBE_PS:-}" ]; then
  PS_FILE=$AUTOSTOP_PROBE_PS
  [ -r "$PS_FILE" ] || { add_error "cannot read $PS_FILE"; PS_FILE=/dev/null; SESSIONS_UNKNOWN=1; }
  read -r SSH NOTTY PREAUTH SSM MUX CPUS ROWS USERS TTYS < <(awk -v cpuinfo="$PROC/cpuinfo" "$PS_AWK" "$PS_FILE" 2>/dev/null)
else
  read -r SSH NOTTY PREAUTH SSM MUX CPUS ROWS USERS TTYS < <(ps -eo pid=,ppid=,args= 2>/dev/null | awk -v cpuinfo="$PROC/cpuinfo" "$PS_AWK" 2>/dev/null)
  # a live system always lists at least init and ps itself
  [ "${ROWS:-0}" -gt 0 ] 2>/dev/null || { add_error "ps failed"; SESSIONS_UNKNOWN=1; }
fi
[ -n "${SSH:-}" ] || { add_error "awk failed"; SESSIONS_UNKNOWN=1; }
[ "${CPUS:-0}" -ge 1 ] 2>/dev/null || { add_error "cannot count CPUs in $PROC/cpuinfo"; CPUS=1; }

# --- terminal idle: the tty device is touched whenever its user types (what `w` reports); one stat for all --------
MIN_IDLE=null
if [ "${TTYS:--}" != "-" ]; then
  # TTYS holds only pts/N and ttyX names (the awk filter above), so splitting it on commas is safe.
  # shellcheck disable=SC2086 # split on purpose
  STATS=$(cd "$DEV" 2>/dev/null && IFS=, && set -f && exec stat -c '%X %n' -- $TTYS 2>/dev/null)
  while read -r atime _; do
    [[ $atime =~ ^[0-9]+$ ]] || continue
    idle=$(( NOW - atime )); [ "$idle" -lt 0 ] && idle=0
    if [ "$MIN_IDLE" = null ] || [ "$idle" -lt "$MIN_IDLE" ]; then MIN_IDLE=$idle; fi
  done <<<"$STATS"
  rest=$TTYS,
  while [ -n "$rest" ]; do
    t=${rest%%,*}; rest=${rest#*,}
    [[ $'\n'$STATS$'\n' == *" $t"$'\n'* ]] || add_error "cannot stat $DEV/$t"
  done
fi

# --- the most recent successful SSH login, even one that already ended ----------------------------------------
LOGIN_EPOCH=""
to_epoch() { # EPOCH = a log timestamp (ISO-8601 or syslog "Nov 22 17:33:05") in epoch seconds; a year-less stamp from the future is last year's
  EPOCH=$(date -d "$1" +%s 2>/dev/null) || return 1
  if [ "$EPOCH" -gt $(( NOW + 86400 )) ]; then EPOCH=$(date -d "$1 -1 year" +%s 2>/dev/null) || return 1; fi
}
# Read backwards (tac seeks from the end) and stop at the first login; never more than the last 8 MB: on a host
# password guessers hammer, auth.log grows by gigabytes, and a login the policy can use happened since the previous
# tick, minutes ago, far inside that window. The line must start with a timestamp, so a line cut by the window is
# never taken for one.
ACCEPTED='sshd(-session)?\[[0-9]+\]: Accepted [^ ]+ for '
from_text_log() {
  local line stamp
  line=$(tac -- "$1" 2>/dev/null | head -c 8000000 | grep -a -m 1 -E "^([0-9]{4}-[0-9]{2}-[0-9]{2}T|[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:).*$ACCEPTED")
  [ -n "$line" ] || return 0
  if [[ $line =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+([+-][0-9:]+|Z)?) ]] || [[ $line =~ ^([A-Z][a-z]{2}\ +[0-9]+\ [0-9:]{8}) ]]; then
    stamp=${BASH_REMATCH[1]}
  else stamp=""; fi
  if [ -n "$stamp" ] && to_epoch "$stamp"; then
    [ -z "$LOGIN_EPOCH" ] || [ "$EPOCH" -gt "$LOGIN_EPOCH" ] && LOGIN_EPOCH=$EPOCH
  else add_error "unreadable time in $1"; fi
}
from_journal() { # newest first, at most 500 sshd entries, at most 1 s: the journal's _COMM index makes it a short read
  local line
  line=$(if [ -n "${AUTOSTOP_PROBE_JOURNAL:-}" ]; then cat -- "$AUTOSTOP_PROBE_JOURNAL" 2>/dev/null
         else timeout 1 journalctl -q --no-pager -r -o short-unix -n 500 _COMM=sshd _COMM=sshd-session 2>/dev/null; fi \
    | grep -a -m 1 -E "^[0-9]+(\.[0-9]+)? [^ ]+ $ACCEPTED")
  [[ ${line%%[. ]*} =~ ^[0-9]+$ ]] && LOGIN_EPOCH=${line%%[. ]*}
}
from_wtmp() { # the newest terminal login in wtmp, as util-linux last prints it (ISO times carry their zone)
  local line
  line=$(last ${AUTOSTOP_PROBE_WTMP:+-f "$AUTOSTOP_PROBE_WTMP"} -w --time-format iso -n 50 2>/dev/null | grep -a -m 1 -E ' (pts/|tty|ssh)')
  if [[ $line =~ ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:?[0-9]{2}|Z)?) ]] && to_epoch "${BASH_REMATCH[1]}"; then
    LOGIN_EPOCH=$EPOCH
  fi
}
# Sources, first that exists: auth.log/secure; else the journal (Debian 12+, AL2023, SUSE without rsyslog), and wtmp
# when the journal has no login (no journald, or a flood pushed it past 500 entries). A test seam picks its sources.
if [ -n "${AUTOSTOP_PROBE_AUTH_LOG:-}${AUTOSTOP_PROBE_JOURNAL:-}${AUTOSTOP_PROBE_WTMP:-}" ]; then
  if [ -n "${AUTOSTOP_PROBE_AUTH_LOG:-}" ]; then
    if [ -r "$AUTOSTOP_PROBE_AUTH_LOG" ]; then from_text_log "$AUTOSTOP_PROBE_AUTH_LOG"; else add_error "cannot read $AUTOSTOP_PROBE_AUTH_LOG"; fi
  fi
  if [ -z "$LOGIN_EPOCH" ] && [ -n "${AUTOSTOP_PROBE_JOURNAL:-}" ]; then
    if [ -r "$AUTOSTOP_PROBE_JOURNAL" ]; then from_journal; else add_error "cannot read $AUTOSTOP_PROBE_JOURNAL"; fi
  fi
  if [ -z "$LOGIN_EPOCH" ] && [ -n "${AUTOSTOP_PROBE_WTMP:-}" ]; then
    if [ -r "$AUTOSTOP_PROBE_WTMP" ]; then from_wtmp; else add_error "cannot read $AUTOSTOP_PROBE_WTMP"; fi
  fi
elif [ -r /var/log/auth.log ] || [ -r /var/log/secure ]; then
  for f in /var/log/auth.log /var/log/secure; do [ -r "$f" ] && from_text_log "$f"; done
else
  # journalctl reads only these directories: without them (a container, no journald) it has nothing to find.
  if [ -d /run/log/journal ] || [ -d /var/log/journal ]; then command -v journalctl >/dev/null 2>&1 && from_journal; fi
  [ -z "$LOGIN_EPOCH" ] && command -v last >/dev/null 2>&1 && [ -r /var/log/wtmp ] && from_wtmp
fi
LOGIN_AGE=null
if [[ ${LOGIN_EPOCH:-} =~ ^[0-9]+$ ]]; then LOGIN_AGE=$(( NOW - LOGIN_EPOCH )); [ "$LOGIN_AGE" -lt 0 ] && LOGIN_AGE=0; fi

# --- keep-alive marker: "keep this up until", a UTC time: epoch seconds or ISO-8601 -------------------------------
# An ISO time without a zone is UTC (the marker holds UTC; date -u reads it so). Only those two forms: date -d also
# takes "tomorrow" or an empty string, which are not markers but mistakes, so they are errors, not silence. More than
# 30 days away (the helper never writes that) is capped there and reported, so a typo cannot hold an instance
# up for years.
KEEP=null; KEEP_MAX=$(( 30 * 86400 ))
ISO_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$'
if [ -e "$KEEPALIVE" ]; then
  raw=""; read -r -n 64 raw <"$KEEPALIVE" 2>/dev/null
  raw=${raw#"${raw%%[![:space:]]*}"}; raw=${raw%"${raw##*[![:space:]]}"}   # trim
  until_epoch=""
  if [[ $raw =~ ^[0-9]{1,12}$ ]]; then until_epoch=$raw
  elif [[ $raw =~ $ISO_RE ]]; then until_epoch=$(date -u -d "$raw" +%s 2>/dev/null) || until_epoch=""; fi
  if ! [[ $until_epoch =~ ^-?[0-9]+$ ]]; then add_error "keep-alive marker $KEEPALIVE holds '$raw', not a time (epoch seconds or ISO-8601)"
  elif [ "$until_epoch" -gt "$NOW" ]; then
    KEEP=$(( until_epoch - NOW ))
    if [ "$KEEP" -gt "$KEEP_MAX" ]; then
      add_error "keep-alive marker $KEEPALIVE is $(( KEEP / 86400 )) days away; capped at 30 days"; KEEP=$KEEP_MAX
    fi
  fi
fi

# --- machine facts (CPU count: the awk pass above) ---------------------------------------------------------------
UPTIME=0; LOAD=0
# Numbers go into the line unquoted, so anything that is not a plain number is an error, never copied in.
if read -r up _ <"$PROC/uptime" 2>/dev/null && [[ $up =~ ^[0-9]+(\.[0-9]*)?$ ]]; then UPTIME=${up%%.*}; else add_error "cannot read $PROC/uptime"; fi
if read -r l1 _ <"$PROC/loadavg" 2>/dev/null && [[ $l1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then LOAD=$l1; else add_error "cannot read $PROC/loadavg"; fi

# --- the line ---------------------------------------------------------------------------------------------------
[ "${USERS:--}" = "-" ] && USERS=""
printf '{"v":1,"agent":"%s","sshSessions":%d,"sshNoTtySessions":%d,"ssmSessions":%d,"users":[%s],"lastLoginAgeSeconds":%s,"minTtyIdleSeconds":%s,"keepAliveSeconds":%s,"uptimeSeconds":%d,"load1":%s,"cpuCount":%d,"multiplexerSessions":%d,"preauthConnections":%d,"errors":[%s]}\n' \
  "$VERSION" "${SSH:-0}" "${NOTTY:-0}" "${SSM:-0}" "$USERS" "$LOGIN_AGE" "$MIN_IDLE" "$KEEP" "$UPTIME" "$LOAD" "$CPUS" "${MUX:-0}" "${PREAUTH:-0}" "$ERRORS_JSON"
[ -z "$SESSIONS_UNKNOWN" ] || exit 3
