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

    /// <summary>Errors that say nothing about any one item of a batch (throttling, service faults, credentials, the network,
    /// the deadline): splitting the batch would only multiply them, so they stand for every item as they are.</summary>
    public static bool IsCallWide(AwsFailure failure) =>
        IsThrottling(failure) || CallWideCodes.Contains(failure.Code) || failure.Code.StartsWith("HTTP5", StringComparison.Ordinal);

    private static readonly HashSet<string> CallWideCodes = new(StringComparer.Ordinal)
    {
        "InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable", "Unavailable", "NetworkError", "ClientError",
        "Timeout", "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException",
        "RequestExpired", AwsCall.DeadlineCode,
        // SendCommand's document and parameters are the same for every instance named: never split over them.
        "InvalidDocument", "InvalidDocumentVersion", "InvalidParameters",
    };

    /// <summary>IAM refused an action on the resources named (one of them, when the call named several).</summary>
    public static bool IsAccessDenied(AwsFailure failure) =>
        failure.Code is "UnauthorizedOperation" or "AccessDeniedException" or "AccessDenied";

    /// <summary>True when the exception is the caller's cancellation, which must propagate rather than become a failure.</summary>
    public static bool IsCallerCancellation(Exception e, CancellationToken token) => e is OperationCanceledException && token.IsCancellationRequested;
}

/// <summary>
/// Every SDK call goes through here: it is counted for the tick summary, bounded by the tick's deadline (a call that could
/// not finish is not started, and a running one, SDK retries included, is cancelled at the deadline), and its failure
/// becomes an AwsFailure.
/// </summary>
internal static class AwsCall
{
    /// <summary>Extra attempts after the SDK's own retries gave up on throttling (adaptive mode can give up while it
    /// waits for client-side capacity); spaced out so that a throttled fleet still gets decided.</summary>
    public const int ThrottleAttempts = 3;

    /// <summary>The code of the failure given to a call the deadline kept from starting or cut short.</summary>
    public const string DeadlineCode = "DeadlineReached";

    /// <summary>The two deadline failures: a call never sent had no effect; one cut short may have had its effect.</summary>
    public const string NotStartedMessage = "not started: the tick deadline is too close for the call to finish";
    public const string CutShortMessage = "cut short at the tick deadline (SDK retries included); AWS may or may not have carried it out";

    /// <summary>Runs the call; a failure is thrown as <see cref="AwsCallException"/>.</summary>
    public static async Task<T> InvokeAsync<T>(this ApiCallLog calls, string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var left = calls.TimeLeft;
            if (left < calls.Required(operation))
                throw new AwsCallException(new AwsFailure(operation, DeadlineCode, NotStartedMessage));
            calls.Record(operation);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (left != TimeSpan.MaxValue) bounded.CancelAfter(left);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var result = await call(bounded.Token);
                calls.RecordDuration(operation, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                return result;
            }
            catch (Exception e) when (!AwsErrors.IsCallerCancellation(e, cancellationToken))
            {
                calls.RecordDuration(operation, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                if (bounded.IsCancellationRequested)
                    throw new AwsCallException(new AwsFailure(operation, DeadlineCode, CutShortMessage), e);
                var failure = AwsErrors.ToFailure(operation, e);
                if (attempt >= ThrottleAttempts || !AwsErrors.IsThrottling(failure)) throw new AwsCallException(failure, e);
                calls.RecordThrottled(operation);
                var pause = TimeSpan.FromMilliseconds(250 * (1 << attempt) + Random.Shared.Next(250));
                if (calls.TimeLeft - pause < ApiCallLog.MinimumCallTime) throw new AwsCallException(failure, e);
                await Task.Delay(pause, cancellationToken);
            }
        }
    }

    /// <summary>Runs the call; returns its failure, or null when it succeeded.</summary>
    public static async Task<AwsFailure?> TryInvokeAsync<T>(this ApiCallLog calls, string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try { await calls.InvokeAsync(operation, call, cancellationToken); return null; }
        catch (AwsCallException e) { return e.Failure; }
    }
}
