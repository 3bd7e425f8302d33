using System.Text.RegularExpressions;
using Amazon.EC2;
using Amazon.EC2.Model;
using AutoStop.Configuration;
using AutoStop.Policy;

namespace AutoStop.Cli;

/// <summary>Finds instances by id or Name tag, and lists the opted-in ones. Read-only (ec2:DescribeInstances).</summary>
public sealed partial class InstanceDirectory(IAmazonEC2 ec2, AutoStopConfig config, string region)
{
    /// <summary>Every state but terminated and shutting-down: a terminated instance keeps its Name for an hour and would
    /// otherwise make a name look shared.</summary>
    private static readonly List<string> LiveStates = ["pending", "running", "stopping", "stopped"];

    public static bool LooksLikeId(string text) => InstanceIdPattern().IsMatch(text);

    /// <summary>The one instance called <paramref name="nameOrId"/>, or a CliFailure: unknown, or a Name shared by several (listed).</summary>
    public async Task<PersonInstance> FindAsync(string nameOrId, CancellationToken cancellationToken)
    {
        if (LooksLikeId(nameOrId))
        {
            var found = await DescribeAsync(new DescribeInstancesRequest { InstanceIds = [nameOrId] }, nameOrId, cancellationToken,
                e => e.ErrorCode is "InvalidInstanceID.NotFound" or "InvalidInstanceID.Malformed" ? Unknown(nameOrId, "id") : null);
            return found.FirstOrDefault() ?? throw Unknown(nameOrId, "id");
        }
        // EC2 filter values are wildcard patterns (* and ?): the exact comparison below keeps only this very name.
        var named = (await DescribeAsync(new DescribeInstancesRequest
        {
            Filters = [new Filter("tag:Name", [nameOrId]), new Filter("instance-state-name", LiveStates)],
        }, null, cancellationToken)).Where(i => i.Name == nameOrId).ToList();
        if (named.Count == 0) throw Unknown(nameOrId, "Name tag");
        if (named.Count > 1)
        {
            var rows = named.OrderBy(i => i.Id, StringComparer.Ordinal)
                .Select(i => $"  {i.Id}  {i.State,-8}  {(i.OptIn(config) == OptIn.OptedIn ? "opted in" : "not opted in")}");
            throw new CliFailure(ExitCodes.AmbiguousName,
                $"{named.Count} instances in {region} are named '{nameOrId}'; name one by its id (nothing was done):\n{string.Join('\n', rows)}");
        }
        return named[0];
    }

    /// <summary>The instances carrying the opt-in tag key (any value), not terminated, in id order.</summary>
    public async Task<List<PersonInstance>> ListTaggedAsync(CancellationToken cancellationToken) =>
        (await DescribeAsync(new DescribeInstancesRequest
        {
            Filters = [new Filter("tag-key", [config.TagKey]), new Filter("instance-state-name", LiveStates)],
            MaxResults = 1000,
        }, null, cancellationToken)).OrderBy(i => i.Name ?? "", StringComparer.Ordinal).ThenBy(i => i.Id, StringComparer.Ordinal).ToList();

    public async Task<PersonInstance> RefreshAsync(string id, CancellationToken cancellationToken) =>
        (await DescribeAsync(new DescribeInstancesRequest { InstanceIds = [id] }, id, cancellationToken)).FirstOrDefault() ?? throw Unknown(id, "id");

    /// <summary>All pages; bounded (EC2 pages hold up to 1,000 instances; 100 pages is far beyond any person's fleet).</summary>
    private async Task<List<PersonInstance>> DescribeAsync(DescribeInstancesRequest request, string? target, CancellationToken cancellationToken,
        Func<Amazon.Runtime.AmazonServiceException, CliFailure?>? special = null)
    {
        var result = new List<PersonInstance>();
        for (var page = 0; page < 100; page++)
        {
            var response = await AwsGuard.CallAsync("ec2:DescribeInstances", target, () => ec2.DescribeInstancesAsync(request, cancellationToken), special);
            result.AddRange((response.Reservations ?? []).SelectMany(r => r.Instances ?? []).Select(PersonInstance.From));
            if (string.IsNullOrEmpty(response.NextToken)) break;
            request.NextToken = response.NextToken;
        }
        return result;
    }

    private CliFailure Unknown(string nameOrId, string kind) => new(ExitCodes.UnknownInstance,
        kind == "id"
            ? $"no instance with id {nameOrId} in {region} (nothing was done); check the region (--region, AWS_REGION or the profile's region)."
            : $"no instance named '{nameOrId}' in {region} (its Name tag, terminated instances not counted; nothing was done); " +
              "use the exact Name or the instance id, and check the region (--region, AWS_REGION or the profile's region).");

    [GeneratedRegex("^i-([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex InstanceIdPattern();
}
