"""The stop methods AutoStop is compared with, simulated minute by minute on the same traces, and the scoring.

Every method sees the same people: a person arriving at a stopped instance starts it. Scores, per method:
- waste: instance-hours running while idle (no SSH/SSM/mosh session, no keep-alive, no maintenance) past the
  15-minute threshold;
- sessions interrupted: a person's session live when the instance was stopped (or begun while it was stopping);
- early stops: a stop with nothing live, sooner than the threshold after the last activity ended (the last session's
  end, a keep-alive's end, a patch run's end);
- keep-alive jobs cut: a batch job's keep-alive window live at a stop;
- patch runs cut: a maintenance (busy) window live at a stop;
- quick restarts: a stop after which a person started the instance again within QUICK_RESTART_MINUTES (30), the
  lab's rule (lab/Running/RunSummary.cs, QuickRestarts) applied to the method's stop timeline;
- stops per instance-day.
Maintenance is use for every score (the oracle keeps an instance up while it is patched).
"""
import random
from datetime import datetime

from traces import MINUTES, START, iso

THRESHOLD = 15
QUICK_RESTART_MINUTES = 30  # a start at most this long after a stop makes it a quick restart (the lab's and the function's 30)
# The stop rule every method below shares: minute t is the interval [t, t+1); a stop "at t" takes effect at the instant
# t, so minute t and later are not running. With the threshold at 15, an instance whose last activity ended at the
# instant T (minutes T..T+14 idle) is stopped at the instant T+15, exactly when it has been idle for 15 minutes, and
# not a minute sooner or later. The oracle stops there; the old method's alarm fires there (its 15th consecutive zero
# one-minute datapoint, the sample of minute T+14, is complete at T+15); score() counts waste from minute T+15 on.


def live(sessions, t):
    return [s for s in sessions if s["from"] <= t < s["to"]]


def sessions_at(inst, t, ignore_idle_terminals_after=None):
    """The person sessions live at minute t. By default a forgotten open terminal is a session (AutoStop does not cut
    it by default). With ignore_idle_terminals_after (minutes), the rule of AutoStop:IgnoreIdleTerminalsAfter
    (functions/AutoStop/Policy/IdlePolicy.cs, Activity) applies: when every live SSH session is a terminal and even the
    freshest has been idle at least that long, the SSH sessions are not sessions (Session Manager ones still are).
    mosh terminals count as SSH ones here (the probe's minTtyIdleSeconds covers remote-shell ptys)."""
    now = live(inst["sessions"], t)
    if ignore_idle_terminals_after is None:
        return now
    # The option covers SSH and remote-shell (mosh) terminals alike (README, What counts as use).
    shells = [s for s in now if s["kind"] in ("ssh", "mosh")]
    limit = ignore_idle_terminals_after
    if shells and all(s["tty"] and "idleAfter" in s and t - (s["from"] + s["idleAfter"]) >= limit for s in shells):
        return [s for s in now if s["kind"] not in ("ssh", "mosh")]
    return now


def busy_at(inst, t):
    return [b for b in inst.get("busy", []) if b["from"] <= t < b["to"]]


def active(inst, t, ignore_idle_terminals_after=None):
    return (bool(sessions_at(inst, t, ignore_idle_terminals_after)) or any(k["from"] <= t < k["until"] for k in inst["keepAlive"])
            or bool(busy_at(inst, t)))


def last_activity_end(inst, t):
    """The latest end, at or before minute t, of anything that is use: a session, a keep-alive, a busy window.
    Returns (end, what) or (None, None)."""
    ends = [(s["to"], f"{s['kind']} session of {s['user']} {iso(s['from'])} to {iso(s['to'])}") for s in inst["sessions"] if s["to"] <= t]
    ends += [(k["until"], f"keep-alive {iso(k['from'])} to {iso(k['until'])}") for k in inst["keepAlive"] if k["until"] <= t]
    ends += [(b["to"], f"{b['kind']} run {iso(b['from'])} to {iso(b['to'])}") for b in inst.get("busy", []) if b["to"] <= t]
    return max(ends) if ends else (None, None)


def arrivals(inst):
    return {s["from"] for s in inst["sessions"]}


def simulate(inst, wants_stop):
    """Runs one instance through the week. wants_stop(t, minutes_since_boot, state) -> bool is asked each running
    minute; returns the list of (stop_minute, start_minute_or_None) intervals as a stop timeline."""
    starts = arrivals(inst)
    running, boot, stops = True, -60, []
    state = {}
    for t in range(MINUTES):
        if not running:
            if t in starts:
                running, boot, state = True, t, {}
                stops[-1][1] = t
            continue
        if wants_stop(inst, t, t - boot, state):
            running = False
            stops.append([t, None])
    return stops


def oracle(inst, t, since_boot, state, ignore_idle_terminals_after=None):
    """Stops exactly when the instance has been idle for the threshold (see the rule above THRESHOLD)."""
    if active(inst, t, ignore_idle_terminals_after):
        state["idle"] = 0
        return False
    state["idle"] = state.get("idle", 0) + 1  # idle minutes including minute t
    return state["idle"] > THRESHOLD          # minutes t-15..t-1 idle: 15 whole idle minutes end at the instant t


# What `ps ax | grep sshd | grep '\[priv\]'` adds per live session. Filled only from what bench/old-method/establish.sh
# measured on a real sshd (load_establishment); the old method cannot be simulated before that ran.
GREP_SEES = {}
ESTABLISHMENT_CASES = ("user-tty", "user-notty", "root-tty", "root-notty", "preauth", "password-prompt", "ssm-session-worker", "mosh")


def parse_establishment(text):
    """establish.sh's output as {"openssh": version, "cases": {kind: {"sessions", "matches", "processes"}}}."""
    import re
    out = {"openssh": None, "cases": {}}
    for line in text.splitlines():
        if line.startswith("openssh "):
            out["openssh"] = line.split(" ", 1)[1].strip()
        m = re.match(r'^(\S+) sessions=(\d+) matches=(-?\d+) processes="(.*)"$', line.strip())
        if m:
            out["cases"][m[1]] = {"sessions": int(m[2]), "matches": int(m[3]), "processes": m[4]}
    missing = [c for c in ESTABLISHMENT_CASES if c not in out["cases"]]
    if missing or not out["openssh"]:
        raise SystemExit(f"establish.sh output is incomplete (missing: {', '.join(missing) or 'openssh version'}): "
                         "run bash bench/old-method/establish.sh (bench/run.sh does) before bench.py")
    return out


def load_establishment(path):
    """Takes the old method's model from what establish.sh measured on the real sshd: a user or root session counts
    as the larger of its tty and notty matches; a Session Manager session as the ssm-session-worker case; a mosh session
    as the mosh case (measured once mosh's SSH bootstrap login had closed: that login lasts about a second at the
    session's start, so a once-a-minute sample almost never sees it, and the model leaves it out)."""
    with open(path) as f:
        measured = parse_establishment(f.read())
    seen = {k: c["matches"] for k, c in measured["cases"].items()}
    GREP_SEES[("ssh", False)] = max(seen["user-tty"], seen["user-notty"])
    GREP_SEES[("ssh", True)] = max(seen["root-tty"], seen["root-notty"])
    GREP_SEES[("ssm", False)] = GREP_SEES[("ssm", True)] = seen["ssm-session-worker"]
    GREP_SEES[("mosh", False)] = GREP_SEES[("mosh", True)] = seen["mosh"]
    # A person in a browser on Jupyter (kind port) holds TCP connections to Jupyter's server, a python process; no sshd
    # process exists for it, so `grep sshd` has nothing to match. Not a measurement: there is nothing to measure.
    GREP_SEES[("port", False)] = GREP_SEES[("port", True)] = 0
    return measured


def grep_count(inst, t):
    return sum(GREP_SEES[(s["kind"], s["user"] == "root")] for s in live(inst["sessions"], t))


def old_method(inst, t, since_boot, state):
    """Samples the grep every minute (cron, the datapoint of minute t) and stops when the per-instance alarm sees 15 of
    15 consecutive one-minute datapoints at 0: the 15th zero datapoint (minute t-1) is complete at the instant t, so the
    stop lands at t, 15 minutes after the last non-zero sample's minute ended (the same instant as the oracle when the
    grep sees everything). The alarm sees only its datapoints, so a session that begins at t is cut."""
    if state.get("zeros", 0) >= THRESHOLD:  # datapoints t-15..t-1 all zero
        return True
    state["zeros"] = 0 if grep_count(inst, t) > 0 else state.get("zeros", 0) + 1
    return False


def cpu_model(seed):
    rng = random.Random(seed)

    def cpu(inst, t):
        load = 1.0
        for s in live(inst["sessions"], t):
            idle_terminal = "idleAfter" in s and t >= s["from"] + s["idleAfter"]
            if idle_terminal:
                continue
            if s["kind"] == "ssm":
                load += rng.uniform(5, 30) if rng.random() < 0.3 else 0.3
            elif s["kind"] == "mosh":  # a terminal like SSH's, plus mosh-server's own screen updates
                load += rng.uniform(5, 40) if rng.random() < 0.35 else 0.6
            elif s["tty"]:
                load += rng.uniform(5, 40) if rng.random() < 0.35 else 0.5
            else:
                load += rng.uniform(3, 20) if rng.random() < 0.5 else 0.5
        if any(k["from"] <= t < k["until"] for k in inst["keepAlive"]):
            load += rng.uniform(60, 95)
        if busy_at(inst, t):  # a patch run: downloads (little CPU) and package installs (much), in turns
            load += rng.uniform(20, 90) if rng.random() < 0.6 else rng.uniform(1, 4)
        return min(load, 100.0)

    return cpu


def cpu_alarm(threshold=5.0, seed=7):
    """A CloudWatch CPUUtilization alarm: average below `threshold` % for three 5-minute periods, then stop. Same rule
    as the others: a period [t-5, t) is complete at the instant t, and the third low one stops the instance at t."""
    cpu = cpu_model(seed)

    def decide(inst, t, since_boot, state):
        samples = state.setdefault("samples", [])
        if t % 5 == 0 and samples:  # the period that ended at the instant t
            state["low"] = state.get("low", 0) + 1 if sum(samples) / len(samples) < threshold else 0
            state["samples"] = samples = []
            if state["low"] >= 3:
                return True
        samples.append(cpu(inst, t))
        return False

    return decide


def oracle_ignoring_idle_terminals(minutes):
    """The oracle when a terminal idle past `minutes` is not a session (AutoStop:IgnoreIdleTerminalsAfter)."""
    return lambda inst, t, since_boot, state: oracle(inst, t, since_boot, state, minutes)


def score(inst, stops, ignore_idle_terminals_after=None):
    """Waste, interruptions, early stops, cut jobs, cut patch runs and stop count of one instance under a stop
    timeline. With ignore_idle_terminals_after, a terminal idle past that limit is not a session: its idle time is
    waste and cutting it is no interruption (early stops are then not scored: None)."""
    stopped_at = {s for s, _ in stops}
    running = [True] * MINUTES
    for s, e in stops:
        for t in range(s, e if e is not None else MINUTES):
            running[t] = False
    waste, idle, was_running = 0, 0, True
    for t in range(MINUTES):
        if not running[t]:
            was_running = False
            continue
        if not was_running:
            idle = 0
        was_running = True
        if active(inst, t, ignore_idle_terminals_after):
            idle = 0
            continue
        idle += 1
        if idle > THRESHOLD:
            waste += 1
    # A session is interrupted when it is live at the instant of a stop, or began while the instance was stopping.
    # Traces are in whole minutes, a stop lands at the start of minute t and stopping lasts 60 s (the lab's
    # LabInstance.StopDuration), i.e. [t, t+1): the only session start inside it is from == t, which from <= t < to
    # already counts (the lab's own count, RunSummary.Interrupted, uses the same definition).
    interrupted = sum(1 for t in stopped_at for s in sessions_at(inst, t, ignore_idle_terminals_after))
    cut = sum(1 for k in inst["keepAlive"] for t in stopped_at if k["from"] <= t < k["until"])
    patches = sum(len(busy_at(inst, t)) for t in stopped_at)
    early = None if ignore_idle_terminals_after is not None else early_stops(inst, stopped_at)
    # Minutes a person was in a session while the instance was not running (cut by a stop and not back until their next
    # arrival): what the interruptions cost them.
    lost = sum(1 for x in inst["sessions"] for t in range(x["from"], x["to"]) if not running[t])
    return {"wasteMinutes": waste, "interrupted": interrupted, "jobsCut": cut, "patchesCut": patches,
            "early": len(early) if early is not None else None, "earlyStops": early or [], "stops": len(stops),
            "quickRestarts": len(quick_restarts(stops)), "lostMinutes": lost,
            "quickRestartList": [{"instance": inst["name"], "stop": b, "start": e} for b, e in quick_restarts(stops)]}


def quick_restarts(stops):
    """The stops (stop_minute, start_minute) after which the instance was started again within QUICK_RESTART_MINUTES:
    in every method's simulation and in the lab, a person arriving at the stopped instance is what starts it."""
    return [(s, e) for s, e in stops if e is not None and e - s <= QUICK_RESTART_MINUTES]


def minutes_after_last_use(inst, stops):
    """For each stop with nothing live: minutes since the last use ended (a session's, a keep-alive's, a patch run's)."""
    out = []
    for t, _ in stops:
        if not active(inst, t):
            end, _what = last_activity_end(inst, t)
            if end is not None:
                out.append(t - end)
    return out


def early_stops(inst, stopped_at):
    """Stops with nothing live that came sooner than the threshold after the last activity ended, each as
    {instance, stop, lastEnd, minutesAfter, what} (minutes since START; a stop "at t" lands at the instant t)."""
    out = []
    for t in sorted(stopped_at):
        if active(inst, t):
            continue  # counted as an interruption (or a cut job / patch), not as early
        end, what = last_activity_end(inst, t)
        if end is not None and t - end < THRESHOLD:
            out.append({"instance": inst["name"], "stop": t, "lastEnd": end, "minutesAfter": t - end, "what": what})
    return out


def timeline_to_stops(timeline, start=START):
    """The lab's state timeline (summary.json) as (stop_minute, start_minute) intervals."""
    stops = []
    for change in timeline:
        t = int((datetime.strptime(change["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=start.tzinfo) - start).total_seconds() // 60)
        if change["state"] == "stopping":
            stops.append([t, None])
        elif change["state"] in ("running", "pending") and stops and stops[-1][1] is None:
            stops[-1][1] = t
    return stops
