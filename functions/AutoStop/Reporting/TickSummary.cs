namespace AutoStop.Reporting;

/// <summary>
/// What one tick did, for the "tick" log line, the EMF fleet metrics and the Lambda response.
/// Instances: running-or-transitional tagged instances decided this tick (stopped ones are only counted for savings).
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
    int StillStoppedByAutoStop,
    double InstanceHoursSaved,
    int PreauthConnections,
    bool DryRun,
    bool DeadlineReached,
    bool Completed,
    long DurationMs,
    IReadOnlyDictionary<string, int> ApiCalls);
