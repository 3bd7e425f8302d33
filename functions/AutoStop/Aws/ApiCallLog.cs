using System.Collections.Concurrent;

namespace AutoStop.Aws;

/// <summary>Counts every AWS call a tick makes, as "Service:Operation", for the tick summary's apiCalls.</summary>
public sealed class ApiCallLog
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, int> _throttled = new(StringComparer.Ordinal);

    public void Record(string operation) => _counts.AddOrUpdate(operation, 1, (_, n) => n + 1);

    /// <summary>A call that failed with throttling even after the SDK's retries, and was tried again.</summary>
    public void RecordThrottled(string operation) => _throttled.AddOrUpdate(operation, 1, (_, n) => n + 1);

    public int ThrottledTotal => _throttled.Values.Sum();

    public IReadOnlyDictionary<string, int> Snapshot() =>
        _counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    public int Count(string operation) => _counts.TryGetValue(operation, out var n) ? n : 0;

    public void Reset()
    {
        _counts.Clear();
        _throttled.Clear();
    }
}
