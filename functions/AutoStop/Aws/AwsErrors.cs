using Amazon.Runtime;

namespace AutoStop.Aws;

/// <summary>Turns whatever an SDK call threw into an <see cref="AwsFailure"/> that names the operation, code and request id.</summary>
internal static class AwsErrors
{
    public static AwsFailure ToFailure(string operation, Exception e) => e switch
    {
        AmazonServiceException s => new AwsFailure(operation, string.IsNullOrEmpty(s.ErrorCode) ? $"HTTP{(int)s.StatusCode}" : s.ErrorCode,
            s.InnerException is { } inner && s.Message.Contains("inner exception", StringComparison.Ordinal) ? $"HTTP {(int)s.StatusCode}: {inner.Message}" : s.Message,
            string.IsNullOrEmpty(s.RequestId) ? null : s.RequestId),
        AmazonClientException c => new AwsFailure(operation, "ClientError", c.InnerException is { } inner ? $"{c.Message} ({inner.Message})" : c.Message),
        HttpRequestException h => new AwsFailure(operation, "NetworkError", h.Message),
        TaskCanceledException t => new AwsFailure(operation, "Timeout", t.Message),
        _ => new AwsFailure(operation, e.GetType().Name, e.Message),
    };

    /// <summary>Throttling that outlasted the SDK's retries, including adaptive mode's "insufficient capacity".</summary>
    public static bool IsThrottling(AwsFailure failure) =>
        failure.Code is "RequestLimitExceeded" or "ThrottlingException" or "Throttling" or "TooManyRequestsException"
        || (failure.Code == "ClientError" && failure.Message.Contains("capacity", StringComparison.OrdinalIgnoreCase))
        || (failure.Code == "ClientError" && failure.Message.Contains("Rate exceeded", StringComparison.OrdinalIgnoreCase));

    /// <summary>True when the exception is the caller's cancellation, which must propagate rather than become a failure.</summary>
    public static bool IsCallerCancellation(Exception e, CancellationToken token) => e is OperationCanceledException && token.IsCancellationRequested;
}

/// <summary>Every SDK call goes through here: it is counted for the tick summary, and its failure becomes an AwsFailure.</summary>
internal static class AwsCall
{
    /// <summary>Extra attempts after the SDK's own retries gave up on throttling (adaptive mode can give up while it
    /// waits for client-side capacity); spaced out so that a throttled fleet still gets decided.</summary>
    public const int ThrottleAttempts = 3;

    /// <summary>Runs the call; a failure is thrown as <see cref="AwsCallException"/>.</summary>
    public static async Task<T> InvokeAsync<T>(this ApiCallLog calls, string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            calls.Record(operation);
            try { return await call(); }
            catch (Exception e) when (!AwsErrors.IsCallerCancellation(e, cancellationToken))
            {
                var failure = AwsErrors.ToFailure(operation, e);
                if (attempt >= ThrottleAttempts || !AwsErrors.IsThrottling(failure)) throw new AwsCallException(failure, e);
                calls.RecordThrottled(operation);
                await Task.Delay(TimeSpan.FromMilliseconds(250 * (1 << attempt) + Random.Shared.Next(250)), cancellationToken);
            }
        }
    }

    /// <summary>Runs the call; returns its failure, or null when it succeeded.</summary>
    public static async Task<AwsFailure?> TryInvokeAsync<T>(this ApiCallLog calls, string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try { await calls.InvokeAsync(operation, call, cancellationToken); return null; }
        catch (AwsCallException e) { return e.Failure; }
    }
}
