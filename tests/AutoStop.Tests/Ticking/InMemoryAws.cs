using System.Runtime.CompilerServices;
using AutoStop.Aws;
using AutoStop.Inventory;
using AutoStop.Probing;

namespace AutoStop.Tests.Ticking;

/// <summary>
/// An in-memory fleet behind the AWS seams, for testing the tick's orchestration (the AWS adapters are tested against
/// moto and the lab). Tags and states change as EC2 would, so several ticks can run in a row. Failures are per instance,
/// as the isolating adapters report them.
/// </summary>
internal sealed class InMemoryAws : IInstanceInventory, IProbeRunner, IInstanceActions, ISessionHistory, IStopNotices
{
    public readonly Dictionary<string, InstanceRecord> Instances = new();
    public readonly Dictionary<string, ProbeOutcome> Probes = new();
    public readonly Dictionary<string, AwsFailure> StopFailures = new();
    public readonly Dictionary<string, AwsFailure> TagFailures = new();
    /// <summary>CreateTags failures for one key on one instance only.</summary>
    public readonly Dictionary<(string Id, string Key), AwsFailure> KeyTagFailures = new();
    /// <summary>Failures of DeleteTags only (CreateTags still works), per instance.</summary>
    public readonly Dictionary<string, AwsFailure> RemoveTagFailures = new();
    public readonly HashSet<string> NoHibernation = [];
    public readonly List<(IReadOnlyList<string> Ids, bool Hibernate)> StopCalls = [];
    public readonly List<(IReadOnlyList<string> Ids, string Key, string Value)> SetTagCalls = [];
    public readonly List<(IReadOnlyList<string> Ids, IReadOnlyList<string> Keys)> RemoveTagCalls = [];
    public readonly Dictionary<string, DateTimeOffset> SsmSessionEnds = new();
    public readonly HashSet<string> SsmSessionsOpen = [];
    public TimeSpan ProbeDelay = TimeSpan.Zero;
    /// <summary>How long each StopInstances call takes (a slow or throttled EC2).</summary>
    public TimeSpan StopDelay = TimeSpan.Zero;
    /// <summary>Per instance, how long its answer takes (the others answer at once).</summary>
    public readonly Dictionary<string, TimeSpan> AnswerDelays = new();
    /// <summary>How old each look is when it is handed on (a look taken that long ago).</summary>
    public TimeSpan ObservationAge = TimeSpan.Zero;
    public AwsFailure? InventoryFailure;
    public AwsFailure? HistoryFailure;
    public readonly ApiCallLog Calls = new();

    public readonly List<(IReadOnlyList<string> Ids, NoticeRequest Request)> NoticeCalls = [];
    /// <summary>Stop notices SSM refuses, per instance.</summary>
    public readonly Dictionary<string, AwsFailure> NoticeFailures = new();

    public AwsPorts Ports => new(this, this, this, this, Calls, this);

    public Task<IReadOnlyDictionary<string, AwsFailure>> SendAsync(IReadOnlyList<string> instanceIds, NoticeRequest request, CancellationToken cancellationToken)
    {
        Calls.Record("SSM:SendCommand");
        lock (NoticeCalls) NoticeCalls.Add((instanceIds.ToList(), request));
        IReadOnlyDictionary<string, AwsFailure> failures = instanceIds.Where(NoticeFailures.ContainsKey).ToDictionary(id => id, id => NoticeFailures[id]);
        return Task.FromResult(failures);
    }

    public void Add(InstanceRecord instance, ProbeOutcome? probe = null)
    {
        Instances[instance.InstanceId] = instance;
        if (probe is not null) Probes[instance.InstanceId] = probe;
    }

    public Task<InventoryListing> ListTaggedAsync(string tagKey, CancellationToken cancellationToken)
    {
        Calls.Record("EC2:DescribeInstances");
        if (InventoryFailure is not null) throw new AwsCallException(InventoryFailure);
        return Task.FromResult(new InventoryListing(Instances.Values.Where(i => i.Tags.ContainsKey(tagKey)).ToList(), []));
    }

    public Task<SessionHistory> RecentAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        Calls.Record("SSM:DescribeSessions");
        if (HistoryFailure is not null) throw new AwsCallException(HistoryFailure);
        return Task.FromResult(new SessionHistory(new Dictionary<string, DateTimeOffset>(SsmSessionEnds), new HashSet<string>(SsmSessionsOpen)));
    }

    public async IAsyncEnumerable<IReadOnlyList<ProbeAnswer>> ProbeAsync(IReadOnlyList<string> instanceIds, ProbeRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Calls.Record("SSM:SendCommand");
        if (ProbeDelay > TimeSpan.Zero) await Task.Delay(ProbeDelay, cancellationToken);
        ProbeAnswer Answer(string id) => new(id, Probes.TryGetValue(id, out var p) ? p : ProbeOutcome.Failure(ProbeStatus.TimedOut, "no scripted probe"),
            DateTimeOffset.UtcNow - ObservationAge);
        yield return instanceIds.Where(id => !AnswerDelays.ContainsKey(id)).Select(Answer).ToList();
        foreach (var (id, delay) in AnswerDelays.Where(d => instanceIds.Contains(d.Key)).OrderBy(d => d.Value))
        {
            await Task.Delay(delay, cancellationToken);
            yield return [Answer(id)];
        }
    }

    public async Task<IReadOnlyDictionary<string, StopResult>> StopAsync(IReadOnlyList<StopRequest> requests, CancellationToken cancellationToken)
    {
        if (StopDelay > TimeSpan.Zero) await Task.Delay(StopDelay, cancellationToken);
        var results = new Dictionary<string, StopResult>();
        lock (StopCalls)
        foreach (var group in requests.GroupBy(r => r.Hibernate))
        {
            Calls.Record("EC2:StopInstances");
            StopCalls.Add((group.Select(r => r.InstanceId).ToList(), group.Key));
            foreach (var (id, hibernate) in group)
            {
                if (StopFailures.TryGetValue(id, out var failure)) { results[id] = new StopResult(false, false, failure); continue; }
                var fellBack = hibernate && NoHibernation.Contains(id);
                results[id] = new StopResult(hibernate && !fellBack, fellBack, null);
                Instances[id] = Instances[id] with { State = "stopped" };
            }
        }
        return results;
    }

    public Task<IReadOnlyDictionary<string, AwsFailure>> SetTagAsync(IReadOnlyList<string> instanceIds, string key, string value, CancellationToken cancellationToken)
    {
        Calls.Record("EC2:CreateTags");
        SetTagCalls.Add((instanceIds.ToList(), key, value));
        var failures = new Dictionary<string, AwsFailure>();
        foreach (var id in instanceIds)
        {
            if (TagFailures.TryGetValue(id, out var failure) || KeyTagFailures.TryGetValue((id, key), out failure)) { failures[id] = failure with { Operation = "EC2:CreateTags" }; continue; }
            Instances[id] = Instances[id] with { Tags = new Dictionary<string, string>(Instances[id].Tags) { [key] = value } };
        }
        return Task.FromResult<IReadOnlyDictionary<string, AwsFailure>>(failures);
    }

    public Task<IReadOnlyDictionary<string, AwsFailure>> RemoveTagsAsync(IReadOnlyList<string> instanceIds, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        Calls.Record("EC2:DeleteTags");
        RemoveTagCalls.Add((instanceIds.ToList(), keys.ToList()));
        var failures = new Dictionary<string, AwsFailure>();
        foreach (var id in instanceIds)
        {
            if (TagFailures.TryGetValue(id, out var failure) || RemoveTagFailures.TryGetValue(id, out failure)) { failures[id] = failure with { Operation = "EC2:DeleteTags" }; continue; }
            var tags = new Dictionary<string, string>(Instances[id].Tags);
            foreach (var key in keys) tags.Remove(key);
            Instances[id] = Instances[id] with { Tags = tags };
        }
        return Task.FromResult<IReadOnlyDictionary<string, AwsFailure>>(failures);
    }
}
