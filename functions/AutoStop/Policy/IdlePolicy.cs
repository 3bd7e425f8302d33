using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Probing;

namespace AutoStop.Policy;

/// <summary>Everything the policy looks at for one screened, running instance.</summary>
public sealed record PolicyInput(InstanceRecord Instance, InstanceSettings Settings, ProbeOutcome Probe, DateTimeOffset Now, bool DryRun);

/// <summary>
/// The idle policy: one pure function, no I/O, no clock. Instance, settings, probe result, stored idle state
/// and now in; action, reason, message and the idle state to store out. Every branch names its reason.
/// </summary>
public static class IdlePolicy
{
    public static Decision Decide(PolicyInput input)
    {
        var (instance, settings, probe, now, dryRun) = input;
        var threshold = settings.ThresholdSeconds;

        // An instance AutoStop stopped is running again: forget the old idle period on this first sighting.
        var restarted = settings.StoppedAt is not null;
        var storedIdleSince = restarted ? null : settings.IdleSince;
        var baseChange = restarted ? new IdleStateChange(ClearStoppedAt: true, ClearIdleSince: settings.IdleSince is not null) : IdleStateChange.None;

        if (probe.Status != ProbeStatus.Ok || probe.Report is null)
            return Decision.Skip(ProbeReason(probe.Status), ProbeMessage(probe), threshold, baseChange);
        var report = probe.Report;

        if (settings.SnoozeUntil is { } snooze && snooze > now)
            return new Decision(DecisionAction.Keep, ReasonCodes.Snoozed,
                $"Snoozed until {SettingValues.FormatTime(snooze)} ({Minutes((long)(snooze - now).TotalSeconds)} from now).", null, threshold, baseChange);

        var activity = Activity(report, settings);
        if (activity is not null)
        {
            var change = storedIdleSince is not null ? baseChange with { ClearIdleSince = true } : baseChange;
            return new Decision(DecisionAction.Keep, activity.Value.Reason, activity.Value.Message, 0, threshold, change);
        }

        // Idle now. The idle period starts at the first idle tick, but never before a login seen since,
        // the current run's start, or the end of a snooze.
        // Writing the tag replaces any stale value, so a set never goes with a clear.
        var idleChange = storedIdleSince is null ? baseChange with { SetIdleSince = now, ClearIdleSince = false } : baseChange;
        var start = storedIdleSince ?? now;
        string startNote = storedIdleSince is null ? "first seen idle now" : $"idle since {SettingValues.FormatTime(start)}";
        if (report.LastLoginAgeSeconds is { } loginAge && now.AddSeconds(-loginAge) > start)
        {
            start = now.AddSeconds(-loginAge);
            startNote = $"last login {Minutes(loginAge)} ago";
        }
        if (instance.LaunchTime is { } launch && launch > start) { start = launch; startNote = $"started {Minutes((long)(now - launch).TotalSeconds)} ago"; }
        if (settings.SnoozeUntil is { } ended && ended > start && ended <= now) { start = ended; startNote = $"snooze ended at {SettingValues.FormatTime(ended)}"; }
        var idleSeconds = Math.Max(0, (long)(now - start).TotalSeconds);

        if (instance.LaunchTime is { } launched && (now - launched).TotalSeconds < threshold)
            return new Decision(DecisionAction.Keep, ReasonCodes.BootGrace,
                $"Started {Minutes((long)(now - launched).TotalSeconds)} ago, within the {Minutes(threshold)} boot grace.", idleSeconds, threshold, idleChange);

        if (idleSeconds < threshold)
            return new Decision(DecisionAction.Keep, ReasonCodes.IdleBelowThreshold,
                $"No sessions; idle {Minutes(idleSeconds)} of {Minutes(threshold)} ({startNote}).", idleSeconds, threshold, idleChange);

        if (dryRun)
            return new Decision(DecisionAction.WouldStop, ReasonCodes.DryRun,
                $"Idle {Minutes(idleSeconds)} (threshold {Minutes(threshold)}, {startNote}); dry run, so it would {ActionWord(settings.Action)} but was left running.", idleSeconds, threshold, idleChange);

        var action = settings.Action == StopAction.Hibernate ? DecisionAction.Hibernate : DecisionAction.Stop;
        return new Decision(action, ReasonCodes.IdleThresholdReached,
            $"Idle {Minutes(idleSeconds)} (threshold {Minutes(threshold)}, {startNote}): {ActionWord(settings.Action)}.", idleSeconds, threshold, idleChange);
    }

    /// <summary>The first thing that makes the instance count as in use, or null when idle.</summary>
    public static (string Reason, string Message)? Activity(ProbeReport report, InstanceSettings settings)
    {
        var ssh = report.SshSessions;
        // Forgotten terminals: only when every SSH connection is a terminal and even the freshest is idle past the limit.
        if (settings.IgnoreIdleTerminalsAfterMinutes is { } limit && ssh > 0 && report.SshNoTtySessions == 0
            && report.MinTtyIdleSeconds is { } minIdle && minIdle >= limit * 60L)
        {
            ssh = 0;
        }
        if (ssh > 0 || report.SsmSessions > 0)
        {
            var users = report.Users.Count > 0 ? " (" + string.Join(", ", report.Users) + ")" : "";
            return (ReasonCodes.ActiveSessions, $"{Plural(ssh, "SSH session")} and {Plural(report.SsmSessions, "Session Manager session")}{users}.");
        }
        if (report.KeepAliveSeconds is { } left && left > 0)
            return (ReasonCodes.KeepAlive, $"Keep-alive marker set for {Minutes(left)} more.");
        if (settings.BusyLoadPerCpu is { } busy && report.Load1 / report.CpuCount >= busy)
            return (ReasonCodes.BusyLoad, $"Load {report.Load1:0.##} on {report.CpuCount} CPU(s) is at or above {busy:0.##} per CPU: busy.");
        if (settings.CountMultiplexers && report.MultiplexerSessions > 0)
            return (ReasonCodes.MultiplexerSessions, $"{Plural(report.MultiplexerSessions, "tmux/screen session")} alive.");
        return null;
    }

    private static string ProbeReason(ProbeStatus status) => status switch
    {
        ProbeStatus.NotManaged => ReasonCodes.NotSsmManaged,
        ProbeStatus.UnsupportedPlatform => ReasonCodes.UnsupportedPlatform,
        ProbeStatus.Undeliverable => ReasonCodes.ProbeUndeliverable,
        ProbeStatus.TimedOut => ReasonCodes.ProbeTimedOut,
        ProbeStatus.InvalidOutput => ReasonCodes.ProbeInvalidOutput,
        _ => ReasonCodes.ProbeFailed,
    };

    private static string ProbeMessage(ProbeOutcome probe) => probe.Status switch
    {
        ProbeStatus.NotManaged => $"Not observed, so not stopped: {probe.Detail}.",
        ProbeStatus.UnsupportedPlatform => $"Not observed, so not stopped: {probe.Detail}.",
        ProbeStatus.InvalidOutput => $"Not observed, so not stopped: the probe output is invalid: {probe.Detail}.",
        _ => $"Not observed, so not stopped: {probe.Detail}.",
    };

    private static string ActionWord(StopAction action) => action == StopAction.Hibernate ? "hibernate" : "stop";

    internal static string Minutes(long seconds)
    {
        if (seconds < 60) return $"{seconds} s";
        var minutes = seconds / 60;
        if (minutes < 120) return $"{minutes} min";
        return minutes % 60 == 0 ? $"{minutes / 60} h" : $"{minutes / 60} h {minutes % 60} min";
    }

    private static string Plural(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";
}
