"""Regenerates bench/RESULTS.md and bench/decision-quality.png (called by bench/run.sh; never edit the results by hand).

1. Decision quality: one seeded week of session traces for 62 instances; AutoStop through the lab and the real
   function, the old cron + [priv] grep + alarm method, a CPU alarm and the oracle, all scored the same way (quick
   restarts included). Then issue 13's Jupyter-only users: the same methods, AutoStop with and without
   AutoStop:ActivePorts=8888.
2. Tick cost in the lab with AWS-like latency and rate limits, for N = 10, 100, 1,000, 5,000 instances.
3. Cold start of the Native AOT bootstrap beside the JIT build, in one run each.
4. A monthly cost table per 1,000 instances from the measured numbers.
"""
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

import methods
import traces

ESTABLISHED = None  # establish.sh's measured output (methods.parse_establishment)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORK = os.environ.get("BENCH_WORK", "/tmp/autostop-bench")
LAB = os.path.join(ROOT, "lab", "bin", "Release", "net10.0", "lab")


def lab_run(scenario, name, function="jit", env=None, timeout=1800, allow_crash=False):
    """Runs the lab; env is added to the lab's environment (the lab passes AWS_RETRY_MODE on to the function).
    allow_crash: a run whose function crashed or missed its timeout returns its summary instead of failing."""
    os.makedirs(WORK, exist_ok=True)
    if isinstance(scenario, str):  # a scenario file shipped in lab/scenarios
        path = scenario
    else:
        path = os.path.join(WORK, f"{name}.json")
        with open(path, "w") as f:
            json.dump(scenario, f)
    out = os.path.join(WORK, name)
    started = time.time()
    run_env = {k: v for k, v in os.environ.items() if k != "AWS_RETRY_MODE"}  # the SDK default unless asked
    run_env.update(env or {})
    proc = subprocess.run([LAB, "run", "--scenario", path, "--out", out, "--function", function, "--no-build", "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=run_env)
    if proc.returncode != 0 and not (allow_crash and proc.returncode == 1 and os.path.exists(os.path.join(out, "summary.json"))):
        raise SystemExit(f"lab run {name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    summary["_benchWallSeconds"] = time.time() - started
    with open(os.path.join(out, "log.jsonl")) as f:
        summary["_ticks"] = [json.loads(l) for l in f if '"event":"tick"' in l]
    return summary


# ---------------------------------------------------------------- 1. decision quality
def decision_quality():
    establishment = os.path.join(WORK, "establish.txt")
    global ESTABLISHED
    if not os.path.exists(establishment):
        raise SystemExit(f"{establishment} is missing: the old method's model comes from bench/old-method/establish.sh; "
                         "run bash bench/run.sh (or establish.sh > $BENCH_WORK/establish.txt) first")
    ESTABLISHED = methods.load_establishment(establishment)
    instances = traces.generate(seed=42)
    scores = {}
    for name, method in [("never stop (baseline)", lambda *args: False), ("oracle", methods.oracle), ("old cron + [priv] grep", methods.old_method), ("CPU alarm (<5% for 15 min)", methods.cpu_alarm())]:
        scores[name] = total(methods.score(i, methods.simulate(i, method)) for i in instances)
    summary = lab_run(traces.to_scenario(instances), "week")
    by_name = {i["name"]: i for i in summary["instances"]}
    default_stops = {i["name"]: methods.timeline_to_stops(by_name[i["name"]]["timeline"]) for i in instances}
    scores[AUTOSTOP_ROW] = total(methods.score(i, default_stops[i["name"]]) for i in instances)
    # The same week with the lab's clock moving during each tick (clockScale 1), as it does in AWS.
    moving = lab_run(traces.to_scenario(instances, clock_scale=1), "week-clock-1")
    by_name = {i["name"]: i for i in moving["instances"]}
    scores[AUTOSTOP_MOVING_ROW] = total(methods.score(i, methods.timeline_to_stops(by_name[i["name"]]["timeline"])) for i in instances)
    summary["_moving"] = moving
    # The same week with AutoStop:IgnoreIdleTerminalsAfter on every instance, scored (with the default AutoStop and an
    # oracle) where a terminal idle past that limit is not a session: what the option saves.
    limit = IGNORE_IDLE_TERMINALS_AFTER
    ignoring = lab_run(traces.to_scenario(instances, extra_tags={"AutoStop:IgnoreIdleTerminalsAfter": str(limit)}), "week-ignore-terminals")
    by_name = {i["name"]: i for i in ignoring["instances"]}
    variant = {
        f"oracle (terminals idle {limit}+ min are not sessions)":
            total(methods.score(i, methods.simulate(i, methods.oracle_ignoring_idle_terminals(limit)), limit) for i in instances),
        "AutoStop, default (lab, real function)": total(methods.score(i, default_stops[i["name"]], limit) for i in instances),
        f"AutoStop, AutoStop:IgnoreIdleTerminalsAfter={limit} (lab, real function)":
            total(methods.score(i, methods.timeline_to_stops(by_name[i["name"]]["timeline"]), limit) for i in instances),
    }
    return instances, scores, summary, variant, ignoring


IGNORE_IDLE_TERMINALS_AFTER = 60  # minutes, for the second AutoStop row
AUTOSTOP_ROW = "AutoStop (lab, real function)"
AUTOSTOP_MOVING_ROW = "AutoStop (lab, real function, clock moving x1 in a tick)"


def decision_quality_text(instances):
    """What the week holds, counted from the traces themselves."""
    by = {}
    for i in instances:
        by[i["archetype"]] = by.get(i["archetype"], 0) + 1
    sessions = [x for i in instances for x in i["sessions"]]
    between = [x for i in instances if i["archetype"] != "ssm" for x in i["sessions"]
                if x["kind"] == "ssm" and x["from"] // traces.TICK_MINUTES == (x["to"] - 1) // traces.TICK_MINUTES and x["from"] % traces.TICK_MINUTES]
    mosh = [x for x in sessions if x["kind"] == "mosh"]
    patched = [i["name"] for i in instances if i["busy"]]
    window = next(b for i in instances for b in i["busy"])
    return (f"One seeded week (`bench/traces.py`, seed 42) of {len(sessions)} sessions on {len(instances)} instances: "
            f"{by['dev']} terminal users (3 as root; lunch breaks; 15% of afternoons leave a terminal open overnight; scp/rsync bursts), "
            f"{by['ide']} VS Code / Cloud9 style connections without a terminal, {by['ssm']} Session Manager-only users, {by['ci']} CI targets with "
            f"1-3 minute connections (40% as root), {by['batch']} batch machines whose jobs hold a keep-alive marker, {by['odd']} machines started "
            f"by hand at odd hours; added for issue 11 (from a second seeded generator, so the first 50 instances' traces are "
            f"unchanged): {by['mosh']} mosh users ({len(mosh)} mosh sessions, 20% left connected overnight with the terminal "
            f"idle), {len(between)} Session Manager sessions that begin and end between two 5-minute ticks (1-3 minutes, "
            f"4-12 minutes after a terminal, IDE or mosh user left), and a weekly patch window "
            f"({traces.iso(window['from'])} to {traces.iso(window['to'])}, Patch Manager, nobody logged in) on the {by['ops']} "
            f"operations hosts, whose operator leaves 2-14 minutes before it opens. A person arriving at a stopped instance "
            f"starts it (same rule for every method); a patch run never does.\n")


def total(results):
    """Sums the per-instance scores; early stops are kept one by one too (earlyStops), so a method's can be named."""
    out = {"wasteMinutes": 0, "interrupted": 0, "early": 0, "patchesCut": 0, "jobsCut": 0, "stops": 0, "quickRestarts": 0,
           "lostMinutes": 0, "earlyStops": [], "quickRestartList": []}
    for r in results:
        for k in ("wasteMinutes", "interrupted", "patchesCut", "jobsCut", "stops", "quickRestarts", "lostMinutes"):
            out[k] += r[k]
        if r["early"] is None:
            out["early"] = None
        elif out["early"] is not None:
            out["early"] += r["early"]
        out["earlyStops"] += r["earlyStops"]
        out["quickRestartList"] += r["quickRestartList"]
    return out


def quick_restart_check(row, run, name, instances, stops_by_name):
    """The quick restarts of an AutoStop row three ways: scored on its stop timeline with the rule every row uses
    (methods.quick_restarts), the lab's own count (summary.json quickRestarts, from its state timeline) and the
    function's (its decision lines' quickRestart, summed over its tick lines as quickRestartsLogged). Returns a sentence,
    naming the instances where the counts differ."""
    labs = {i["name"]: len(i["quickRestarts"]) for i in run["instances"]}
    logged = logged_quick_restarts(name)
    traced = {i["name"]: len(methods.quick_restarts(stops_by_name[i["name"]])) for i in instances}
    t, l, f = sum(traced.values()), run["fleet"]["quickRestarts"], run["fleet"]["quickRestartsLogged"]
    text = f"{row}: {t} on the traces, {l} in the lab's own count (`summary.json` `quickRestarts`), {f} in the function's own (its tick lines' `quickRestarts`)"
    if t == l == f:
        return text + ": the same."
    diffs = [f"`{n}` traces {traced[n]}, lab {labs.get(n, 0)}, function {logged.get(n, 0)}" for n in traced
             if not traced[n] == labs.get(n, 0) == logged.get(n, 0)]
    last_tick = run["_ticks"][-1]["time"] if run["_ticks"] and "time" in run["_ticks"][-1] else None
    return (text + f"; they differ on {', '.join(diffs)}. The function counts a restart on the first tick that sees the "
            "instance running again (a restart after the last tick is not counted by it); the traces and the lab read the "
            "same state timeline, the traces in whole minutes" + (f" (last tick {last_tick})" if last_tick else "") + ".")


def quick_restarts_by_kind(instances, scores, rows):
    """Where the quick restarts of some rows come from, by kind of instance (traces.generate's archetypes)."""
    kind = {i["name"]: i["archetype"] for i in instances}
    parts = []
    for row in rows:
        counts = {}
        for q in scores[row]["quickRestartList"]:
            counts[kind[q["instance"]]] = counts.get(kind[q["instance"]], 0) + 1
        parts.append(f"{row}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    return ("By kind of instance (CI targets connect every few minutes to an hour, so a stop between two of their "
            "connections is often followed by the next within 30 minutes): " + "; ".join(parts) + ".")


def logged_quick_restarts(name):
    """Per instance name, the decision lines of the lab run `name` that said quickRestart: true."""
    counts = {}
    with open(os.path.join(WORK, name, "log.jsonl")) as f:
        for line in f:
            if '"quickRestart":true' in line.replace(" ", ""):
                d = json.loads(line)
                if d.get("event") == "decision" and d.get("quickRestart") is True:
                    counts[d.get("name")] = counts.get(d.get("name"), 0) + 1
    return counts


# ---------------------------------------------------------------- 1b. a Jupyter-only user (issue 13)
JUPYTER_TAG = {"AutoStop:ActivePorts": str(traces.JUPYTER_PORT)}
JUPYTER_PLAIN_ROW = "AutoStop without `AutoStop:ActivePorts` (lab, real function)"
JUPYTER_TAGGED_ROW = f"AutoStop with `AutoStop:ActivePorts={traces.JUPYTER_PORT}` (lab, real function)"


def jupyter_scenario(users):
    """Every user's week twice in one lab run: on an instance without AutoStop:ActivePorts and on one with it set to
    Jupyter's port (instances are independent in the lab, so one run serves both rows)."""
    scenario = traces.to_scenario(users)
    tagged = traces.to_scenario(users, extra_tags=JUPYTER_TAG)
    for n, inst in enumerate(tagged["instances"]):
        inst.update(name=inst["name"] + "-activeports", id="i-" + format(0x0C000000000000000 + n, "017x"))
    scenario.update(name="jupyter-week", instances=scenario["instances"] + tagged["instances"])
    return scenario


def jupyter_only():
    """Issue 13's Jupyter-only users (traces.jupyter), every method scored as in the decision-quality table; AutoStop
    through the lab and the real function, with and without AutoStop:ActivePorts. Each row also keeps, for its stops with
    nobody connected, how many minutes after the last connection ended they came."""
    users = traces.jupyter()
    stops = {}
    for name, method in [("never stop (baseline)", lambda *args: False), ("oracle", methods.oracle), ("old cron + [priv] grep", methods.old_method),
                         ("CPU alarm (<5% for 15 min)", methods.cpu_alarm())]:
        stops[name] = {u["name"]: methods.simulate(u, method) for u in users}
    run = lab_run(jupyter_scenario(users), "jupyter-week")
    by_name = {i["name"]: i for i in run["instances"]}
    lab = {}
    for row, suffix in ((JUPYTER_PLAIN_ROW, ""), (JUPYTER_TAGGED_ROW, "-activeports")):
        stops[row] = {u["name"]: methods.timeline_to_stops(by_name[u["name"] + suffix]["timeline"]) for u in users}
        mine = [by_name[u["name"] + suffix] for u in users]
        logged = logged_quick_restarts("jupyter-week")
        lab[row] = {"interrupted": sum(len(i["sessionsInterrupted"]) for i in mine), "quickRestarts": sum(len(i["quickRestarts"]) for i in mine),
                    "quickRestartsLogged": sum(logged.get(u["name"] + suffix, 0) for u in users),
                    "decisions": {k: sum(i["decisions"].get(k, 0) for i in mine) for k in sorted({k for i in mine for k in i["decisions"]})}}
    rows = {}
    for name, by_user in stops.items():
        rows[name] = total(methods.score(u, by_user[u["name"]]) for u in users)
        rows[name]["after"] = sorted(m for u in users for m in methods.minutes_after_last_use(u, by_user[u["name"]]))
        rows[name]["quickAfter"] = sorted(e - b for u in users for b, e in methods.quick_restarts(by_user[u["name"]]))
        rows[name]["lab"] = lab.get(name)
    return {"users": users, "rows": rows, "run": run}


def jupyter_section(w, j):
    """The Jupyter-only scenario's text and table (issue 13)."""
    users, rows, run = j["users"], j["rows"], j["run"]
    sessions = [x for u in users for x in u["sessions"]]
    days = len(users) * traces.DAYS
    w("## Jupyter-only users (issue 13)\n")
    w(f"{len(users)} instances whose only users work in a browser on Jupyter (`bench/traces.py` `jupyter`, seed 13): "
      f"{len(sessions)} browser sessions Monday to Friday, each {sessions[0]['count']} established connections to port "
      f"{traces.JUPYTER_PORT} from the user's laptop (the page and the kernel's websocket), never an SSH or Session Manager "
      "session; a working day is the morning, lunch, the afternoon and, on some days, one or two 10-40 minute meetings "
      "with the laptop closed (its connections gone). Nothing runs while nobody is connected. The same rules as above: a "
      "person arriving at a stopped instance starts it; a session live at a stop is interrupted, and its person is back "
      "only with their next session. AutoStop ran once through the lab and the real function with each user's week on "
      f"two instances, one without `AutoStop:ActivePorts` and one with `AutoStop:ActivePorts={traces.JUPYTER_PORT}`: the "
      f"lab's `kind: port` sessions, which it reports as the probe's `inboundConnections` from a remote peer "
      f"({run['ticks']['count']} ticks in {run['wallSeconds']:.0f} s).\n")
    w("| method | sessions interrupted | connected hours lost | quick restarts | early stops | stops with nobody connected: minutes after the last connection (min-max) | idle instance-hours not saved | stops per instance-day |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        after = f"{r['after'][0]}-{r['after'][-1]}" if r["after"] else "-"
        w(f"| {name} | {r['interrupted']} | {r['lostMinutes'] / 60:.1f} | {r['quickRestarts']} | {r['early']} | {after} | "
          f"{r['wasteMinutes'] / 60:.1f} | {r['stops'] / days:.2f} |")
    old, plain, tagged = rows["old cron + [priv] grep"], rows[JUPYTER_PLAIN_ROW], rows[JUPYTER_TAGGED_ROW]
    w(f"\n*Connected hours lost*: minutes a user was in a browser session while the instance was not running (cut by a "
      "stop, back with the next session). The old method's grep looks for `sshd` processes, and a browser on Jupyter "
      f"starts none (Jupyter's server is a python process), so its alarm sees only zeros and stops the instance "
      f"{methods.THRESHOLD} minutes after each start, under the user ({old['interrupted']} of {len(sessions)} sessions cut). AutoStop without the tag sees no "
      "SSH, Session Manager or remote-shell session either, so it stops the instance once its boot grace and threshold "
      f"are past, also under the user ({plain['interrupted']} cut). With `AutoStop:ActivePorts={traces.JUPYTER_PORT}` "
      f"the connections are use (`keep/active-ports`): {tagged['interrupted']} sessions interrupted, {tagged['early']} "
      "early stops, every stop " + (f"{tagged['after'][0]} to {tagged['after'][-1]} minutes after the last connection "
      f"ended (the threshold, {methods.THRESHOLD}, plus up to one {traces.TICK_MINUTES}-minute tick)" if tagged["after"] else "none") +
      f"; its {tagged['quickRestarts']} quick restarts are the user back from lunch or a meeting "
      + (f"{tagged['quickAfter'][0]}-{tagged['quickAfter'][-1]} minutes after such a stop" if tagged["quickAfter"] else "-") +
      f" (the oracle, which stops exactly at the threshold, has {rows['oracle']['quickRestarts']}).\n")
    for row in (JUPYTER_PLAIN_ROW, JUPYTER_TAGGED_ROW):
        r, lab = rows[row], rows[row]["lab"]
        same = r["interrupted"] == lab["interrupted"] and r["quickRestarts"] == lab["quickRestarts"] == lab["quickRestartsLogged"]
        w(f"{row}: the lab's own count {lab['interrupted']} sessions interrupted, {lab['quickRestarts']} quick restarts "
          f"(the function's own count: {lab['quickRestartsLogged']})" + (", the same as scored on the traces" if same else
          f", against {r['interrupted']} and {r['quickRestarts']} scored on the traces") + "; decisions by reason: "
          + ", ".join(f"{k} {v}" for k, v in lab["decisions"].items()) + ".\n")
    w("The probe counts connections, not people: a browser tab left open on a machine that stays awake keeps its "
      "connections, and the instance with it (these traces have none). An SSH tunnel or Session Manager port forwarding "
      "to Jupyter is a loopback peer, never counted: there the SSH or Session Manager session is the use.\n")


# ---------------------------------------------------------------- 2. tick cost
LATENCY = {"min": 20, "max": 60}          # ms per API call (us-east-1 from Lambda is ~10-60 ms)
DELIVERY = {"min": 100, "max": 400}       # SSM delivery to the agent
EXECUTION = {"min": 50, "max": 300}       # the probe's run (measured < 200 ms on an instance) plus upload
RATE_LIMITS = [  # EC2's documented request buckets (non-mutating 100 burst / 20 per s; mutating 50 / 5);
                 # SSM publishes none: 40 burst / 20 per s is assumed.
    {"operation": "EC2:DescribeInstances", "perSecond": 20, "burst": 100},
    {"operation": "EC2:StopInstances", "perSecond": 5, "burst": 50},
    {"operation": "EC2:CreateTags", "perSecond": 5, "burst": 50},
    {"operation": "EC2:DeleteTags", "perSecond": 5, "burst": 50},
    {"operation": "SSM:DescribeInstanceInformation", "perSecond": 20, "burst": 40},
    {"operation": "SSM:SendCommand", "perSecond": 20, "burst": 40},
    {"operation": "SSM:ListCommandInvocations", "perSecond": 20, "burst": 40},
    {"operation": "SSM:DescribeSessions", "perSecond": 20, "burst": 40},
]


DEFAULT_POLL_MS = "1000"  # AUTOSTOP_PROBE_POLL_MILLISECONDS' default (functions/AutoStop/Configuration/AutoStopConfig.cs)
LAB_POLL_MS = "20"        # what the lab sets unless a scenario says otherwise (lab/Running/LabRun.cs)


def cost_scenario(n, instance_metrics=False, first_poll_ms=DEFAULT_POLL_MS):
    """instance_metrics: AUTOSTOP_INSTANCE_METRICS as the template passes it (its InstanceMetrics parameter, default false).
    first_poll_ms: the function's first wait before polling; the function's default, as deployed, unless asked."""
    half = n // 2
    return {
        "name": f"tick-{n}", "start": "2026-11-23T10:00:00Z", "tickMinutes": 5, "duration": "5m", "seed": n,
        "config": {"AUTOSTOP_INSTANCE_METRICS": "true" if instance_metrics else "false", "AUTOSTOP_PROBE_POLL_MILLISECONDS": first_poll_ms},
        "functionTimeoutSeconds": 300,
        "ssm": {"deliveryMs": DELIVERY, "executionMs": EXECUTION},
        "apiFaults": [{"operation": "*", "latencyMs": LATENCY}],
        "rateLimits": RATE_LIMITS,
        "instances": [
            {"name": "working", "count": half, "tags": {"AutoStop": "true"},
             "sessions": [{"kind": "ssh", "user": "dev", "from": "+0m", "to": "+1h"}]},
            {"name": "idle", "count": n - half, "launchTime": "2026-11-23T06:00:00Z",
             "tags": {"AutoStop": "true", "AutoStop:IdleSince": "2026-11-23T09:00:00Z"}},
        ],
    }


UNAVOIDABLE_PHASES = 6  # inventory, DescribeInstanceInformation, SendCommand, a ListCommandInvocations round, StopInstances, CreateTags


def forced_seconds(n, stops):
    """What the token buckets force for the calls no tick over n instances can avoid (ceil(N/1000) DescribeInstances,
    ceil(N/50) DescribeInstanceInformation, SendCommand and ListCommandInvocations, ceil(stops/1000) StopInstances, one
    CreateTags): the calls beyond a bucket's burst wait for its refill."""
    unavoidable = {
        "EC2:DescribeInstances": math.ceil(n / 1000),
        "SSM:DescribeInstanceInformation": math.ceil(n / 50),
        "SSM:SendCommand": math.ceil(n / 50),
        "SSM:ListCommandInvocations": math.ceil(n / 50),
        "EC2:StopInstances": math.ceil(stops / 1000),
        "EC2:CreateTags": 1,
    }
    return sum(max(0.0, (unavoidable[r["operation"]] - r["burst"]) / r["perSecond"]) for r in RATE_LIMITS if r["operation"] in unavoidable)


def floor_seconds(n, slowest_probe_ms, stops=None):
    """The least time a tick over n instances can take: the slowest probe the lab actually drew in that tick (its
    send-to-finish, delivery + execution, from summary.json probeRounds), plus what the rate limits force for the
    unavoidable calls, plus one call latency (the configured maximum, as in round 1) for each sequential phase."""
    stops = n - n // 2 if stops is None else stops
    return slowest_probe_ms / 1000 + forced_seconds(n, stops) + UNAVOIDABLE_PHASES * LATENCY["max"] / 1000


def age_text(age):
    return "-" if age is None else f"{age:.3f}"


def drawn_round(summary, tick=0):
    """A tick's probe round (the first by default) as the lab drew it (lab/Running/RunSummary.cs, probeRounds)."""
    rounds = summary.get("probeRounds") or []
    if len(rounds) <= tick:
        raise SystemExit(f"{summary['scenario']}: summary.json has no probeRounds for tick {tick}: the lab did not report the latencies it drew")
    return rounds[tick]


WARM = "standard, warm"


def warm_scenario(n):
    """The cost scenario over two ticks in one function process: at 10:00 the idle half is 11 minutes idle (kept, no
    tag writes), at 10:05 it is due. The second tick has the first one's shape (half in use, half stopped) in a warm
    process, as a 5-minute schedule mostly runs: SSM's managed-node listing is reused and the first poll is timed from
    the last tick's answers."""
    s = dict(cost_scenario(n), name=f"tick-{n}-warm", duration="10m")
    working, idle = s["instances"]
    s["instances"] = [working, dict(idle, tags={"AutoStop": "true", "AutoStop:IdleSince": "2026-11-23T09:49:00Z"})]
    return s


ADAPTIVE_CAP_S = 150  # the adaptive-retry row's Lambda timeout: bounds the bench's time if adaptive mode crawls


def tick_cost():
    rows = []
    runs = [(n, "standard", cost_scenario(n), {}) for n in (10, 100, 1000, 5000)]
    # Round 1's rows polled at the lab's 20 ms (lab/Running/LabRun.cs); the rows above poll as deployed. The same two
    # sizes at 20 ms show what the first poll's timing is worth.
    runs += [(n, "standard", dict(cost_scenario(n, first_poll_ms=LAB_POLL_MS), name=f"tick-{n}-poll-{LAB_POLL_MS}"), {}) for n in (1000, 5000)]
    # The same throttled 5,000-instance tick with the SDK's adaptive retry mode (AWS_RETRY_MODE=adaptive, which the
    # lab passes to the function), capped at ADAPTIVE_CAP_S by the scenario's function timeout.
    runs.append((5000, "adaptive", dict(cost_scenario(5000), name="tick-5000-adaptive", functionTimeoutSeconds=ADAPTIVE_CAP_S),
                 {"AWS_RETRY_MODE": "adaptive"}))
    # The steady state: the second of two ticks in one (warm) function process.
    runs += [(n, WARM, warm_scenario(n), {}) for n in (1000, 5000)]
    for n, mode, scenario, env in runs:
        name = scenario["name"]
        # The Native AOT bootstrap, as Lambda runs it (the JIT build's first tick also compiles the code it runs).
        s = lab_run(scenario, name, function="aot", env=env, timeout=ADAPTIVE_CAP_S + 300, allow_crash=mode not in ("standard", WARM))
        at = 1 if mode == WARM else 0
        tick = s["_ticks"][at] if len(s["_ticks"]) > at else None
        calls = s["ticks"]["each"][at]["apiCalls"] if mode == WARM else s["apiCalls"]
        if mode == WARM:
            s["throttledCallsTotal"] = None  # the lab counts throttling per run, not per tick
        rows.append({
            "n": n, "mode": mode, "calls": calls, "throttled": s["throttledCallsTotal"],
            "tickMs": tick["durationMs"] if tick else None, "stopped": tick["stopped"] if tick else s["fleet"]["stops"],
            "failed": tick["failed"] if tick else None, "peakRssKb": s["function"]["peakRssKb"],
            "floorS": floor_seconds(n, drawn_round(s, at)["slowestProbeMs"]), "slowestProbeMs": drawn_round(s, at)["slowestProbeMs"],
            "pollMs": scenario["config"]["AUTOSTOP_PROBE_POLL_MILLISECONDS"],
            # Where the wall goes (virtual = real seconds since the tick began, clockScale 1): before the first
            # SendCommand (inventory, SSM's managed-node listing, Session Manager history), the probe round (first
            # SendCommand to the last probe that finished), and what follows the last answer.
            "toFirstSendS": seconds_after(tick["time"] if tick else s["start"], drawn_round(s, at)["firstSendAt"]),
            "toLastFinishS": seconds_after(tick["time"] if tick else s["start"], drawn_round(s, at)["lastFinishAt"]),
            "logBytes": s["logBytes"], "interrupted": s["fleet"]["sessionsInterrupted"],
            "stale": s["fleet"]["decisions"].get("skip/stale-observation", 0), "ageMax": s["fleet"]["observationAgeSecondsMax"],
            "crash": s["function"]["crashReason"] if s["function"]["crashed"] else None,
        })
    return rows


# ---------------------------------------------------------------- 3. cold start
COLD_RUNS = 5  # per build, alternating, so both see the same machine load (2 shared cores)


def cold_start():
    """Each build started COLD_RUNS times, alternately; the median of each figure (and every run's) is reported."""
    scenario = {"name": "cold", "start": "2026-11-23T10:00:00Z", "tickMinutes": 5, "duration": "5m",
                "instances": [{"name": "dev", "count": 10, "tags": {"AutoStop": "true"}}]}
    runs = {"jit": [], "aot": []}
    for k in range(COLD_RUNS):
        for function in ("jit", "aot"):
            runs[function].append(lab_run(scenario, f"cold-{function}-{k}", function)["function"])
    result = {}
    for function, all_runs in runs.items():
        result[function] = {key: statistics.median(r[key] for r in all_runs) for key in ("coldStartMs", "firstTickMs", "peakRssKb")}
        result[function]["coldStartRuns"] = [r["coldStartMs"] for r in all_runs]
    return result


# ---------------------------------------------------------------- 3b. a fresh look (issue 11, item 3)
FRESH_N = 500


def fresh_look_scenario(hang=True):
    """FRESH_N idle instances due to stop (IdleSince an hour back), with the bench's latencies and rate limits, the
    moving clock at 1 (a real second is a virtual second), the function's defaults (probe timeout 30 s, observation-age
    bound 10 s, first poll 1 s). With hang: one more instance whose probe never answers (the timeout applies to it
    alone) and a person who arrives at another idle instance 15 s into the tick, while the hung probe is awaited."""
    tags = {"AutoStop": "true", "AutoStop:IdleSince": "2026-11-23T07:00:00Z"}
    instances = [{"name": "idle", "count": FRESH_N, "launchTime": "2026-11-23T06:00:00Z", "tags": tags}]
    if hang:
        instances += [
            {"name": "hangs", "launchTime": "2026-11-23T06:00:00Z", "tags": tags, "faults": [{"kind": "probe-hang"}]},
            {"name": "arrives", "launchTime": "2026-11-23T06:00:00Z", "tags": tags,
             "sessions": [{"kind": "ssh", "user": "pat", "tty": True, "from": "2026-11-23T08:00:15Z", "to": "2026-11-23T10:00:00Z"}]},
        ]
    return {
        "name": "fresh-look-hang" if hang else "fresh-look-reprobe", "start": "2026-11-23T08:00:00Z", "tickMinutes": 5,
        "duration": "5m", "seed": 500, "clockScale": 1, "functionTimeoutSeconds": 210,
        "config": {"AUTOSTOP_PROBE_POLL_MILLISECONDS": DEFAULT_POLL_MS},
        "ssm": {"deliveryMs": DELIVERY, "executionMs": EXECUTION},
        "apiFaults": [{"operation": "*", "latencyMs": LATENCY}], "rateLimits": RATE_LIMITS, "instances": instances,
    }


def seconds_after(tick_iso, iso_ms):
    parse = lambda v: datetime.strptime(v.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z" if "." in v else "%Y-%m-%dT%H:%M:%S%z")
    return (parse(iso_ms) - parse(tick_iso)).total_seconds()


def arrival_text(arrives):
    """What happened to the instance the person arrived at, from its summary entry."""
    if not arrives:
        return ""
    stops = [o for o in arrives["stopObservations"]]
    person = next(iter(arrives["sessionsInterrupted"]), None)
    text = f"The person arriving at 15 s: their instance was decided {arrives['decisions']}"
    if stops:
        o = stops[0]
        text += f", its StopInstances sent at {o['time']} on a look {o['observationAgeSeconds']:.3f} s old, before they arrived"
    if person:
        text += (f"; the lab counts their session ({person['from']} to {person['to']}) as interrupted because it began while the "
                 "instance was still stopping (the lab's stop takes 60 s): no session was cut, they wait for the stop to end and start it")
    return text + "."


def fresh_look():
    """Issue 11 item 3, both ways. Streaming (what main does): one tick with a hung probe; the age of the look each stop
    acted on, and the tick wall. Re-probing the stop candidates just before stopping: its extra cost is one more probe
    round over the candidates, measured as a tick over the same FRESH_N candidates without the hang (SendCommand and
    ListCommandInvocations calls, first SendCommand to the last stop), and the first run's own round (first SendCommand
    to the last answer drawn) as a cross-check."""
    hang = lab_run(fresh_look_scenario(True), "fresh-look-hang", function="aot")
    again = lab_run(fresh_look_scenario(False), "fresh-look-reprobe", function="aot")
    out = {}
    for key, s in (("hang", hang), ("reprobe", again)):
        tick = s["_ticks"][0]
        ages = sorted(o["observationAgeSeconds"] for i in s["instances"] for o in i["stopObservations"] if o["observationAgeSeconds"] is not None)
        stops = sorted(seconds_after(s["start"], o["time"]) for i in s["instances"] for o in i["stopObservations"])
        r = drawn_round(s)
        out[key] = {
            "wallS": tick["durationMs"] / 1000, "stops": len(stops), "ages": ages,
            "ageMax": s["fleet"]["observationAgeSecondsMax"], "ageP50": statistics.median(ages) if ages else None,
            "interrupted": s["fleet"]["sessionsInterrupted"], "decisions": s["fleet"]["decisions"],
            "firstSendS": seconds_after(s["start"], r["firstSendAt"]), "lastFinishS": seconds_after(s["start"], r["lastFinishAt"]),
            "lastStopS": stops[-1] if stops else None, "firstStopS": stops[0] if stops else None,
            "send": s["apiCalls"].get("SSM:SendCommand", 0), "list": s["apiCalls"].get("SSM:ListCommandInvocations", 0),
            "stopCalls": s["apiCalls"].get("EC2:StopInstances", 0), "calls": sum(s["apiCalls"].values()),
            "hung": {i["name"]: i["decisions"] for i in s["instances"] if i["name"] in ("hangs", "arrives")},
            "arrives": next((i for i in s["instances"] if i["name"] == "arrives"), None),
            # Sessions cut (live at their instance's stop), apart from the lab's wider count, which also holds a person
            # who arrives while the instance is stopping (its stop takes 60 s), after the stop was sent.
            "liveAtStop": sum(1 for i in s["instances"] for x in i["sessionsInterrupted"] if x["from"] <= x["stoppedAt"]),
        }
    return out


# ---------------------------------------------------------------- 3c. scale
SCALE_N = 20000


def template_function():
    """The function's MemorySize (MB) and Timeout (s) in templates/template.yaml."""
    import yaml
    with open(os.path.join(ROOT, "templates", "template.yaml")) as f:
        template = yaml.safe_load(f)
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    if len(functions) != 1:
        raise SystemExit(f"templates/template.yaml: expected one AWS::Serverless::Function, found {len(functions)}")
    props = {**template.get("Globals", {}).get("Function", {}), **functions[0]["Properties"]}
    return int(props["MemorySize"]), int(props["Timeout"])


def scale():
    """One tick over SCALE_N instances (half in use, half due) under the bench's rate limits, with the template's
    function timeout as the lab's deadline, as deployed (AOT, default poll)."""
    memory_mb, timeout_s = template_function()
    scenario = dict(cost_scenario(SCALE_N), name=f"tick-{SCALE_N}", functionTimeoutSeconds=timeout_s)
    s = lab_run(scenario, f"tick-{SCALE_N}", function="aot", timeout=timeout_s + 600, allow_crash=True)
    tick = s["_ticks"][0] if s["_ticks"] else None
    decided = sum(s["fleet"]["decisions"].values())
    return {
        "memoryMb": memory_mb, "timeoutS": timeout_s, "tickMs": tick["durationMs"] if tick else None,
        "labWallMs": s["ticks"]["wallMsMax"], "decided": decided, "n": SCALE_N, "peakRssKb": s["function"]["peakRssKb"],
        "crash": s["function"]["crashReason"] if s["function"]["crashed"] else None, "calls": s["apiCalls"],
        "throttled": s["throttledCallsTotal"], "stopped": s["fleet"]["stops"], "decisions": s["fleet"]["decisions"],
        "deadlineReached": tick.get("deadlineReached") if tick else None, "slowestProbeMs": drawn_round(s)["slowestProbeMs"],
        "interrupted": s["fleet"]["sessionsInterrupted"], "ageMax": s["fleet"]["observationAgeSecondsMax"],
        "toFirstSendS": seconds_after(s["start"], drawn_round(s)["firstSendAt"]),
        "lastSendS": seconds_after(s["start"], drawn_round(s)["lastSendAt"]),
        "toLastFinishS": seconds_after(s["start"], drawn_round(s)["lastFinishAt"]),
        "staleAges": stale_ages(f"tick-{SCALE_N}"),
    }


def stale_ages(name):
    """How old the looks were that a stale-observation skip refused, in seconds, from the decision lines'
    messages ("the look was N s old"): the line carries no observationAgeMs for a skip."""
    import re
    ages = []
    with open(os.path.join(WORK, name, "log.jsonl")) as f:
        for line in f:
            if '"stale-observation"' in line:
                m = re.search(r"the look was ([0-9.]+) s old", json.loads(line).get("message", ""))
                if m:
                    ages.append(float(m[1]))
    return sorted(ages)


# ---------------------------------------------------------------- 4. cost
PRICES = {  # us-east-1 list prices, from PRICE_SOURCES
    "lambda_gb_s": 0.0000166667, "lambda_request": 0.20 / 1e6, "metric_month": 0.30, "alarm_month": 0.10,
    "put_metric_data_request": 0.01 / 1000, "logs_gb": 0.50, "dashboard_month": 3.00,
    "insight_rule_month": 0.50, "insight_rule_event": 0.02 / 1e6, "logs_insights_gb_scanned": 0.005,
}
PRICE_SOURCES = (
    "AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/ (US East (N. Virginia), x86: $0.0000166667 per GB-s, "
    "$0.20 per million requests); Amazon CloudWatch pricing, https://aws.amazon.com/cloudwatch/pricing/ (US East "
    "(N. Virginia): custom metrics $0.30 a metric a month for the first 10,000, PutMetricData $0.01 per 1,000 requests, "
    "standard-resolution alarms $0.10 an alarm metric a month, dashboards $3.00 a dashboard a month beyond the 3 an "
    "account gets free, log ingestion $0.50 per GB, Logs Insights $0.005 per GB scanned, Contributor Insights for "
    "CloudWatch Logs $0.50 a rule a month and $0.02 per million log events that match the rule; cross-account "
    "observability: no charge for sharing metrics and logs with a monitoring account). Free tiers (1M Lambda requests "
    "and 400,000 GB-s, 10 metrics, 10 alarms, 3 dashboards, 1 Contributor Insights rule a month) are not deducted: a "
    "fleet this size has usually spent them elsewhere."
)


def template_resources():
    """What templates/template.yaml creates that CloudWatch bills monthly, read from the template itself: its
    alarms, dashboards and Contributor Insights rules, each with the Condition (if any) that keeps it."""
    import yaml
    with open(os.path.join(ROOT, "templates", "template.yaml")) as f:
        template = yaml.safe_load(f)
    billed = {"AWS::CloudWatch::Alarm": "alarms", "AWS::CloudWatch::Dashboard": "dashboards", "AWS::CloudWatch::InsightRule": "insightRules"}
    found = {kind: {} for kind in billed.values()}
    for name, resource in template["Resources"].items():
        if resource["Type"] in billed:
            found[billed[resource["Type"]]][name] = resource.get("Condition")
    if not found["alarms"] or not found["dashboards"] or not found["insightRules"]:
        raise SystemExit(f"templates/template.yaml: expected alarms, a dashboard and a Contributor Insights rule, found {found}")
    return found, template["Conditions"], {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}


def condition_holds(conditions, name, parameters):
    """Evaluates one of the template's Conditions (Fn::Equals / Fn::Not / Fn::And / Fn::Or / Condition over Refs)."""
    def value(node):
        return parameters[node["Ref"]] if isinstance(node, dict) else str(node)

    def truth(node):
        (function, args), = node.items()
        if function == "Fn::Equals":
            return value(args[0]) == value(args[1])
        if function == "Fn::Not":
            return not truth(args[0])
        if function == "Fn::And":
            return all(truth(a) for a in args)
        if function == "Fn::Or":
            return any(truth(a) for a in args)
        if function == "Condition":
            return truth(conditions[args])
        raise SystemExit(f"condition function {function} is not evaluated by bench.py")
    return name is None or truth(conditions[name])


def log_bytes_by_kind(name):
    """Bytes a tick wrote to the log (CloudWatch bills ingestion per byte of the events), by kind of line: decision,
    tick, error, fleet metrics, per-instance metrics (an EMF line with an InstanceId), read from the lab run's log."""
    kinds = {}
    with open(os.path.join(WORK, name, "log.jsonl")) as f:
        for line in f:
            event = json.loads(line).get("event", "other")
            kind = "instance metrics" if event == "metrics" and '"InstanceId"' in line else event
            kinds[kind] = kinds.get(kind, 0) + len(line.encode())  # the line and its newline, as the lab counts
    return kinds


MEMORY_GB = 256 / 1024
TICKS_PER_MONTH = 12 * 730
N_COST = 1000


def costs(rows, bytes_default, bytes_metrics_on):
    """Monthly cost per 1,000 instances of the template's defaults and of each option, from the measured
    1,000-instance tick (its duration, and its log by kind of line in a run with per-instance metrics off and one
    with them on). Returns the table (column -> item -> $) and the facts the text quotes."""
    r1000 = next(r for r in rows if r["n"] == N_COST and r["mode"] == "standard")
    duration_s = r1000["tickMs"] / 1000
    lambda_cost = TICKS_PER_MONTH * (duration_s * MEMORY_GB * PRICES["lambda_gb_s"] + PRICES["lambda_request"])
    fleet_metrics = 8 * PRICES["metric_month"]  # EmfMetrics.Fleet: 8 metrics without dimensions
    made, conditions, defaults = template_resources()
    instance_emf_bytes = bytes_metrics_on.get("instance metrics", 0)
    if instance_emf_bytes == 0:
        raise SystemExit("the 1,000-instance run with AUTOSTOP_INSTANCE_METRICS=true wrote no per-instance metric lines")
    if bytes_default.get("instance metrics", 0):
        raise SystemExit("the default 1,000-instance run wrote per-instance metric lines: AUTOSTOP_INSTANCE_METRICS=false was not honoured")
    default_log_bytes = sum(bytes_default.values())
    decisions_per_month = TICKS_PER_MONTH * N_COST

    def column(**overrides):
        parameters = {**defaults, "AlertEmail": "ops@example.com", **overrides}  # an AlertEmail: every alarm counted
        def count(kind):
            return sum(1 for c in made[kind].values() if condition_holds(conditions, c, parameters))
        metrics_on = parameters["InstanceMetrics"] == "true"
        log_bytes = default_log_bytes + (instance_emf_bytes if metrics_on else 0)
        table = {
            "Lambda (GB-s + requests)": lambda_cost,
            "custom metrics": fleet_metrics + (N_COST * PRICES["metric_month"] if metrics_on else 0),
            "alarms": count("alarms") * PRICES["alarm_month"],
            "dashboards": count("dashboards") * PRICES["dashboard_month"],
            "log ingestion": log_bytes * TICKS_PER_MONTH / 1e9 * PRICES["logs_gb"],
        }
        if count("insightRules"):
            # Upper bound: as if every decision line matched the rule (it counts only ticks in use).
            table["Contributor Insights rule"] = count("insightRules") * (PRICES["insight_rule_month"] + decisions_per_month * PRICES["insight_rule_event"])
        return table

    old = {"custom metrics": N_COST * PRICES["metric_month"],
           "PutMetricData (1/min/instance)": N_COST * 60 * 730 * PRICES["put_metric_data_request"],
           "alarms": N_COST * PRICES["alarm_month"]}
    table = {
        "AutoStop, template defaults": column(),
        "InstanceMetrics=true (per-instance Sessions metric)": column(InstanceMetrics="true"),
        "ContributorInsights=true": column(ContributorInsights="true"),
        "organisation member: CreateDashboard=false, CreateAlarms=false": column(CreateDashboard="false", CreateAlarms="false", AlertEmail=""),
        "old method (metric + PutMetricData + alarm per instance)": old,
    }
    month_gb = default_log_bytes * TICKS_PER_MONTH / 1e9
    facts = {
        "duration_s": duration_s, "made": made, "default_log_bytes": default_log_bytes, "bytes_default": bytes_default,
        "instance_emf_bytes": instance_emf_bytes, "log_gb": month_gb,
        "decision_bytes_mean": bytes_default.get("decision", 0) / N_COST,
        # One run of the sessions-per-instance query over 30 days scans the month's log; a dashboard view runs its two
        # log widgets over the dashboard's default 3 hours.
        "query_month_cost": month_gb * 30 / (730 / 24) * PRICES["logs_insights_gb_scanned"],
        "dashboard_view_cost": 2 * default_log_bytes * 36 / 1e9 * PRICES["logs_insights_gb_scanned"],
        "monitoring_account": PRICES["dashboard_month"],
    }
    return table, facts


# ---------------------------------------------------------------- report
def chart(scores, path, fleet):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(scores)
    fig, axes = plt.subplots(1, 6, figsize=(22, 4.2))
    panels = [("Idle instance-hours not saved (waste)", [scores[n]["wasteMinutes"] / 60 for n in names]),
              ("Sessions interrupted by a stop", [scores[n]["interrupted"] for n in names]),
              ("Early stops (< threshold after the last use)", [scores[n]["early"] for n in names]),
              ("Patch runs cut", [scores[n]["patchesCut"] for n in names]),
              ("Keep-alive batch jobs cut", [scores[n]["jobsCut"] for n in names]),
              ("Quick restarts (back within 30 min)", [scores[n]["quickRestarts"] for n in names])]
    colors = ["#cccccc", "#888888", "#d95f02", "#7570b3", "#1b9e77", "#66a61e"]
    for ax, (title, values) in zip(axes, panels):
        bars = ax.barh(names, values, color=colors[: len(names)])
        ax.set_title(title, fontsize=10)
        ax.invert_yaxis()
        for bar, v in zip(bars, values):
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:.1f}" if isinstance(v, float) else f" {v}", va="center", fontsize=8)
        if ax is not axes[0]:
            ax.set_yticklabels([])
        else:
            ax.set_xscale("symlog", linthresh=10)  # the never-stop baseline dwarfs the rest
            ax.set_title(title + " (symlog)", fontsize=10)
    fig.suptitle(f"{fleet} instances x 7 days, same traces for every method (15-minute idle threshold, 5-minute schedule)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


CASE_TEXT = {
    "user-tty": "non-root key login with a terminal", "user-notty": "non-root login without a terminal (scp, rsync, IDE)",
    "root-tty": "root login with a terminal", "root-notty": "root login without a terminal",
    "preauth": "a scanner's bare TCP connection", "password-prompt": "a valid user name left at the password prompt",
    "ssm-session-worker": "a Session Manager session (a process titled `ssm-session-worker`)",
    "mosh": "a mosh session (a real `mosh-server` started through the test sshd, a real `mosh-client` connected; the SSH bootstrap login closed)",
}


def establishment_report(w):
    """The old method's establishment, written only from what establish.sh measured in this run."""
    e = ESTABLISHED
    w(f"How the old method's sample was modelled: `bench/old-method/establish.sh` started a real sshd ({e['openssh']}) on "
      "127.0.0.1, opened each kind of session below against it, and ran the old sample "
      "`ps ax | grep sshd | grep '\\[priv\\]'` over that sshd's processes and the case's own. Measured in this run:\n")
    w("| case | people logged in | lines the old grep matched | process titles the case added |")
    w("|---|---:|---:|---|")
    for kind in methods.ESTABLISHMENT_CASES:
        c = e["cases"][kind]
        titles = "; ".join(f"`{t}`" for t in c["processes"].split("; ") if t) or "none"
        w(f"| {CASE_TEXT[kind]} | {c['sessions']} | {c['matches']} | {titles} |")
    missed = [CASE_TEXT[k] for k in methods.ESTABLISHMENT_CASES if e["cases"][k]["matches"] < e["cases"][k]["sessions"]]
    false = [CASE_TEXT[k] for k in methods.ESTABLISHMENT_CASES if e["cases"][k]["matches"] > e["cases"][k]["sessions"]]
    w("\nSo the old grep misses: " + ("; ".join(missed) if missed else "nothing") + ". It counts where nobody is logged in: " +
      ("; ".join(false) if false else "nothing") + ". The simulation counts, per live session, the larger of the tty and "
      f"notty matches: {methods.GREP_SEES[('ssh', False)]} for a non-root SSH session, {methods.GREP_SEES[('ssh', True)]} "
      f"for a root one, {methods.GREP_SEES[('ssm', False)]} for a Session Manager one, {methods.GREP_SEES[('mosh', False)]} for a mosh one "
      "(mosh's SSH bootstrap login lasts about a second at the session's start: a once-a-minute sample almost never sees it, so "
      "the model leaves it out); keep-alive batch jobs and patch runs add nothing "
      "(no session). The traces hold no scanners or password guessers, so only the misses change the scores.\n")


def decision_quality_section(w, instances, scores, week, variant, week_ignoring, jupyter):
    """The decision-quality section of RESULTS.md, the Jupyter-only scenario's after it."""
    days = len(instances) * traces.DAYS
    w("## Decision quality\n")
    w(decision_quality_text(instances))
    w("| method | idle instance-hours not saved | sessions interrupted | early stops | patch runs cut | keep-alive jobs cut | quick restarts | stops per instance-day |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, s in scores.items():
        w(f"| {name} | {s['wasteMinutes'] / 60:.1f} | {s['interrupted']} | {s['early']} | {s['patchesCut']} | {s['jobsCut']} | {s['quickRestarts']} | {s['stops'] / days:.2f} |")
    w("\nEarly stop: a stop with nothing live, sooner than the 15-minute threshold after the last use ended (a session's end, "
      "a keep-alive's end, a patch run's end); a stop with something live is an interruption (or a cut job or patch run) "
      "instead. Maintenance is use for every score: the oracle keeps an instance up while it is patched.\n")
    w(f"Quick restart: a stop after which someone started the instance again within {methods.QUICK_RESTART_MINUTES} minutes "
      "(the rule of the lab's `summary.json` `quickRestarts` and of the function's `quickRestart`, applied to every "
      "method's stop timeline the same way; in the bench a person arriving at a stopped instance starts it, for every "
      "method). A stop that cuts a session is no quick restart unless its person happens to have another session within "
      "30 minutes: they are back only with their next one. Even the oracle has them: a person back from lunch or a break "
      f"16 to {methods.THRESHOLD + methods.QUICK_RESTART_MINUTES} minutes after leaving finds the instance stopped at the threshold. "
      + quick_restarts_by_kind(instances, scores, ("oracle", "old cron + [priv] grep", AUTOSTOP_ROW)) +
      (" AutoStop's stops come up to one tick after the oracle's, so the next arrival falls within 30 minutes of them a "
       "little more often." if scores[AUTOSTOP_ROW]["quickRestarts"] > scores["oracle"]["quickRestarts"] else "") +
      " The AutoStop rows counted three ways:\n")
    for row, run, name in ((AUTOSTOP_ROW, week, "week"), (AUTOSTOP_MOVING_ROW, week["_moving"], "week-clock-1")):
        w("- " + quick_restart_check(row, run, name, instances, {i["name"]: methods.timeline_to_stops(i["timeline"]) for i in run["instances"]}))
    w("")
    for row, run in ((AUTOSTOP_ROW, week), (AUTOSTOP_MOVING_ROW, week["_moving"])):
        auto = scores[row]
        lab_count = run["fleet"]["sessionsInterrupted"] + run["fleet"]["busyInterrupted"]
        if auto["interrupted"] or auto["early"] or auto["patchesCut"] or lab_count:
            verdict = "not clean" if auto["interrupted"] or auto["early"] or auto["patchesCut"] else "0 on the traces, but the lab's own count is not 0"
            w(f"**{row}: {verdict}.** Scored on the traces: {auto['interrupted']} sessions interrupted, {auto['early']} early stops, "
              f"{auto['patchesCut']} patch runs cut; the lab's own count: {run['fleet']['sessionsInterrupted']} sessions interrupted "
              f"(live at a stop, or begun while the instance was stopping: the lab's stop takes 60 s), "
              f"{run['fleet']['busyInterrupted']} patch runs cut. Each:\n")
            for e in auto["earlyStops"]:
                w(f"- early stop of `{e['instance']}` at {traces.iso(e['stop'])}, {e['minutesAfter']} min after the end of its {e['what']}")
            for i in run["instances"]:
                precise = {o["time"][:19] + "Z": o for o in i["stopObservations"]}
                for x in i["sessionsInterrupted"]:
                    o = precise.get(x["stoppedAt"])
                    at = o["time"] if o else x["stoppedAt"]
                    w(f"- `{i['name']}` ({i['instanceId']}): StopInstances at {at}; the {x['kind']} session of {x['user']} {x['from']} to {x['to']} "
                      + ("was live" if x["from"] <= x["stoppedAt"] else f"began {seconds_after(at, x['from'].replace('Z', '.000Z')):.3f} s later, while the instance was stopping"))
                for x in i["busyInterrupted"]:
                    w(f"- `{i['name']}` ({i['instanceId']}): stopped at {x['stoppedAt']} during the {x['kind']} run {x['from']} to {x['to']}")
            w("")
    for name, s in scores.items():
        if not name.startswith("AutoStop") and s["earlyStops"]:
            kinds = {}
            for e in s["earlyStops"]:
                key = e["what"].split(" ")[0]
                kinds[key] = kinds.get(key, 0) + 1
            w(f"{name}: its early stops came after " + ", ".join(f"{v} x a {k} {'run' if k == 'patch' else 'session' if k in ('ssh', 'ssm', 'mosh') else 'window'}"
                                                          for k, v in sorted(kinds.items())) + ".\n")
    lab_fleet = week["fleet"]
    w(f"AutoStop ran as the real function in the lab: {week['ticks']['count']} ticks in {week['wallSeconds']:.0f} s "
      f"(the lab's own count: {lab_fleet['sessionsInterrupted']} sessions interrupted, {lab_fleet['busyInterrupted']} patch runs cut, "
      f"{lab_fleet['idleMinutesNotSaved'] / 60:.1f} idle instance-hours not saved; decisions by reason: "
      + ", ".join(f"{k} {v}" for k, v in lab_fleet["decisions"].items()) + "). "
      "Its waste against the oracle is the schedule's granularity: an instance is seen idle "
      "only at ticks, so a stop comes up to one period after the threshold.\n")
    limit = IGNORE_IDLE_TERMINALS_AFTER
    forgotten = sum(1 for i in instances for x in i["sessions"] if "idleAfter" in x)
    w(f"Forgotten open terminals ({forgotten} in this week, SSH and mosh) count above as sessions, for the oracle and for waste: a forgotten "
      "terminal is a session, and AutoStop does not cut it by default. `AutoStop:IgnoreIdleTerminalsAfter` lets it: "
      f"the same week, run again through the lab with that tag at {limit} minutes on every instance, scored where a "
      f"terminal idle {limit} minutes or more is not a session (when every live SSH or mosh session is such a terminal, the "
      "option's own rule), against an oracle on the same definition; the default AutoStop run is scored the same way "
      "for comparison (early stops are not scored on this definition).\n")
    w("| method (terminals idle past the limit are not sessions) | idle instance-hours not saved | sessions interrupted | patch runs cut | keep-alive jobs cut | quick restarts | stops per instance-day |")
    w("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in variant.items():
        w(f"| {name} | {s['wasteMinutes'] / 60:.1f} | {s['interrupted']} | {s['patchesCut']} | {s['jobsCut']} | {s['quickRestarts']} | {s['stops'] / days:.2f} |")
    w(f"\nThe lab's own count for the run with the option ({week_ignoring['fleet']['sessionsInterrupted']} sessions interrupted) "
      "counts the forgotten terminals it cut, since the lab scores every session as a session. Quick restarts (the same "
      "rule as above; a stop's quick restart does not depend on what counts as a session): "
      + quick_restart_check(f"AutoStop:IgnoreIdleTerminalsAfter={limit}", week_ignoring, "week-ignore-terminals", instances,
                            {i["name"]: methods.timeline_to_stops(i["timeline"]) for i in week_ignoring["instances"]}) + "\n")
    w("![decision quality](decision-quality.png)\n")
    establishment_report(w)
    w("The CPU alarm uses a per-minute CPU model (typing and builds in bursts, idle readers near 1%, batch jobs 60-95%; "
      "a browser on Jupyter like a session without a terminal: notebook cells in bursts).\n")
    jupyter_section(w, jupyter)


RANDOM_THROTTLE = 0.2  # share of calls refused whatever the call rate (other callers in the account, a busy region)
RANDOM_THROTTLE_N = 1000


def retry_modes_under_random_throttling():
    """The same 1,000-instance tick in both SDK retry modes when throttling does not follow this caller's own rate:
    RANDOM_THROTTLE of SendCommand, ListCommandInvocations and CreateTags calls are refused at random, on top of the
    rate limits. Each run is capped at ADAPTIVE_CAP_S by the function's timeout."""
    rows = []
    for mode in ("standard", "adaptive"):
        scenario = cost_scenario(RANDOM_THROTTLE_N)
        scenario.update(name=f"random-throttle-{mode}", functionTimeoutSeconds=ADAPTIVE_CAP_S)
        scenario["apiFaults"] = scenario["apiFaults"] + [
            {"operation": op, "throttleRate": RANDOM_THROTTLE}
            for op in ("SSM:SendCommand", "SSM:ListCommandInvocations", "EC2:CreateTags")]
        s = lab_run(scenario, f"random-throttle-{mode}", function="aot", env={"AWS_RETRY_MODE": mode}, timeout=ADAPTIVE_CAP_S + 300, allow_crash=True)
        tick = s["_ticks"][0] if s["_ticks"] else None
        rows.append({
            "mode": mode, "calls": sum(s["apiCalls"].values()), "throttled": s["throttledCallsTotal"],
            "tickMs": tick["durationMs"] if tick else None, "stopped": tick["stopped"] if tick else s["fleet"]["stops"],
            "probeFailures": tick["probeFailures"] if tick else None, "interrupted": s["fleet"]["sessionsInterrupted"],
            "stale": s["fleet"]["decisions"].get("skip/stale-observation", 0), "ageMax": s["fleet"]["observationAgeSecondsMax"],
            "staleAges": stale_ages(f"random-throttle-{mode}"),
            "crash": s["function"]["crashReason"] if s["function"]["crashed"] else None,
        })
    return rows


COLDSTART_JSON = os.path.join(WORK, "coldstart.json")  # written by bench/coldstart/run.sh, which bench/run.sh runs first


def read_coldstart():
    """The function's cold start measured alone (bench/coldstart/coldstart.py's figures)."""
    if not os.path.exists(COLDSTART_JSON):
        raise SystemExit(f"{COLDSTART_JSON} is missing: bench/run.sh runs bench/coldstart/run.sh (with COLDSTART_JSON set) before bench.py")
    with open(COLDSTART_JSON) as f:
        figures = json.load(f)
    return figures["builds"] | {"runs": figures["runs"]}


def targets_table(scores, fresh, rows, big, cold, cost_table, cost, jupyter):
    """Every target of issues 11, 13 and 14 beside the figure this run measured (each also in its section below)."""
    def row_at(n, poll=DEFAULT_POLL_MS):
        return next(r for r in rows if r["n"] == n and r["mode"] == "standard" and r["pollMs"] == poll)

    def verdict(ok):
        return "met" if ok else "**missed**"

    lines = ["## Targets (issues 11, 13 and 14), measured in this run\n",
             "| issue | figure | measured | target | |", "|---|---|---:|---:|---|"]

    def add(issue, figure, measured, target, ok):
        lines.append(f"| {issue} | {figure} | {measured} | {target} | {verdict(ok)} |")

    for row in (AUTOSTOP_ROW, AUTOSTOP_MOVING_ROW):
        a = scores[row]
        add(11, f"week, {row}: sessions interrupted / early stops / patch runs cut", f"{a['interrupted']} / {a['early']} / {a['patchesCut']}", "0 / 0 / 0",
            not (a["interrupted"] or a["early"] or a["patchesCut"]))
    waste = ", ".join(f"{n} {scores[n]['wasteMinutes'] / 60:.1f}" for n in ("oracle", "old cron + [priv] grep", AUTOSTOP_ROW))
    lines.append(f"| 11 | week: idle instance-hours not saved | {waste} | reported beside the old method and the oracle | |")
    quick = ", ".join(f"{n} {scores[n]['quickRestarts']}" for n in ("oracle", "old cron + [priv] grep", "CPU alarm (<5% for 15 min)", AUTOSTOP_ROW))
    lines.append(f"| 13 | week: quick restarts (started again within {methods.QUICK_RESTART_MINUTES} min of a stop) | {quick} | reported for every method | |")
    j = jupyter["rows"]
    tagged = j[JUPYTER_TAGGED_ROW]
    add(13, f"Jupyter-only users, AutoStop with `AutoStop:ActivePorts={traces.JUPYTER_PORT}`: sessions interrupted / early stops",
        f"{tagged['interrupted']} / {tagged['early']}", "0 / 0", not (tagged["interrupted"] or tagged["early"]))
    lines.append(f"| 13 | Jupyter-only users: sessions interrupted by the old cron + [priv] grep / AutoStop without `AutoStop:ActivePorts` | "
                 f"{j['old cron + [priv] grep']['interrupted']} / {j[JUPYTER_PLAIN_ROW]['interrupted']} | reported (what the tag fixes) | |")
    h = fresh["hang"]
    add(11, f"{FRESH_N} instances + a hung probe: max observation age at a stop (s)", f"{h['ageMax']:.3f}", "<= 10", h["ageMax"] is not None and h["ageMax"] <= 10)
    timed = [r for r in rows if r["ageMax"] is not None]
    worst = max(timed, key=lambda r: r["ageMax"]) if timed else None
    if worst:
        add(11, "max observation age at a stop over the tick-cost runs (lab: stop's time minus the look's)",
            f"{worst['ageMax']:.3f} (N = {worst['n']:,}, poll {worst['pollMs']} ms, {worst['mode']})", "<= 10", worst["ageMax"] <= 10)
    stale = sum(r["stale"] for r in rows)
    add(11, "idle instances due but skipped as stale-observation over the tick-cost runs", f"{stale:,}", "0 (each is a stop put off a tick)", stale == 0)
    def warm_at(n):
        return next(r for r in rows if r["n"] == n and r["mode"] == WARM)

    for n, target in ((1000, 0.06), (5000, 0.05)):
        w, c = warm_at(n), row_at(n)
        per, cold_per = sum(w["calls"].values()) / n, sum(c["calls"].values()) / n
        add(14, f"API calls per instance per tick, N = {n:,}: steady (warm process) / a cold process's first tick", f"{per:.3f} / {cold_per:.3f}",
            f"<= {target}", per <= target)
    for n in (1000, 5000):
        w, c = warm_at(n), row_at(n)
        ratio, cold_ratio = w["tickMs"] / 1000 / w["floorS"], c["tickMs"] / 1000 / c["floorS"]
        add(14, f"tick wall / floor (drawn probe latencies), N = {n:,}: steady (warm process) / a cold process's first tick",
            f"{ratio:.2f} ({w['tickMs'] / 1000:.2f} s / {w['floorS']:.2f} s) / {cold_ratio:.2f}", "<= 1.3", ratio <= 1.3)
    # The function alone (bench/coldstart: exec to GET /next at a listener, COLDSTART_RUNS alternating runs) decides;
    # the lab's few runs through a whole first tick (section below) are shown beside it.
    alone = read_coldstart()
    aot, jit = alone["aot"]["wallMs"], alone["jit"]["wallMs"]
    lab_aot, lab_jit = cold["aot"]["coldStartMs"], cold["jit"]["coldStartMs"]
    runs = f"{alone['runs']} runs each, bench/coldstart; the lab's {COLD_RUNS}: "
    add(14, "AOT cold start to the first Runtime API request (ms, median)", f"{aot:.1f} ({runs}{lab_aot:.1f})", "<= 50", aot <= 50)
    add(14, "JIT / AOT cold start (medians)", f"{jit / aot:.1f}x ({runs}{lab_jit / lab_aot:.1f}x)", ">= 5x", jit / aot >= 5)
    wall_ok = big["tickMs"] is not None and big["tickMs"] / 1000 <= big["timeoutS"]
    add(14, f"{big['n']:,}-instance tick: wall (s)", f"{big['tickMs'] / 1000:.1f}" if big["tickMs"] is not None else "no tick end", f"<= {big['timeoutS']} (template Timeout)", wall_ok)
    add(14, f"{big['n']:,}-instance tick: instances decided", f"{big['decided']:,}", f"{big['n']:,}", big["decided"] == big["n"])
    due = big["n"] - big["n"] // 2
    add(11, f"{big['n']:,}-instance tick: idle instances due that were stopped (the rest: reasons below)", f"{big['stopped']:,}", f"{due:,}", big["stopped"] == due)
    rss = (big["peakRssKb"] or 0) / 1024
    add(14, f"{big['n']:,}-instance tick: peak RSS (MiB)", f"{rss:.0f}", f"<= {big['memoryMb']} (template MemorySize)", 0 < rss <= big["memoryMb"])
    default_total = sum(cost_table["AutoStop, template defaults"].values())
    add(14, "monthly cost per 1,000 instances, template defaults", f"${default_total:.2f}", "<= $10", default_total <= 10)
    add(14, "mean decision-line bytes (N = 1,000 tick)", f"{cost['decision_bytes_mean']:.0f}", "< 500", cost["decision_bytes_mean"] < 500)
    return "\n".join(lines) + "\n"


def main():
    t0 = time.time()
    instances, scores, week, variant, week_ignoring = decision_quality()
    jupyter = jupyter_only()
    rows = tick_cost()
    random_rows = retry_modes_under_random_throttling()
    cold = cold_start()
    fresh = fresh_look()
    big = scale()
    day = lab_run(os.path.join(ROOT, "lab", "scenarios", "day-100.yaml"), "day-100")
    lab_run(cost_scenario(N_COST, instance_metrics=True), f"tick-{N_COST}-instance-metrics")
    cost_table, cost = costs(rows, log_bytes_by_kind(f"tick-{N_COST}"), log_bytes_by_kind(f"tick-{N_COST}-instance-metrics"))
    chart(scores, os.path.join(BENCH, "decision-quality.png"), len(instances))

    out = []
    w = out.append
    w("# AutoStop benchmarks\n")
    w(f"Generated by `bash bench/run.sh` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
      f"({platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}); "
      f"took {time.time() - t0:.0f} s. Do not edit by hand: rerun the command.\n")
    targets_at = len(out)  # the targets table goes here, once every figure is measured
    decision_quality_section(w, instances, scores, week, variant, week_ignoring, jupyter)

    w("## Lab speed\n")
    w(f"`lab/scenarios/day-100.yaml`, a day of 5-minute ticks for 100 instances through the real function: {day['ticks']['count']} ticks in "
      f"{day['wallSeconds']:.1f} s of wall time (target: under 60 s), {day['fleet']['stops']} stops, {day['fleet']['sessionsInterrupted']} sessions interrupted.\n")
    w("## Cost of a tick (lab, AWS-like latency and rate limits)\n")
    w(f"Each API call takes {LATENCY['min']}-{LATENCY['max']} ms; SSM delivery {DELIVERY['min']}-{DELIVERY['max']} ms and execution "
      f"{EXECUTION['min']}-{EXECUTION['max']} ms; token buckets per operation: " +
      ", ".join(f"{r['operation']} {r['burst']} burst / {r['perSecond']} per s" for r in RATE_LIMITS) +
      ". Half the instances have a session, half are due to stop. One tick each, in a fresh (cold) function process, except "
      f"the *{WARM}* rows: the second of two ticks in one process (`warm_scenario`: the first tick keeps the idle half, "
      "11 minutes idle; the second stops it), the steady state of a 5-minute schedule, where SSM's managed-node listing "
      "(reused for 15 minutes) and the first poll's timing (from the last tick's answers) carry over; their calls are "
      "the ones the lab received during that tick. The function's own tick line gives the time. "
      f"The function polls as deployed (`AUTOSTOP_PROBE_POLL_MILLISECONDS` {DEFAULT_POLL_MS}, its default) unless the row says "
      f"{LAB_POLL_MS} ms (the lab's own setting, which round 1's rows used). "
      "Retry mode: the SDK's standard mode (the default), and for N = 5,000 also `AWS_RETRY_MODE=adaptive` on the same "
      f"throttled tick, with the function's timeout cut to {ADAPTIVE_CAP_S} s to bound the bench.\n")
    ops = sorted({op for r in rows for op in r["calls"]})
    w("| N | first poll (ms) | retry mode | " + " | ".join(ops) + " | calls / instance | throttled | first SendCommand at (s) | last probe finished at (s) | tick wall (s) | slowest probe drawn (ms) | floor (s) | wall / floor | peak RSS (MiB) | stopped | stale-observation skips | max observation age at a stop (s) | interrupted |")
    w("|---:|---:|---|" + "---:|" * len(ops) + "---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        total_calls = sum(r["calls"].values())
        wall = f"{r['tickMs'] / 1000:.2f}" if r["tickMs"] is not None else f"> {ADAPTIVE_CAP_S} (no tick end)"
        ratio = f"{r['tickMs'] / 1000 / r['floorS']:.2f}" if r["tickMs"] is not None else "-"
        w(f"| {r['n']} | {r['pollMs']} | {r['mode']} | " + " | ".join(str(r["calls"].get(op, 0)) for op in ops) +
          f" | {total_calls / r['n']:.3f} | {r['throttled'] if r['throttled'] is not None else '-'} | {r['toFirstSendS']:.2f} | {r['toLastFinishS']:.2f} | {wall} | {r['slowestProbeMs']:.0f} | {r['floorS']:.2f} | {ratio} | "
          f"{(r['peakRssKb'] or 0) / 1024:.0f} | {r['stopped']} | {r['stale']} | {age_text(r['ageMax'])} | {r['interrupted']} |")
    for r in rows:
        if r["crash"]:
            w(f"\nThe {r['mode']} N = {r['n']} run did not complete its tick within its {ADAPTIVE_CAP_S} s timeout: {r['crash']}")
    w("\nCalls are counted as the lab received them (throttled attempts included). The floor is the slowest probe the lab "
      "actually drew in that tick (send to finish: delivery + execution, from `summary.json` `probeRounds`, which "
      "`lab/Running/RunSummary.cs` now reports per tick), plus the time the buckets force for the calls no tick can avoid "
      "(ceil(N/1000) DescribeInstances, ceil(N/50) DescribeInstanceInformation, SendCommand and ListCommandInvocations, "
      f"ceil(stops/1000) StopInstances, one CreateTags), plus one call latency at the configured maximum ({LATENCY['max']} ms) "
      f"for each of the {UNAVOIDABLE_PHASES} sequential phases (the call latencies the lab drew are not reported; the "
      "maximum keeps the floor generous to the function). *First SendCommand at* and *last probe finished at* are seconds "
      "since the tick began (the lab's clock moves with real time in a tick): what comes before the first SendCommand is "
      "the inventory, SSM's managed-node listing and the Session Manager history.\n")

    w(f"Throttling that does not follow this caller's rate (other callers share the account's limits): the same "
      f"{RANDOM_THROTTLE_N:,}-instance tick with {RANDOM_THROTTLE:.0%} of SendCommand, ListCommandInvocations and CreateTags calls "
      f"refused at random on top of the rate limits, once in each retry mode (function timeout {ADAPTIVE_CAP_S} s).\n")
    w("| retry mode | calls | throttled | tick wall (s) | stopped | stale-observation skips (look age, s) | max observation age at a stop (s) | probe failures | interrupted |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in random_rows:
        wall = f"{r['tickMs'] / 1000:.2f}" if r["tickMs"] is not None else f"> {ADAPTIVE_CAP_S} (no tick end)"
        ages = f" ({r['staleAges'][0]:.1f} to {r['staleAges'][-1]:.1f})" if r["staleAges"] else ""
        w(f"| {r['mode']} | {r['calls']} | {r['throttled']} | {wall} | {r['stopped']} | {r['stale']}{ages} | {age_text(r['ageMax'])} | "
          f"{r['probeFailures'] if r['probeFailures'] is not None else '-'} | {r['interrupted']} |")
    for r in random_rows:
        if r["crash"]:
            w(f"\nThe {r['mode']} run did not complete its tick within its {ADAPTIVE_CAP_S} s timeout: {r['crash']}")
    w("")

    w("## A fresh look: observation age at each stop (issue 11, item 3)\n")
    h, rp = fresh["hang"], fresh["reprobe"]
    w(f"One tick over {FRESH_N} idle instances due to stop, one more whose probe hangs past the probe timeout, and a person "
      "arriving at another idle instance 15 s into the tick; the bench's latencies and rate limits, the lab's clock moving "
      "with real time (clockScale 1), the function's defaults (probe timeout 30 s, `AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS` 10, "
      "first poll 1 s), Native AOT. The age is the stop's virtual time minus the moment the probe it acted on ran "
      "(`summary.json` `stopObservations`). Streaming is what main does: decide and stop each batch of answers as it "
      "arrives. Re-probing the stop candidates just before stopping was not built; its cost is measured as what it adds: "
      f"one more probe round over the candidates, i.e. a tick over the same {FRESH_N} candidates without the hung one "
      "(its SendCommand and ListCommandInvocations calls, and its first SendCommand to its last stop). Re-probing after "
      "the first round means after the hung probe's timeout, so its tick wall is the first run's round plus that, and "
      "its looks are as old as the second round makes them.\n")
    reprobe_phase = rp["lastStopS"] - rp["firstSendS"]
    w("| design | stops | observation age at stop: max (s) | median (s) | target (s) | tick wall (s) | SSM SendCommand + ListCommandInvocations calls | a session live at a stop |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    w(f"| streaming (main, measured) | {h['stops']} | {h['ageMax']:.3f} | {h['ageP50']:.3f} | 10 | {h['wallS']:.2f} | {h['send']} + {h['list']} | {h['liveAtStop']} |")
    w(f"| re-probe candidates before stopping (first round measured above + one more round over the {rp['stops']} candidates, measured) | "
      f"{rp['stops']} | {rp['ageMax']:.3f} (if each re-probe answer is stopped as it arrives); up to {reprobe_phase:.3f} (if stopped once the round is in) | "
      f"{rp['ageP50']:.3f} | 10 | {h['wallS']:.2f} + {reprobe_phase:.2f} = {h['wallS'] + reprobe_phase:.2f} | "
      f"{h['send']} + {h['list']} + {rp['send']} + {rp['list']} = {h['send'] + h['list'] + rp['send'] + rp['list']} | - |")
    w(f"\nStreaming run: first SendCommand {h['firstSendS']:.2f} s into the tick, last probe that answered finished at "
      f"{h['lastFinishS']:.2f} s, stops from {h['firstStopS']:.2f} s to {h['lastStopS']:.2f} s, tick end {h['wallS']:.2f} s; "
      f"decisions {h['decisions']}; the hung instance: {h['hung'].get('hangs')}. " + arrival_text(h["arrives"]) + " "
      f"Its own probe round (first SendCommand to the last answer drawn) took {h['lastFinishS'] - h['firstSendS']:.2f} s, "
      f"the re-probe run's {rp['lastFinishS'] - rp['firstSendS']:.2f} s (first SendCommand at {rp['firstSendS']:.2f} s, last stop at "
      f"{rp['lastStopS']:.2f} s, {rp['stopCalls']} StopInstances calls).\n")

    w(f"## Scale: {big['n']:,} instances in one tick (issue 14)\n")
    w(f"Half in use, half due to stop; the bench's latencies and rate limits; the function's timeout from "
      f"`templates/template.yaml` ({big['timeoutS']} s) as the lab's deadline; Native AOT, default poll.\n")
    wall = f"{big['tickMs'] / 1000:.1f}" if big["tickMs"] is not None else f"no tick end ({big['crash']})"
    w("| figure | measured | target |")
    w("|---|---:|---:|")
    w(f"| tick wall (s) | {wall} | within the {big['timeoutS']}-s timeout |")
    w(f"| instances decided (decision lines) | {big['decided']:,} | {big['n']:,} |")
    w(f"| peak RSS of the function (MiB) | {(big['peakRssKb'] or 0) / 1024:.0f} | within MemorySize {big['memoryMb']} MB |")
    w(f"| stopped / interrupted | {big['stopped']:,} / {big['interrupted']} | {big['n'] - big['n'] // 2:,} / 0 |")
    w(f"| API calls (throttled) | {sum(big['calls'].values()):,} ({big['throttled']:,}): "
      + ", ".join(f"{k} {v}" for k, v in sorted(big["calls"].items())) + " | - |")
    w(f"\nDecisions: {big['decisions']}; deadline reached: {big['deadlineReached']}; slowest probe drawn {big['slowestProbeMs']:.0f} ms. "
      f"Stop observations: max age {big['ageMax']} s over {big['stopped']} stops. A `skip/stale-observation` is an idle instance due "
      "to stop whose look was older than `AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS` (10 s) when its stop would have been sent"
      + (f"; here {len(big['staleAges']):,} of them, looks {big['staleAges'][0]:.1f} to {big['staleAges'][-1]:.1f} s old (median "
         f"{statistics.median(big['staleAges']):.1f} s, from the decision messages)" if big["staleAges"] else "") +
      f". Where the time went (seconds since the tick began): first SendCommand at {big['toFirstSendS']:.1f}, last at "
      f"{big['lastSendS']:.1f}, last probe finished at {big['toLastFinishS']:.1f}, tick end at "
      f"{(big['tickMs'] or 0) / 1000:.1f}.\n")

    w(f"## Cold start: Native AOT vs JIT (same code, {COLD_RUNS} runs each, alternating; medians)\n")
    w("| build | process start to first Runtime API request (ms) | every run (ms) | to the end of the first tick (ms) | peak RSS (MiB) |")
    w("|---|---:|---|---:|---:|")
    for fn in ("aot", "jit"):
        c = cold[fn]
        w(f"| {fn.upper()} | {c['coldStartMs']:.1f} | {', '.join(f'{v:.1f}' for v in c['coldStartRuns'])} | {c['firstTickMs']:.1f} | {(c['peakRssKb'] or 0) / 1024:.0f} |")
    ratio = cold["jit"]["coldStartMs"] / cold["aot"]["coldStartMs"] if cold["aot"]["coldStartMs"] else float("nan")
    ratio_tick = cold["jit"]["firstTickMs"] / cold["aot"]["firstTickMs"] if cold["aot"]["firstTickMs"] else float("nan")
    w(f"\nJIT / AOT (medians): {ratio:.1f}x to the first request, {ratio_tick:.1f}x to the end of the first tick (10 instances).")
    alone = read_coldstart()
    w(f"The targets table takes the first request from `bench/coldstart` (the function alone against a listener, "
      f"{alone['runs']} runs of each build, alternating, in this same `bench/run.sh`): AOT {alone['aot']['wallMs']:.1f} ms, "
      f"JIT {alone['jit']['wallMs']:.1f} ms, {alone['jit']['wallMs'] / alone['aot']['wallMs']:.1f}x; {COLD_RUNS} runs through the lab "
      "(above) are too few for a steady median of a few milliseconds.\n")

    w("## Monthly cost per 1,000 instances (us-east-1 list prices)\n")
    made = cost["made"]
    kinds = ", ".join(f"{k} {v / N_COST:.1f}" for k, v in sorted(cost["bytes_default"].items(), key=lambda kv: -kv[1]))
    w(f"Lambda: {TICKS_PER_MONTH} ticks a month (every 5 minutes) x the measured {cost['duration_s']:.2f} s tick for N = 1,000 at 256 MB, "
      f"${PRICES['lambda_gb_s']}/GB-s and $0.20 per million requests. Logs: the measured {cost['default_log_bytes']} bytes a tick "
      f"with the template's defaults (bytes per instance by kind of line: {kinds}; a decision line averages "
      f"{cost['decision_bytes_mean']:.0f} bytes) = {cost['log_gb']:.2f} GB a month at ${PRICES['logs_gb']}/GB; "
      f"`InstanceMetrics=true` adds the measured {cost['instance_emf_bytes']} bytes a tick of per-instance EMF lines "
      f"(a run of the same tick with `AUTOSTOP_INSTANCE_METRICS=true`) and a custom metric per instance. "
      f"Custom metrics ${PRICES['metric_month']} each a month (8 fleet metrics), alarms ${PRICES['alarm_month']}, dashboards "
      f"${PRICES['dashboard_month']:.2f}, PutMetricData $0.01 per 1,000 requests. What `templates/template.yaml` creates, read "
      "from it with its Conditions evaluated for each column (an AlertEmail given wherever alarms exist): alarms "
      + ", ".join(f"{n} ({c or 'always'})" for n, c in made["alarms"].items()) + "; dashboards "
      + ", ".join(f"{n} ({c or 'always'})" for n, c in made["dashboards"].items()) + "; Contributor Insights rules "
      + ", ".join(f"{n} ({c or 'always'})" for n, c in made["insightRules"].items()) +
      f". The rule is priced as if every decision line matched it ({TICKS_PER_MONTH * N_COST / 1e6:.2f} million a month; it "
      "counts only ticks in use), an upper bound. SSM Run Command on EC2 instances and the EC2/SSM API calls are free. EMF "
      "metrics cost as custom metrics, with no PutMetricData requests. SNS email notifications (AlertEmail) are not counted.\n")
    w(f"Sessions per instance without the paid metric: the saved Logs Insights query *Sessions per instance* scans the "
      f"decision log when it runs, ${cost['query_month_cost']:.3f} for 30 days of 1,000 instances at "
      f"${PRICES['logs_insights_gb_scanned']}/GB scanned, nothing when it is not run; each view of the dashboard runs its "
      f"two log widgets over 3 hours (${cost['dashboard_view_cost']:.5f}). Organisation rollout: a member stack without "
      f"dashboard and alarms costs the organisation-member column; the monitoring account (`templates/monitoring-account.yaml`) "
      f"adds one dashboard per region, ${cost['monitoring_account']:.2f} a month, whatever the number of accounts; sharing "
      "metrics and logs through the OAM link costs nothing more.\n")
    w(f"Prices (us-east-1 list prices): {PRICE_SOURCES}\n")
    w("| item | " + " | ".join(cost_table) + " |")
    w("|---|" + "---:|" * len(cost_table))
    items = sorted({k for t in cost_table.values() for k in t})
    for item in items:
        w(f"| {item} | " + " | ".join(f"${t[item]:.2f}" if item in t else "-" for t in cost_table.values()) + " |")
    w("| **total** | " + " | ".join(f"**${sum(t.values()):.2f}**" for t in cost_table.values()) + " |")
    w("")
    out.insert(targets_at, targets_table(scores, fresh, rows, big, cold, cost_table, cost, jupyter))
    with open(os.path.join(BENCH, "RESULTS.md"), "w") as f:
        f.write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
