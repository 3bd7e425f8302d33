using AutoStop.Aws;
using AutoStop.Policy;
using AutoStop.Probing;

namespace AutoStop.Reporting;

/// <summary>
/// What one tick did, for the "tick" log line, the EMF fleet metrics and the Lambda response.
/// Instances: running-or-transitional tagged instances decided this tick (stopped ones are only counted for savings).
/// ProbeFailures: probes delivered that failed, timed out or printed invalid output (worth an alarm).
/// Unobservable: instances that cannot be observed at all (no SSM agent or offline, not Linux, undeliverable, refused by
/// IAM, at the tag limit): a standing condition for a person to fix, not an alarm.
/// </summary>
public sealed record TickSummary(
    DateTimeOffset Time,
    int Instances,
    int Probed,
    int Active,
    int Idle,
    int Stopped,
    int Skipped,
    int Failed,
    int WouldStop,
    int ProbeFailures,
    int Unobservable,
    int StillStoppedByAutoStop,
    double InstanceHoursSaved,
    int PreauthConnections,
    bool DryRun,
    bool DeadlineReached,
    bool Completed,
    long DurationMs,
    IReadOnlyDictionary<string, int> ApiCalls,
    int IsolationCalls)
{
    /// <summary>Instances AutoStop stopped that someone started again within 30 minutes, seen on their first decision after
    /// the restart (the false-stop rate, issue 13).</summary>
    public int QuickRestarts { get; init; }

    /// <summary>Instances whose ignored terminals got the stop notice this tick (due to stop at the next one).</summary>
    public int Warned { get; init; }

    /// <summary>Attempts AWS refused as throttled this tick, the SDK's retries included (<see cref="ThrottleGate"/>).</summary>
    public int ThrottledAttempts { get; init; }

    public static TickSummary Empty(DateTimeOffset now, bool dryRun, bool completed, long durationMs, ApiCallLog calls) =>
        new(now, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, dryRun, false, completed, durationMs, calls.Snapshot(), calls.IsolationTotal)
        { ThrottledAttempts = calls.Pace.Refusals().Values.Sum() };

    public static TickSummary From(IReadOnlyList<DecisionRecord> records, DateTimeOffset now, bool dryRun, int stillStopped, int scheduleMinutes,
        bool deadlineReached, long durationMs, ApiCallLog calls) => new(
        Time: now,
        Instances: records.Count,
        Probed: records.Count(r => r.Probe is not null),
        Active: records.Count(r => IsActive(r.Decision)),
        Idle: records.Count(r => IsIdle(r.Decision)),
        Stopped: records.Count(r => r.Decision.StopsInstance && r.ActionError is null),
        Skipped: records.Count(r => r.Decision.Action == DecisionAction.Skip),
        Failed: records.Count(r => r.Probe is { Status: not ProbeStatus.Ok } || r.ActionError is not null),
        WouldStop: records.Count(r => r.Decision.Action == DecisionAction.WouldStop),
        ProbeFailures: records.Count(r => r.Probe is { Status: ProbeStatus.Failed or ProbeStatus.TimedOut or ProbeStatus.InvalidOutput or ProbeStatus.NotProbed }
                                         && r.Decision.Reason != ReasonCodes.AccessDenied),
        Unobservable: records.Count(r => IsUnobservable(r)),
        StillStoppedByAutoStop: stillStopped,
        InstanceHoursSaved: stillStopped * scheduleMinutes / 60.0,
        PreauthConnections: records.Sum(r => r.Probe?.Report?.PreauthConnections ?? 0),
        DryRun: dryRun,
        DeadlineReached: deadlineReached || records.Any(r => r.Decision.Reason == ReasonCodes.Deadline),
        Completed: true,
        DurationMs: durationMs,
        ApiCalls: calls.Snapshot(),
        IsolationCalls: calls.IsolationTotal)
    {
        ThrottledAttempts = calls.Pace.Refusals().Values.Sum(),
        QuickRestarts = records.Count(r => r.Decision.QuickRestart),
        Warned = records.Count(r => r.Warned == true),
    };

    /// <summary>Observed in use (or about to be): the tick saw someone or something at work.</summary>
    public static bool IsActive(Decision d) =>
        d.Reason is ReasonCodes.ActiveSessions or ReasonCodes.KeepAlive or ReasonCodes.BusyLoad or ReasonCodes.MultiplexerSessions or ReasonCodes.SystemBusy
            or ReasonCodes.ActivePorts or ReasonCodes.BusyGpu or ReasonCodes.BusyProcesses;

    public static bool IsIdle(Decision d) =>
        d.Reason is ReasonCodes.BootGrace or ReasonCodes.IdleBelowThreshold or ReasonCodes.IdleThresholdReached or ReasonCodes.DryRun;

    private static bool IsUnobservable(DecisionRecord r) =>
        r.Decision.Reason is ReasonCodes.NotSsmManaged or ReasonCodes.UnsupportedPlatform or ReasonCodes.ProbeUndeliverable
            or ReasonCodes.AccessDenied or ReasonCodes.TagLimit
        && r.Decision.Action == DecisionAction.Skip;
}
