using AutoStop.Inventory;
using AutoStop.Probing;

namespace AutoStop.Aws;

/// <summary>An AWS call that failed: enough to log it (operation, AWS error code, request id) and decide what it means.</summary>
public sealed record AwsFailure(string Operation, string Code, string Message, string? RequestId = null);

/// <summary>An AWS call that failed so that the tick cannot go on (e.g. no inventory).</summary>
public sealed class AwsCallException(AwsFailure failure, Exception? inner = null) : Exception($"{failure.Operation} failed: {failure.Code}: {failure.Message}", inner)
{
    public AwsFailure Failure { get; } = failure;
}

/// <summary>Lists instances carrying the opt-in tag key (any value) that are not terminated or shutting down.</summary>
public interface IInstanceInventory
{
    Task<IReadOnlyList<InstanceRecord>> ListTaggedAsync(string tagKey, CancellationToken cancellationToken);
}

/// <summary>What a probe round needs: the document, how long instances get to answer once their command is sent
/// (<paramref name="AnswerTimeout"/>), the hard end of the whole round (<paramref name="Deadline"/>), how fast to poll at first.</summary>
public sealed record ProbeRequest(string DocumentName, DateTimeOffset Deadline, TimeSpan AnswerTimeout, TimeSpan FirstPoll, string Comment);

/// <summary>Runs the session probe on instances through SSM and returns one outcome per requested id.</summary>
public interface IProbeRunner
{
    Task<IReadOnlyDictionary<string, ProbeOutcome>> ProbeAsync(IReadOnlyList<string> instanceIds, ProbeRequest request, CancellationToken cancellationToken);
}

/// <summary>How a stop went for one instance. Error is null when EC2 accepted the stop.</summary>
public sealed record StopResult(bool Hibernated, bool HibernateFellBack, AwsFailure? Error)
{
    public bool Stopped => Error is null;
}

/// <summary>The mutating EC2 calls: stop, and the idle-state tags. Failures come back per instance.</summary>
public interface IInstanceActions
{
    /// <summary>Stops (or hibernates) the instances, in as few calls as EC2 allows; one instance's error never blocks the others.</summary>
    Task<IReadOnlyDictionary<string, StopResult>> StopAsync(IReadOnlyList<string> instanceIds, bool hibernate, CancellationToken cancellationToken);

    /// <summary>Sets one tag to one value on many instances; returns the failures (empty when all succeeded).</summary>
    Task<IReadOnlyList<(string InstanceId, AwsFailure Failure)>> SetTagAsync(IReadOnlyList<string> instanceIds, string key, string value, CancellationToken cancellationToken);

    /// <summary>Removes tags from many instances; returns the failures.</summary>
    Task<IReadOnlyList<(string InstanceId, AwsFailure Failure)>> RemoveTagsAsync(IReadOnlyList<string> instanceIds, IReadOnlyList<string> keys, CancellationToken cancellationToken);
}

/// <summary>The three seams a tick talks to AWS through.</summary>
public sealed record AwsPorts(IInstanceInventory Inventory, IProbeRunner Probes, IInstanceActions Actions, ApiCallLog Calls);
