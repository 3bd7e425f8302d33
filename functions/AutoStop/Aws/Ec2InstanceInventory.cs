using Amazon.EC2;
using Amazon.EC2.Model;
using AutoStop.Inventory;

namespace AutoStop.Aws;

/// <summary>
/// Lists the instances that carry the opt-in tag key, filtered server-side by tag key and state, one
/// DescribeInstances page per up to <paramref name="pageSize"/> instances. The tag's value is checked by the
/// policy (case-insensitive "true"), which a server-side tag:K=V filter could not do.
/// </summary>
public sealed class Ec2InstanceInventory(IAmazonEC2 ec2, ApiCallLog calls, int pageSize = 1000) : IInstanceInventory
{
    /// <summary>Stopped instances are listed too: only to count the savings of those AutoStop stopped.</summary>
    private static readonly List<string> ListedStates = ["pending", "running", "stopping", "stopped"];

    public async Task<InventoryListing> ListTaggedAsync(string tagKey, CancellationToken cancellationToken)
    {
        var instances = new List<Instance>();
        string? nextToken = null;
        do
        {
            var request = new DescribeInstancesRequest
            {
                Filters = [new Filter("tag-key", [tagKey]), new Filter("instance-state-name", ListedStates)],
                MaxResults = pageSize,
                NextToken = nextToken,
            };
            var page = await calls.InvokeAsync("EC2:DescribeInstances", token => ec2.DescribeInstancesAsync(request, token), cancellationToken);
            foreach (var reservation in page.Reservations ?? []) instances.AddRange(reservation.Instances ?? []);
            nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        } while (nextToken is not null);

        var failures = new List<(string InstanceId, AwsFailure Failure)>();
        var spotTypes = await SpotRequestTypesAsync(instances, failures, cancellationToken);
        return new InventoryListing(instances.Select(i => ToRecord(i, spotTypes)).ToList(), failures);
    }

    /// <summary>
    /// One-time Spot instances cannot be stopped, persistent ones can: look their request types up, 200 ids a call.
    /// EC2 refuses the whole call when one id names a deleted request (requests are deleted four hours after they are
    /// cancelled), so the call is isolated: only that request's instances stay unknown, and the screen skips them
    /// (never guesses). Each refusal is logged with the request id it concerns.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> SpotRequestTypesAsync(List<Instance> instances, List<(string InstanceId, AwsFailure Failure)> failures,
        CancellationToken cancellationToken)
    {
        var requestIds = instances.Where(i => i.InstanceLifecycle?.Value == "spot" && !string.IsNullOrEmpty(i.SpotInstanceRequestId))
            .Select(i => i.SpotInstanceRequestId).Distinct().ToList();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in requestIds.Chunk(200))
        {
            var result = await BatchIsolation.RunAsync(chunk, "EC2:DescribeSpotInstanceRequests", calls, async ids =>
            {
                try
                {
                    var response = await calls.InvokeAsync("EC2:DescribeSpotInstanceRequests",
                        token => ec2.DescribeSpotInstanceRequestsAsync(new DescribeSpotInstanceRequestsRequest { SpotInstanceRequestIds = [.. ids] }, token),
                        cancellationToken);
                    return (response.SpotInstanceRequests ?? [], (AwsFailure?)null);
                }
                catch (AwsCallException e) { return (null, e.Failure); }
            });
            foreach (var (_, spots) in result.Accepted)
                foreach (var spot in spots)
                    if (spot.Type is not null) types[spot.SpotInstanceRequestId] = spot.Type.Value;
            foreach (var (requestId, failure) in result.Refused)
                foreach (var instance in instances.Where(i => i.SpotInstanceRequestId == requestId))
                    failures.Add((instance.InstanceId, failure with { Message = $"Spot request {requestId}: {failure.Message}" }));
        }
        return types;
    }

    private static InstanceRecord ToRecord(Instance i, IReadOnlyDictionary<string, string> spotTypes) => new(
        InstanceId: i.InstanceId,
        State: i.State?.Name?.Value ?? "unknown",
        LaunchTime: i.LaunchTime is { } launch ? new DateTimeOffset(DateTime.SpecifyKind(launch.ToUniversalTime(), DateTimeKind.Utc)) : null,
        Lifecycle: i.InstanceLifecycle?.Value,
        SpotRequestType: i.SpotInstanceRequestId is { } rid && spotTypes.TryGetValue(rid, out var type) ? type : null,
        RootDeviceType: i.RootDeviceType?.Value ?? "ebs",
        HibernationConfigured: i.HibernationOptions?.Configured ?? false,
        Tags: (i.Tags ?? []).GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value ?? "", StringComparer.Ordinal));
}
