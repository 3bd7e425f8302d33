using System.Collections.Concurrent;

namespace AutoStop.Aws;

/// <summary>
/// The tick's ledger of AWS calls: counts every call as "Service:Operation" (the tick line's apiCalls), counts the extra
/// calls spent isolating a bad item out of a batch (isolationCalls), and holds the tick's deadline so that no call
/// starts that cannot finish before it (see <see cref="AwsCall"/>).
/// </summary>
public sealed class ApiCallLog(TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _isolation = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TimeSpan> _slowest = new(StringComparer.Ordinal);

    /// <summary>A call is not started with less than this left before the deadline: it could not finish, retries included.</summary>
    public static readonly TimeSpan MinimumCallTime = TimeSpan.FromSeconds(1);

    /// <summary>Wall-clock time after which no AWS call may still be running (MaxValue: none).</summary>
    public DateTimeOffset Deadline { get; private set; } = DateTimeOffset.MaxValue;

    /// <summary>The tick's pace per operation once AWS throttles it (<see cref="ThrottleGate"/>); the SDK clients built
    /// with it send every attempt through it.</summary>
    public ThrottleGate Pace { get; } = new(clock ?? TimeProvider.System);

    public TimeSpan TimeLeft => Deadline == DateTimeOffset.MaxValue ? TimeSpan.MaxValue : Deadline - _clock.GetUtcNow();

    public void Record(string operation) => _counts.AddOrUpdate(operation, 1, (_, n) => n + 1);

    /// <summary>A call that failed with throttling even after the SDK's retries, and was tried again.</summary>
    public void RecordThrottled(string operation) => _throttled.AddOrUpdate(operation, 1, (_, n) => n + 1);

    /// <summary>A call made only to isolate one bad item of a batch that AWS refused as a whole.</summary>
    public void RecordIsolation(string operation) => _isolation.AddOrUpdate(operation, 1, (_, n) => n + 1);

    /// <summary>How long one call of the operation took (the SDK's retries included).</summary>
    public void RecordDuration(string operation, TimeSpan elapsed) => _slowest.AddOrUpdate(operation, elapsed, (_, d) => d > elapsed ? d : elapsed);

    /// <summary>The time a new call of the operation needs before the deadline: half again the slowest seen this tick,
    /// at least <see cref="MinimumCallTime"/>. A call that slow EC2 or SSM could not finish is not started: a StopInstances
    /// cut short leaves its outcome unknown.</summary>
    public TimeSpan Required(string operation)
    {
        var slowest = _slowest.TryGetValue(operation, out var d) ? d * 1.5 : TimeSpan.Zero;
        return slowest > MinimumCallTime ? slowest : MinimumCallTime;
    }

    public int ThrottledTotal => _throttled.Values.Sum();

    public int IsolationTotal => _isolation.Values.Sum();

    public IReadOnlyDictionary<string, int> Snapshot() => Sorted(_counts);

    public IReadOnlyDictionary<string, int> IsolationSnapshot() => Sorted(_isolation);

    public int Count(string operation) => _counts.TryGetValue(operation, out var n) ? n : 0;

    /// <summary>Starts a tick: counts from zero, and calls end by <paramref name="deadline"/>.</summary>
    public void BeginTick(DateTimeOffset deadline)
    {
        _counts.Clear();
        _throttled.Clear();
        _isolation.Clear();
        _slowest.Clear();
        Pace.Reset();
        Deadline = deadline;
    }

    public void Reset() => BeginTick(DateTimeOffset.MaxValue);

    private static Dictionary<string, int> Sorted(ConcurrentDictionary<string, int> counts) =>
        counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
}
