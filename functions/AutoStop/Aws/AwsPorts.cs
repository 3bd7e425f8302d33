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

/// <summary>The tagged instances, and the failures that left part of what is known about some of them unknown
/// (e.g. a Spot request type), each for the instance it concerns.</summary>
public sealed record InventoryListing(IReadOnlyList<InstanceRecord> Instances, IReadOnlyList<(string InstanceId, AwsFailure Failure)> Failures);

/// <summary>Lists instances carrying the opt-in tag key (any value) that are not terminated or shutting down.</summary>
public interface IInstanceInventory
{
    Task<InventoryListing> ListTaggedAsync(string tagKey, CancellationToken cancellationToken);
}

/// <summary>What a probe round needs: the document (and version, null for the default), how long instances get to answer
/// once their command is sent (<paramref name="AnswerTimeout"/>), the hard end of the whole round (<paramref name="Deadline"/>),
/// how fast to poll at first, and the tick's (policy) time.</summary>
public sealed record ProbeRequest(string DocumentName, string? DocumentVersion, DateTimeOffset Deadline, TimeSpan AnswerTimeout, TimeSpan FirstPoll, string Comment,
    DateTimeOffset TickTime);

/// <summary>One instance's probe outcome, as soon as it is known: when the probe looked (null when it never ran), and
/// what it wrote on stderr (a warning, not a failure).</summary>
public sealed record ProbeAnswer(string InstanceId, ProbeOutcome Outcome, DateTimeOffset? ObservedAt = null, string? Warning = null);

/// <summary>
/// Runs the session probe on instances through SSM and streams the outcomes: each batch as soon as SSM has it, so a
/// stop can act on a fresh look whatever other instances are still doing. Every requested id gets exactly one outcome
/// before the stream ends.
/// </summary>
public interface IProbeRunner
{
    IAsyncEnumerable<IReadOnlyList<ProbeAnswer>> ProbeAsync(IReadOnlyList<string> instanceIds, ProbeRequest request, CancellationToken cancellationToken);
}

/// <summary>Session Manager sessions recently ended or still open, per instance, from SSM itself (the whole fleet in a few calls).</summary>
/// <param name="LastEnded">Per instance, the end of its last Session Manager session that started after <c>since</c>.</param>
/// <param name="Active">Instances with a Session Manager session open now.</param>
public sealed record SessionHistory(IReadOnlyDictionary<string, DateTimeOffset> LastEnded, IReadOnlySet<string> Active);

public interface ISessionHistory
{
    /// <summary>Sessions that started at or after <paramref name="since"/>. Throws <see cref="AwsCallException"/> when SSM cannot say.</summary>
    Task<SessionHistory> RecentAsync(DateTimeOffset since, CancellationToken cancellationToken);
}

/// <summary>One instance to stop; Hibernate only where EC2 says hibernation is configured.</summary>
public sealed record StopRequest(string InstanceId, bool Hibernate);

/// <summary>How a stop went for one instance. Error is null when EC2 accepted the stop.</summary>
public sealed record StopResult(bool Hibernated, bool HibernateFellBack, AwsFailure? Error)
{
    public bool Stopped => Error is null;
}

/// <summary>The mutating EC2 calls: stop, and AutoStop's tags. Failures come back per instance; one instance's
/// failure never fails the others (<see cref="BatchIsolation"/>).</summary>
public interface IInstanceActions
{
    Task<IReadOnlyDictionary<string, StopResult>> StopAsync(IReadOnlyList<StopRequest> requests, CancellationToken cancellationToken);

    /// <summary>Sets one tag to one value on many instances; returns the failures by instance (empty when all succeeded).</summary>
    Task<IReadOnlyDictionary<string, AwsFailure>> SetTagAsync(IReadOnlyList<string> instanceIds, string key, string value, CancellationToken cancellationToken);

    /// <summary>Removes tags from many instances; returns the failures by instance.</summary>
    Task<IReadOnlyDictionary<string, AwsFailure>> RemoveTagsAsync(IReadOnlyList<string> instanceIds, IReadOnlyList<string> keys, CancellationToken cancellationToken);
}

/// <summary>A stop notice for some instances: the document (and version, null for the default) and what it says.</summary>
public sealed record NoticeRequest(string DocumentName, string? DocumentVersion, DateTimeOffset StopAt, bool Hibernate, string Comment);

/// <summary>Writes the stop notice to instances' ignored terminals and tmux clients (through SSM). Failures come back per
/// instance; one instance's refusal never keeps the notice from the others.</summary>
public interface IStopNotices
{
    Task<IReadOnlyDictionary<string, AwsFailure>> SendAsync(IReadOnlyList<string> instanceIds, NoticeRequest request, CancellationToken cancellationToken);
}

/// <summary>The seams a tick talks to AWS through. <paramref name="Notices"/>: null when stop notices are not wired.</summary>
public sealed record AwsPorts(IInstanceInventory Inventory, IProbeRunner Probes, ISessionHistory Sessions, IInstanceActions Actions, ApiCallLog Calls,
    IStopNotices? Notices = null);
