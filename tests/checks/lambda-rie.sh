#!/usr/bin/env bash
# The Native AOT bootstrap under AWS's own Lambda Runtime Interface Emulator (tests/tools/aws-lambda-rie: AWS's
# aws-lambda-runtime-interface-emulator, built unchanged, Apache-2.0; its README says how), against `lab serve` for
# EC2 and SSM: our Runtime API client (a small HTTP/1.1 client of its own, functions/AutoStop/Hosting/Lambda) must
# speak AWS's server, not only our fakes. Three invocations in one process: a tick that stops the idle instance and
# answers with the tick summary; an invalid event, answered with our error JSON and type; another tick, so the loop
# survived the error.
set -euo pipefail
cd "$(dirname "$0")/../.."
rie=$PWD/tests/tools/aws-lambda-rie/aws-lambda-rie
work=$(mktemp -d /tmp/autostop-rie.XXXXXX)
lab_pid='' rie_pid=''
cleanup() { [ -n "$rie_pid" ] && kill "$rie_pid" 2>/dev/null; [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; pkill -f "$work/fn/bootstrap" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

dotnet publish functions/AutoStop -c Release -r linux-x64 -o "$work/fn" -nologo -v q >"$work/publish.log" 2>&1 || { tail -30 "$work/publish.log"; echo "FAIL: AOT publish"; exit 1; }
[ -f lab/bin/Release/net10.0/lab.dll ] || dotnet build lab -c Release -nologo -v q >/dev/null

start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat >"$work/scenario.yaml" <<YAML
start: $start
duration: 2h
instances:
  - { id: i-0a00000000000000a, name: idle, launchTime: "$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)", tags: { AutoStop: "true", "AutoStop:IdleSince": "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" } }
  - { id: i-0b00000000000000b, name: busy, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: ana, from: "+0m", to: "+2h" } ] }
YAML
lab/bin/Release/net10.0/lab serve --scenario "$work/scenario.yaml" --port 0 >"$work/lab.out" 2>&1 &
lab_pid=$!
url=
for _ in $(seq 100); do url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$work/lab.out" | head -1 || true); [ -n "$url" ] && break; sleep 0.1; done
[ -n "$url" ] || { cat "$work/lab.out"; echo "FAIL: lab serve did not start"; exit 1; }

invoke_port=$(free_port); api_port=$(free_port)
env -u AWS_PROFILE AWS_LAMBDA_FUNCTION_TIMEOUT=60 AWS_ENDPOINT_URL="$url" AWS_ACCESS_KEY_ID=lab AWS_SECRET_ACCESS_KEY=lab AWS_REGION=us-east-1 \
  AUTOSTOP_PROBE_POLL_MILLISECONDS=100 \
  "$rie" --runtime-interface-emulator-address "127.0.0.1:$invoke_port" --runtime-api-address "127.0.0.1:$api_port" "$work/fn/bootstrap" \
  >"$work/rie.out" 2>&1 &
rie_pid=$!

python3 - "$invoke_port" "$start" "$work/rie.out" <<'PY'
import json, sys, time, urllib.request
port, start, log = sys.argv[1], sys.argv[2], sys.argv[3]
url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"

def invoke(payload):
    for _ in range(100):  # the emulator takes a moment to listen
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=payload.encode(), method="POST"), timeout=90) as r:
                return r.status, r.read().decode()
        except urllib.error.URLError as e:
            if isinstance(e, urllib.error.HTTPError):
                return e.code, e.read().decode()
            time.sleep(0.1)
    sys.exit("FAIL: the emulator did not answer")

def tick(now):
    status, body = invoke(json.dumps({"time": now}))
    assert status == 200, (status, body)
    summary = json.loads(body)
    assert summary["completed"] is True and summary["instances"] == 2, summary
    return summary

first = tick(start)
assert first["stopped"] == 1 and first["active"] == 1, first
status, body = invoke('{"time":"yesterday"}')
error = json.loads(body)
assert status == 200 and error.get("errorType") == "AutoStop.InvalidEvent" and "yesterday" in error.get("errorMessage", ""), (status, body)
second = tick(start)
assert second["active"] == 1 and second["stopped"] == 0, second   # the idle one is stopping or stopped now
lines = [json.loads(l) for l in open(log) if l.startswith("{")]
decisions = [l for l in lines if l.get("event") == "decision"]
assert any(d["instanceId"] == "i-0a00000000000000a" and d["action"] == "stop" for d in decisions), decisions
print(f"PASS bootstrap (Native AOT) under AWS's Lambda RIE: 3 invocations in one process (a tick stopping 1 of 2, "
      f"an invalid event answered as AutoStop.InvalidEvent, another tick); {len(decisions)} decision lines on stdout")
PY
