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

    public async Task<IReadOnlyList<InstanceRecord>> ListTaggedAsync(string tagKey, CancellationToken cancellationToken)
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
            var page = await calls.InvokeAsync("EC2:DescribeInstances", () => ec2.DescribeInstancesAsync(request, cancellationToken), cancellationToken);
            foreach (var reservation in page.Reservations ?? []) instances.AddRange(reservation.Instances ?? []);
            nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        } while (nextToken is not null);

        var spotTypes = await SpotRequestTypesAsync(instances, cancellationToken);
        return instances.Select(i => ToRecord(i, spotTypes)).ToList();
    }

    /// <summary>
    /// One-time Spot instances cannot be stopped, persistent ones can: look their request type up in one call.
    /// A failure leaves the type unknown, and the screen then skips those instances (never guesses).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> SpotRequestTypesAsync(List<Instance> instances, CancellationToken cancellationToken)
    {
        var requestIds = instances.Where(i => i.InstanceLifecycle?.Value == "spot" && !string.IsNullOrEmpty(i.SpotInstanceRequestId))
            .Select(i => i.SpotInstanceRequestId).Distinct().ToList();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in requestIds.Chunk(200))
        {
            try
            {
                var response = await calls.InvokeAsync("EC2:DescribeSpotInstanceRequests",
                    () => ec2.DescribeSpotInstanceRequestsAsync(new DescribeSpotInstanceRequestsRequest { SpotInstanceRequestIds = [.. chunk] }, cancellationToken),
                    cancellationToken);
                foreach (var spot in response.SpotInstanceRequests ?? [])
                    if (spot.Type is not null) types[spot.SpotInstanceRequestId] = spot.Type.Value;
            }
            catch (AwsCallException) { /* unknown type: screened out as unsupported, never stopped */ }
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
