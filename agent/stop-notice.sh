#!/usr/bin/env bash
# AutoStop stop notice, run as root by SSM Run Command (the stack's NoticeDocument, AutoStop-<stack>-notice-<hash>)
# one tick before AutoStop stops an instance on which someone is still logged in in a way its policy ignores (a
# terminal idle past IgnoreIdleTerminalsAfter, tmux or screen when they do not count). It writes one line to those
# people and changes nothing else:
#
#   AutoStop: this machine will be stopped at 18:05 UTC (in about 5 min) because nobody has used it for a while.
#   To keep it up: autostop-keepalive 2h
#
# (one line; "hibernated" for Action=hibernate; where agent/autostop-keepalive is not installed in /usr/local/bin, the
# line gives the equivalent command that writes its marker, /run/autostop/keepalive-until, which the probe reads).
#
# Usage: stop-notice.sh STOP_AT ACTION
#   STOP_AT  when the stop is due, UTC: YYYY-MM-DDTHH:MM:SSZ (the document's StopAt parameter)
#   ACTION   stop or hibernate (the document's Action parameter)
# The document passes both as arguments, inside single quotes; SSM refuses values outside the parameters'
# allowedPattern (the same two patterns as below), so no value can reach a shell as code. This script checks them
# again and exits 2 with a message on stderr when they are wrong.
#
# Where it writes (as root, which is why it is bounded and careful):
# - Terminals: the ttys of logged-in users (utmp, as `who` lists them) and every /dev/pts/N that a process has as its
#   controlling terminal (an SSH or Session Manager shell, a tmux or screen pane, a mosh shell). At most 64, each
#   write in the background under `timeout 1`, all waited for together: a tty stopped by Ctrl-S or a hung line
#   discipline costs one second, not the run. Like wall(1) run by root, it does not honour `mesg n`.
# - tmux: every attached client of every server socket under /tmp/tmux-UID/ gets the line in its status line for 15 s
#   (`display-message -c CLIENT -d 15000`, tmux 3.2+; older tmux shows it for its display-time). The tmux client is
#   run as the socket's owner (setpriv), never as root: a tmux client obeys its server, which can make it run a shell
#   command or open files (tmux client.c, client_dispatch_wait: MSG_SHELL -> client_exec; MSG_READ_OPEN,
#   MSG_WRITE_OPEN), and any user can put a socket there. Symlinks, sockets not owned by their directory's owner, and
#   directories others can write to are skipped. At most 16 sockets.
# - screen: not addressed separately; its windows are ptys with a shell on them, so they get the terminal write.
#
# Output: one JSON line on stdout, {"noticeVersion":"1.0.0","terminals":N,"tmuxClients":M,"errors":[...]}: N
# terminals and M tmux clients written to, and at most 8 errors (each at most 120 characters, reduced to
# [A-Za-z0-9 ._/:=(),-], all safe in JSON). Exit 0 whatever a single terminal or tmux server does; 2 on bad
# arguments. A few seconds at most.
#
# Test seam (environment variables; unset on instances):
#   AUTOSTOP_NOTICE_TTYS         space-separated tty paths to write to, instead of discovering them (utmp and ps)
#   AUTOSTOP_NOTICE_TMUX_DIR     a directory holding tmux sockets (e.g. one /tmp/tmux-UID), instead of /tmp/tmux-*/
#   AUTOSTOP_NOTICE_NOW          the current time, epoch seconds
#   AUTOSTOP_NOTICE_KEEPALIVE    where autostop-keepalive is looked for (default /usr/local/bin/autostop-keepalive)
set -u
export LC_ALL=C
VERSION="1.0.0"
MAX_TTYS=64
MAX_SOCKETS=16
MAX_ERRORS=8
MARKER=/run/autostop/keepalive-until

fail() { echo "stop-notice: $*" >&2; exit 2; }

[ $# -eq 2 ] || fail "usage: stop-notice.sh STOP_AT ACTION (e.g. 2026-11-23T18:05:00Z stop); got $# arguments"
STOP_AT=$1 ACTION=$2
[[ $STOP_AT =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
  fail "STOP_AT '${STOP_AT:0:40}' is not a UTC time like 2026-11-23T18:05:00Z"
[[ $ACTION =~ ^(stop|hibernate)$ ]] || fail "ACTION '${ACTION:0:40}' is not stop or hibernate"
STOP_EPOCH=$(date -u -d "$STOP_AT" +%s 2>/dev/null) || fail "STOP_AT '$STOP_AT' is not a valid date"
# The pattern lets 2026-02-30 through and date(1) would roll it over: the time must print back as given.
[ "$(date -u -d "@$STOP_EPOCH" +%Y-%m-%dT%H:%M:%SZ)" = "$STOP_AT" ] || fail "STOP_AT '$STOP_AT' is not a valid date"
if [ -n "${AUTOSTOP_NOTICE_NOW:-}" ]; then NOW=$AUTOSTOP_NOTICE_NOW; else printf -v NOW '%(%s)T' -1; fi

# --- the line -------------------------------------------------------------------------------------------------------
MINUTES=$(( (STOP_EPOCH - NOW + 59) / 60 ))
[ "$MINUTES" -ge 1 ] || MINUTES=1
if [ "$ACTION" = hibernate ]; then VERB=hibernated; else VERB=stopped; fi
if [ -x "${AUTOSTOP_NOTICE_KEEPALIVE:-/usr/local/bin/autostop-keepalive}" ]; then
  KEEP="autostop-keepalive 2h"
else
  # What autostop-keepalive 2h does: a time in its marker (the probe reads epoch seconds or ISO-8601; /run needs
  # root). No % or # in the line: tmux's display-message would expand them (strftime, formats).
  KEEP="sudo sh -c 'mkdir -p ${MARKER%/*} && date -Is -d +2hours >$MARKER'"
fi
MESSAGE="AutoStop: this machine will be $VERB at ${STOP_AT:11:5} UTC (in about $MINUTES min) because nobody has used it for a while. To keep it up: $KEEP"

# Arrays are expanded only as ${A[@]+"${A[@]}"} and counted by hand: bash < 4.4 (Amazon Linux 2 has 4.2) calls an
# empty array unbound under set -u (tests/checks/agent-bash42.sh).
ERRORS=(); N_ERRORS=0
add_error() {
  [ "$N_ERRORS" -lt "$MAX_ERRORS" ] || return 0
  local e=${1:0:120}
  ERRORS+=("${e//[!A-Za-z0-9 ._\/:=(),-]/?}"); N_ERRORS=$((N_ERRORS + 1))
}

# --- tmux (first: the terminals its clients draw on are left to it) -------------------------------------------------
declare -A SKIP=()
TMUX_CLIENTS=0
if command -v tmux >/dev/null 2>&1; then
  if [ -n "${AUTOSTOP_NOTICE_TMUX_DIR:-}" ]; then DIRS=("$AUTOSTOP_NOTICE_TMUX_DIR"); else DIRS=(/tmp/tmux-*); fi
  SOCKETS=(); N_SOCKETS=0
  for dir in ${DIRS[@]+"${DIRS[@]}"}; do
    if [ ! -d "$dir" ] || [ -L "$dir" ]; then continue; fi
    read -r dir_owner dir_mode < <(stat -c '%u %a' -- "$dir" 2>/dev/null) || continue
    # tmux itself refuses a socket directory others can write to (tmux.c expand_paths: "directory has unsafe permissions").
    if (( 8#$dir_mode & 8#022 )); then add_error "$dir is writable by others: skipped"; continue; fi
    for sock in "$dir"/*; do
      if [ ! -S "$sock" ] || [ -L "$sock" ]; then continue; fi
      read -r sock_owner sock_group < <(stat -c '%u %g' -- "$sock" 2>/dev/null) || continue
      [ "$sock_owner" = "$dir_owner" ] || { add_error "$sock is not owned by its directory's owner: skipped"; continue; }
      if [ "$N_SOCKETS" -ge "$MAX_SOCKETS" ]; then add_error "more than $MAX_SOCKETS tmux sockets: the rest skipped"; break 2; fi
      SOCKETS+=("$sock_owner:$sock_group:$sock"); N_SOCKETS=$((N_SOCKETS + 1))
    done
  done
  for entry in ${SOCKETS[@]+"${SOCKETS[@]}"}; do
    uid=${entry%%:*}; rest=${entry#*:}; gid=${rest%%:*}; sock=${rest#*:}
    if [ "$uid" = "$EUID" ]; then AS=(env)
    elif command -v setpriv >/dev/null 2>&1; then AS=(setpriv "--reuid=$uid" "--regid=$gid" --clear-groups --)
    else add_error "setpriv is not installed: tmux socket $sock skipped"; continue; fi
    # No server behind the socket (a stale one): nothing to show, not an error.
    clients=$(timeout 1 ${AS[@]+"${AS[@]}"} tmux -S "$sock" list-clients -F '#{client_name} #{client_tty}' 2>/dev/null) || continue
    while read -r client client_tty; do
      [ -n "$client" ] || continue
      [ -z "${client_tty:-}" ] || SKIP[$client_tty]=1
      if timeout 1 ${AS[@]+"${AS[@]}"} tmux -S "$sock" display-message -c "$client" -d 15000 "$MESSAGE" 2>/dev/null ||
         timeout 1 ${AS[@]+"${AS[@]}"} tmux -S "$sock" display-message -c "$client" "$MESSAGE" 2>/dev/null; then   # tmux < 3.2: no -d
        TMUX_CLIENTS=$((TMUX_CLIENTS + 1))
      else add_error "tmux client $client of $sock could not be shown the notice"; fi
    done < <(head -n 64 <<<"$clients")
  done
fi

# --- terminals ------------------------------------------------------------------------------------------------------
TTYS=(); N_TTYS=0
add_tty() { # a device path, once, unless a tmux client draws on it; at most MAX_TTYS
  [ -z "${SKIP[$1]:-}" ] || return 0
  SKIP[$1]=1
  N_TTYS=$((N_TTYS + 1))
  [ "$N_TTYS" -le "$MAX_TTYS" ] && TTYS+=("$1")
}
if [ -n "${AUTOSTOP_NOTICE_TTYS+set}" ]; then
  for tty in $AUTOSTOP_NOTICE_TTYS; do add_tty "$tty"; done
else
  # utmp (who: NAME LINE TIME ...), then the controlling terminals of all processes (ps: pts/3, tty1 or ?).
  while read -r _ line _; do
    if [[ ${line:-} =~ ^(pts/[0-9]+|tty[0-9A-Za-z]+)$ ]]; then add_tty "/dev/$line"; fi
  done < <(timeout 2 who 2>/dev/null)
  while read -r line; do
    if [[ $line =~ ^pts/[0-9]+$ ]]; then add_tty "/dev/$line"; fi
  done < <(timeout 2 ps -eo tty= 2>/dev/null | sort -u)
fi
if [ "$N_TTYS" -gt "$MAX_TTYS" ]; then
  add_error "$(( N_TTYS - MAX_TTYS )) terminals over the limit of $MAX_TTYS not written to"
  N_TTYS=$MAX_TTYS
fi
PIDS=()
for tty in ${TTYS[@]+"${TTYS[@]}"}; do
  # Only tty devices: nothing else under /dev is ever written (a test list included).
  if ! [[ $tty =~ ^/dev/(pts/[0-9]+|tty[0-9A-Za-z]+)$ ]] || [ ! -c "$tty" ]; then PIDS+=(-); continue; fi
  # CR LF around it: the terminal may be in raw mode (an editor) or mid-line.
  # shellcheck disable=SC2016 # $1 and $2 are the inner bash's arguments
  timeout 1 bash -c 'printf "\r\n%s\r\n" "$1" >"$2"' _ "$MESSAGE" "$tty" 2>/dev/null &
  PIDS+=("$!")
done
TERMINALS=0
for ((i = 0; i < N_TTYS; i++)); do
  if [ "${PIDS[$i]}" = - ]; then add_error "${TTYS[$i]} is not a terminal"; continue; fi
  if wait "${PIDS[$i]}"; then TERMINALS=$((TERMINALS + 1))
  else add_error "${TTYS[$i]} could not be written (exit $?)"; fi
done

# --- the report -----------------------------------------------------------------------------------------------------
LINE="{\"noticeVersion\":\"$VERSION\",\"terminals\":$TERMINALS,\"tmuxClients\":$TMUX_CLIENTS,\"errors\":["
sep=""
for e in ${ERRORS[@]+"${ERRORS[@]}"}; do LINE+="$sep\"$e\""; sep=","; done
printf '%s]}\n' "$LINE"
exit 0
