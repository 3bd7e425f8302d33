namespace AutoStop.Hosting.Lambda;

/// <summary>One invocation as the Lambda Runtime API hands it out.</summary>
/// <param name="Deadline">From Lambda-Runtime-Deadline-Ms: when Lambda will kill this invocation.</param>
public sealed record Invocation(string RequestId, DateTimeOffset Deadline, string? FunctionArn, string? TraceId, byte[] Payload);

/// <summary>The Runtime API answered 500: its state is not recoverable and the runtime must exit (the documented contract).</summary>
public sealed class RuntimeApiExitException(string message) : Exception(message);

/// <summary>
/// The Lambda Runtime API, as the host needs it. This is the one seam to replace with Amazon.Lambda.RuntimeSupport
/// if that package ever becomes available: only <see cref="RuntimeApiClient"/> implements it.
/// </summary>
public interface IRuntimeApi
{
    /// <summary>Waits (as long as it takes) for the next invocation.</summary>
    Task<Invocation> NextAsync(CancellationToken cancellationToken);

    Task RespondAsync(string requestId, string responseJson, CancellationToken cancellationToken);

    Task ReportInvocationErrorAsync(string requestId, string errorType, string errorMessage, CancellationToken cancellationToken);

    /// <summary>Tells Lambda the function cannot start (e.g. invalid configuration); Lambda then fails the invocation.</summary>
    Task ReportInitErrorAsync(string errorType, string errorMessage, CancellationToken cancellationToken);
}
