using System.Threading.Channels;
using AutoStop.Acting;
using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;
using AutoStop.Reporting;

namespace AutoStop.Ticking;

/// <summary>
/// One tick: inventory, probe, decide, act, report. Wires the pure policy to the AWS seams; holds no policy itself, and
/// leaves acting (stops, tags, decision lines) to <see cref="DecisionExecutor"/>. Probe answers are decided and acted on
/// as they arrive, so a stop acts on a fresh look however slow other instances are. One instance's failure, or an
/// unexpected error deciding it, is logged on that instance and never keeps the others from being decided.
/// </summary>
public sealed class TickRunner(AutoStopConfig config, AwsPorts aws, DecisionLog log, EmfMetrics metrics, TimeProvider clock) : ITickHandler
{
    /// <summary>Time kept back from the probe wait for the last stops, the tag writes and the lines.</summary>
    private static readonly TimeSpan ActReserve = TimeSpan.FromSeconds(10);

    /// <summary>The last tick (policy time) this process saw each instance in use; the idle clock cannot start before the
    /// tick after it. Lambda keeps a warm process between ticks, so this usually survives; it only ever moves the idle
    /// clock later, so losing it is never unsafe.</summary>
    private readonly Dictionary<string, DateTimeOffset> _lastSeenInUse = new(StringComparer.Ordinal);

    /// <summary>How far ahead a stop notice goes: one schedule period, when notices can be sent at all.</summary>
    private TimeSpan? NoticeLead => config.NoticeDocument is not null && aws.Notices is not null ? TimeSpan.FromMinutes(config.ScheduleMinutes) : null;

    public async Task<TickOutcome> RunTickAsync(TickRequest request, CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        aws.Calls.BeginTick(request.Deadline);
        var now = request.Now;
        var dryRun = request.ForceDryRun || config.DryRun;

        InventoryListing listing;
        try
        {
            listing = await aws.Inventory.ListTaggedAsync(config.TagKey, cancellationToken);
        }
        catch (AwsCallException e)
        {
            log.Error(now, e.Failure, context: "Could not list instances; nothing was decided this tick");
            return Finish(TickSummary.Empty(now, dryRun, completed: false, (long)clock.GetElapsedTime(started).TotalMilliseconds, aws.Calls));
        }
        foreach (var (instanceId, failure) in listing.Failures)
            log.Error(now, failure, instanceId, "Part of what EC2 says about this instance could not be read");

        // Stopped instances are only counted: those AutoStop stopped and that are still stopped are its savings.
        var instances = listing.Instances;
        var stillStopped = instances.Count(i => i.State == "stopped" && i.Tags.ContainsKey(config.TagPrefix + InstanceSettingsReader.StoppedAtTag));
        var executor = new DecisionExecutor(config, aws, log, clock, now);

        var toProbe = new Dictionary<string, (InstanceRecord Instance, InstanceSettings Settings)>(StringComparer.Ordinal);
        foreach (var instance in instances.Where(i => i.State != "stopped"))
        {
            var screen = Guarded(instance, () => InstanceScreen.Screen(instance, config));
            if (screen.Settings is { } settings) toProbe[instance.InstanceId] = (instance, settings);
            else executor.Record(new DecisionRecord(instance, screen.Skip!, null, dryRun));
        }

        // Session Manager's history is read while the probes run: only the decisions need it.
        var historyTask = SessionHistoryAsync(toProbe.Count, now, cancellationToken);
        SessionHistory? history = null;
        // Answers come a command's worth at a time. Their stops go to a queue that a few actors drain, each taking
        // everything queued so far: a slow or throttled stop never holds back (and makes stale) the looks behind it, and
        // when stops come faster than AWS takes them, they share calls instead of queueing one call per batch of answers.
        var stopQueue = Channel.CreateUnbounded<List<DecisionRecord>>(new UnboundedChannelOptions { SingleReader = true });
        var answersDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopping = DrainStopsAsync(executor, stopQueue.Reader, answersDone.Task, cancellationToken);
        try
        {
            await foreach (var answers in ProbeAsync(toProbe.Keys.ToList(), request, now, cancellationToken))
            {
                history = await historyTask;
                var decided = new List<DecisionRecord>(answers.Count);
                var stops = new List<DecisionRecord>();
                foreach (var answer in answers)
                {
                    if (!toProbe.Remove(answer.InstanceId, out var target)) continue;
                    var record = Decide(target.Instance, target.Settings, answer, history, now, dryRun);
                    (record.Decision.StopsInstance ? stops : decided).Add(record);
                }
                if (stops.Count > 0) stopQueue.Writer.TryWrite(stops);  // a batch's stops stay together
                await executor.ActAsync(decided, cancellationToken); // nothing to stop: only recorded, at once
            }
        }
        finally
        {
            stopQueue.Writer.TryComplete();
            answersDone.TrySetResult();
        }
        await stopping;
        history = await historyTask;
        // The probe runner answers for every id; this only guards against one that did not.
        foreach (var (instance, settings) in toProbe.Values)
            executor.Record(Decide(instance, settings, new ProbeAnswer(instance.InstanceId,
                ProbeOutcome.Failure(ProbeStatus.NotProbed, "the probe returned no result for this instance")), history, now, dryRun));
        await executor.FinishAsync(cancellationToken);

        var records = executor.Done;
        if (config.InstanceMetrics)
            foreach (var record in records.Where(r => r.Probe?.Report is not null))
                metrics.InstanceSessions(now, record.Instance.InstanceId, SessionCount(record.Probe!.Report!));

        return Finish(TickSummary.From(records, now, dryRun, stillStopped, config.ScheduleMinutes, executor.DeadlineReached,
            (long)clock.GetElapsedTime(started).TotalMilliseconds, aws.Calls));
    }

    /// <summary>Stops are acted on by up to <see cref="DecisionExecutor.StopChunksAtOnce"/> actors at once; each takes what
    /// is queued when it starts (up to <see cref="MaxStopsPerAct"/>), so the time a stop waits is at most one act.</summary>
    private static async Task DrainStopsAsync(DecisionExecutor executor, ChannelReader<List<DecisionRecord>> queue, Task answersDone, CancellationToken cancellationToken)
    {
        var acting = new List<Task>();
        using var slots = new SemaphoreSlim(DecisionExecutor.StopChunksAtOnce);
        while (await queue.WaitToReadAsync(CancellationToken.None))
        {
            // A moment for the batches right behind this one (a probe round's answers come within about a second): they
            // then share the act's calls. It adds at most StopLinger to a look's age, against a bound of seconds.
            if (!answersDone.IsCompleted) await Task.WhenAny(answersDone, Task.Delay(StopLinger, cancellationToken));
            await slots.WaitAsync(cancellationToken);
            var taken = new List<DecisionRecord>();
            while (taken.Count < MaxStopsPerAct && queue.TryPeek(out var next) && (taken.Count == 0 || taken.Count + next.Count <= MaxStopsPerAct)
                   && queue.TryRead(out var batch))
                taken.AddRange(batch);
            if (taken.Count == 0) { slots.Release(); continue; }
            acting.Add(ActAsync(taken));
        }
        await Task.WhenAll(acting);

        async Task ActAsync(List<DecisionRecord> stops)
        {
            try { await executor.ActAsync(stops, cancellationToken); }
            finally { slots.Release(); }
        }
    }

    private static readonly TimeSpan StopLinger = TimeSpan.FromMilliseconds(500);

    /// <summary>CreateTags takes up to 1,000 resource ids (../shared/aws-notes.md): one act's intent tag is one call.</summary>
    private const int MaxStopsPerAct = 1000;

    /// <summary>Decides one observed instance. An unexpected error is that instance's skip (policy-error), never the tick's.</summary>
    private DecisionRecord Decide(InstanceRecord instance, InstanceSettings settings, ProbeAnswer answer, SessionHistory? history, DateTimeOffset now, bool dryRun)
    {
        var id = instance.InstanceId;
        var evidence = new ActivityEvidence(
            LastSsmSessionEnd: history?.LastEnded.TryGetValue(id, out var end) == true ? end : null,
            SsmSessionOpen: history?.Active.Contains(id) == true,
            SessionHistoryKnown: history is not null,
            FirstTickAfterUse: _lastSeenInUse.TryGetValue(id, out var seen) ? seen.AddMinutes(config.ScheduleMinutes) : null);
        Decision decision;
        try
        {
            decision = IdlePolicy.Decide(new PolicyInput(instance, settings, answer.Outcome, now, dryRun, evidence, NoticeLead));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            decision = Decision.Skip(ReasonCodes.PolicyError,
                $"Not decided, so not stopped: an unexpected {e.GetType().Name} while deciding: {e.Message}", settings.ThresholdSeconds);
        }
        if (TickSummary.IsActive(decision)) _lastSeenInUse[id] = now;
        return new DecisionRecord(instance, decision, answer.Outcome, dryRun, ObservedAt: answer.ObservedAt, ProbeWarning: answer.Warning,
            LastSsmSessionEnd: evidence.LastSsmSessionEnd);
    }

    private InstanceScreen.Result Guarded(InstanceRecord instance, Func<InstanceScreen.Result> screen)
    {
        try { return screen(); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new InstanceScreen.Result(null, Decision.Skip(ReasonCodes.PolicyError,
                $"Not decided, so not stopped: an unexpected {e.GetType().Name} while reading its tags: {e.Message}", config.IdleMinutes * 60L));
        }
    }

    /// <summary>
    /// Session Manager sessions since the last two schedule periods (and at least 30 minutes), for the whole fleet. A
    /// longer session was open at an earlier tick, where the probe saw it. When SSM cannot say, null: no idle stop is
    /// safe this tick (a session between ticks could be missed), and the policy says so per instance.
    /// </summary>
    private async Task<SessionHistory?> SessionHistoryAsync(int probed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (probed == 0) return new SessionHistory(new Dictionary<string, DateTimeOffset>(), new HashSet<string>());
        var lookBack = TimeSpan.FromMinutes(Math.Max(30, 2 * config.ScheduleMinutes));
        try
        {
            return await aws.Sessions.RecentAsync(now - lookBack, cancellationToken);
        }
        catch (Exception e) when (!AwsErrors.IsCallerCancellation(e, cancellationToken))
        {
            var failure = e is AwsCallException a ? a.Failure : new AwsFailure("SSM:DescribeSessions", e.GetType().Name, e.Message);
            log.Error(now, failure, context: "Session Manager's session history could not be read; no instance is stopped for idleness this tick");
            return null;
        }
    }

    /// <summary>The probe answers as they arrive. When the round as a whole fails, every instance not yet answered is
    /// unobserved (never stopped), and each distinct failed AWS call behind probe failures gets one error line.</summary>
    private async IAsyncEnumerable<IReadOnlyList<ProbeAnswer>> ProbeAsync(IReadOnlyList<string> ids, TickRequest request, DateTimeOffset now,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (ids.Count == 0) yield break;
        // Instances get the probe timeout to answer once their command is sent; the whole round ends in time to act.
        var wallNow = clock.GetUtcNow();
        var roundDeadline = request.Deadline - ActReserve;
        if (roundDeadline <= wallNow) roundDeadline = Min(wallNow.AddSeconds(1), request.Deadline);
        var probeRequest = new ProbeRequest(config.ProbeDocument, config.ProbeDocumentVersion, roundDeadline, TimeSpan.FromSeconds(config.ProbeTimeoutSeconds),
            TimeSpan.FromMilliseconds(config.ProbePollMilliseconds), $"AutoStop tick {SettingValues.FormatTime(now)}", now);
        var answered = new HashSet<string>(StringComparer.Ordinal);
        var loggedFailures = new HashSet<AwsFailure>();
        await using var stream = aws.Probes.ProbeAsync(ids, probeRequest, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            IReadOnlyList<ProbeAnswer> batch;
            AwsFailure? roundFailure = null;
            try
            {
                if (!await stream.MoveNextAsync()) break;
                batch = stream.Current;
            }
            catch (Exception e) when (!AwsErrors.IsCallerCancellation(e, cancellationToken))
            {
                roundFailure = e is AwsCallException a ? a.Failure : new AwsFailure("SSM:Probe", e.GetType().Name, e.Message);
                batch = [];
            }
            if (roundFailure is not null)
            {
                log.Error(now, roundFailure, context: "The probe round failed; the instances not yet observed are not stopped");
                var outcome = ProbeOutcome.Failure(ProbeStatus.Failed, $"{roundFailure.Operation} failed: {roundFailure.Code}");
                yield return ids.Where(id => !answered.Contains(id)).Select(id => new ProbeAnswer(id, outcome)).ToList();
                yield break;
            }
            foreach (var failed in batch.Select(a => a.Outcome.CallFailure).OfType<AwsFailure>().GroupBy(f => f))
                if (loggedFailures.Add(failed.Key))
                    log.Error(now, failed.Key, context: $"{failed.Count()} instance(s) could not be probed");
            foreach (var answer in batch) answered.Add(answer.InstanceId);
            yield return batch;
        }
    }

    private static int SessionCount(ProbeReport report) => report.SshSessions + report.SsmSessions + report.RemoteShellSessions;

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
