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
        AmazonClientException c => new AwsFailure(operation, "ClientError", c.InnerException?.Message ?? c.Message),
        HttpRequestException h => new AwsFailure(operation, "NetworkError", h.Message),
        TaskCanceledException t => new AwsFailure(operation, "Timeout", t.Message),
        _ => new AwsFailure(operation, e.GetType().Name, e.Message),
    };

    /// <summary>True when the exception is the caller's cancellation, which must propagate rather than become a failure.</summary>
    public static bool IsCallerCancellation(Exception e, CancellationToken token) => e is OperationCanceledException && token.IsCancellationRequested;
}

/// <summary>Every SDK call goes through here: it is counted for the tick summary, and its failure becomes an AwsFailure.</summary>
internal static class AwsCall
{
    /// <summary>Runs the call; a failure is thrown as <see cref="AwsCallException"/>.</summary>
    public static async Task<T> InvokeAsync<T>(this ApiCallLog calls, string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        calls.Record(operation);
        try { return await call(); }
        catch (Exception e) when (!AwsErrors.IsCallerCancellation(e, cancellationToken))
        {
            throw new AwsCallException(AwsErrors.ToFailure(operation, e), e);
        }
    }

    /// <summary>Runs the call; returns its failure, or null when it succeeded.</summary>
    public static async Task<AwsFailure?> TryInvokeAsync<T>(this ApiCallLog calls, string operation, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try { await calls.InvokeAsync(operation, call, cancellationToken); return null; }
        catch (AwsCallException e) { return e.Failure; }
    }
}
