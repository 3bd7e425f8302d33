using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Running;

/// <summary>
/// Judges a run against what really happened in the scenario: sessions a stop interrupted, idle minutes AutoStop did
/// not save (from the moment an instance's threshold was reached until it stopped or the run ended), probe failures,
/// API calls. Written as DIR/summary.json; the log and the EMF metrics go to DIR/log.jsonl and DIR/metrics.json.
/// </summary>
public static class RunSummary
{
    public static JsonObject Build(LabRunResult run)
    {
        var scenario = run.Scenario;
        var tagKey = scenario.Config.GetValueOrDefault("AUTOSTOP_TAG_KEY") ?? "AutoStop";
        var defaultMinutes = int.TryParse(scenario.Config.GetValueOrDefault("AUTOSTOP_IDLE_MINUTES"), CultureInfo.InvariantCulture, out var m) ? m : 15;
        var decisions = Events(run.Log, "decision");
        // Grouped once: looking each instance's lines up in the whole log is quadratic (20,000 instances: minutes).
        var decisionsByInstance = decisions.ToLookup(d => d["instanceId"]?.GetValue<string>() ?? "", StringComparer.Ordinal);

        var instances = new JsonArray();
        var observations = Observations(run.Fleet);
        var allNotices = run.Fleet.Notices.All();
        var noticesByInstance = allNotices.ToLookup(n => n.InstanceId, StringComparer.Ordinal);
        double? maxObservationAge = null;
        int totalInterrupted = 0, totalStops = 0, totalProbeFailures = 0, totalBusyInterrupted = 0, totalQuickRestarts = 0;
        double totalWaste = 0, totalRunning = 0;
        foreach (var instance in run.Fleet.Instances)
        {
            var mine = decisionsByInstance[instance.Id].ToList();
            var optedIn = instance.Spec.Tags.TryGetValue(tagKey, out var v) && v.Equals("true", StringComparison.OrdinalIgnoreCase);
            var threshold = TimeSpan.FromMinutes(instance.Spec.Tags.TryGetValue(tagKey + ":IdleMinutes", out var t) && int.TryParse(t, CultureInfo.InvariantCulture, out var tm) ? tm : defaultMinutes);
            var stops = instance.Timeline.Where(c => c.State == "stopping").ToList();
            var interrupted = Interrupted(instance, stops).ToList();
            // Maintenance a stop cut off (a patch run half applied, a package manager mid-transaction).
            var busyInterrupted = stops.SelectMany(stop => instance.Spec.Busy.Where(b => b.IsLiveAt(stop.Time)).Select(b => (Busy: b, StopTime: stop.Time))).ToList();
            totalBusyInterrupted += busyInterrupted.Count;
            var (waste, running) = IdleNotSaved(instance, scenario, threshold);
            var probeFailures = mine.Count(d => d["probeStatus"]?.GetValue<string>() is { } s && s != "ok");
            var notices = noticesByInstance[instance.Id].ToList();
            var stopObservations = stops.Select(stop => (Stop: stop, ObservedAt: LastObservation(observations, instance.Id, stop.Time))).ToList();
            foreach (var (stop, observedAt) in stopObservations)
                if (observedAt is { } o) maxObservationAge = Math.Max(maxObservationAge ?? 0, (stop.Time - o).TotalSeconds);
            var quickRestarts = QuickRestarts(instance).ToList();
            totalQuickRestarts += quickRestarts.Count;
            totalInterrupted += interrupted.Count;
            totalStops += stops.Count;
            totalProbeFailures += probeFailures;
            if (optedIn) totalWaste += waste;
            totalRunning += running;
            instances.Add(new JsonObject
            {
                ["instanceId"] = instance.Id,
                ["name"] = instance.Spec.Tags.GetValueOrDefault("Name") ?? instance.Spec.Name,
                ["optedIn"] = optedIn,
                ["finalState"] = instance.State,
                ["timeline"] = new JsonArray(instance.Timeline.Select(c => (JsonNode)new JsonObject
                {
                    ["time"] = Time(c.Time), ["state"] = c.State, ["cause"] = c.Cause,
                }).ToArray()),
                ["stops"] = new JsonArray(stops.Select(s => (JsonNode)JsonValue.Create(Time(s.Time))!).ToArray()),
                // Per stop: when it landed and when the last probe that answered before it looked at the instance, both in
                // virtual time to the millisecond; the age is what the function decided on (null: no probe answered first).
                ["stopObservations"] = new JsonArray(stopObservations.Select(x => (JsonNode)new JsonObject
                {
                    ["time"] = PreciseTime(x.Stop.Time),
                    ["observedAt"] = x.ObservedAt is { } o ? PreciseTime(o) : null,
                    ["observationAgeSeconds"] = x.ObservedAt is { } a ? Math.Round((x.Stop.Time - a).TotalSeconds, 3) : null,
                }).ToArray()),
                ["sessionsInterrupted"] = new JsonArray(interrupted.Select(s => (JsonNode)new JsonObject
                {
                    ["kind"] = s.Session.Kind.ToString().ToLowerInvariant(), ["user"] = s.Session.User,
                    ["from"] = Time(s.Session.From), ["to"] = Time(s.Session.To), ["stoppedAt"] = Time(s.StopTime),
                }).ToArray()),
                ["busyInterrupted"] = new JsonArray(busyInterrupted.Select(b => (JsonNode)new JsonObject
                {
                    ["kind"] = b.Busy.Name, ["from"] = Time(b.Busy.From), ["to"] = Time(b.Busy.To), ["stoppedAt"] = PreciseTime(b.StopTime),
                }).ToArray()),
                ["idleMinutesNotSaved"] = Math.Round(waste, 1),
                ["runningMinutes"] = Math.Round(running, 1),
                ["quickRestarts"] = new JsonArray(quickRestarts.Select(q => (JsonNode)new JsonObject
                {
                    ["stoppedAt"] = PreciseTime(q.StoppedAt), ["startedAt"] = PreciseTime(q.StartedAt),
                    ["minutesAfter"] = Math.Round((q.StartedAt - q.StoppedAt).TotalMinutes, 1),
                }).ToArray()),
                ["probeFailures"] = probeFailures,
                // Stop notices delivered to it (issue 13), and when: the fleet's notices array has each one's details.
                ["notices"] = notices.Count,
                ["noticeTimes"] = new JsonArray(notices.Select(n => (JsonNode)JsonValue.Create(PreciseTime(n.At))!).ToArray()),
                ["decisions"] = Counts(mine, d => $"{d["action"]?.GetValue<string>()}/{d["reason"]?.GetValue<string>()}"),
            });
        }

        var tickLines = Events(run.Log, "tick");
        var functionCalls = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var tick in tickLines)
            foreach (var (op, count) in tick["apiCalls"]?.AsObject() ?? [])
                functionCalls[op] = functionCalls.GetValueOrDefault(op) + count!.GetValue<int>();

        return new JsonObject
        {
            ["scenario"] = scenario.Name,
            ["start"] = Time(scenario.Start),
            ["end"] = Time(scenario.End),
            ["tickMinutes"] = scenario.TickPeriod.TotalMinutes,
            ["function"] = new JsonObject
            {
                ["build"] = run.Build.ToString().ToLowerInvariant(),
                ["crashed"] = run.Crashed,
                ["crashReason"] = run.CrashReason,
                ["coldStartMs"] = Round(run.ColdStartMs),
                ["firstTickMs"] = Round(run.FirstTickMs),
                ["peakRssKb"] = run.PeakRssKb,
                ["invocationErrors"] = run.Ticks.Count(t => !t.Succeeded),
            },
            ["ticks"] = new JsonObject
            {
                ["count"] = run.Ticks.Count,
                ["wallMsTotal"] = Math.Round(run.Ticks.Sum(t => t.WallMs), 1),
                ["wallMsMax"] = Math.Round(run.Ticks.Select(t => t.WallMs).DefaultIfEmpty(0).Max(), 1),
                ["wallMsMean"] = Math.Round(run.Ticks.Select(t => t.WallMs).DefaultIfEmpty(0).Average(), 1),
                ["tickDurationMsMax"] = tickLines.Select(l => l["durationMs"]?.GetValue<long>() ?? 0).DefaultIfEmpty(0).Max(),
                // Per tick: its time, the lab's wall and the calls the lab received during it (a warm tick's cost apart from the cold one's).
                ["each"] = new JsonArray(run.Ticks.Select(t => (JsonNode)new JsonObject
                {
                    ["time"] = Time(t.Time),
                    ["wallMs"] = Math.Round(t.WallMs, 1),
                    ["apiCalls"] = Object(t.LabCalls ?? new Dictionary<string, int>()),
                }).ToArray()),
            },
            ["fleet"] = new JsonObject
            {
                ["instances"] = run.Fleet.Instances.Count,
                ["stops"] = totalStops,
                ["sessionsInterrupted"] = totalInterrupted,
                ["busyInterrupted"] = totalBusyInterrupted,
                ["observationAgeSecondsMax"] = maxObservationAge is { } max ? Math.Round(max, 3) : null,
                ["idleMinutesNotSaved"] = Math.Round(totalWaste, 1),
                ["runningMinutes"] = Math.Round(totalRunning, 1),
                ["probeFailures"] = totalProbeFailures,
                ["notices"] = allNotices.Count,
                // Stops someone undid within 30 minutes: what the lab saw (the truth), and what the function's tick lines counted.
                ["quickRestarts"] = totalQuickRestarts,
                ["quickRestartsLogged"] = tickLines.Sum(l => l["quickRestarts"]?.GetValue<int>() ?? 0),
                ["decisions"] = Counts(decisions, d => $"{d["action"]?.GetValue<string>()}/{d["reason"]?.GetValue<string>()}"),
            },
            ["instances"] = instances,
            // Every stop notice delivered (the notice document's invocations that reached a running, SSM-online
            // instance), in virtual delivery order, with the StopAt and Action the function sent.
            ["notices"] = new JsonArray(allNotices.Select(n => (JsonNode)new JsonObject
            {
                ["instanceId"] = n.InstanceId,
                ["name"] = n.InstanceName,
                ["time"] = PreciseTime(n.At),
                ["stopAt"] = n.StopAt,
                ["action"] = n.Action,
                ["terminals"] = n.Terminals,
                ["tmuxClients"] = n.TmuxClients,
            }).ToArray()),
            ["probeRounds"] = ProbeRounds(run.Fleet, scenario.ClockScale),
            ["apiCalls"] = Object(run.Gate.Calls),
            ["apiCallsByFunction"] = Object(functionCalls.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary()),
            ["throttledCalls"] = Object(run.Gate.Throttled),
            ["throttledCallsTotal"] = run.Gate.Throttled.Values.Sum(),
            ["injectedErrors"] = Object(run.Gate.Errors),
            ["logBytes"] = run.Log.Sum(l => (long)l.Length + 1),
            ["wallSeconds"] = Math.Round(run.WallSeconds, 2),
        };
    }

    /// <summary>Starts by the instance's person within 30 minutes of a stop StopInstances (AutoStop) caused: the lab's own
    /// count of quick restarts (issue 13), from the state timeline, independent of what the function logged.</summary>
    private static IEnumerable<(DateTimeOffset StoppedAt, DateTimeOffset StartedAt)> QuickRestarts(LabInstance instance)
    {
        DateTimeOffset? stoppedAt = null;
        foreach (var change in instance.Timeline)   // bounded: the instance's state changes in the run
        {
            if (change.State == "stopping" && change.Cause.Contains("StopInstances", StringComparison.Ordinal)) stoppedAt = change.Time;
            else if (change.State is "running" or "pending" && stoppedAt is { } s && change.Cause.StartsWith("started", StringComparison.Ordinal))
            {
                if (change.Time - s <= TimeSpan.FromMinutes(30)) yield return (s, change.Time);
                stoppedAt = null;
            }
        }
    }

    /// <summary>Writes log.jsonl, metrics.json and summary.json into <paramref name="directory"/>.</summary>
    public static JsonObject Write(LabRunResult run, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, "log.jsonl"), run.Log);
        if (run.FunctionStderr.Count > 0) File.WriteAllLines(Path.Combine(directory, "stderr.log"), run.FunctionStderr);
        var metrics = new JsonArray(Events(run.Log, "metrics").Select(ToMetric).ToArray());
        File.WriteAllText(Path.Combine(directory, "metrics.json"), metrics.ToJsonString(Indented));
        var summary = Build(run);
        File.WriteAllText(Path.Combine(directory, "summary.json"), summary.ToJsonString(Indented));
        return summary;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Every probe that answered (Success), by instance: the virtual moments it looked, in order.</summary>
    private static Dictionary<string, List<DateTimeOffset>> Observations(LabFleet fleet)
    {
        var byInstance = new Dictionary<string, List<DateTimeOffset>>(StringComparer.Ordinal);
        foreach (var command in fleet.Commands.All().Where(c => !c.IsNotice))
            foreach (var invocation in command.Invocations)
                if (invocation is { FinalStatus: "Success", ObservedAt: { } at })
                    (byInstance.TryGetValue(invocation.InstanceId, out var list) ? list : byInstance[invocation.InstanceId] = []).Add(at);
        foreach (var list in byInstance.Values) list.Sort();
        return byInstance;
    }

    /// <summary>
    /// Per tick, the probe round as the lab drew it: the SSM delivery and execution latency of every invocation
    /// (ssm.deliveryMs, ssm.executionMs: drawn at SendCommand), so a tick's floor can be computed from the slowest probe
    /// actually simulated rather than the configured maximum. A tick's commands are told apart by the Comment the
    /// function gives them ("AutoStop tick TIME"). Times are virtual (the lab clock is linear within a tick, so a real
    /// moment maps to ObservedAt minus its real distance x clockScale); latencies are real milliseconds.
    /// </summary>
    private static JsonArray ProbeRounds(LabFleet fleet, double clockScale)
    {
        var rounds = new JsonArray();
        foreach (var tick in fleet.Commands.All().Where(c => !c.IsNotice).GroupBy(c => c.Comment, StringComparer.Ordinal))
        {
            var commands = tick.OrderBy(c => c.RequestedAt).ToList();
            var drawn = commands.SelectMany(c => c.Invocations.Select(v => (Command: c, Invocation: v))).ToList();
            var delivery = drawn.Select(x => (x.Invocation.DeliveredAt - x.Command.RequestedAt).TotalMilliseconds).ToList();
            var finished = drawn.Where(x => x.Invocation.FinishedAt is not null && x.Invocation.ObservedAt is not null).ToList();
            var execution = finished.Select(x => (x.Invocation.FinishedAt!.Value - x.Invocation.DeliveredAt).TotalMilliseconds).ToList();
            var probe = finished.Select(x => (x.Invocation.FinishedAt!.Value - x.Command.RequestedAt).TotalMilliseconds).ToList();
            var round = new JsonObject
            {
                ["comment"] = tick.Key,
                ["commands"] = commands.Count,
                ["invocations"] = drawn.Count,
                ["finished"] = finished.Count,
                ["neverFinished"] = drawn.Count - finished.Count,
                ["deliveryMs"] = Stats(delivery),
                ["executionMs"] = Stats(execution),
                // Send to finish of each invocation (delivery + execution): the slowest is the round's probe floor.
                ["probeMs"] = Stats(probe),
                ["slowestProbeMs"] = probe.Count > 0 ? Math.Round(probe.Max(), 1) : null,
            };
            if (finished.Count > 0)
            {
                // One finished invocation anchors real time to the tick's virtual time (linear within the tick).
                var anchor = finished[0].Invocation;
                DateTimeOffset Virtual(DateTimeOffset real) => anchor.ObservedAt!.Value + TimeSpan.FromTicks((long)((real - anchor.FinishedAt!.Value).Ticks * clockScale));
                var lastFinish = finished.Max(x => x.Invocation.FinishedAt!.Value);
                round["firstSendAt"] = PreciseTime(Virtual(commands[0].RequestedAt));
                round["lastSendAt"] = PreciseTime(Virtual(commands[^1].RequestedAt));
                round["lastFinishAt"] = PreciseTime(Virtual(lastFinish));
                // Real milliseconds from the first SendCommand to the last invocation that finished.
                round["roundMs"] = Math.Round((lastFinish - commands[0].RequestedAt).TotalMilliseconds, 1);
                round["sendSpanMs"] = Math.Round((commands[^1].RequestedAt - commands[0].RequestedAt).TotalMilliseconds, 1);
            }
            rounds.Add(round);
        }
        return rounds;
    }

    private static JsonObject Stats(List<double> values)
    {
        if (values.Count == 0) return new JsonObject { ["count"] = 0 };
        values.Sort();
        return new JsonObject
        {
            ["count"] = values.Count,
            ["min"] = Math.Round(values[0], 1),
            ["mean"] = Math.Round(values.Average(), 1),
            ["p50"] = Math.Round(values[(values.Count - 1) / 2], 1),
            ["max"] = Math.Round(values[^1], 1),
        };
    }

    /// <summary>The last look at the instance at or before <paramref name="stop"/>: the probe the stop was decided on.</summary>
    private static DateTimeOffset? LastObservation(Dictionary<string, List<DateTimeOffset>> observations, string instanceId, DateTimeOffset stop) =>
        observations.TryGetValue(instanceId, out var list) ? list.Where(t => t <= stop).Select(t => (DateTimeOffset?)t).LastOrDefault() : null;

    /// <summary>A session was interrupted when it was live at a stop, or began while the instance was stopping.</summary>
    private static IEnumerable<(SessionSpec Session, DateTimeOffset StopTime)> Interrupted(LabInstance instance, List<StateChange> stops)
    {
        foreach (var stop in stops)
            foreach (var session in instance.Spec.Sessions.Where(s => s.IsPersonSession))
                if (session.IsLiveAt(stop.Time) || (session.From > stop.Time && session.From < stop.Time + LabInstance.StopDuration))
                    yield return (session, stop.Time);
    }

    /// <summary>Minutes the instance ran idle past its threshold (waste), and minutes it ran at all, minute by minute.</summary>
    private static (double Waste, double Running) IdleNotSaved(LabInstance instance, Scenario scenario, TimeSpan threshold)
    {
        double waste = 0, running = 0;
        var idleSince = scenario.Start;
        var wasRunning = false;
        for (var t = scenario.Start; t < scenario.End; t += TimeSpan.FromMinutes(1))
        {
            var isRunning = StateAt(instance, t) == "running";
            if (!isRunning) { wasRunning = false; continue; }
            if (!wasRunning) idleSince = t; // a start: idle time counts from here
            wasRunning = true;
            running++;
            var active = instance.Spec.Sessions.Any(s => s.IsPersonSession && s.IsLiveAt(t)) || instance.Spec.KeepAlive.Any(k => k.Contains(t))
                || instance.Spec.Busy.Any(b => b.IsLiveAt(t));
            if (active) { idleSince = t + TimeSpan.FromMinutes(1); continue; }
            if (t - idleSince >= threshold) waste++;
        }
        return (waste, running);
    }

    private static string StateAt(LabInstance instance, DateTimeOffset t)
    {
        var state = instance.Timeline[0].State;
        foreach (var change in instance.Timeline)
        {
            if (change.Time > t) break;
            state = change.State;
        }
        return state;
    }

    private static JsonObject ToMetric(JsonObject line)
    {
        var aws = line["_aws"]!.AsObject();
        var definition = aws["CloudWatchMetrics"]![0]!.AsObject();
        var values = new JsonObject();
        foreach (var metric in definition["Metrics"]!.AsArray())
        {
            var name = metric!["Name"]!.GetValue<string>();
            values[name] = line[name]?.DeepClone();
        }
        var dimensions = new JsonObject();
        foreach (var set in definition["Dimensions"]!.AsArray())
            foreach (var dimension in set!.AsArray())
            {
                var name = dimension!.GetValue<string>();
                dimensions[name] = line[name]?.DeepClone();
            }
        return new JsonObject
        {
            ["time"] = Time(DateTimeOffset.FromUnixTimeMilliseconds(aws["Timestamp"]!.GetValue<long>())),
            ["namespace"] = definition["Namespace"]?.DeepClone(),
            ["dimensions"] = dimensions,
            ["values"] = values,
        };
    }

    internal static List<JsonObject> Events(IEnumerable<string> log, string kind)
    {
        var events = new List<JsonObject>();
        foreach (var line in log)
        {
            if (!line.StartsWith('{')) continue;
            try
            {
                if (JsonNode.Parse(line) is JsonObject o && o["event"]?.GetValue<string>() == kind) events.Add(o);
            }
            catch (JsonException) { }
        }
        return events;
    }

    private static JsonObject Counts(IEnumerable<JsonObject> lines, Func<JsonObject, string> key)
    {
        var result = new JsonObject();
        foreach (var group in lines.GroupBy(key).OrderBy(g => g.Key, StringComparer.Ordinal)) result[group.Key] = group.Count();
        return result;
    }

    private static JsonObject Object(IReadOnlyDictionary<string, int> counts)
    {
        var result = new JsonObject();
        foreach (var (key, value) in counts) result[key] = value;
        return result;
    }

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 1) : null;

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string PreciseTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
