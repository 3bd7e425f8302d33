using AutoStop.Configuration;
using AutoStop.Policy;

namespace AutoStop.Cli;

/// <summary>One row of `autostop ls`: the tags' facts, and a plain-words status saying what AutoStop will do or did.</summary>
public sealed record InstanceStatus(
    PersonInstance Instance,
    bool OptedIn,
    DateTimeOffset? IdleSince,
    int ThresholdMinutes,
    DateTimeOffset? SnoozeUntil,
    DateTimeOffset? StoppedAt,
    string Status)
{
    /// <summary>The status in the function's terms: the same tag reader, the same idle arithmetic (README, "The idle policy":
    /// the idle period starts at IdleSince, never before the run's start or a snooze's end, and the instance is stopped at the
    /// first tick at or after threshold minutes of it; a run younger than the threshold is in boot grace).</summary>
    public static InstanceStatus Of(PersonInstance i, AutoStopConfig config, PersonClock clock)
    {
        var now = clock.Now;
        var optIn = OptInTag.Read(i.Tags, config, out var optInValue);
        var (_, problems) = i.Settings(config);
        var threshold = i.IdleMinutes(config);
        var idleSince = i.IdleSince(config);
        var snooze = i.SnoozeUntil(config);
        var stoppedAt = i.StoppedAt(config);
        string status;
        if (optIn != OptIn.OptedIn)
            status = optIn == OptIn.Padded
                ? $"AutoStop skips it: tag {config.TagKey}='{optInValue}' is not allowed: exactly true (any case) without spaces around it"
                : $"not opted in ({config.TagKey}='{optInValue}'): AutoStop leaves it alone";
        else if (problems.Count > 0)
            status = "AutoStop skips it: " + string.Join("; ", problems.Select(p => p.Describe()));
        else status = i.State switch
        {
            "running" => RunningStatus(i, clock, threshold, idleSince, snooze),
            "stopped" => stoppedAt is { } s ? $"stopped by AutoStop at {clock.Format(s)}{IdleFor(idleSince, s)}" : "stopped (not by AutoStop)",
            "stopping" => stoppedAt is { } s ? $"stopping: stopped by AutoStop at {clock.Format(s)}" : "stopping (not by AutoStop)",
            "pending" => "starting",
            _ => i.State,
        };
        return new InstanceStatus(i, optIn == OptIn.OptedIn, idleSince, threshold, snooze, stoppedAt, status);
    }

    private static string RunningStatus(PersonInstance i, PersonClock clock, int threshold, DateTimeOffset? idleSince, DateTimeOffset? snooze)
    {
        var now = clock.Now;
        if (snooze is { } until && until > now) return $"snoozed until {clock.Format(until)}";
        var limit = TimeSpan.FromMinutes(threshold);
        if (idleSince is not { } since)
            return "in use at the last tick (or not yet seen idle)";
        var start = since;
        if (snooze is { } ended && ended > start) start = ended;
        var stopsAt = start + limit;
        if (i.LaunchTime is { } launched && launched + limit > stopsAt) stopsAt = launched + limit; // boot grace
        var idle = now - start;
        return stopsAt > now
            ? $"idle {(int)Math.Max(0, idle.TotalMinutes)} min of {threshold}: stops at the first tick after {clock.Format(stopsAt)}"
            : $"idle {(int)Math.Max(0, idle.TotalMinutes)} min of {threshold}: stops at the next tick";
    }

    private static string IdleFor(DateTimeOffset? idleSince, DateTimeOffset stoppedAt) =>
        idleSince is { } since && since <= stoppedAt ? $" after {(int)(stoppedAt - since).TotalMinutes} idle minutes" : "";
}
