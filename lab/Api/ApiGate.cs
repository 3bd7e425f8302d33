using System.Collections.Concurrent;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Api;

/// <summary>An error the lab answers instead of doing the operation (throttling, injected 5xx).</summary>
public sealed record ApiError(int HttpStatus, string Code, string Message)
{
    public bool IsThrottle => Code is "RequestLimitExceeded" or "ThrottlingException";
}

/// <summary>
/// Every API call passes here first: it is counted, delayed by the scenario's latency, and may be throttled (a token
/// bucket per operation, as AWS rate-limits, or a random rate) or failed with a 5xx, as the scenario says.
/// </summary>
public sealed class ApiGate(Scenario scenario)
{
    private readonly Random _random = new(scenario.Seed);
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, int> Calls => Sorted(_calls);
    public IReadOnlyDictionary<string, int> Throttled => Sorted(_throttled);
    public IReadOnlyDictionary<string, int> Errors => Sorted(_errors);

    public async Task<ApiError?> EnterAsync(string operation, CancellationToken cancellationToken)
    {
        _calls.AddOrUpdate(operation, 1, (_, n) => n + 1);
        var fault = scenario.ApiFaults.FirstOrDefault(f => f.Operation == operation) ?? scenario.ApiFaults.FirstOrDefault(f => f.Operation == "*");
        double throttleDraw, errorDraw;
        int latency;
        lock (_random)
        {
            throttleDraw = _random.NextDouble();
            errorDraw = _random.NextDouble();
            latency = fault?.Latency.Sample(_random) ?? 0;
        }
        if (latency > 0) await Task.Delay(latency, cancellationToken);

        var limit = scenario.RateLimits.FirstOrDefault(r => r.Operation == operation) ?? scenario.RateLimits.FirstOrDefault(r => r.Operation == "*");
        var service = operation[..operation.IndexOf(':')];
        if ((limit is not null && !_buckets.GetOrAdd(operation, _ => new TokenBucket(limit.PerSecond, limit.Burst)).TryTake())
            || (fault is not null && throttleDraw < fault.ThrottleRate))
        {
            _throttled.AddOrUpdate(operation, 1, (_, n) => n + 1);
            return service == "EC2"
                ? new ApiError(503, "RequestLimitExceeded", "Request limit exceeded.")
                : new ApiError(400, "ThrottlingException", "Rate exceeded");
        }
        if (fault is not null && errorDraw < fault.ErrorRate)
        {
            _errors.AddOrUpdate(operation, 1, (_, n) => n + 1);
            return service == "EC2"
                ? new ApiError(500, "InternalError", "An internal error has occurred.")
                : new ApiError(500, "InternalServerError", "An internal error occurred.");
        }
        return null;
    }

    private static Dictionary<string, int> Sorted(ConcurrentDictionary<string, int> counts) =>
        counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    /// <summary>Refills continuously at PerSecond up to Burst tokens (real time).</summary>
    private sealed class TokenBucket(double perSecond, int burst)
    {
        private double _tokens = burst;
        private long _last = Environment.TickCount64;

        public bool TryTake()
        {
            lock (this)
            {
                var now = Environment.TickCount64;
                _tokens = Math.Min(burst, _tokens + (now - _last) / 1000.0 * perSecond);
                _last = now;
                if (_tokens < 1) return false;
                _tokens -= 1;
                return true;
            }
        }
    }
}
