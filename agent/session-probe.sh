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
# - Remote shells other than sshd (remoteShellSessions, remoteShellKinds): a server process that allocated a pty holds
#   it as a master and forks the user's shell onto the slave, so each session is a server process with a child on a
#   /dev/pts/N other than the server's own terminal. Its users go into users, its ptys into minTtyIdleSeconds (their
#   atime is the last keystroke, as for an SSH terminal: the kernel's tty read updates it).
#   * mosh: the detached "mosh-server new ..." process calls forkpty(); the child waits (still titled mosh-server, on
#     the new pty) until the first client packet, then execs the user's shell there (mobile-shell/mosh
#     src/frontend/mosh-server.cc run_server: fork "detach from terminal", forkpty, "Wait for parent to release us",
#     execvp). A mosh-server whose client never came exits after 60 s (timeout_if_no_client).
#   * Eternal Terminal: etserver is one root daemon without ptys; each session is an "etterminal" process that the
#     client starts over ssh as the user, daemonized, calling forkpty() for the shell (MisterTea/EternalTerminal
#     src/terminal/PseudoUserTerminal.hpp setup, TerminalMain.cpp, SshSetupHandler.cpp ETTERMINAL_BIN). Both names
#     are matched; the kind reported is the process name seen.
#   * Not covered: dropbear (an SSH server in its own right, not on EC2 images; its no-tty sessions could not be
#     told apart this way), and browser terminals (code-server, Jupyter, ttyd, VS Code's own tunnels) whose servers
#     are node/python processes with generic names; VS Code Remote-SSH and Cloud9 already count as SSH sessions.
# - Maintenance at work (systemBusy): a package manager (apt, apt-get, aptitude, dpkg, unattended-upgrade(s), yum,
#   dnf, dnf5, rpm, zypper; the python ones by their script: "/usr/bin/python3 /usr/bin/dnf ..."), cloud-init running
#   (a python script too), or another SSM command: the SSM agent starts one "/usr/bin/ssm-document-worker <document
#   id>" per command document it runs (amazon-ssm-agent agent/framework/processor/executer/outofproc/master.go
#   processCreator(appconfig.DefaultDocumentWorker, ...); agent/appconfig/constants_unix.go), e.g. Patch Manager's
#   AWS-RunPatchBaseline. This probe runs under one of those itself, so the workers among its own ancestors (PPIDs
#   walked from $$ in the same process table) are not counted. One item per kind, at most 8.
# - Inbound connections per local port (inboundConnections, inboundConnectionsOther): read from /proc/net/tcp and
#   /proc/net/tcp6 in the same awk pass (no ss, no fork). A connection is inbound when it is ESTABLISHED (st 01) and its
#   local port is one a socket LISTENs on (st 0A), in either file (a v4-mapped peer on an IPv6 listener shows in tcp6);
#   an outbound connection's local port is an ephemeral one nobody listens on. Peers on loopback never count
#   (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104): an SSH tunnel (sshd -> localhost:8888) or Session Manager port
#   forwarding (ssm-session-worker -> localhost:8888) is already a session of its own, and a local health check is
#   nobody. The kernel prints each address as 32-bit words in host byte order (net/ipv4/tcp_ipv4.c get_tcp4_sock
#   "%08X:%04X", net/ipv6/tcp_ipv6.c get_tcp6_sock); EC2 instances are little-endian (x86_64, arm64), so 127.0.0.1 is
#   0100007F, ::1 is 00000000000000000000000001000000 and ::ffff:127.0.0.1 is 0000000000000000FFFF00000100007F.
#   The 8 ports with the most connections are listed (ties: lower port first), at most 99999 each; connections to
#   any other port are summed in inboundConnectionsOther, so a reader knows the list is not the whole picture.
#   Both null when /proc/net/tcp cannot be read (tcp6 is absent when IPv6 is off: not an error).
# - GPU utilization (gpuUtilizationPercent, gpuStatus): the highest utilization.gpu of `nvidia-smi --query-gpu`, only
#   when nvidia-smi is on PATH (a builtin lookup, no fork otherwise), bounded by timeout to 2 s (its process group is
#   killed), and the read of its answer to 3 s in case it is stuck where no signal reaches it. gpuStatus: absent (no
#   nvidia-smi: null), ok, or failed (it timed out, failed or printed no number: null, and an error says which).
# - Busy processes (busyProcesses): which names of a fixed allow-list run now (BUSY_NAMES below, in that order). The
#   list is in the probe, not a document parameter: a parameter would be text from a tag run as root in a shell (anyone
#   allowed to tag an instance could run commands on it), SendCommand sends one set of parameters to every instance of
#   a call (so one call per distinct tag value), and the document would no longer be one fixed, hashed script. A fixed
#   list also keeps the line bounded: all 16 names fit. Names: the command, or for a script run by an interpreter
#   (sh, bash, python, node) the script; gmake is make, g++/cc1/cc1plus are gcc, clang++/clang-NN are clang, gradlew
#   is gradle, and docker-build is `docker build`, `docker buildx build`, `docker image build` or `docker compose build`.
#
# The line is at most 2,000 characters whatever the input: users (16 x 32 characters) and remoteShellKinds are
# reduced to [A-Za-z0-9._-], systemBusy items are built from the fixed names above and a pid, inboundConnections holds
# at most 8 "port":count pairs of 5 digits each, busyProcesses at most the 16 fixed names, numbers are bounded (so all
# but errors stays under 1,550 characters, every field at its maximum: 1,504 in tests/Agent.Tests JsonSafetyTests), and errors (each at most 160
# characters before escaping) get what is left of the 2,000, in order, the last one kept cut or dropped to fit.
#
# Test seam (environment variables; unset on instances):
#   AUTOSTOP_PROBE_PS            file holding "PID PPID TTY USER ARGS" lines (as `ps -eo pid=,ppid=,tty=,user:32=,args=`)
#                                instead of live ps
#   AUTOSTOP_PROBE_SELF_PID      the probe's own pid in that table (default $$), whose ancestry is its own
#   AUTOSTOP_PROBE_AUTH_LOG      auth log to read logins from instead of auth.log/secure
#   AUTOSTOP_PROBE_JOURNAL       file holding what `journalctl -r -o short-unix _COMM=sshd _COMM=sshd-session` prints
#                                (newest first) instead of running journalctl
#   AUTOSTOP_PROBE_WTMP          a binary wtmp file for `last -f` instead of /var/log/wtmp
#   When any of these three is set, only the sources set are read (auth log, then journal, then wtmp: the first
#   source with a login gives the login, the first with a logout the logout), so a test reaches each branch.
#   AUTOSTOP_PROBE_NOW           the current time, epoch seconds
#   AUTOSTOP_PROBE_KEEPALIVE     keep-alive marker file (default /run/autostop/keepalive-until)
#   AUTOSTOP_PROBE_DEV           where tty devices live (default /dev), for terminal idle times
#   AUTOSTOP_PROBE_PROC          the proc filesystem (default /proc), for uptime, load, CPU count and net/tcp, net/tcp6
#   (nvidia-smi is found on PATH: a test puts a fake one first)
set -u
export LC_ALL=C
VERSION="1.4.0"
# Cost: a handful of forks whatever the process count (ps | awk, which also reads /proc/net/tcp{,6}; tac | head | grep | awk and at most two dates for
# the auth log, or journalctl | grep | awk, then last and one date; one stat for all terminals; timeout, nvidia-smi
# and awk only where nvidia-smi exists). No $(...) in loops;
# the only shell loops run over at most 50 wtmp lines, 2 log events and 8 errors, never over processes or log lines.
# bench/probe/RESULTS.md has the numbers.
if [ -n "${AUTOSTOP_PROBE_NOW:-}" ]; then NOW=$AUTOSTOP_PROBE_NOW; else printf -v NOW '%(%s)T' -1; fi   # bash 4.2+
PROC=${AUTOSTOP_PROBE_PROC:-/proc}
DEV=${AUTOSTOP_PROBE_DEV:-/dev}
KEEPALIVE=${AUTOSTOP_PROBE_KEEPALIVE:-/run/autostop/keepalive-until}
# Errors accumulate as newline-separated text, not an array: bash < 4.4 (AL2 has 4.2) treats "${A[@]}" of an empty
# array as unbound under set -u and exits before printing anything (tests/checks/agent-bash42.sh guards this).
# Each is cut to 160 characters with control and non-ASCII bytes replaced (so none holds a newline); they are
# escaped when the line is printed, in what is left of its 2,000 characters.
ERRORS=""; ERROR_COUNT=0

json_escape() { # JSON=$1 truncated to $2 bytes and made safe inside a JSON string
  # LC_ALL=C, so patterns match bytes: every control byte (0x00-0x1f, 0x7f) and every byte >= 0x80 becomes "?", so
  # neither a control character nor invalid UTF-8 (a marker or a file name can hold anything) can break the line.
  JSON=${1:0:${2:-160}}
  JSON=${JSON//[! -~]/?}; JSON=${JSON//\\/\\\\}; JSON=${JSON//\"/\\\"}
}
add_error() {
  [ "$ERROR_COUNT" -lt 8 ] || return 0
  local e=${1:0:160}; e=${e//[! -~]/?}
  ERRORS+="$e"$'\n'; ERROR_COUNT=$((ERROR_COUNT + 1))
}

# --- processes: one awk pass classifies every sshd connection and counts the other session kinds ------------------
# Prints: ssh notty preauth ssm mux cpus rows users(JSON strings, comma-joined, or -) ttys(comma list or -)
#         remote-shells kinds(JSON strings or -) inbound(JSON members "port":count, -, or null) inbound-other(n or null)
#         busy-processes(JSON strings or -) busy(JSON strings or -, last: its items hold spaces)
# The allow-list of busyProcesses, in the order they are reported (AutoStop's ProbeVocabulary holds the same list, a
# test compares them): at most 16 names of at most 12 characters, so the field is bounded by construction.
BUSY_NAMES="make cmake ninja bazel cargo rustc go gcc clang javac gradle npm docker-build rsync rclone ffmpeg"
# shellcheck disable=SC2016 # an awk program
PS_AWK='
  function sshd_title(a) { return a ~ /^sshd(-session|-auth)?: / }
  function listener(a) { return a ~ /\[listener\]/ || a ~ /^(\/usr)?(\/local)?\/s?bin\/sshd( |$)/ || a ~ /^sshd( -|$)/ }
  function add_user(u) { if (u != "" && !(u in seen_user)) { seen_user[u] = 1; nu++; ulist[nu] = u } }
  function add_tty(t) { if (!(t in seen_tty)) { seen_tty[t] = 1; ttys = ttys (ttys == "" ? "" : ",") t } }
  function is_tty(t) { return t ~ /^pts\/[0-9]+$/ || t ~ /^tty[A-Za-z0-9]+$/ }
  function quoted(s) { s = substr(s, 1, 32); gsub(/[^A-Za-z0-9._-]/, "?", s); return "\"" s "\"" }
  function add_busy(key, text) {   # one item per kind, at most 8; texts are built from fixed names and a pid
    if (key in seen_busy || nbusy >= 8) return
    seen_busy[key] = 1; nbusy++; busy = busy (busy == "" ? "" : ",") "\"" text "\""
  }
  # busyProcesses: the allow-list name a process stands for, or "" (see the header).
  function busy_name(prog, w, m) {
    if (prog == "gmake") return "make"
    if (prog ~ /^(g\+\+|cc1|cc1plus)$/) return "gcc"
    if (prog ~ /^clang(\+\+)?(-[0-9]+)?$/) return "clang"
    if (prog == "gradlew") return "gradle"
    if (prog == "docker") return (m >= 2 && (w[2] == "build" || (w[2] ~ /^(buildx|image|compose)$/ && m >= 3 && w[3] == "build"))) ? "docker-build" : ""
    return (prog in busy_allowed) ? prog : ""
  }
  function hexval(h,   i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1; return v }
  function loopback(a) {   # a peer address as the kernel prints it (little-endian words, see the header)
    if (length(a) == 8) return substr(a, 7, 2) == "7F"
    if (a == "00000000000000000000000001000000") return 1
    return substr(a, 1, 24) == "0000000000000000FFFF0000" && substr(a, 31, 2) == "7F"
  }
  function read_net(file,   line, f, lp, ra) {   # 0 when the file cannot be read; every line read once
    if ((getline line < file) <= 0) return 0   # the header, or no file
    while ((getline line < file) > 0) {
      if (split(line, f, " ") < 4) continue
      lp = f[2]; sub(/^.*:/, "", lp); lp = hexval(lp)
      if (f[4] == "0A") listening[lp] = 1
      else if (f[4] == "01") { ra = f[3]; sub(/:.*$/, "", ra); if (!loopback(ra)) est[lp]++ }
    }
    close(file); return 1
  }
  $1 ~ /^[0-9]+$/ {
    pid = $1; ppid[pid] = $2; tty[pid] = $3; owner[pid] = $4
    args = $0; sub(/^[ \t]*[0-9]+[ \t]+[0-9]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]*/, "", args); title[pid] = args
    n++; order[n] = pid
  }
  # File paths come through the environment: awk -v would read backslash escapes in them.
  BEGIN { cpuinfo = ENVIRON["PROBE_CPUINFO"]; net = ENVIRON["PROBE_NET"]; nallowed = split(busy_names, allowed_list, " "); for (k = 1; k <= nallowed; k++) busy_allowed[allowed_list[k]] = 1 }
  END {
    ssh = notty = preauth = ssm = mux = remote = 0; users = ""; ttys = ""; kinds = ""; busy = ""; nbusy = 0
    # The probe and its ancestors (walked up from its own pid, bounded): the ssm-document-worker running this probe.
    a = self
    for (k = 0; k < 64 && (a in ppid) && !(a in mine); k++) { mine[a] = 1; a = ppid[a] }
    for (i = 1; i <= n; i++) {
      p = order[i]; a = title[p]
      m = split(a, w, " "); cmd = w[1]; sub(/.*\//, "", cmd); cmdof[p] = cmd
      if (cmd == "ssm-session-worker") {
        ssm++
        u = w[2]; sub(/-[^-]*$/, "", u); add_user(u)
      }
      # Maintenance: python tools (yum, dnf 4, unattended-upgrade, cloud-init) are "python3 [-opts] /usr/bin/dnf ...".
      prog = cmd
      if (cmd ~ /^(platform-)?python[0-9.]*$/) {
        for (k = 2; k <= m && w[k] ~ /^-/; k++) ;
        if (k <= m) { prog = w[k]; sub(/.*\//, "", prog) }
      }
      if (prog ~ /^(apt|apt-get|aptitude|dpkg|unattended-upgrades?|yum|dnf|dnf5|rpm|zypper|cloud-init)$/) add_busy(prog, prog " (pid " p ")")
      # Scripts run by a shell or node stand for their script too (python: prog above): "sh ./gradlew build", "node /usr/bin/npm ci".
      bprog = prog
      if (cmd ~ /^(sh|bash|dash|node|nodejs)$/) { for (k = 2; k <= m && w[k] ~ /^-/; k++) ; if (k <= m) { bprog = w[k]; sub(/.*\//, "", bprog) } }
      bn = busy_name(bprog, w, m)
      if (bn != "") running[bn] = 1
      else if (cmd == "ssm-document-worker" && !(p in mine)) add_busy(cmd, "ssm-document-worker: another SSM command (pid " p ")")
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
    for (i = 1; i <= n; i++) {
      p = order[i]; a = title[p]; q = ppid[p]
      # A remote-shell server holding a pty: its child sits on a terminal other than the server terminal.
      if (is_tty(tty[p]) && (q in cmdof) && cmdof[q] ~ /^(mosh-server|etterminal|etserver)$/ && tty[p] != tty[q]) {
        if (!(q in remote_seen)) {
          remote_seen[q] = 1; remote++
          if (!(cmdof[q] in seen_kind)) { seen_kind[cmdof[q]] = 1; kinds = kinds (kinds == "" ? "" : ",") quoted(cmdof[q]) }
        }
        add_user(owner[p]); add_tty(tty[p])
      }
      # Each authenticated title belongs to the connection root above it.
      if (!sshd_title(a) || listener(a)) continue
      s = a; sub(/^[^ ]+ /, "", s)
      # "user@tty" / "user@notty" once a channel is open; a bare "user" after authentication before any channel
      # (ssh -N port forwarding keeps that title for its whole life). Pre-auth titles always carry a [bracket].
      bare = (s != "" && s !~ /[ @\/]/ && index(s, "[") == 0)
      if (s !~ /^[^ @]+@[^ ]+/ && !bare) continue
      r = p
      for (k = 0; k < 64 && !(r in root) && (r in ppid) && (ppid[r] in title); k++) r = ppid[r]
      if (!(r in root) || (r in authed)) continue
      authed[r] = 1; ssh++
      u = s; sub(/@.*/, "", u); t = bare ? "notty" : s; sub(/^[^@]*@/, "", t); sub(/ .*/, "", t)
      add_user(u)
      if (t !~ /^(pts|tty)/) notty++
      else { m = split(t, tl, ","); for (k = 1; k <= m; k++) if (is_tty(tl[k])) add_tty(tl[k]) }
    }
    for (r in root) if (!(r in authed)) preauth++
    for (k = 1; k <= nu && k <= 16; k++) users = users (users == "" ? "" : ",") quoted(ulist[k])
    cpus = 0
    while ((getline line < cpuinfo) > 0) if (line ~ /^processor/) cpus++
    bprocs = ""
    for (k = 1; k <= nallowed; k++) if (allowed_list[k] in running) bprocs = bprocs (bprocs == "" ? "" : ",") "\"" allowed_list[k] "\""
    # Inbound: established to a listening port. The 8 ports with the most connections (ties: lower port), the rest summed.
    inbound = "null"; other = "null"
    if (read_net(net "/tcp")) {
      read_net(net "/tcp6")
      inbound = ""; other = 0
      for (lp in est) if (lp in listening) { cnt[lp] = est[lp]; nports++ }
      for (k = 1; k <= 8 && k <= nports; k++) {   # 8 passes at most, each over the ports seen
        best = -1
        for (lp in cnt) if (!(lp in shown) && (best < 0 || cnt[lp] > cnt[best] || (cnt[lp] == cnt[best] && lp + 0 < best + 0))) best = lp
        shown[best] = 1; inbound = inbound (inbound == "" ? "" : ",") "\"" best "\":" (cnt[best] > 99999 ? 99999 : cnt[best])
      }
      for (lp in cnt) if (!(lp in shown)) other += cnt[lp]
      if (other > 999999) other = 999999
      if (inbound == "") inbound = "-"
    }
    print ssh, notty, preauth, ssm, mux, cpus, n + 0, (users == "" ? "-" : users), (ttys == "" ? "-" : ttys), remote, (kinds == "" ? "-" : kinds), inbound, other, (bprocs == "" ? "-" : bprocs), (busy == "" ? "-" : busy)
  }'
# Without the process table the session counts are unknown, not zero: the line still says why (errors), and the exit
# status is 3 so that SSM reports the command Failed and the controller never takes the zeros for an idle instance.
SESSIONS_UNKNOWN=""
SELF=${AUTOSTOP_PROBE_SELF_PID:-$$}
if [ -n "${AUTOSTOP_PROBE_PS:-}" ]; then
  PS_FILE=$AUTOSTOP_PROBE_PS
  [ -r "$PS_FILE" ] || { add_error "cannot read $PS_FILE"; PS_FILE=/dev/null; SESSIONS_UNKNOWN=1; }
  read -r SSH NOTTY PREAUTH SSM MUX CPUS ROWS USERS TTYS REMOTE KINDS INBOUND INBOUND_OTHER BUSY_PROCS BUSY < <(PROBE_CPUINFO="$PROC/cpuinfo" PROBE_NET="$PROC/net" awk -v self="$SELF" -v busy_names="$BUSY_NAMES" "$PS_AWK" "$PS_FILE" 2>/dev/null)
else
  # user:32 so that names up to 32 characters are not cut to 8 with a "+"; tty: where each process's terminal is.
  read -r SSH NOTTY PREAUTH SSM MUX CPUS ROWS USERS TTYS REMOTE KINDS INBOUND INBOUND_OTHER BUSY_PROCS BUSY < <(ps -eo pid=,ppid=,tty=,user:32=,args= 2>/dev/null | PROBE_CPUINFO="$PROC/cpuinfo" PROBE_NET="$PROC/net" awk -v self="$SELF" -v busy_names="$BUSY_NAMES" "$PS_AWK" 2>/dev/null)
  # a live system always lists at least init and ps itself
  [ "${ROWS:-0}" -gt 0 ] 2>/dev/null || { add_error "ps failed"; SESSIONS_UNKNOWN=1; }
fi
[ -n "${SSH:-}" ] || { add_error "awk failed"; SESSIONS_UNKNOWN=1; }
[ "${CPUS:-0}" -ge 1 ] 2>/dev/null || { add_error "cannot count CPUs in $PROC/cpuinfo"; CPUS=1; }
# Only the shapes the awk pass prints reach the line (it never copies text from the files it reads into these).
if [[ ${INBOUND:-} =~ ^(\"[0-9]{1,5}\":[0-9]{1,5},){0,7}\"[0-9]{1,5}\":[0-9]{1,5}$ ]]; then :
elif [ "${INBOUND:-}" = "-" ]; then INBOUND=""
else INBOUND=null; fi
[[ ${INBOUND_OTHER:-} =~ ^[0-9]{1,6}$ ]] || INBOUND_OTHER=null
if [ "$INBOUND" = null ] || [ "$INBOUND_OTHER" = null ]; then
  INBOUND=null; INBOUND_OTHER=null
  [ -n "$SESSIONS_UNKNOWN" ] || add_error "cannot read $PROC/net/tcp"
else INBOUND="{$INBOUND}"; fi
[ "${BUSY_PROCS:--}" = "-" ] && BUSY_PROCS=""

# --- GPU: the highest utilization nvidia-smi reports, only where it exists, bounded ------------------------------
GPU=null; GPU_STATUS=absent
if command -v nvidia-smi >/dev/null 2>&1; then
  GPU_STATUS=failed
  # timeout kills nvidia-smi's whole process group after 2 s (-k: KILL 1 s later if TERM is ignored); read -t bounds the
  # wait for an answer in case it is stuck where no signal reaches it (a hung driver), leaving it behind, not the probe.
  # shellcheck disable=SC2016 # an awk program
  gpu_answer=""
  read -r -t 3 gpu_answer < <({ timeout -k 1 2 nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits 2>/dev/null; echo "exit $?"; } \
    | awk '$1 == "exit" { rc = $2; next } $1 ~ /^[0-9]+$/ && $1 <= 100 { if (!seen || $1 + 0 > max) max = $1 + 0; seen = 1 } END { print (seen ? max : "-"), rc + 0 }' 2>/dev/null)
  read -r gpu_max gpu_rc <<<"$gpu_answer"
  if [[ ${gpu_max:-} =~ ^[0-9]{1,3}$ ]] && [ "${gpu_rc:-1}" = 0 ]; then GPU=$gpu_max; GPU_STATUS=ok
  elif [ -z "$gpu_answer" ] || [ "${gpu_rc:-}" = 124 ] || [ "${gpu_rc:-}" = 137 ]; then add_error "nvidia-smi gave no answer within 2 s"
  elif [ "${gpu_rc:-}" != 0 ]; then add_error "nvidia-smi failed (exit ${gpu_rc:-?})"
  else add_error "nvidia-smi printed no utilization"; fi
fi

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

# --- the most recent successful SSH login and the most recent SSH logout, even of sessions that already ended ------
# Login: sshd's "Accepted <method> for <user>" (auth2.c). Logout, whichever the instance logs: pam_unix's
# "pam_unix(sshd:session): session closed for user <user>" (Linux-PAM modules/pam_unix/pam_unix_sess.c, logged from
# the sshd process), sshd's "Disconnected from user <user> <addr> port <n>" (packet.c sshpkt_vfatal "Disconnected
# from %s" with the log preamble "user %s" that monitor.c/auth2.c set once authenticated; before that it reads
# "authenticating user" or "invalid user", never a logout), or a wtmp logout record (session.c session_pty_cleanup2
# record_logout: sessions with a terminal).
LOGIN_EPOCH=""; LOGOUT_EPOCH=""
to_epoch() { # EPOCH = a log timestamp (ISO-8601 or syslog "Nov 22 17:33:05") in epoch seconds; a year-less stamp from the future is last year's
  EPOCH=$(date -d "$1" +%s 2>/dev/null) || return 1
  if [ "$EPOCH" -gt $(( NOW + 86400 )) ]; then EPOCH=$(date -d "$1 -1 year" +%s 2>/dev/null) || return 1; fi
}
# Read backwards (tac seeks from the end); never more than the last 8 MB: on a host password guessers hammer,
# auth.log grows by gigabytes, and a login or logout the policy can use happened since the previous tick, minutes ago,
# far inside that window. grep keeps the login and logout lines, and awk stops the read at the newest of each. A line
# must start with a timestamp, so a line cut by the window is never taken for one.
SSHD_TAG='sshd(-session)?\[[0-9]+\]: '
EVENTS="${SSHD_TAG}(Accepted [^ ]+ for |pam_unix\(sshd:session\): session closed for user |Disconnected from user )"
# shellcheck disable=SC2016 # an awk program
FIRST_EVENTS_AWK='
  index($0, "]: Accepted ") { if (!login) { login = 1; print "in " $0 } }
  !index($0, "]: Accepted ") { if (!logout) { logout = 1; print "out " $0 } }
  login && logout { exit }'
stamp_of() { # STAMP = the leading timestamp of a text-log line
  STAMP=""
  if [[ $1 =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+([+-][0-9:]+|Z)?) ]] || [[ $1 =~ ^([A-Z][a-z]{2}\ +[0-9]+\ [0-9:]{8}) ]]; then
    STAMP=${BASH_REMATCH[1]}
  fi
}
from_text_log() {
  local kind line events
  events=$(tac -- "$1" 2>/dev/null | head -c 8000000 \
    | grep -a -E "^([0-9]{4}-[0-9]{2}-[0-9]{2}T|[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:).*$EVENTS" | awk "$FIRST_EVENTS_AWK")
  while read -r kind line; do   # at most two lines
    [ -n "$kind" ] || continue
    stamp_of "$line"
    if [ -z "$STAMP" ] || ! to_epoch "$STAMP"; then add_error "unreadable time in $1"; continue; fi
    if [ "$kind" = in ]; then
      if [ -z "$LOGIN_EPOCH" ] || [ "$EPOCH" -gt "$LOGIN_EPOCH" ]; then LOGIN_EPOCH=$EPOCH; fi
    elif [ -z "$LOGOUT_EPOCH" ] || [ "$EPOCH" -gt "$LOGOUT_EPOCH" ]; then LOGOUT_EPOCH=$EPOCH; fi
  done <<<"$events"
}
from_journal() { # newest first, at most 500 sshd entries, at most 1 s: the journal's _COMM index makes it a short read
  local kind stamp rest events
  events=$(if [ -n "${AUTOSTOP_PROBE_JOURNAL:-}" ]; then cat -- "$AUTOSTOP_PROBE_JOURNAL" 2>/dev/null
         else timeout 1 journalctl -q --no-pager -r -o short-unix -n 500 _COMM=sshd _COMM=sshd-session 2>/dev/null; fi \
    | grep -a -E "^[0-9]+(\.[0-9]+)? [^ ]+ $EVENTS" | awk "$FIRST_EVENTS_AWK")
  while read -r kind stamp rest; do   # at most two lines; short-unix starts with epoch seconds
    stamp=${stamp%%.*}
    [[ $stamp =~ ^[0-9]{1,12}$ ]] || continue
    if [ "$kind" = in ]; then [ -n "$LOGIN_EPOCH" ] || LOGIN_EPOCH=$stamp
    else [ -n "$LOGOUT_EPOCH" ] || LOGOUT_EPOCH=$stamp; fi
  done <<<"$events"
}
from_wtmp() { # util-linux last, newest login first (ISO times carry their zone): "user pts/0 host LOGIN - LOGOUT (d)"
  # The login is the newest terminal line's; the logout the latest "- <time>" of the 50 newest sessions (a long
  # session may end after a newer short one). "still logged in", "gone - no logout", "crash", "down": no logout.
  # Terminals that libutempter registers are not SSH sessions: tmux panes ("tmux(123).%0"), mosh ("mosh [123]",
  # "198.51.100.7 via mosh [123]"), etterminal ("etterminal [123]").
  local line iso='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:?[0-9]{2}|Z)?' login="" outs="" e epochs
  while IFS= read -r line; do   # at most 50 lines (-n 50)
    [[ $line =~ \ (pts/|tty|ssh) ]] || continue
    [[ $line =~ \ (tmux\(|mosh\ \[|etterminal\ \[) ]] && continue
    [ -n "$login" ] || { [[ $line =~ ($iso) ]] && login=${BASH_REMATCH[1]}; }
    [[ $line =~ \ -\ ($iso) ]] && outs+=${BASH_REMATCH[1]}$'\n'
  done < <(last ${AUTOSTOP_PROBE_WTMP:+-f "$AUTOSTOP_PROBE_WTMP"} -w --time-format iso -n 50 2>/dev/null)
  [ -n "$login$outs" ] || return 0
  # One date for all of them: the login's epoch first (a stand-in line when there is none), then the logouts'. No
  # empty line may reach date: it reads one as today's midnight.
  epochs=$(date -f - +%s 2>/dev/null <<<"${login:-1970-01-01T00:00:00Z}${outs:+$'\n'}${outs%$'\n'}")
  e=${epochs%%$'\n'*}
  [ -z "$LOGIN_EPOCH" ] && [ -n "$login" ] && [[ $e =~ ^-?[0-9]+$ ]] && LOGIN_EPOCH=$e
  [ -z "$LOGOUT_EPOCH" ] && [ -n "$outs" ] || return 0
  while read -r e; do   # at most 50 lines
    [[ $e =~ ^-?[0-9]+$ ]] || continue
    if [ -z "$LOGOUT_EPOCH" ] || [ "$e" -gt "$LOGOUT_EPOCH" ]; then LOGOUT_EPOCH=$e; fi
  done <<<"${epochs#*$'\n'}"
}
# Sources, first that exists: auth.log/secure; else the journal (Debian 12+, AL2023, SUSE without rsyslog), and wtmp
# when the journal has no login or no logout (no journald, or a flood pushed it past 500 entries). A test seam picks
# its sources.
if [ -n "${AUTOSTOP_PROBE_AUTH_LOG:-}${AUTOSTOP_PROBE_JOURNAL:-}${AUTOSTOP_PROBE_WTMP:-}" ]; then
  if [ -n "${AUTOSTOP_PROBE_AUTH_LOG:-}" ]; then
    if [ -r "$AUTOSTOP_PROBE_AUTH_LOG" ]; then from_text_log "$AUTOSTOP_PROBE_AUTH_LOG"; else add_error "cannot read $AUTOSTOP_PROBE_AUTH_LOG"; fi
  fi
  if { [ -z "$LOGIN_EPOCH" ] || [ -z "$LOGOUT_EPOCH" ]; } && [ -n "${AUTOSTOP_PROBE_JOURNAL:-}" ]; then
    if [ -r "$AUTOSTOP_PROBE_JOURNAL" ]; then from_journal; else add_error "cannot read $AUTOSTOP_PROBE_JOURNAL"; fi
  fi
  if { [ -z "$LOGIN_EPOCH" ] || [ -z "$LOGOUT_EPOCH" ]; } && [ -n "${AUTOSTOP_PROBE_WTMP:-}" ]; then
    if [ -r "$AUTOSTOP_PROBE_WTMP" ]; then from_wtmp; else add_error "cannot read $AUTOSTOP_PROBE_WTMP"; fi
  fi
elif [ -r /var/log/auth.log ] || [ -r /var/log/secure ]; then
  for f in /var/log/auth.log /var/log/secure; do [ -r "$f" ] && from_text_log "$f"; done
else
  # journalctl reads only these directories: without them (a container, no journald) it has nothing to find.
  if [ -d /run/log/journal ] || [ -d /var/log/journal ]; then command -v journalctl >/dev/null 2>&1 && from_journal; fi
  if [ -z "$LOGIN_EPOCH" ] || [ -z "$LOGOUT_EPOCH" ]; then
    command -v last >/dev/null 2>&1 && [ -r /var/log/wtmp ] && from_wtmp
  fi
fi
LOGIN_AGE=null; LOGOUT_AGE=null
if [[ ${LOGIN_EPOCH:-} =~ ^-?[0-9]{1,12}$ ]]; then LOGIN_AGE=$(( NOW - LOGIN_EPOCH )); [ "$LOGIN_AGE" -lt 0 ] && LOGIN_AGE=0; fi
if [[ ${LOGOUT_EPOCH:-} =~ ^-?[0-9]{1,12}$ ]]; then LOGOUT_AGE=$(( NOW - LOGOUT_EPOCH )); [ "$LOGOUT_AGE" -lt 0 ] && LOGOUT_AGE=0; fi

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
# Numbers go into the line unquoted, so anything that is not a plain, bounded number is an error, never copied in.
if read -r up _ <"$PROC/uptime" 2>/dev/null && [[ $up =~ ^[0-9]{1,12}(\.[0-9]*)?$ ]]; then UPTIME=${up%%.*}; else add_error "cannot read $PROC/uptime"; fi
if read -r l1 _ <"$PROC/loadavg" 2>/dev/null && [[ $l1 =~ ^[0-9]{1,9}(\.[0-9]{1,6})?$ ]]; then LOAD=$l1; else add_error "cannot read $PROC/loadavg"; fi

# --- the line: at most LINE_MAX characters ------------------------------------------------------------------------
# Everything but errors is bounded by construction (see the header); errors take what is left, in order: an error
# that does not fit whole is cut (never inside an escape) when at least 24 characters are left, and the rest dropped.
LINE_MAX=2000
[ "${USERS:--}" = "-" ] && USERS=""
[ "${KINDS:--}" = "-" ] && KINDS=""
[ "${BUSY:--}" = "-" ] && BUSY=""
printf -v LINE '{"v":1,"agent":"%s","sshSessions":%d,"sshNoTtySessions":%d,"ssmSessions":%d,"remoteShellSessions":%d,"remoteShellKinds":[%s],"users":[%s],"lastLoginAgeSeconds":%s,"lastLogoutAgeSeconds":%s,"minTtyIdleSeconds":%s,"keepAliveSeconds":%s,"uptimeSeconds":%d,"load1":%s,"cpuCount":%d,"multiplexerSessions":%d,"preauthConnections":%d,"systemBusy":[%s],"inboundConnections":%s,"inboundConnectionsOther":%s,"gpuUtilizationPercent":%s,"gpuStatus":"%s","busyProcesses":[%s],"errors":[' \
  "$VERSION" "${SSH:-0}" "${NOTTY:-0}" "${SSM:-0}" "${REMOTE:-0}" "$KINDS" "$USERS" "$LOGIN_AGE" "$LOGOUT_AGE" "$MIN_IDLE" "$KEEP" "$UPTIME" "$LOAD" "$CPUS" "${MUX:-0}" "${PREAUTH:-0}" "$BUSY" \
  "$INBOUND" "$INBOUND_OTHER" "$GPU" "$GPU_STATUS" "$BUSY_PROCS"
sep=""
while IFS= read -r e; do   # at most 8 errors
  [ -n "$e" ] || continue
  room=$(( LINE_MAX - ${#LINE} - ${#sep} - 4 ))   # the quotes and the closing ]}
  json_escape "$e" 160
  if [ "${#JSON}" -gt "$room" ]; then
    [ "$room" -ge 24 ] || break
    keep=$room
    for _ in 1 2 3 4 5 6 7 8; do   # escaping at most doubles a length, so this converges; room/2 always fits
      json_escape "$e" "$keep"; [ "${#JSON}" -le "$room" ] && break
      keep=$(( keep - (${#JSON} - room) ))
    done
    [ "${#JSON}" -le "$room" ] || json_escape "$e" $(( room / 2 ))
  fi
  LINE+="$sep\"$JSON\""; sep=","
done <<<"$ERRORS"
printf '%s]}\n' "$LINE"
[ -z "$SESSIONS_UNKNOWN" ] || exit 3
