#!/usr/bin/env bash
# The `autostop` command installs as a .NET tool from the package the repo builds (README): dotnet pack, then
# dotnet tool install from that folder into a throwaway tool path, and the installed command answers --help and
# lists the lab's instances (`lab serve`, real time) with the function's tag reading.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/autostop-tool.XXXXXX)
lab_pid=
cleanup() { [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -f cli/AutoStop.Cli/bin/Release/net10.0/autostop.dll ] || dotnet build cli/AutoStop.Cli -c Release -nologo -v q >/dev/null
[ -f lab/bin/Release/net10.0/lab.dll ] || dotnet build lab -c Release -nologo -v q >/dev/null
dotnet pack cli/AutoStop.Cli -c Release --no-build -nologo -v q -o "$work/packages" >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; echo "FAIL: dotnet pack"; exit 1; }
pkg=$(ls "$work/packages"/AutoStop.Cli.*.nupkg)
dotnet tool install AutoStop.Cli --tool-path "$work/tools" --add-source "$work/packages" >"$work/install.log" 2>&1 || { cat "$work/install.log"; echo "FAIL: dotnet tool install"; exit 1; }
"$work/tools/autostop" --help | grep -q "ssh-proxy" || { echo "FAIL: the installed autostop --help does not list ssh-proxy"; exit 1; }

cat >"$work/scenario.yaml" <<YAML
start: $(date -u +%Y-%m-%dT%H:%M:%SZ)
duration: 1h
instances:
  - { id: i-0a00000000000000a, name: alice-dev, state: stopped, tags: { AutoStop: "true", "AutoStop:StoppedAt": "$(date -u -d '-30 min' +%Y-%m-%dT%H:%M:%SZ)" } }
  - { id: i-0b00000000000000b, name: bob-dev, tags: { AutoStop: "false" } }
YAML
lab/bin/Release/net10.0/lab serve --scenario "$work/scenario.yaml" --port 0 >"$work/lab.out" 2>&1 &
lab_pid=$!
url=
for _ in $(seq 100); do url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/lab.out" | head -1 || true); [ -n "$url" ] && break; sleep 0.1; done
[ -n "$url" ] || { cat "$work/lab.out"; echo "FAIL: lab serve did not start"; exit 1; }
out=$(env -u AWS_PROFILE AWS_ENDPOINT_URL="$url" AWS_ACCESS_KEY_ID=lab AWS_SECRET_ACCESS_KEY=lab AWS_REGION=us-east-1 TZ=UTC "$work/tools/autostop" ls --json)
python3 - "$out" <<'PY'
import json, sys
rows = json.loads(sys.argv[1])
assert [r["name"] for r in rows] == ["alice-dev"], rows
assert rows[0]["status"].startswith("stopped by AutoStop at"), rows[0]
PY
echo "PASS autostop installed as a .NET tool from $(basename "$pkg"): --help and ls against lab serve"
