using System.Diagnostics;
using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;
using AutoStop.Reporting;

namespace AutoStop.Ticking;

/// <summary>
/// One tick: inventory, probe, decide, act, report. Wires the pure policy to the AWS seams; holds no policy itself.
/// One instance's failure is logged on that instance and never keeps the others from being decided and acted on.
/// </summary>
public sealed class TickRunner(AutoStopConfig config, AwsPorts aws, DecisionLog log, EmfMetrics metrics, TimeProvider clock) : ITickHandler
{
    /// <summary>Time kept back from the probe wait for deciding, stopping, tagging and logging.</summary>
    private static readonly TimeSpan ActReserve = TimeSpan.FromSeconds(10);

    public async Task<TickOutcome> RunTickAsync(TickRequest request, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        aws.Calls.Reset();
        var now = request.Now;
        var dryRun = request.ForceDryRun || config.DryRun;

        IReadOnlyList<InstanceRecord> instances;
        try
        {
            instances = await aws.Inventory.ListTaggedAsync(config.TagKey, cancellationToken);
        }
        catch (AwsCallException e)
        {
            log.Error(now, e.Failure, context: "Could not list instances; nothing was decided this tick");
            return Finish(Empty(now, dryRun, started, completed: false));
        }

        // Stopped instances are only counted: those AutoStop stopped and that are still stopped are its savings.
        var stillStopped = instances.Count(i => i.State == "stopped" && i.Tags.ContainsKey(config.TagPrefix + InstanceSettingsReader.StoppedAtTag));
        var toDecide = instances.Where(i => i.State != "stopped").ToList();
        var screened = toDecide.Select(i => (Instance: i, Screen: InstanceScreen.Screen(i, config))).ToList();

        var probeIds = screened.Where(s => s.Screen.Settings is not null).Select(s => s.Instance.InstanceId).ToList();
        var outcomes = await ProbeAsync(probeIds, request, now, cancellationToken);
        // Each failed AWS call behind probe failures gets one error line (not one per instance).
        foreach (var failed in outcomes.Values.Where(o => o.CallFailure is not null).GroupBy(o => o.CallFailure!))
            log.Error(now, failed.Key, context: $"{failed.Count()} instance(s) could not be probed");

        var records = new List<DecisionRecord>(screened.Count);
        var deadlineReached = false;
        foreach (var (instance, screen) in screened)
        {
            if (screen.Skip is not null)
            {
                records.Add(new DecisionRecord(instance, screen.Skip, null, dryRun));
                continue;
            }
            var outcome = outcomes.TryGetValue(instance.InstanceId, out var o)
                ? o
                : ProbeOutcome.Failure(ProbeStatus.NotProbed, "the probe returned no result for this instance");
            if (clock.GetUtcNow() >= request.Deadline)
            {
                deadlineReached = true;
                records.Add(new DecisionRecord(instance,
                    Decision.Skip(ReasonCodes.Deadline, "The tick deadline passed before this instance was decided; it is left as it is.", screen.Settings!.ThresholdSeconds),
                    outcome, dryRun));
                continue;
            }
            records.Add(new DecisionRecord(instance, IdlePolicy.Decide(new PolicyInput(instance, screen.Settings!, outcome, now, dryRun)), outcome, dryRun));
        }

        var decidedIdle = records.Count(r => IsIdle(r.Decision));
        deadlineReached |= await StopAsync(records, request, now, cancellationToken);
        await WriteIdleStateAsync(records, now, cancellationToken);

        foreach (var record in records) log.Decision(now, record);
        if (config.InstanceMetrics)
            foreach (var record in records.Where(r => r.Probe?.Report is not null))
                metrics.InstanceSessions(now, record.Instance.InstanceId, record.Probe!.Report!.SshSessions + record.Probe.Report.SsmSessions);

        var probeFailures = records.Count(r => r.Probe is { Status: not ProbeStatus.Ok });
        var summary = new TickSummary(
            Time: now,
            Instances: records.Count,
            Probed: probeIds.Count,
            Active: records.Count(r => IsActive(r.Decision)),
            Idle: decidedIdle,
            Stopped: records.Count(r => r.Decision.StopsInstance),
            Skipped: records.Count(r => r.Decision.Action == DecisionAction.Skip),
            Failed: records.Count(r => r.Probe is { Status: not ProbeStatus.Ok } || r.ActionError is not null),
            WouldStop: records.Count(r => r.Decision.Action == DecisionAction.WouldStop),
            ProbeFailures: probeFailures,
            StillStoppedByAutoStop: stillStopped,
            InstanceHoursSaved: stillStopped * config.ScheduleMinutes / 60.0,
            PreauthConnections: records.Sum(r => r.Probe?.Report?.PreauthConnections ?? 0),
            DryRun: dryRun,
            DeadlineReached: deadlineReached,
            Completed: true,
            DurationMs: (long)clock.GetElapsedTime(started).TotalMilliseconds,
            ApiCalls: aws.Calls.Snapshot());
        return Finish(summary);
    }

    private async Task<IReadOnlyDictionary<string, ProbeOutcome>> ProbeAsync(
        IReadOnlyList<string> ids, TickRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return new Dictionary<string, ProbeOutcome>();
        // Instances get the probe timeout to answer once their command is sent; the whole round ends in time to act.
        var wallNow = clock.GetUtcNow();
        var roundDeadline = request.Deadline - ActReserve;
        if (roundDeadline <= wallNow) roundDeadline = Min(wallNow.AddSeconds(1), request.Deadline);
        var probeRequest = new ProbeRequest(config.ProbeDocument, roundDeadline, TimeSpan.FromSeconds(config.ProbeTimeoutSeconds),
            TimeSpan.FromMilliseconds(config.ProbePollMilliseconds), $"AutoStop tick {SettingValues.FormatTime(now)}");
        try
        {
            return await aws.Probes.ProbeAsync(ids, probeRequest, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The probe round as a whole failed: every instance is unobserved, so none is stopped.
            var failure = e is AwsCallException aws ? aws.Failure : new AwsFailure("SSM:Probe", e.GetType().Name, e.Message);
            log.Error(now, failure, context: "The probe round failed; no instance was observed");
            var outcome = ProbeOutcome.Failure(ProbeStatus.Failed, $"{failure.Operation} failed: {failure.Code}");
            return ids.ToDictionary(id => id, _ => outcome);
        }
    }

    /// <summary>Stops what was decided stop/hibernate, in batches. Returns true when the deadline kept stops from being sent.</summary>
    private async Task<bool> StopAsync(List<DecisionRecord> records, TickRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var deadlineHit = false;
        foreach (var hibernate in new[] { false, true })
        {
            var wanted = hibernate ? DecisionAction.Hibernate : DecisionAction.Stop;
            var indexes = Enumerable.Range(0, records.Count).Where(i => records[i].Decision.Action == wanted).ToList();
            if (indexes.Count == 0) continue;
            if (clock.GetUtcNow() >= request.Deadline)
            {
                deadlineHit = true;
                foreach (var i in indexes)
                    records[i] = records[i] with { Decision = Decision.Skip(ReasonCodes.Deadline,
                        $"Decided to {(hibernate ? "hibernate" : "stop")} ({records[i].Decision.Message}) but the tick deadline passed before acting; left running.",
                        records[i].Decision.ThresholdSeconds, records[i].Decision.StateChange) };
                continue;
            }

            IReadOnlyDictionary<string, StopResult> results;
            try
            {
                results = await aws.Actions.StopAsync(indexes.Select(i => records[i].Instance.InstanceId).ToList(), hibernate, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var failure = e is AwsCallException a ? a.Failure : new AwsFailure("EC2:StopInstances", e.GetType().Name, e.Message);
                results = indexes.ToDictionary(i => records[i].Instance.InstanceId, _ => new StopResult(false, false, failure));
            }

            foreach (var i in indexes)
            {
                var record = records[i];
                var result = results.TryGetValue(record.Instance.InstanceId, out var r)
                    ? r
                    : new StopResult(false, false, new AwsFailure("EC2:StopInstances", "NoResult", "EC2 returned no result for this instance"));
                if (result.Error is { } error)
                {
                    log.Error(now, error, record.Instance.InstanceId, "Stopping the instance failed");
                    records[i] = record with
                    {
                        Decision = Decision.Skip(ReasonCodes.StopFailed,
                            $"{record.Decision.Message} EC2 refused the stop: {error.Code}: {error.Message}", record.Decision.ThresholdSeconds, record.Decision.StateChange),
                        ActionError = error,
                    };
                }
                else if (result.HibernateFellBack)
                {
                    records[i] = record with
                    {
                        Decision = record.Decision with { Action = DecisionAction.Stop, Message = record.Decision.Message + " Hibernation is not supported on this instance, so it was stopped instead." },
                        Fallback = "hibernation-not-supported",
                    };
                }
            }
        }
        return deadlineHit;
    }

    /// <summary>
    /// Writes the idle-state tags: only transitions, one call per distinct change across all instances.
    /// Dry run writes them too: without recorded idle periods no instance could ever reach "would-stop".
    /// </summary>
    private async Task WriteIdleStateAsync(List<DecisionRecord> records, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var idleSinceKey = config.TagPrefix + InstanceSettingsReader.IdleSinceTag;
        var stoppedAtKey = config.TagPrefix + InstanceSettingsReader.StoppedAtTag;
        var nowText = SettingValues.FormatTime(now);
        var changes = new TagChange[]
        {
            new(d => d.StateChange.SetIdleSince is not null, [idleSinceKey], Set: true),
            new(d => d.StopsInstance, [stoppedAtKey], Set: true),
            new(d => d.StateChange is { ClearIdleSince: true, ClearStoppedAt: true }, [idleSinceKey, stoppedAtKey], Set: false),
            new(d => d.StateChange is { ClearIdleSince: true, ClearStoppedAt: false }, [idleSinceKey], Set: false),
            new(d => d.StateChange is { ClearIdleSince: false, ClearStoppedAt: true }, [stoppedAtKey], Set: false),
        };

        foreach (var change in changes)
        {
            var indexes = Enumerable.Range(0, records.Count).Where(i => change.Applies(records[i].Decision)).ToList();
            if (indexes.Count == 0) continue;
            var ids = indexes.Select(i => records[i].Instance.InstanceId).ToList();
            var operation = change.Set ? "EC2:CreateTags" : "EC2:DeleteTags";
            IReadOnlyList<(string InstanceId, AwsFailure Failure)> failures;
            try
            {
                failures = change.Set
                    ? await aws.Actions.SetTagAsync(ids, change.Keys[0], nowText, cancellationToken)
                    : await aws.Actions.RemoveTagsAsync(ids, change.Keys, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var failure = e is AwsCallException a ? a.Failure : new AwsFailure(operation, e.GetType().Name, e.Message);
                failures = ids.Select(id => (id, failure)).ToList();
            }

            var failed = failures.ToDictionary(f => f.InstanceId, f => f.Failure);
            foreach (var i in indexes)
            {
                var record = records[i];
                if (failed.TryGetValue(record.Instance.InstanceId, out var failure))
                {
                    log.Error(now, failure, record.Instance.InstanceId, $"Could not {(change.Set ? "write" : "remove")} {string.Join(", ", change.Keys)}");
                    continue;
                }
                records[i] = change.Set
                    ? record with { TagsWritten = [.. record.TagsWritten ?? [], .. change.Keys] }
                    : record with { TagsRemoved = [.. record.TagsRemoved ?? [], .. change.Keys] };
            }
        }
    }

    /// <summary>One kind of idle-state tag change, applied to every instance whose decision asks for it.</summary>
    private sealed record TagChange(Func<Decision, bool> Applies, IReadOnlyList<string> Keys, bool Set);

    private static bool IsActive(Decision d) =>
        d.Reason is ReasonCodes.ActiveSessions or ReasonCodes.KeepAlive or ReasonCodes.BusyLoad or ReasonCodes.MultiplexerSessions;

    private static bool IsIdle(Decision d) =>
        d.Reason is ReasonCodes.BootGrace or ReasonCodes.IdleBelowThreshold or ReasonCodes.IdleThresholdReached or ReasonCodes.DryRun;

    private TickSummary Empty(DateTimeOffset now, bool dryRun, long started, bool completed) =>
        new(now, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, dryRun, false, completed, (long)clock.GetElapsedTime(started).TotalMilliseconds, aws.Calls.Snapshot());

    private TickOutcome Finish(TickSummary summary)
    {
        log.Tick(summary);
        metrics.Fleet(summary);
        var response = new StringWriter();
        new DecisionLog(new JsonLineSink(response)).Tick(summary);
        return new TickOutcome(response.ToString().TrimEnd('\n'), summary.Completed);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
