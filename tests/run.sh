#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh Debian machine, starts the servers
# they stand on (moto_server on a free loopback port), runs every xunit project and every check script
# under tests/checks/, and ends with one line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
WORK=$(mktemp -d /tmp/autostop-tests.XXXXXX)
export AUTOSTOP_TEST_WORK=$WORK
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# --- 1. Debian packages (openssh-server for the real-sshd test, shellcheck for the agent) ---------------
need=()
command -v /usr/sbin/sshd >/dev/null 2>&1 || need+=(openssh-server)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v sshpass >/dev/null 2>&1 || need+=(sshpass)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v gawk >/dev/null 2>&1 || need+=(gawk)   # the probe must give the same output under gawk (AL2, RHEL) and mawk
command -v mosh-server >/dev/null 2>&1 || need+=(mosh)   # tests/checks/agent-real-remote-shell.sh runs a real mosh-server and client
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$WORK/apt.log" 2>&1 && apt-get install -y -qq "${need[@]}" >>"$WORK/apt.log" 2>&1 \
    || { echo "apt-get install ${need[*]} failed:"; tail -20 "$WORK/apt.log"; exit 1; }
  # Installing gawk makes it the default awk; keep Debian's default (mawk) so the probe's tests see what instances see.
  case " ${need[*]} " in *" gawk "*) [ -x /usr/bin/mawk ] && update-alternatives --quiet --set awk /usr/bin/mawk ;; esac
fi

# --- 2. moto_server on a free loopback port (EC2 adapter tests) ------------------------------------------
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
MOTO_PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$MOTO_PORT/moto-api/" && break
  sleep 0.1
done
export AUTOSTOP_TEST_MOTO_URL="http://127.0.0.1:$MOTO_PORT"
echo "== moto_server on $AUTOSTOP_TEST_MOTO_URL"

passed=0; failed=0

# --- 3. xunit projects ------------------------------------------------------------------------------------
echo "== dotnet build"
if ! dotnet build serverless.sln -c Release -nologo -v q >"$WORK/build.log" 2>&1; then
  grep -E "error|warn" "$WORK/build.log" | sort -u | head -40
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
for project in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  echo "== dotnet test $name"
  rm -rf "$WORK/$name.trx"
  dotnet test "$project" -c Release --no-build --logger "console;verbosity=normal" \
    --logger "trx;LogFileName=$WORK/$name.trx" >"$WORK/$name.log" 2>&1
  grep -E "^\s*Failed " "$WORK/$name.log" | head -50
  # Counts come from the TRX report (stable across SDK versions), not from console wording.
  read -r p f < <(python3 - "$WORK/$name.trx" <<'PY' 2>/dev/null
import sys, xml.etree.ElementTree as ET
c = ET.parse(sys.argv[1]).getroot().find('.//{*}Counters')
print(int(c.get('passed')), int(c.get('failed')) + int(c.get('error', 0)) + int(c.get('timeout', 0)) + int(c.get('aborted', 0)))
PY
)
  if [ -z "${p:-}" ]; then echo "   (no TRX report: the test host failed)"; tail -30 "$WORK/$name.log"; f=1; p=0; fi
  echo "   passed $p, failed $f"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done

# --- 4. check scripts (each exits 0 on pass) --------------------------------------------------------------
for check in tests/checks/*.sh; do
  [ -e "$check" ] || continue
  echo "== check $(basename "$check")"
  if bash "$check" >"$WORK/$(basename "$check").log" 2>&1; then
    passed=$((passed + 1)); tail -3 "$WORK/$(basename "$check").log" | sed 's/^/   /'
  else
    failed=$((failed + 1)); echo "   FAILED:"; tail -40 "$WORK/$(basename "$check").log" | sed 's/^/   /'
  fi
done

echo "logs: $WORK"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
