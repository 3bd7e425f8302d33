#!/usr/bin/env bash
# Regenerates bench/RESULTS.md and bench/decision-quality.png: the targets of issues 11 and 14 beside their measured
# figures; decision quality (AutoStop through the lab vs the old cron + [priv] grep method, a CPU alarm and the oracle,
# on a week with mosh users, Session Manager sessions between ticks and a weekly patch window; quick restarts for every
# method; Jupyter-only users with and without AutoStop:ActivePorts); tick cost for
# N = 10..5,000 against the floor from the probe latencies the lab drew; observation age at a stop (500 instances and a
# hung probe; streaming vs re-probing); a 20,000-instance tick; AOT vs JIT cold start; cost. Also bench/coldstart/RESULTS.md
# (what the function does before its first Runtime API request).
# Also bench/probe/RESULTS.md when bench/probe/run.sh exists. Takes about 25 minutes on 2 shared cores.
# Every lab run is bounded by its scenario's function timeout and bench.py's subprocess timeout; traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! $PY -c 'import matplotlib' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-matplotlib >/dev/null
fi
dotnet build lab -c Release -nologo -v q
dotnet build functions/AutoStop -c Release -nologo -v q
dotnet publish functions/AutoStop -c Release -r linux-x64 -o functions/AutoStop/bin/lab-aot -nologo -v q
export BENCH_WORK=${BENCH_WORK:-$(mktemp -d /tmp/autostop-bench.XXXXXX)}
mkdir -p "$BENCH_WORK"
bash bench/old-method/establish.sh | tee "$BENCH_WORK/establish.txt"
# The cold start alone first: bench.py's targets table reads its figures.
COLDSTART_JSON="$BENCH_WORK/coldstart.json" bash bench/coldstart/run.sh
(cd bench && $PY bench.py)
if [ -x bench/probe/run.sh ] || [ -f bench/probe/run.sh ]; then bash bench/probe/run.sh; fi
bash bench/wake/run.sh
echo "bench: wrote bench/RESULTS.md and bench/decision-quality.png (work files in $BENCH_WORK)"
