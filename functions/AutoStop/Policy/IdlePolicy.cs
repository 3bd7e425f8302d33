using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Probing;

namespace AutoStop.Policy;

/// <summary>
/// What says when the instance was last in use, besides the probe's own report: Session Manager's record of sessions
/// (a session wholly between two ticks leaves no process behind), and the last tick this process saw it in use.
/// </summary>
/// <param name="LastSsmSessionEnd">End of its last Session Manager session (MaxValue: ending right now).</param>
/// <param name="SsmSessionOpen">Session Manager lists a session open on it now.</param>
/// <param name="SessionHistoryKnown">False when Session Manager's history could not be read this tick: then no idle stop is safe.</param>
/// <param name="FirstTickAfterUse">The tick after the last one (in this process's memory) that saw it in use: the person
/// left somewhere between the two, so the idle clock cannot start before it.</param>
public sealed record ActivityEvidence(DateTimeOffset? LastSsmSessionEnd = null, bool SsmSessionOpen = false, bool SessionHistoryKnown = true,
    DateTimeOffset? FirstTickAfterUse = null)
{
    public static readonly ActivityEvidence None = new();
}

/// <summary>Everything the policy looks at for one screened, running instance. <paramref name="NextTickIn"/>: the schedule
/// period, when known: an instance that will reach its threshold by then, with people on it the policy ignores, gets a notice.</summary>
public sealed record PolicyInput(InstanceRecord Instance, InstanceSettings Settings, ProbeOutcome Probe, DateTimeOffset Now, bool DryRun,
    ActivityEvidence? Evidence = null, TimeSpan? NextTickIn = null);

/// <summary>
/// The idle policy: one pure function, no I/O, no clock. Instance, settings, probe result, stored idle state, other
/// evidence of use and now in; action, reason, message and the idle state to store out. Every branch names its reason.
/// The idle clock starts at the last activity anything shows (never earlier): AutoStop:IdleSince is only an upper bound
/// on idleness, so a stale one (a failed clear) can never shorten the threshold when there is later evidence of use.
/// </summary>
public static class IdlePolicy
{
    /// <summary>An instance started again this soon after AutoStop stopped it counts as a quick restart (issue 13): a
    /// person wanted it, so the stop was probably wrong. Published as the QuickRestarts metric.</summary>
    public static readonly TimeSpan QuickRestartWindow = TimeSpan.FromMinutes(30);

    public static Decision Decide(PolicyInput input)
    {
        var decision = DecideCore(input);
        var (instance, settings) = (input.Instance, input.Settings);
        // The first decision after a restart of an instance AutoStop stopped says how soon it was started again. Only when
        // it really was started after the stop (LaunchTime past StoppedAt): a StoppedAt left by a stop that never went out
        // is cleared without a word.
        if (settings.StoppedAt is { } stoppedAt && instance.LaunchTime is { } launched && launched > stoppedAt)
        {
            var after = (long)(launched - stoppedAt).TotalSeconds;
            var quick = after <= (long)QuickRestartWindow.TotalSeconds;
            decision = decision with
            {
                RestartedAfterSeconds = after,
                Message = decision.Message + $" Started again {Minutes(after)} after AutoStop stopped it" +
                    (quick ? $" (a quick restart: within {Minutes((long)QuickRestartWindow.TotalSeconds)})." : "."),
            };
        }
        return decision;
    }

    private static Decision DecideCore(PolicyInput input)
    {
        var (instance, settings, probe, now, dryRun, evidence, nextTickIn) = input;
        evidence ??= ActivityEvidence.None;
        var threshold = settings.ThresholdSeconds;

        // An instance AutoStop stopped is running again (EC2 moves LaunchTime to its last start): forget the old idle period
        // on this first sighting. A StoppedAt newer than the last start is an intent tag whose stop never happened (the
        // tick was cut short, or EC2 refused): the instance ran on, its idle period stands, only the tag goes.
        var restarted = settings.StoppedAt is { } stoppedAt && (instance.LaunchTime is not { } lastStart || lastStart >= stoppedAt);
        var storedIdleSince = restarted ? null : settings.IdleSince;
        var baseChange = restarted ? new IdleStateChange(ClearStoppedAt: true, ClearIdleSince: settings.IdleSince is not null)
            : settings.StoppedAt is not null ? new IdleStateChange(ClearStoppedAt: true) : IdleStateChange.None;

        if (probe.Status != ProbeStatus.Ok || probe.Report is null)
            return Decision.Skip(ProbeReason(probe), ProbeMessage(probe), threshold, baseChange);
        var report = probe.Report;

        if (settings.SnoozeUntil is { } snooze && snooze > now)
            return new Decision(DecisionAction.Keep, ReasonCodes.Snoozed,
                $"Snoozed until {SettingValues.FormatTime(snooze)} ({Minutes(Seconds(snooze - now))} from now).", null, threshold, baseChange);

        var activity = Activity(report, settings) ?? (evidence.SsmSessionOpen
            ? (ReasonCodes.ActiveSessions, "Session Manager lists a session open on this instance.")
            : null);
        if (activity is not null)
        {
            var change = storedIdleSince is not null ? baseChange with { ClearIdleSince = true } : baseChange;
            return new Decision(DecisionAction.Keep, activity.Value.Reason, activity.Value.Message, 0, threshold, change);
        }

        // A signal this instance's tags rely on could not be read: it may be in use, so it is not stopped, and the idle
        // clock restarts (IdleSince cleared, as for use) so the unread time never counts as idle.
        if (UnknownSignal(report, settings) is { } unknown)
        {
            var change = storedIdleSince is not null ? baseChange with { ClearIdleSince = true } : baseChange;
            return Decision.Skip(ReasonCodes.SignalUnknown, $"Not stopped: {unknown}; the idle clock starts again once it can be read.", threshold, change);
        }

        // Idle now. The idle clock starts at the latest of: the stored IdleSince (the first tick that saw it idle), the
        // last SSH login or logout, the end of the last Session Manager session, the first tick after one that saw it in use, the current
        // run's start and the end of a snooze. A first idle tick records now: the person may have left just before it.
        string? stateNote = null;
        if (storedIdleSince is { } stored && stored > now)
        {
            stateNote = $" The stored {IdleSinceTagName} {SettingValues.FormatTime(stored)} was in the future, so it was rewritten to now.";
            storedIdleSince = null;
        }
        // Writing the tag replaces any stale value, so a set never goes with a clear.
        var idleChange = storedIdleSince is null ? baseChange with { SetIdleSince = now, ClearIdleSince = false } : baseChange;
        var start = storedIdleSince ?? now;
        var startNote = storedIdleSince is null ? "first seen idle now" : $"idle since {SettingValues.FormatTime(start)}";
        void Later(DateTimeOffset? when, Func<string> note)
        {
            if (when is { } t && t > start) { start = t > now ? now : t; startNote = note(); }
        }
        Later(Ago(now, report.LastLoginAgeSeconds), () => $"last login {Minutes(report.LastLoginAgeSeconds!.Value)} ago");
        Later(Ago(now, report.LastLogoutAgeSeconds), () => $"last logout {Minutes(report.LastLogoutAgeSeconds!.Value)} ago");
        Later(evidence.LastSsmSessionEnd, () => $"last Session Manager session ended {Minutes(Seconds(now - Min(evidence.LastSsmSessionEnd!.Value, now)))} ago");
        Later(evidence.FirstTickAfterUse, () => "the tick before this one saw it in use");
        Later(instance.LaunchTime, () => $"started {Minutes(Seconds(now - instance.LaunchTime!.Value))} ago");
        if (settings.SnoozeUntil is { } ended && ended <= now) Later(ended, () => $"snooze ended at {SettingValues.FormatTime(ended)}");
        var idleSeconds = Math.Max(0, Seconds(now - start));

        if (instance.LaunchTime is { } launched && Seconds(now - launched) < threshold)
            return new Decision(DecisionAction.Keep, ReasonCodes.BootGrace,
                $"Started {Minutes(Seconds(now - launched))} ago, within the {Minutes(threshold)} boot grace.{stateNote}", idleSeconds, threshold, idleChange);

        // Hibernation only where EC2 says it is configured; elsewhere EC2 would refuse it, so it is a plain stop, said so.
        var hibernate = settings.Action == StopAction.Hibernate && instance.HibernationConfigured;
        if (idleSeconds < threshold)
        {
            var below = new Decision(DecisionAction.Keep, ReasonCodes.IdleBelowThreshold,
                $"No sessions; idle {Minutes(idleSeconds)} of {Minutes(threshold)} ({startNote}).{stateNote}", idleSeconds, threshold, idleChange);
            // Due at the next tick, and people are on it in ways that do not count: tell them now, where they are. Not in a
            // dry run (it acts on nothing), and only when the next tick is known.
            if (!dryRun && nextTickIn is { } period && idleSeconds + Seconds(period) >= threshold && IgnoredPresence(report, settings) is { } audience)
                return below with { Notice = new StopNotice(now + period, hibernate, audience) };
            return below;
        }

        if (!evidence.SessionHistoryKnown)
            return Decision.Skip(ReasonCodes.NoSessionHistory,
                $"Idle {Minutes(idleSeconds)} by what the probe saw, but Session Manager's session history could not be read this tick, so a session since the last tick cannot be ruled out; left running.",
                threshold, idleChange) with { IdleSeconds = idleSeconds };

        var fallback = settings.Action == StopAction.Hibernate && !hibernate ? "hibernation-not-configured" : null;
        var what = hibernate ? "hibernate" : fallback is null ? "stop" : "stop (hibernation is not configured on this instance, so a plain stop)";
        if (dryRun)
            return new Decision(DecisionAction.WouldStop, ReasonCodes.DryRun,
                $"Idle {Minutes(idleSeconds)} (threshold {Minutes(threshold)}, {startNote}); dry run, so it would {what} but was left running.", idleSeconds, threshold, idleChange)
                { Fallback = fallback };

        return new Decision(hibernate ? DecisionAction.Hibernate : DecisionAction.Stop, ReasonCodes.IdleThresholdReached,
            $"Idle {Minutes(idleSeconds)} (threshold {Minutes(threshold)}, {startNote}): {what}.", idleSeconds, threshold, idleChange)
        {
            Fallback = fallback,
            StopReasonText = StopReasonText(hibernate ? "hibernate" : "stop", idleSeconds, threshold),
        };
    }

    /// <summary>KEY:StopReason: at most 256 characters (EC2's value limit) of letters, digits, spaces and : / - + . only
    /// (characters every AWS tagging API accepts), e.g. "stop: idle 15+ min / threshold 15 min". The idle time is rounded
    /// down to a coarse step (5 min, then hours, then days) because CreateTags sets one value for all the instances it
    /// names: exact per-instance times would cost a call per stopped instance, steps cost a few per tick. KEY:StoppedAt
    /// says when; the decision line has the exact figures.</summary>
    internal static string StopReasonText(string action, long idleSeconds, long thresholdSeconds) =>
        $"{action}: idle {IdleStep(idleSeconds)} / threshold {Minutes(thresholdSeconds)}";

    /// <summary>"15+ min", "3+ h", "4+ days": at least this long, in steps few enough that a tick's stops share a handful of values.</summary>
    internal static string IdleStep(long idleSeconds)
    {
        var minutes = Math.Max(0, idleSeconds) / 60;
        if (minutes < 120) return $"{minutes / 5 * 5}+ min";
        if (minutes < 48 * 60) return $"{minutes / 60}+ h";
        return $"{minutes / (24 * 60)}+ days";
    }

    /// <summary>Why a signal the settings rely on is unknown this tick, or null when every one they use was read.</summary>
    public static string? UnknownSignal(ProbeReport report, InstanceSettings settings)
    {
        if (settings.ActivePorts is { } ports)
        {
            if (report.InboundConnections is null)
                return "inbound connections could not be read (the probe says why in probeErrors), and ActivePorts relies on them";
            var unlisted = ports.Where(p => !report.InboundConnections.ContainsKey(p)).ToList();
            if (report.InboundConnectionsOther is > 0 && unlisted.Count > 0)
                return $"{Plural(report.InboundConnectionsOther.Value, "inbound connection")} went to ports beyond the 8 busiest the probe lists, and one of ActivePorts ({string.Join(",", unlisted)}) may be among them";
        }
        if (settings.BusyGpuPercent is not null && report.GpuStatus is null or "failed")
            return report.GpuStatus is null
                ? "the probe does not report GPU utilization (older than 1.4.0), and BusyGpuPercent relies on it"
                : "nvidia-smi gave no GPU utilization this tick (see probeErrors), and BusyGpuPercent relies on it";
        if (settings.BusyProcesses is not null && report.BusyProcesses is null)
            return "the probe does not report busy processes (older than 1.4.0), and BusyProcesses relies on them";
        return null;
    }

    private const string IdleSinceTagName = "IdleSince";

    /// <summary>People on an idle instance in ways the policy does not count, or null: terminals all idle past
    /// IgnoreIdleTerminalsAfter (what <see cref="Activity"/> drops), and tmux/screen sessions when they do not count.</summary>
    public static string? IgnoredPresence(ProbeReport report, InstanceSettings settings)
    {
        var parts = new List<string>();
        var terminals = report.SshSessions + report.RemoteShellSessions;
        if (settings.IgnoreIdleTerminalsAfterMinutes is { } limit && terminals > 0)
            parts.Add($"{Plural(terminals, "terminal")} idle past IgnoreIdleTerminalsAfter ({Minutes(limit * 60L)})");
        if (!settings.CountMultiplexers && report.MultiplexerSessions > 0)
            parts.Add($"{Plural(report.MultiplexerSessions, "tmux/screen session")} (not counted)");
        return parts.Count == 0 ? null : string.Join(" and ", parts);
    }

    /// <summary>The first thing that makes the instance count as in use, or null when idle.</summary>
    public static (string Reason, string Message)? Activity(ProbeReport report, InstanceSettings settings)
    {
        var ssh = report.SshSessions;
        var remote = report.RemoteShellSessions;
        // Forgotten terminals: only when every connection is a terminal (SSH without one, e.g. VS Code, is never
        // forgotten) and even the freshest terminal, SSH or mosh/et, is idle past the limit.
        if (settings.IgnoreIdleTerminalsAfterMinutes is { } limit && ssh + remote > 0 && report.SshNoTtySessions == 0
            && report.MinTtyIdleSeconds is { } minIdle && minIdle >= limit * 60L)
        {
            ssh = 0;
            remote = 0;
        }
        if (ssh > 0 || remote > 0 || report.SsmSessions > 0)
        {
            var users = report.Users.Count > 0 ? " (" + string.Join(", ", report.Users) + ")" : "";
            var shells = remote > 0 ? $", {Plural(remote, "remote-shell session")} ({string.Join(", ", report.RemoteShellKinds)})" : "";
            return (ReasonCodes.ActiveSessions, $"{Plural(ssh, "SSH session")}{shells} and {Plural(report.SsmSessions, "Session Manager session")}{users}.");
        }
        // Web and remote-desktop ports (opt-in): established inbound connections from non-loopback peers are people.
        if (settings.ActivePorts is { } ports && report.InboundConnections is { } inbound)
        {
            var used = inbound.Where(p => ports.Contains(p.Key)).OrderBy(p => p.Key).ToList();
            if (used.Count > 0)
                return (ReasonCodes.ActivePorts, $"{Plural(used.Sum(p => p.Value), "inbound connection")} to ActivePorts: " +
                    string.Join(", ", used.Select(p => $"{p.Key} ({p.Value})")) + ".");
        }
        // A safety rule, not a setting: stopping mid-patch can leave a machine that does not boot.
        if (report.SystemBusy.Count > 0)
            return (ReasonCodes.SystemBusy, $"Maintenance at work: {string.Join("; ", report.SystemBusy)}.");
        if (report.KeepAliveSeconds is { } left && left > 0)
            return (ReasonCodes.KeepAlive, $"Keep-alive marker set for {Minutes(left)} more.");
        if (settings.BusyLoadPerCpu is { } busy && report.Load1 / report.CpuCount >= busy)
            return (ReasonCodes.BusyLoad, $"Load {report.Load1:0.##} on {report.CpuCount} CPU(s) is at or above {busy:0.##} per CPU: busy.");
        if (settings.BusyGpuPercent is { } gpu && report.GpuUtilizationPercent is { } utilization && utilization >= gpu)
            return (ReasonCodes.BusyGpu, $"GPU utilization {utilization}% is at or above {gpu}%: busy.");
        if (settings.BusyProcesses is { } names && report.BusyProcesses is { } running
            && running.Where(r => names.Contains(r, StringComparer.Ordinal)).ToList() is { Count: > 0 } matched)
            return (ReasonCodes.BusyProcesses, $"Running: {string.Join(", ", matched)} (BusyProcesses).");
        if (settings.CountMultiplexers && report.MultiplexerSessions > 0)
            return (ReasonCodes.MultiplexerSessions, $"{Plural(report.MultiplexerSessions, "tmux/screen session")} alive.");
        return null;
    }

    private static string ProbeReason(ProbeOutcome probe) => probe.CallFailure is { } failure && Aws.AwsErrors.IsAccessDenied(failure)
        ? ReasonCodes.AccessDenied
        : probe.Status switch
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
        ProbeStatus.InvalidOutput => $"Not observed, so not stopped: the probe output is invalid: {probe.Detail}.",
        _ => $"Not observed, so not stopped: {probe.Detail}.",
    };

    /// <summary>now minus an age the probe reported, or null when the age is out of any representable range (a
    /// nonsense age is no evidence, and must not throw).</summary>
    private static DateTimeOffset? Ago(DateTimeOffset now, long? seconds)
    {
        if (seconds is not { } s || s < 0) return null;
        var maxBack = (now - DateTimeOffset.MinValue).TotalSeconds;
        return s >= maxBack ? null : now.AddSeconds(-s);
    }

    private static long Seconds(TimeSpan span) => (long)span.TotalSeconds;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    internal static string Minutes(long seconds)
    {
        if (seconds < 60) return $"{seconds} s";
        var minutes = seconds / 60;
        if (minutes < 120) return $"{minutes} min";
        return minutes % 60 == 0 ? $"{minutes / 60} h" : $"{minutes / 60} h {minutes % 60} min";
    }

    private static string Plural(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";
}
