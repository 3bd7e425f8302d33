"""Measures what autostop ssh-proxy adds on top of an instance's own start (called by bench/wake/run.sh)."""
import json, os, platform, re, shutil, socket, statistics, subprocess, sys, tempfile, time
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, "lab", "bin", "Release", "net10.0", "lab")
AUTOSTOP = os.path.join(ROOT, "cli", "AutoStop.Cli", "bin", "Release", "net10.0", "autostop")
RESULTS = os.path.join(ROOT, "bench", "wake", "RESULTS.md")
CASES = [(3, 1), (10, 2)]  # (startSeconds, agentOnlineSeconds)
RUNS = int(os.environ.get("RUNS", "5"))


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def main():
    work = tempfile.mkdtemp(prefix="autostop-wake-bench.")
    procs = []
    try:
        port = free_port()
        for f in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{work}/{f}"], check=True)
        shutil.copy(f"{work}/client_key.pub", f"{work}/authorized_keys")
        os.makedirs("/run/sshd", exist_ok=True)
        with open(f"{work}/sshd_config", "w") as f:
            f.write(f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {work}/host_key\nPidFile {work}/sshd.pid\n"
                    f"AuthorizedKeysFile {work}/authorized_keys\nStrictModes no\nPermitRootLogin prohibit-password\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nUseDNS no\n")
        procs.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", f"{work}/sshd_config"], stderr=subprocess.DEVNULL))
        for _ in range(100):
            try: socket.create_connection(("127.0.0.1", port), 1).close(); break
            except OSError: time.sleep(0.1)

        now = datetime.now(timezone.utc)
        stopped = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        instances = []
        for start, agent in CASES:
            for run in range(RUNS):
                instances.append({"name": f"wake-{start}s-{run}", "state": "stopped", "address": "127.0.0.1", "startSeconds": start,
                                  "agentOnlineSeconds": agent, "tags": {"AutoStop": "true", "AutoStop:StoppedAt": stopped}})
        scenario = {"name": "wake-bench", "start": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "duration": "6h", "instances": instances}
        with open(f"{work}/scenario.json", "w") as f: json.dump(scenario, f)
        lab = subprocess.Popen([LAB, "serve", "--scenario", f"{work}/scenario.json", "--port", "0"], stdout=subprocess.PIPE, text=True)
        procs.append(lab)
        url = re.search(r"on (http://127\.0\.0\.1:\d+)", lab.stdout.readline()).group(1)

        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab", "AWS_REGION": "us-east-1", "TZ": "UTC"})
        user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()

        def proxy(name):
            """Seconds from starting `autostop ssh-proxy NAME PORT` to the first bytes of sshd's banner on its stdout: the
            proxy's whole path (process start, describe, start and waits, connect), without a remote shell's own start."""
            t = time.monotonic()
            p = subprocess.Popen([AUTOSTOP, "ssh-proxy", name, str(port)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            banner = p.stdout.read(8)
            elapsed = time.monotonic() - t
            p.stdin.close()
            p.stdout.read()  # sshd closes after a client that sent nothing; the proxy then ends
            err = p.stderr.read()
            p.wait(timeout=60)
            if banner != b"SSH-2.0-": raise SystemExit(f"ssh-proxy {name}: no SSH banner ({banner!r}): {err.decode()}")
            return elapsed, err.decode().strip().splitlines()[0] if err.strip() else ""

        rows = []
        for start, agent in CASES:
            added, wakes, direct = [], [], []
            for run in range(RUNS):
                name = f"wake-{start}s-{run}"
                wake, progress = proxy(name)
                again, _ = proxy(name)
                wakes.append(wake); direct.append(again); added.append(wake - again - (start + agent))
            rows.append((start, agent, statistics.median(wakes), statistics.median(direct), statistics.median(added), max(added), progress))
            print(f"start {start}s + agent {agent}s: banner via wake {statistics.median(wakes):.2f}s, running {statistics.median(direct):.2f}s, "
                  f"added median {statistics.median(added):.2f}s max {max(added):.2f}s", flush=True)
    finally:
        for p in procs: p.terminate()
        for p in procs:
            try: p.wait(10)
            except subprocess.TimeoutExpired: p.kill()
        shutil.rmtree(work, ignore_errors=True)

    worst = max(r[5] for r in rows)
    with open(RESULTS, "w") as f:
        f.write("# Wake on connect: what `autostop ssh-proxy` adds to an instance's own start\n\n")
        f.write("Regenerate: `bash bench/wake/run.sh` (also run by `bash bench/run.sh`). Never edited by hand.\n\n")
        f.write(f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}); "
                f"{RUNS} runs per row, each on its own stopped instance.\n\n")
        f.write("`lab serve` stands in for EC2 and SSM: each instance was stopped by AutoStop two hours earlier, is pending for "
                "*start* seconds after StartInstances, then its SSM agent turns Online *agent* seconds later; a real sshd on 127.0.0.1 is "
                "the instance. `autostop ssh-proxy NAME PORT` runs as ssh would run it, against the stopped instance, then again against it "
                "running, each timed from its start to the first bytes of sshd's banner on its stdout (the end-to-end test with the "
                "real OpenSSH client is tests/Cli.Tests/SshProxyEndToEndTests.cs; a remote shell's own start is left out here).\n\n")
        f.write("added = (banner, waking it) - (banner, running) - (start + agent): the proxy's own cost of waking it "
                "(its polls every 0.5 s for state, agent and port, and the StartInstances call), on top of what the instance itself takes.\n\n")
        f.write("| start + agent (s) | banner, waking it (median s) | banner, running (median s) | added (median s) | added (worst s) |\n|---|---|---|---|---|\n")
        for start, agent, wake, direct, added, worst_row, _ in rows:
            f.write(f"| {start} + {agent} | {wake:.2f} | {direct:.2f} | {added:.2f} | {worst_row:.2f} |\n")
        f.write(f"\nTarget under 1 s: {'met' if worst < 1 else 'NOT met'} (worst {worst:.2f} s).\n\n")
        f.write(f"What a person sees on stderr (last run):\n\n    {rows[-1][6]}\n")
    print(f"bench: wrote {RESULTS}")


if __name__ == "__main__":
    main()
