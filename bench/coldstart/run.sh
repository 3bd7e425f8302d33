#!/usr/bin/env bash
# What the function does before its first Runtime API request, Native AOT beside JIT: a listener on 127.0.0.1 stands in
# for the Runtime API; each build is started RUNS times (default 30), alternating, and timed from exec to the arrival of
# GET /next, with its CPU time and threads at that moment; then one run of each under strace -f counts the syscalls,
# files and threads before the first connect(). Writes bench/coldstart/RESULTS.md. Needs strace (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v strace >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; }
dotnet build functions/AutoStop -c Release -nologo -v q >/dev/null
dotnet publish functions/AutoStop -c Release -r linux-x64 -o functions/AutoStop/bin/lab-aot -nologo -v q >/dev/null
python3 bench/coldstart/coldstart.py --runs "${RUNS:-30}" \
  --aot functions/AutoStop/bin/lab-aot/bootstrap --jit functions/AutoStop/bin/Release/net10.0/bootstrap \
  --results bench/coldstart/RESULTS.md --json "${COLDSTART_JSON:-${TMPDIR:-/tmp}/autostop-coldstart.json}"
