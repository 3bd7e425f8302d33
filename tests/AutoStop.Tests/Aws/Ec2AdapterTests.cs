using AutoStop.Aws;
using AutoStop.TestSupport;

namespace AutoStop.Tests.Aws;

/// <summary>The EC2 adapters against a real EC2 API emulator (moto_server): filters, pagination, tags, stops.</summary>
[Collection(MotoCollection.Name)]
public class Ec2AdapterTests(MotoServer moto)
{
    private readonly MotoFleet _fleet = new(moto);
    private readonly ApiCallLog _calls = new();

    [Fact]
    public async Task InventoryListsTaggedInstancesInListedStatesOnly()
    {
        var key = MotoFleet.UniqueTagKey();
        var running = await _fleet.LaunchAsync(2, (key, "true"), ("Name", "dev"), (key + ":IdleMinutes", "30"));
        var upper = await _fleet.LaunchAsync(1, (key, "TRUE"));
        var optedOut = await _fleet.LaunchAsync(1, (key, "false"));
        var untagged = await _fleet.LaunchAsync(1, ("Name", "other"));
        var stopped = await _fleet.LaunchAsync(1, (key, "true"));
        var terminated = await _fleet.LaunchAsync(1, (key, "true"));
        await _fleet.Ec2.StopInstancesAsync(new() { InstanceIds = stopped });
        await _fleet.Ec2.TerminateInstancesAsync(new() { InstanceIds = terminated });

        var listed = (await new Ec2InstanceInventory(_fleet.Ec2, _calls).ListTaggedAsync(key, CancellationToken.None)).Instances;

        var ids = listed.Select(i => i.InstanceId).ToHashSet();
        Assert.Equal(running.Concat(upper).Concat(optedOut).Concat(stopped).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(untagged[0], ids);
        Assert.DoesNotContain(terminated[0], ids);
        var first = listed.Single(i => i.InstanceId == running[0]);
        Assert.Equal("running", first.State);
        Assert.Equal("dev", first.Name);
        Assert.Equal("30", first.Tags[key + ":IdleMinutes"]);
        Assert.Equal("ebs", first.RootDeviceType);
        Assert.NotNull(first.LaunchTime);
        Assert.Equal(TimeSpan.Zero, first.LaunchTime!.Value.Offset);
        Assert.Contains(listed.Single(i => i.InstanceId == stopped[0]).State, new[] { "stopping", "stopped" });
        Assert.Equal(1, _calls.Count("EC2:DescribeInstances"));
    }

    [Fact]
    public async Task InventoryFollowsEveryPage()
    {
        var key = MotoFleet.UniqueTagKey();
        // One reservation each: EC2 (and moto) never split a reservation across pages.
        var launched = new List<string>();
        for (var i = 0; i < 12; i++) launched.AddRange(await _fleet.LaunchAsync(1, (key, "true")));

        var listed = (await new Ec2InstanceInventory(_fleet.Ec2, _calls, pageSize: 5).ListTaggedAsync(key, CancellationToken.None)).Instances;

        Assert.Equal(launched.Order(StringComparer.Ordinal), listed.Select(i => i.InstanceId).Order(StringComparer.Ordinal));
        Assert.Equal(3, _calls.Count("EC2:DescribeInstances")); // 5 + 5 + 2
    }

    [Fact]
    public async Task TagsAreSetAndRemovedOnManyInstancesInOneCallEach()
    {
        var key = MotoFleet.UniqueTagKey();
        var ids = await _fleet.LaunchAsync(3, (key, "true"));
        var actions = new Ec2InstanceActions(_fleet.Ec2, _calls);

        Assert.Empty(await actions.SetTagAsync(ids, key + ":IdleSince", "2026-11-23T10:05:00Z", CancellationToken.None));
        foreach (var id in ids) Assert.Equal("2026-11-23T10:05:00Z", (await _fleet.TagsOfAsync(id))[key + ":IdleSince"]);

        Assert.Empty(await actions.RemoveTagsAsync(ids, [key + ":IdleSince"], CancellationToken.None));
        foreach (var id in ids)
        {
            var tags = await _fleet.TagsOfAsync(id);
            Assert.False(tags.ContainsKey(key + ":IdleSince"));
            Assert.Equal("true", tags[key]); // other tags untouched
        }
        Assert.Equal(1, _calls.Count("EC2:CreateTags"));
        Assert.Equal(1, _calls.Count("EC2:DeleteTags"));
    }

    [Fact]
    public async Task StopStopsEveryInstanceInOneCall()
    {
        var key = MotoFleet.UniqueTagKey();
        var ids = await _fleet.LaunchAsync(4, (key, "true"));

        var results = await new Ec2InstanceActions(_fleet.Ec2, _calls).StopAsync(ids.Select(id => new StopRequest(id, false)).ToList(), CancellationToken.None);

        Assert.All(ids, id => Assert.True(results[id].Stopped));
        foreach (var id in ids) Assert.Contains(await _fleet.StateOfAsync(id), new[] { "stopping", "stopped" });
        Assert.Equal(1, _calls.Count("EC2:StopInstances"));
    }

    [Fact]
    public async Task OneInstanceThatCannotBeStoppedDoesNotKeepTheOthersRunning()
    {
        var key = MotoFleet.UniqueTagKey();
        var ids = await _fleet.LaunchAsync(2, (key, "true"));
        const string gone = "i-0123456789abcdef0"; // well formed, never launched: EC2 fails the whole call for it

        var results = await new Ec2InstanceActions(_fleet.Ec2, _calls).StopAsync([new(ids[0], false), new(gone, false), new(ids[1], false)], CancellationToken.None);

        Assert.True(results[ids[0]].Stopped);
        Assert.True(results[ids[1]].Stopped);
        Assert.False(results[gone].Stopped);
        Assert.Equal("InvalidInstanceID.NotFound", results[gone].Error!.Code);
        Assert.Equal("EC2:StopInstances", results[gone].Error!.Operation);
        foreach (var id in ids) Assert.Contains(await _fleet.StateOfAsync(id), new[] { "stopping", "stopped" });
        // The batch, then halves until the bad one stands alone: [a] ok, [gone, b] refused, [gone] refused, [b] ok.
        Assert.Equal(5, _calls.Count("EC2:StopInstances"));
        Assert.Equal(4, _calls.IsolationTotal);
    }
}
