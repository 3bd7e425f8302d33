using AutoStop.Aws;
using AutoStop.Inventory;
using AutoStop.Probing;

namespace AutoStop.Tests.Ticking;

/// <summary>
/// An in-memory fleet behind the three AWS seams, for testing the tick's orchestration (the AWS adapters are tested
/// against moto and the lab). Tags and states change as EC2 would, so several ticks can run in a row.
/// </summary>
internal sealed class InMemoryAws : IInstanceInventory, IProbeRunner, IInstanceActions
{
    public readonly Dictionary<string, InstanceRecord> Instances = new();
    public readonly Dictionary<string, ProbeOutcome> Probes = new();
    public readonly Dictionary<string, AwsFailure> StopFailures = new();
    public readonly HashSet<string> NoHibernation = [];
    public readonly List<(IReadOnlyList<string> Ids, bool Hibernate)> StopCalls = [];
    public readonly List<(IReadOnlyList<string> Ids, string Key, string Value)> SetTagCalls = [];
    public readonly List<(IReadOnlyList<string> Ids, IReadOnlyList<string> Keys)> RemoveTagCalls = [];
    public TimeSpan ProbeDelay = TimeSpan.Zero;
    public AwsFailure? InventoryFailure;
    public readonly ApiCallLog Calls = new();

    public AwsPorts Ports => new(this, this, this, Calls);

    public void Add(InstanceRecord instance, ProbeOutcome? probe = null)
    {
        Instances[instance.InstanceId] = instance;
        if (probe is not null) Probes[instance.InstanceId] = probe;
    }

    public Task<IReadOnlyList<InstanceRecord>> ListTaggedAsync(string tagKey, CancellationToken cancellationToken)
    {
        Calls.Record("EC2:DescribeInstances");
        if (InventoryFailure is not null) throw new AwsCallException(InventoryFailure);
        return Task.FromResult<IReadOnlyList<InstanceRecord>>(Instances.Values.Where(i => i.Tags.ContainsKey(tagKey)).ToList());
    }

    public async Task<IReadOnlyDictionary<string, ProbeOutcome>> ProbeAsync(IReadOnlyList<string> instanceIds, ProbeRequest request, CancellationToken cancellationToken)
    {
        Calls.Record("SSM:SendCommand");
        if (ProbeDelay > TimeSpan.Zero) await Task.Delay(ProbeDelay, cancellationToken);
        return instanceIds.ToDictionary(id => id, id => Probes.TryGetValue(id, out var p) ? p : ProbeOutcome.Failure(ProbeStatus.TimedOut, "no scripted probe"));
    }

    public Task<IReadOnlyDictionary<string, StopResult>> StopAsync(IReadOnlyList<string> instanceIds, bool hibernate, CancellationToken cancellationToken)
    {
        Calls.Record("EC2:StopInstances");
        StopCalls.Add((instanceIds.ToList(), hibernate));
        var results = new Dictionary<string, StopResult>();
        foreach (var id in instanceIds)
        {
            if (StopFailures.TryGetValue(id, out var failure)) { results[id] = new StopResult(false, false, failure); continue; }
            var fellBack = hibernate && NoHibernation.Contains(id);
            results[id] = new StopResult(hibernate && !fellBack, fellBack, null);
            Instances[id] = Instances[id] with { State = "stopped" };
        }
        return Task.FromResult<IReadOnlyDictionary<string, StopResult>>(results);
    }

    public Task<IReadOnlyList<(string InstanceId, AwsFailure Failure)>> SetTagAsync(IReadOnlyList<string> instanceIds, string key, string value, CancellationToken cancellationToken)
    {
        Calls.Record("EC2:CreateTags");
        SetTagCalls.Add((instanceIds.ToList(), key, value));
        foreach (var id in instanceIds)
            Instances[id] = Instances[id] with { Tags = new Dictionary<string, string>(Instances[id].Tags) { [key] = value } };
        return Task.FromResult<IReadOnlyList<(string, AwsFailure)>>([]);
    }

    public Task<IReadOnlyList<(string InstanceId, AwsFailure Failure)>> RemoveTagsAsync(IReadOnlyList<string> instanceIds, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        Calls.Record("EC2:DeleteTags");
        RemoveTagCalls.Add((instanceIds.ToList(), keys.ToList()));
        foreach (var id in instanceIds)
        {
            var tags = new Dictionary<string, string>(Instances[id].Tags);
            foreach (var key in keys) tags.Remove(key);
            Instances[id] = Instances[id] with { Tags = tags };
        }
        return Task.FromResult<IReadOnlyList<(string, AwsFailure)>>([]);
    }
}
