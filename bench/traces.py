"""Seeded session traces for a fleet over 7 days, and the lab scenario that replays them.

Minute resolution; t = minutes since the start (a Monday, 00:00 UTC). Each instance has person sessions
(kind ssh|ssm|mosh, user, tty, from, to, idleAfter for a terminal forgotten open; kind port, with port and count, for
a person working only in a browser: Jupyter's established connections), keep-alive windows (batch jobs),
load windows and busy windows (maintenance: a Patch Manager run, nobody logged in). A person arriving at a stopped
instance starts it (every method is judged on the same rule); maintenance never starts one.

The first 50 instances are the round-1 week, drawn from `seed` exactly as before. What round 2 added (issue 11) is
drawn from a second generator (seed + 1), so the round-1 traces stay identical: mosh users, Session Manager sessions
wholly between two ticks, and a weekly patch window.
"""
import json
import random
from datetime import datetime, timedelta, timezone

START = datetime(2026, 11, 23, tzinfo=timezone.utc)  # a Monday
DAYS = 7
MINUTES = DAYS * 24 * 60


def iso(t):
    return (START + timedelta(minutes=t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def session(kind, user, tty, start, end, idle_after=None):
    s = {"kind": kind, "user": user, "tty": tty, "from": int(start), "to": int(end)}
    if idle_after is not None:
        s["idleAfter"] = int(idle_after)
    return s


def port_session(user, port, count, start, end):
    """A person in a browser (Jupyter on 8888): `count` established connections to `port` from their laptop, no shell."""
    return {"kind": "port", "user": user, "tty": False, "port": port, "count": count, "from": int(start), "to": int(end)}


def workday_blocks(rng, day):
    """Morning and afternoon blocks of a working day, in minutes since start."""
    base = day * 1440
    arrive = base + rng.randint(8 * 60 + 30, 9 * 60 + 45)
    lunch = base + rng.randint(12 * 60, 12 * 60 + 45)
    back = lunch + rng.randint(30, 75)
    leave = base + rng.randint(17 * 60, 19 * 60)
    return [(arrive, lunch), (back, leave)]


TICK_MINUTES = 5  # the schedule the week is replayed with (to_scenario), which "between two ticks" refers to
PATCH_DAY, PATCH_FROM, PATCH_MINUTES = 1, 3 * 60, 40  # the weekly patch window: Tuesday 03:00-03:40 UTC


def between_ticks(rng, after):
    """A Session Manager session wholly between two ticks, starting a few minutes after `after`: it begins 1 or 2
    minutes past a tick and ends before the next one, so no tick sees it live; only SSM's history knows it."""
    t = after + rng.randint(4, 12)
    while t % TICK_MINUTES not in (1, 2):
        t += 1
    length = rng.randint(1, TICK_MINUTES - 1 - t % TICK_MINUTES)
    return t, t + length


def generate(seed=42):
    rng = random.Random(seed)
    instances = []

    def add(name, kind):
        inst = {"name": name, "archetype": kind, "sessions": [], "keepAlive": [], "load": [], "busy": []}
        instances.append(inst)
        return inst

    for i in range(20):  # terminal users; three of them log in as root
        inst = add(f"dev-{i + 1:02d}", "dev")
        user = "root" if i < 3 else f"dev{i + 1}"
        for day in range(DAYS):
            weekend = day >= 5
            if weekend and rng.random() > 0.1:
                continue
            blocks = workday_blocks(rng, day)
            for n, (a, b) in enumerate(blocks):
                if n == 1 and rng.random() < 0.15:  # forgotten open terminal: stays open until the next morning
                    inst["sessions"].append(session("ssh", user, True, a, b + rng.randint(10 * 60, 15 * 60), idle_after=b - a))
                else:
                    inst["sessions"].append(session("ssh", user, True, a, b))
            for _ in range(rng.randint(0, 3)):  # scp / rsync: a minute or two, no terminal
                t = day * 1440 + rng.randint(8 * 60, 20 * 60)
                inst["sessions"].append(session("ssh", user, False, t, t + rng.randint(1, 3)))
    for i in range(10):  # VS Code Remote / Cloud9: long connections without a terminal
        inst = add(f"ide-{i + 1:02d}", "ide")
        for day in range(5):
            for a, b in workday_blocks(rng, day):
                inst["sessions"].append(session("ssh", f"ide{i + 1}", False, a, b))
    for i in range(6):  # Session Manager only
        inst = add(f"ssm-{i + 1:02d}", "ssm")
        for day in range(5):
            t = day * 1440 + rng.randint(8 * 60 + 30, 10 * 60)
            for _ in range(rng.randint(2, 4)):
                length = rng.randint(30, 120)
                inst["sessions"].append(session("ssm", f"ssm{i + 1}", True, t, t + length))
                t += length + rng.randint(20, 90)
    for i in range(5):  # CI targets: short connections, some as root
        inst = add(f"ci-{i + 1:02d}", "ci")
        for day in range(DAYS):
            for _ in range(rng.randint(5, 20) if day < 5 else rng.randint(0, 3)):
                t = day * 1440 + rng.randint(6 * 60, 22 * 60)
                inst["sessions"].append(session("ssh", "root" if rng.random() < 0.4 else "ci", False, t, t + rng.randint(1, 3)))
    for i in range(4):  # long batch jobs holding a keep-alive; the owner logs in to start them
        inst = add(f"batch-{i + 1:02d}", "batch")
        for day in range(DAYS):
            if rng.random() < 0.3:
                continue
            t = day * 1440 + rng.randint(0, 23 * 60)
            length = rng.randint(180, 600)
            inst["sessions"].append(session("ssh", f"batch{i + 1}", True, t, t + 3))
            inst["keepAlive"].append({"from": t + 2, "until": t + length})
            inst["load"].append({"from": t + 2, "to": t + length, "value": 3.5})
    for i in range(5):  # started by hand at odd hours (nights, weekends)
        inst = add(f"odd-{i + 1:02d}", "odd")
        for _ in range(rng.randint(3, 5)):
            day = rng.randint(0, DAYS - 1)
            hour = rng.choice([0, 1, 2, 5, 6, 21, 22, 23]) if day < 5 else rng.randint(0, 23)
            t = day * 1440 + hour * 60 + rng.randint(0, 59)
            inst["sessions"].append(session("ssh", f"odd{i + 1}", True, t, t + rng.randint(30, 120)))
    add_round_two(instances, add, random.Random(seed + 1))
    for inst in instances:
        inst["sessions"] = [s for s in sorted(inst["sessions"], key=lambda s: s["from"]) if s["from"] < MINUTES]
        for s in inst["sessions"]:
            s["to"] = min(s["to"], MINUTES)
    return instances


def add_round_two(instances, add, rng):
    """Issue 11's additions, from their own generator (the round-1 instances' earlier draws are untouched)."""
    # Session Manager sessions wholly between two ticks: a person who left checks something through Session Manager
    # 4-12 minutes later for 1-3 minutes, on 30% of the terminal and IDE users' working afternoons.
    for inst in [i for i in instances if i["archetype"] in ("dev", "ide")]:
        for day in range(DAYS):
            ends = [s["to"] for s in inst["sessions"] if s["to"] // 1440 == day and s["to"] - s["from"] >= 60 and "idleAfter" not in s]
            if ends and rng.random() < 0.3:
                a, b = between_ticks(rng, max(ends))
                inst["sessions"].append(session("ssm", inst["sessions"][0]["user"] if inst["sessions"] else "ops", True, a, b))
    # mosh users (from laptops on flaky networks): one mosh session a working day, kept through lunch; 20% leave it
    # connected overnight with the terminal idle; sometimes an scp over SSH; sometimes a Session Manager check between
    # two ticks after they left.
    for i in range(6):
        inst = add(f"mosh-{i + 1:02d}", "mosh")
        user = f"mosh{i + 1}"
        for day in range(5):
            (a, _), (_, b) = workday_blocks(rng, day)
            if rng.random() < 0.2:
                inst["sessions"].append(session("mosh", user, True, a, b + rng.randint(10 * 60, 14 * 60), idle_after=b - a))
            else:
                inst["sessions"].append(session("mosh", user, True, a, b))
                if rng.random() < 0.3:
                    inst["sessions"].append(session("ssm", user, True, *between_ticks(rng, b)))
            if rng.random() < 0.5:
                t = day * 1440 + rng.randint(10 * 60, 16 * 60)
                inst["sessions"].append(session("ssh", user, False, t, t + rng.randint(1, 3)))
    # Operations hosts with a weekly patch window (Patch Manager, AWS-RunPatchBaseline): Tuesday 03:00-03:40, nobody
    # logged in. An operator works late on Monday night and leaves 2-14 minutes before the window opens, so the
    # instance is still running (not yet idle for the threshold) when the patch starts: a stop during the run cuts it.
    for i in range(6):
        inst = add(f"ops-{i + 1:02d}", "ops")
        user = f"ops{i + 1}"
        for day in range(5):
            a, b = workday_blocks(rng, day)[0]
            inst["sessions"].append(session("ssh", user, True, a, b))
        window = PATCH_DAY * 1440 + PATCH_FROM
        inst["sessions"].append(session("ssh", user, True, window - rng.randint(150, 240), window - rng.randint(2, 14)))
        inst["busy"].append({"kind": "patch", "from": window, "to": window + PATCH_MINUTES})


JUPYTER_PORT = 8888
JUPYTER_DAYS = 5  # Monday to Friday: the Jupyter scenario's length (bench.py replays it through the lab, under a minute)


def jupyter(seed=13, users=2):
    """Issue 13's Jupyter-only users: each works in a browser on the instance's Jupyter (port 8888, 2 established
    connections from their laptop: the page and the kernel's websocket), never over SSH or Session Manager, Monday to
    Friday. A working day is two to four browser sessions: the morning, then lunch (the laptop closed, the connections
    gone), then the afternoon, split by one or two meetings (10-40 minutes, the laptop asleep) on some days. Nothing runs
    when nobody is connected (no keep-alive, no batch job)."""
    rng = random.Random(seed)
    instances = []
    for i in range(users):
        user = f"analyst{i + 1}"
        inst = {"name": f"jupyter-{i + 1:02d}", "archetype": "jupyter", "sessions": [], "keepAlive": [], "load": [], "busy": []}
        for day in range(JUPYTER_DAYS):
            (arrive, lunch), (back, leave) = workday_blocks(rng, day)
            cuts = [arrive, lunch]
            t = back
            for _ in range(rng.choice([0, 1, 1, 2])):  # meetings in the afternoon
                meeting = t + rng.randint(45, 120)
                if meeting + 60 > leave:
                    break
                end = meeting + rng.randint(10, 40)
                cuts += [t, meeting]
                t = end
            cuts += [t, leave]
            for a, b in zip(cuts[::2], cuts[1::2]):
                inst["sessions"].append(port_session(user, JUPYTER_PORT, 2, a, b))
        instances.append(inst)
    return instances


def to_scenario(instances, tick_minutes=TICK_MINUTES, idle_minutes=15, extra_tags=None, clock_scale=0, days=DAYS):
    """The lab scenario (JSON, which the lab reads as YAML) that replays the traces through the real function.
    clock_scale: the lab clock during a tick. 0 by default: the traces are in whole minutes and every method is scored on
    them, and a moving clock puts each stop some milliseconds past its tick, which the lab's own minute-by-minute count
    reads as one more idle running minute and, for a person who arrives exactly 60 s after a stop, an arrival while the
    instance was still stopping (its stop takes 60 s in the lab). bench.py runs the week at 1 as well and reports both."""
    def session_json(s):
        if s["kind"] == "port":  # the lab's kind port: no tty key (a port session has no terminal)
            return {"kind": "port", "user": s["user"], "port": s["port"], "count": s["count"], "from": iso(s["from"]), "to": iso(s["to"])}
        out = {"kind": s["kind"], "user": s["user"], "tty": s["tty"], "from": iso(s["from"]), "to": iso(s["to"])}
        if "idleAfter" in s:
            out["idleAfter"] = f"{s['idleAfter']}m"
        return out

    return {
        "name": f"week-{len(instances)}" + ("-tagged" if extra_tags else "") + (f"-clock-{clock_scale:g}" if clock_scale else ""),
        "clockScale": clock_scale,
        "start": iso(0),
        "tickMinutes": tick_minutes,
        "duration": f"{days}d",
        "seed": 42,
        "functionTimeoutSeconds": 120,
        "config": {"AUTOSTOP_IDLE_MINUTES": str(idle_minutes)},
        "instances": [
            {
                "name": inst["name"],
                "id": "i-" + format(0x0B000000000000000 + n, "017x"),
                "tags": {"AutoStop": "true", **(extra_tags or {})},
                "launchTime": iso(-60),
                "sessions": [session_json(s) for s in inst["sessions"]],
                "keepAlive": [{"from": iso(k["from"]), "until": iso(k["until"])} for k in inst["keepAlive"]],
                "load": [{"from": iso(l["from"]), "to": iso(l["to"]), "value": l["value"]} for l in inst["load"]],
                "busy": [{"kind": b["kind"], "from": iso(b["from"]), "to": iso(b["to"])} for b in inst["busy"]],
            }
            for n, inst in enumerate(instances)
        ],
    }


if __name__ == "__main__":
    import sys
    out = sys.argv[1] if len(sys.argv) > 1 else "/dev/stdout"
    with open(out, "w") as f:
        json.dump(to_scenario(generate()), f, indent=1)
