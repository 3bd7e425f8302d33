#!/usr/bin/env bash
# The project's main job on a fresh machine: `dotnet run --project lab -- demo` must finish by itself within two
# minutes once built, run the real function tick after tick, and interrupt no session.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build lab -c Release -nologo -v q >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
timeout 120 dotnet run --project lab -c Release --no-build -- demo --out "$out" >"$out/demo.txt" 2>&1 || { cat "$out/demo.txt"; echo "demo failed or took over 2 minutes"; exit 1; }
grep -q "sessions interrupted:   0" "$out/demo.txt" || { cat "$out/demo.txt"; echo "the demo interrupted a session"; exit 1; }
grep -q "stop       idle-threshold-reached" "$out/demo.txt" || { cat "$out/demo.txt"; echo "the demo stopped nothing"; exit 1; }
python3 - "$out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert not s["function"]["crashed"], s["function"]
assert s["ticks"]["count"] == 48, s["ticks"]
PY
echo "lab demo: $(grep -c '^[0-9][0-9]:[0-9][0-9] ' "$out/demo.txt") timeline rows, $(grep 'ticks run' "$out/demo.txt" | sed 's/^ *//')"
