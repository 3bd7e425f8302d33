"""What the function does before its first Runtime API request, AOT beside JIT (called by bench/coldstart/run.sh).

A tiny HTTP listener on 127.0.0.1 stands in for the Runtime API. Each run starts the bootstrap the way the lab does
(lab/Running/FunctionProcess.cs: the lab's environment, AWS_LAMBDA_RUNTIME_API pointing at the listener) and times
exec to the arrival of `GET /2018-06-01/runtime/invocation/next` (the lab's coldStartMs). At that moment it also reads
the process's CPU time (/proc/PID/task/*/schedstat, all threads) and its thread count: figures the other jobs on a
shared machine disturb much less than wall time. Builds alternate run by run; medians are reported.
Then one run of each build under `strace -f` counts what happened before the first connect(): syscalls, files opened,
threads created, and the timeline of the steps that can be recognised from their syscalls.
"""
import argparse
import glob
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NEXT = b"GET /2018-06-01/runtime/invocation/next "


def environment(port):
    """The lab's function environment (LabRun.FunctionEnvironment), nothing from the caller's AWS set-up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTOSTOP_"))}
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "lab",
        "AWS_SECRET_ACCESS_KEY": "lab", "AWS_LAMBDA_FUNCTION_NAME": "AutoStop-lab", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EC2_METADATA_DISABLED": "true", "AUTOSTOP_SCHEDULE_MINUTES": "5", "AUTOSTOP_PROBE_POLL_MILLISECONDS": "20",
        "AUTOSTOP_EVENT_MAX_SKEW_MINUTES": "off",
    })
    return env


def cpu_ns_and_threads(pid):
    """On-CPU nanoseconds of every thread so far (schedstat's first field) and how many threads there are."""
    total, threads = 0, 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[0])
            threads += 1
        except (OSError, ValueError, IndexError):
            pass
    return total, threads


def new_listener():
    """A fresh listener for each run: a connection a killed run left in the backlog can never be taken for the next one's."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(60)
    return listener, listener.getsockname()[1]


def one_run(binary):
    """Exec to the first GET /next, in ms; the CPU ms and threads at that moment."""
    listener, port = new_listener()
    env = environment(port)
    started = time.monotonic_ns()
    proc = subprocess.Popen([binary], env=env, cwd=tempfile.gettempdir(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    conn = None
    try:
        conn, _ = listener.accept()
        data = b""
        while b"\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        arrived = time.monotonic_ns()
        cpu, threads = cpu_ns_and_threads(proc.pid)
        if not data.startswith(NEXT):
            raise SystemExit(f"{binary}: first request was {data[:80]!r}, not GET /next")
        return (arrived - started) / 1e6, cpu / 1e6, threads
    finally:
        proc.kill()  # before the connection closes: an HTTP client would retry on a new one
        proc.communicate()
        if conn:
            conn.close()
        listener.close()


STEPS = [  # (label, what marks it in the strace of the main thread or any thread)
    ("runtime initialised (finalizer thread named)", re.compile(r'prctl\(PR_SET_NAME, "\.NET Finalizer"')),
    ("Console.Out opened (dup of fd 1)", re.compile(r"fcntl\(1, F_DUPFD_CLOEXEC")),
    ("signal handling installed (.NET SigHandler thread)", re.compile(r'prctl\(PR_SET_NAME, "\.NET SigHandler"')),
    ("Console.Error opened (dup of fd 2)", re.compile(r"fcntl\(2, F_DUPFD_CLOEXEC")),
    ("first thread-pool worker", re.compile(r'prctl\(PR_SET_NAME, "\.NET TP Worker"')),
    ("timer thread", re.compile(r'prctl\(PR_SET_NAME, "\.NET Timer"')),
    ("socket engine (.NET Sockets thread)", re.compile(r'prctl\(PR_SET_NAME, "\.NET Sockets"')),
    ("TCP socket created", re.compile(r"socket\(AF_INET6?, SOCK_STREAM")),
]


def strace_run(binary, work, name):
    """One run under strace -f: what happened before the first connect() to the listener."""
    listener, port = new_listener()
    out = os.path.join(work, name + ".strace")
    proc = subprocess.Popen(["strace", "-f", "-ttt", "-qq", "-o", out, binary], env=environment(port),
                            cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        conn, _ = listener.accept()
        conn.recv(4096)
    finally:
        try:  # the traced bootstrap (its pid starts the first line), then strace itself
            os.kill(int(open(out).readline().split()[0]), 9)
        except (OSError, ValueError, IndexError):
            pass
        proc.kill()
        proc.communicate()
        conn.close()
        listener.close()
    lines = open(out).read().splitlines()
    start = float(lines[0].split()[1])
    counts = {"syscalls": 0, "files opened": 0, "threads created": 0, "mmap/mprotect/munmap/madvise": 0, "sched_yield": 0}
    opened, steps = [], {}
    connect_at = None
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        when, call = float(parts[1]), parts[2]
        if call.startswith("<..."):
            continue
        if call.startswith("connect(") and f"htons({port})" in call:
            connect_at = when
            break
        counts["syscalls"] += 1
        if call.startswith(("openat(", "open(")):
            counts["files opened"] += 1
            m = re.search(r'"([^"]+)"', call)
            opened.append(m.group(1) if m else call[:60])
        if call.startswith(("clone(", "clone3(")):
            counts["threads created"] += 1
        if call.startswith(("mmap(", "mprotect(", "munmap(", "madvise(")):
            counts["mmap/mprotect/munmap/madvise"] += 1
        if call.startswith("sched_yield("):
            counts["sched_yield"] += 1
        for label, pattern in STEPS:
            if label not in steps and pattern.search(call):
                steps[label] = round((when - start) * 1000, 1)
    return {"counts": counts, "steps": steps, "connectMs": round((connect_at - start) * 1000, 1) if connect_at else None,
            "opened": opened}


PROFILE = [  # (label, symbol whose inclusive share is reported); the AOT build's symbols come from bootstrap.dbg beside it
    ("runtime start-up before Main: module initialisation", "S_P_CoreLib_Internal_Runtime_CompilerHelpers_StartupCodeHelpers__InitializeModules"),
    ("- of which rehydrating the binary's dehydrated data", "S_P_CoreLib_Internal_Runtime_CompilerHelpers_StartupCodeHelpers__RehydrateData"),
    ("runtime and GC initialisation (RhInitialize)", "RhInitialize"),
    ("dynamic loader (ld.so)", "_dl_start_user"),
    ("Main, to the request sent", "bootstrap_AutoStop_Program___Main_"),
    ("- of which the configuration (AutoStopConfig.FromEnvironment)", "bootstrap_AutoStop_Configuration_AutoStopConfig__FromEnvironment"),
    ("- of which the Runtime API call (socket, connect, send)", "bootstrap_AutoStop_Hosting_Lambda_RuntimeApiClient__Send"),
    ("thread creation (clone3, kernel)", "clone3"),
    ("page faults (kernel)", "asm_exc_page_fault"),
]


def perf_profile(binary, runs, frequency=20000):
    """Where the AOT build's CPU goes before its first request: `perf record` (cpu-clock, call graphs) over several runs,
    each stopped once GET /next has arrived; inclusive shares of PROFILE's symbols, averaged. None without perf."""
    if subprocess.run(["sh", "-c", "command -v perf"], capture_output=True).returncode != 0:
        return None
    work = tempfile.mkdtemp(prefix="autostop-coldstart-perf.")
    shares = {symbol: [] for _, symbol in PROFILE}
    samples = []
    for k in range(runs):
        listener, port = new_listener()
        data = os.path.join(work, f"{k}.data")
        proc = subprocess.Popen(["perf", "record", "-q", "-F", str(frequency), "-e", "cpu-clock", "-g", "-o", data, binary],
                                env=environment(port), cwd=tempfile.gettempdir(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = None
        try:
            conn, _ = listener.accept()
            conn.recv(4096)
        finally:
            try:  # the profiled bootstrap is perf's only child; then perf writes its data and exits
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    for child in f.read().split():
                        os.kill(int(child), 9)
            except OSError:
                pass
            proc.wait(timeout=60)
            if conn:
                conn.close()
            listener.close()
        report = subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "sym", "-g", "none", "--stdio"],
                                capture_output=True, text=True).stdout
        total = re.search(r"^# Samples: (\d+)", report, re.MULTILINE)
        if total:
            samples.append(int(total.group(1)))
        found = {}
        for line in report.splitlines():
            m = re.match(r"\s*([0-9.]+)%\s+[0-9.]+%\s+\[.\]\s+(\S+)\s*$", line)
            if m and m.group(2) in shares:
                found.setdefault(m.group(2), float(m.group(1)))
        for symbol in shares:
            shares[symbol].append(found.get(symbol, 0.0))
    return {"runs": runs, "cpuMsMedian": statistics.median(samples) / frequency * 1000 if samples else None,
            "shares": [(label, statistics.mean(shares[symbol])) for label, symbol in PROFILE]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--aot", required=True)
    parser.add_argument("--jit", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--label", default="")
    parser.add_argument("--perf-runs", type=int, default=8, help="AOT runs under perf record (0: none)")
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--results", help="write the markdown report here")
    args = parser.parse_args()

    builds = {"aot": os.path.abspath(args.aot), "jit": os.path.abspath(args.jit)}
    for binary in builds.values():  # warm the page cache: every run then starts from the same state
        one_run(binary)
    load_before = os.getloadavg()
    runs = {b: [] for b in builds}
    for _ in range(args.runs):
        for build, binary in builds.items():
            runs[build].append(one_run(binary))
    load_after = os.getloadavg()
    work = tempfile.mkdtemp(prefix="autostop-coldstart.")
    traced = {build: strace_run(binary, work, build) for build, binary in builds.items()}
    profile = perf_profile(builds["aot"], args.perf_runs) if args.perf_runs else None

    result = {"label": args.label, "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
              "loadBefore": load_before, "loadAfter": load_after, "runs": args.runs, "builds": {}, "profile": profile}
    for build, rs in runs.items():
        result["builds"][build] = {
            "wallMs": statistics.median(r[0] for r in rs), "cpuMs": statistics.median(r[1] for r in rs),
            "threads": statistics.median(r[2] for r in rs), "wallMin": min(r[0] for r in rs), "wallMax": max(r[0] for r in rs),
            "wallRuns": [round(r[0], 1) for r in rs], "binaryBytes": os.path.getsize(builds[build]), "strace": traced[build],
        }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    text = report(result)
    if args.results:
        with open(args.results, "w") as f:
            f.write(text)
    print(text)


def report(r):
    a, j = r["builds"]["aot"], r["builds"]["jit"]
    out = [
        "# Cold start: exec to the first Runtime API request",
        "",
        "Regenerate: `bash bench/coldstart/run.sh` (builds both, then `python3 bench/coldstart/coldstart.py`). Never edited by hand.",
        "",
        f"Measured {r['when']} on {platform.node()} ({r['cpus']} cores, load average {r['loadBefore'][0]:.2f} before, "
        f"{r['loadAfter'][0]:.2f} after); {r['runs']} runs of each build, alternating; medians.",
        "",
        "A listener on 127.0.0.1 stands in for the Runtime API; the bootstrap is started with the lab's environment. "
        "Wall: exec to the arrival of `GET /2018-06-01/runtime/invocation/next` (what the lab's coldStartMs measures). "
        "CPU: on-CPU time of all the process's threads at that moment (schedstat), less disturbed by other work on the machine.",
        "",
        "| build | wall (median ms) | wall (min-max ms) | CPU (median ms) | threads | binary (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, b in (("AOT", a), ("JIT", j)):
        out.append(f"| {name} | {b['wallMs']:.1f} | {b['wallMin']:.1f}-{b['wallMax']:.1f} | {b['cpuMs']:.1f} | {b['threads']:.0f} | "
                   f"{b['binaryBytes'] / 1e6:.1f} |")
    out += ["", f"JIT / AOT (medians): wall {j['wallMs'] / a['wallMs']:.1f}x, CPU {j['cpuMs'] / a['cpuMs']:.1f}x.", "",
            "## Before the first connect(), from one run each under `strace -f` (strace slows every syscall: counts are exact, times are not)",
            "", "| | AOT | JIT |", "|---|---:|---:|"]
    for key in a["strace"]["counts"]:
        out.append(f"| {key} | {a['strace']['counts'][key]} | {j['strace']['counts'][key]} |")
    out.append(f"| exec to connect() under strace (ms) | {a['strace']['connectMs']} | {j['strace']['connectMs']} |")
    out += ["", "AOT timeline under strace (ms after exec, first occurrence):", ""]
    for label, at in sorted(a["strace"]["steps"].items(), key=lambda kv: kv[1]):
        out.append(f"- {at} {label}")
    out += ["", "Files the AOT build opens before connect(): " + ", ".join(f"`{p}`" for p in a["strace"]["opened"]), ""]
    if r.get("profile"):
        p = r["profile"]
        out += [f"## Where the AOT build's CPU goes before its first request (`perf record -e cpu-clock -g`, {p['runs']} runs; "
                f"median {p['cpuMsMedian']:.1f} ms sampled a run; sampling slows it)", "",
                "| | share of the samples (inclusive, mean) |", "|---|---:|"]
        out += [f"| {label} | {share:.0f}% |" for label, share in p["shares"]]
        out.append("")
    out += [f"Every run, wall ms: AOT {', '.join(map(str, a['wallRuns']))}; JIT {', '.join(map(str, j['wallRuns']))}.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    main()
