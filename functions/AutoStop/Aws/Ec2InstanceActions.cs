using Amazon.EC2;
using Amazon.EC2.Model;

namespace AutoStop.Aws;

/// <summary>
/// Stops instances and writes AutoStop's idle-state tags, in as few EC2 calls as EC2 allows.
/// StopInstances fails as a whole when one instance in it cannot be stopped (stop protection, wrong state, an IAM
/// tag condition), so a failed batch is retried one instance at a time: the others are still stopped, and the
/// failure lands on the instance that caused it.
/// </summary>
public sealed class Ec2InstanceActions(IAmazonEC2 ec2, ApiCallLog calls) : IInstanceActions
{
    /// <summary>Instances per StopInstances call (EC2 documents no hard limit; keeps the blast radius of one bad id small).</summary>
    public const int StopBatchSize = 100;

    /// <summary>Resource ids per CreateTags/DeleteTags call (EC2's limit).</summary>
    public const int TagBatchSize = 1000;

    /// <summary>Errors that say nothing about any one instance: retrying instance by instance would only make them worse.</summary>
    private static readonly HashSet<string> CallWideErrors = new(StringComparer.Ordinal)
    {
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "Unavailable", "NetworkError", "ClientError", "Timeout", "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch",
    };

    /// <summary>What EC2 answers when an instance cannot hibernate; it is then stopped plainly.</summary>
    private static readonly HashSet<string> HibernationUnsupportedErrors = new(StringComparer.Ordinal)
    {
        "UnsupportedHibernationConfiguration", "UnsupportedOperation",
    };

    public async Task<IReadOnlyDictionary<string, StopResult>> StopAsync(IReadOnlyList<string> instanceIds, bool hibernate, CancellationToken cancellationToken)
    {
        var results = new Dictionary<string, StopResult>(StringComparer.Ordinal);
        foreach (var batch in instanceIds.Chunk(StopBatchSize))
            await StopBatchAsync(batch, hibernate, results, cancellationToken);
        return results;
    }

    private async Task StopBatchAsync(string[] ids, bool hibernate, Dictionary<string, StopResult> results, CancellationToken cancellationToken)
    {
        var failure = await TryStopAsync(ids, hibernate, cancellationToken);
        if (failure is null)
        {
            foreach (var id in ids) results[id] = new StopResult(hibernate, false, null);
            return;
        }
        if (ids.Length > 1 && !IsCallWide(failure))
        {
            foreach (var id in ids) await StopBatchAsync([id], hibernate, results, cancellationToken);
            return;
        }
        foreach (var id in ids)
        {
            if (hibernate && HibernationUnsupportedErrors.Contains(failure.Code))
            {
                var plain = await TryStopAsync([id], false, cancellationToken);
                results[id] = new StopResult(false, plain is null, plain);
            }
            else results[id] = new StopResult(false, false, failure);
        }
    }

    private Task<AwsFailure?> TryStopAsync(string[] ids, bool hibernate, CancellationToken cancellationToken) =>
        calls.TryInvokeAsync("EC2:StopInstances", () => ec2.StopInstancesAsync(new StopInstancesRequest { InstanceIds = [.. ids], Hibernate = hibernate }, cancellationToken), cancellationToken);

    public async Task<IReadOnlyList<(string InstanceId, AwsFailure Failure)>> SetTagAsync(IReadOnlyList<string> instanceIds, string key, string value, CancellationToken cancellationToken)
    {
        var failures = new List<(string, AwsFailure)>();
        foreach (var batch in instanceIds.Chunk(TagBatchSize))
        {
            var failure = await calls.TryInvokeAsync("EC2:CreateTags",
                () => ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [.. batch], Tags = [new Tag(key, value)] }, cancellationToken), cancellationToken);
            if (failure is not null) failures.AddRange(batch.Select(id => (id, failure)));
        }
        return failures;
    }

    public async Task<IReadOnlyList<(string InstanceId, AwsFailure Failure)>> RemoveTagsAsync(IReadOnlyList<string> instanceIds, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var failures = new List<(string, AwsFailure)>();
        foreach (var batch in instanceIds.Chunk(TagBatchSize))
        {
            // A tag given without a value is deleted whatever its value is.
            var failure = await calls.TryInvokeAsync("EC2:DeleteTags",
                () => ec2.DeleteTagsAsync(new DeleteTagsRequest { Resources = [.. batch], Tags = keys.Select(k => new Tag { Key = k }).ToList() }, cancellationToken), cancellationToken);
            if (failure is not null) failures.AddRange(batch.Select(id => (id, failure)));
        }
        return failures;
    }

    private static bool IsCallWide(AwsFailure failure) => CallWideErrors.Contains(failure.Code) || failure.Code.StartsWith("HTTP5", StringComparison.Ordinal);
}
