namespace AutoStop.Ticking;

/// <summary>
/// One tick to run. Now is the policy's time (the scheduled time, or the clock, or --now);
/// Deadline is wall-clock time after which nothing new is decided or stopped.
/// ForceDryRun can only add dry run: no caller (payload, CLI) can turn off the configured DryRun.
/// </summary>
public sealed record TickRequest(DateTimeOffset Now, DateTimeOffset Deadline, bool ForceDryRun = false);

/// <summary>What a host gets back: the tick summary as one JSON object (the Lambda response body) and whether AWS could be reached at all.</summary>
public sealed record TickOutcome(string SummaryJson, bool Completed);

/// <summary>The one thing a host (Lambda loop or CLI) calls. Hosts only wire; the tick lives behind this.</summary>
public interface ITickHandler
{
    Task<TickOutcome> RunTickAsync(TickRequest request, CancellationToken cancellationToken);
}
