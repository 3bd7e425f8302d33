using Amazon.EC2;
using Amazon.EC2.Model;

namespace AutoStop.Aws;

/// <summary>
/// Stops instances and writes AutoStop's tags, in as few EC2 calls as EC2 allows. EC2 refuses StopInstances,
/// CreateTags and DeleteTags as a whole when one instance named is refused (stop protection, wrong state, an IAM tag
/// condition, the 50-tag limit, hibernation not configured), so every batch goes through <see cref="BatchIsolation"/>:
/// the others still go through, and the failure lands on the instance that caused it.
/// </summary>
public sealed class Ec2InstanceActions(IAmazonEC2 ec2, ApiCallLog calls) : IInstanceActions
{
    /// <summary>Instances per StopInstances call. EC2 documents no limit for StopInstances; its sibling TerminateInstances
    /// takes "up to 1000 instance IDs" (botocore ec2 2016-11-15), the bound kept here. A bad id costs the isolation's
    /// bisection (about two calls per halving, only when a batch is refused), not its neighbours' stops.</summary>
    public const int StopBatchSize = 1000;

    /// <summary>Resource ids per CreateTags/DeleteTags call (EC2's limit).</summary>
    public const int TagBatchSize = 1000;

    /// <summary>EC2's answer when an instance named with Hibernate=true cannot hibernate (ec2 API reference, StopInstances).
    /// The executor asks for hibernation only where HibernationOptions.Configured is true, so this is rare; an instance
    /// refused with it on its own is then stopped plainly. UnsupportedOperation is not such a case: it refuses the stop.</summary>
    public const string HibernationUnsupported = "UnsupportedHibernationConfiguration";

    public async Task<IReadOnlyDictionary<string, StopResult>> StopAsync(IReadOnlyList<StopRequest> requests, CancellationToken cancellationToken)
    {
        // Hibernate is one flag per call: the hibernating and the plain stops are separate calls, made side by side (one
        // after the other, a slow first call would leave the second too little time before the deadline).
        var results = new Dictionary<string, StopResult>(StringComparer.Ordinal);
        await Task.WhenAll(requests.GroupBy(r => r.Hibernate).SelectMany(group => group.Select(r => r.InstanceId).Chunk(StopBatchSize)
            .Select(batch => StopBatchAsync(batch, group.Key))));
        return results;

        async Task StopBatchAsync(string[] batch, bool hibernate)
        {
            var refused = await BatchIsolation.RunAsync(batch, "EC2:StopInstances", calls, ids => TryStopAsync(ids, hibernate, cancellationToken));
            foreach (var id in batch)
            {
                StopResult result;
                if (!refused.TryGetValue(id, out var failure)) result = new StopResult(hibernate, false, null);
                else if (hibernate && failure.Code == HibernationUnsupported)
                {
                    var plain = await TryStopAsync([id], false, cancellationToken);
                    result = new StopResult(false, plain is null, plain);
                }
                else result = new StopResult(false, false, failure);
                lock (results) results[id] = result;
            }
        }
    }

    private Task<AwsFailure?> TryStopAsync(IReadOnlyList<string> ids, bool hibernate, CancellationToken cancellationToken) =>
        calls.TryInvokeAsync("EC2:StopInstances", token => ec2.StopInstancesAsync(new StopInstancesRequest { InstanceIds = [.. ids], Hibernate = hibernate }, token), cancellationToken);

    public async Task<IReadOnlyDictionary<string, AwsFailure>> SetTagAsync(IReadOnlyList<string> instanceIds, string key, string value, CancellationToken cancellationToken)
    {
        var failures = new Dictionary<string, AwsFailure>(StringComparer.Ordinal);
        foreach (var batch in instanceIds.Chunk(TagBatchSize))
        {
            var refused = await BatchIsolation.RunAsync(batch, "EC2:CreateTags", calls, ids => calls.TryInvokeAsync("EC2:CreateTags",
                token => ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [.. ids], Tags = [new Tag(key, value)] }, token), cancellationToken));
            foreach (var (id, failure) in refused) failures[id] = failure;
        }
        return failures;
    }

    public async Task<IReadOnlyDictionary<string, AwsFailure>> RemoveTagsAsync(IReadOnlyList<string> instanceIds, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var failures = new Dictionary<string, AwsFailure>(StringComparer.Ordinal);
        foreach (var batch in instanceIds.Chunk(TagBatchSize))
        {
            // A tag given without a value is deleted whatever its value is.
            var refused = await BatchIsolation.RunAsync(batch, "EC2:DeleteTags", calls, ids => calls.TryInvokeAsync("EC2:DeleteTags",
                token => ec2.DeleteTagsAsync(new DeleteTagsRequest { Resources = [.. ids], Tags = keys.Select(k => new Tag { Key = k }).ToList() }, token), cancellationToken));
            foreach (var (id, failure) in refused) failures[id] = failure;
        }
        return failures;
    }
}
