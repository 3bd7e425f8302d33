using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Policy;
using AutoStop.Reporting;

namespace AutoStop.Acting;

/// <summary>
/// Carries out decisions: stops (or hibernates) and writes AutoStop's tags, and writes each decision line as soon as the
/// instance's outcome is known. A batch's stops go out at once, on a look no older than the observation-age bound;
/// tag transitions of the instances left running are written together at the end of the tick (one call per kind of
/// change, not per instance).
/// Rules it keeps: nothing is stopped without its decision line and its StoppedAt tag (StoppedAt is written first, and an
/// instance whose StoppedAt cannot be written is not stopped); no call starts that could not finish before the deadline;
/// one instance's refusal never fails another's action (the AWS adapters isolate batches).
/// </summary>
public sealed class DecisionExecutor(AutoStopConfig config, AwsPorts aws, DecisionLog log, TimeProvider clock, DateTimeOffset now)
{
    // Batches of answers are acted on concurrently (TickRunner): the lists below are shared.
    private readonly Lock _gate = new();
    private readonly List<DecisionRecord> _waiting = [];
    private readonly List<DecisionRecord> _done = [];
    // StopInstances calls in flight across all batches: more only queue on EC2's rate limit as throttled retries, whose
    // time no look's age check can foresee; waiting here is seen, since each chunk checks its ages after the wait.
    private readonly SemaphoreSlim _stopCalls = new(StopChunksAtOnce);

    private string IdleSinceKey => config.TagPrefix + InstanceSettingsReader.IdleSinceTag;
    private string StoppedAtKey => config.TagPrefix + InstanceSettingsReader.StoppedAtTag;
    private string StopReasonKey => config.TagPrefix + InstanceSettingsReader.StopReasonTag;

    /// <summary>Every decision, as its line was written.</summary>
    public IReadOnlyList<DecisionRecord> Done => _done;

    /// <summary>True when the deadline kept a decided stop from being sent.</summary>
    public bool DeadlineReached { get; private set; }

    /// <summary>Writes the line of a decision that needs no action (screened out, not observed and nothing to store).</summary>
    public void Record(DecisionRecord record)
    {
        if (record.Decision.StateChange.IsNone && !record.Decision.StopsInstance && record.Decision.Notice is null) Write(record);
        else lock (_gate) _waiting.Add(record);
    }

    /// <summary>Stops what this batch decided to stop, now; the rest wait for <see cref="FinishAsync"/>.</summary>
    public async Task ActAsync(IReadOnlyList<DecisionRecord> batch, CancellationToken cancellationToken)
    {
        var stops = new List<DecisionRecord>();
        foreach (var record in batch)
        {
            if (record.Decision.StopsInstance) stops.Add(record);
            else Record(record);
        }
        if (stops.Count == 0) return;

        // The intent tag, the stop and a clean-up must all fit before the deadline.
        var needed = aws.Calls.Required("EC2:CreateTags") + aws.Calls.Required("EC2:StopInstances") + aws.Calls.Required("EC2:DeleteTags");
        if (aws.Calls.TimeLeft < needed)
        {
            DeadlineReached = true;
            foreach (var record in stops)
                Write(Skipped(record, ReasonCodes.Deadline, $"Decided to {Verb(record)} ({record.Decision.Message}) but the tick deadline was too close to act; left running for the next tick."));
            return;
        }

        var (fresh, stale) = SplitByAge(stops);
        lock (_gate) foreach (var record in stale) _waiting.Add(StaleSkip(record));

        // StoppedAt first: an instance AutoStop stops always carries it, even when the tick is cut short right after.
        var nowText = SettingValues.FormatTime(now);
        var tagFailures = await Guard(() => aws.Actions.SetTagAsync(fresh.Select(r => r.Instance.InstanceId).ToList(), StoppedAtKey, nowText, cancellationToken),
            fresh, "EC2:CreateTags");
        var tagged = new List<DecisionRecord>();
        foreach (var record in fresh)
        {
            if (tagFailures.TryGetValue(record.Instance.InstanceId, out var failure))
            {
                log.Error(now, failure, record.Instance.InstanceId, $"Could not write {StoppedAtKey} before stopping, so the instance was not stopped");
                if (failure.Code == AwsCall.DeadlineCode) DeadlineReached = true;
                var reason = failure.Code == AwsCall.DeadlineCode ? ReasonCodes.Deadline
                    : AwsErrors.IsAccessDenied(failure) ? ReasonCodes.AccessDenied : ReasonCodes.TagWriteFailed;
                Write(Skipped(record, reason,
                    $"{record.Decision.Message} Not stopped: {StoppedAtKey} could not be written first ({failure.Code}: {failure.Message}).") with { ActionError = failure });
            }
            else tagged.Add(record with { TagsWritten = [.. record.TagsWritten ?? [], StoppedAtKey] });
        }

        // Stops go out in chunks, a few at once (a slow or throttled StopInstances must not make the looks of the chunks
        // behind it stale), each chunk's ages looked at again right before its call: the intent tag and earlier chunks took time.
        var undo = new List<DecisionRecord>();
        var lines = new List<DecisionRecord>();
        await Parallel.ForEachAsync(tagged.Chunk(StopChunkSize), new ParallelOptions { MaxDegreeOfParallelism = StopChunksAtOnce, CancellationToken = cancellationToken },
            async (chunk, token) =>
            {
                await _stopCalls.WaitAsync(token);
                List<DecisionRecord> toStop, staleNow;
                DateTimeOffset sentAt;
                IReadOnlyDictionary<string, StopResult> results;
                try
                {
                    (toStop, staleNow) = SplitByAge(chunk);
                    sentAt = clock.GetUtcNow();
                    results = toStop.Count == 0 ? new Dictionary<string, StopResult>() : await GuardStop(toStop, token);
                }
                finally { _stopCalls.Release(); }
                lock (lines)
                {
                    undo.AddRange(staleNow.Select(StaleSkip));
                    var settled = new List<DecisionRecord>();
                    foreach (var record in toStop) Settle(record, results, sentAt, settled, undo);
                    // This chunk's stop lines go out now, before any other chunk or tag call can run into the deadline.
                    foreach (var record in settled) Write(record);
                    lines.AddRange(settled);
                }
            });
        await WriteStopReasonsAsync(lines.Where(r => r.ActionError is null).ToList(), cancellationToken);

        // Not stopped after all: take the intent tag back (best effort; a running instance with StoppedAt only resets its idle clock).
        if (undo.Count > 0)
        {
            var removeFailures = await Guard(() => aws.Actions.RemoveTagsAsync(undo.Select(r => r.Instance.InstanceId).ToList(), [StoppedAtKey], cancellationToken), undo, "EC2:DeleteTags");
            foreach (var record in undo)
                Write(removeFailures.ContainsKey(record.Instance.InstanceId) ? record : record with { TagsWritten = null, TagsRemoved = null });
        }
    }

    /// <summary>
    /// After the stops went out and their lines were written: KEY:StopReason on each stopped instance, so the console and
    /// the autostop command show why and how long it was idle (KEY:StoppedAt says when). Informational and best effort: it
    /// never holds back a stop or a line, and a failure is an error line. One CreateTags per distinct text (CreateTags sets
    /// one value for all the instances it names), and none when the deadline is too close.
    /// </summary>
    private async Task WriteStopReasonsAsync(List<DecisionRecord> stopped, CancellationToken cancellationToken)
    {
        foreach (var group in stopped.Where(r => r.Decision.StopReasonText is not null).GroupBy(r => r.Decision.StopReasonText!, StringComparer.Ordinal))
        {
            var records = group.ToList();
            if (aws.Calls.TimeLeft < aws.Calls.Required("EC2:CreateTags"))
            {
                foreach (var record in records)
                    log.Error(now, new AwsFailure("EC2:CreateTags", AwsCall.DeadlineCode, "the tick deadline was too close"), record.Instance.InstanceId,
                        $"{StopReasonKey} was not written (the stop itself went out)");
                continue;
            }
            var text = group.Key.Length <= InstanceSettingsReader.MaxTagValueLength ? group.Key : group.Key[..InstanceSettingsReader.MaxTagValueLength];
            var failures = await Guard(() => aws.Actions.SetTagAsync(records.Select(r => r.Instance.InstanceId).ToList(), StopReasonKey, text, cancellationToken),
                records, "EC2:CreateTags");
            foreach (var (instanceId, failure) in failures)
                log.Error(now, failure, instanceId, $"Could not write {StopReasonKey} (the stop itself went out)");
        }
    }

    /// <summary>Instances per StopInstances call from here, and such calls in flight at once.</summary>
    public const int StopChunkSize = Ec2InstanceActions.StopBatchSize, StopChunksAtOnce = 4;

    /// <summary>One stop's outcome: a line to write now (stopped, or sent and cut short), or a skip whose intent tag is undone.</summary>
    private void Settle(DecisionRecord record, IReadOnlyDictionary<string, StopResult> results, DateTimeOffset sentAt, List<DecisionRecord> lines, List<DecisionRecord> undo)
    {
        var age = (long)(sentAt - record.ObservedAt!.Value).TotalMilliseconds;
        var result = results.TryGetValue(record.Instance.InstanceId, out var r) ? r
            : new StopResult(false, false, new AwsFailure("EC2:StopInstances", "NoResult", "EC2 returned no result for this instance"));
        if (result.Error is { Code: AwsCall.DeadlineCode, Message: AwsCall.CutShortMessage } cut)
        {
            // Sent, but cut short: EC2 may have stopped it. The line says so; StoppedAt stays, so the next tick knows either way.
            DeadlineReached = true;
            lines.Add(record with { ObservationAgeMs = age, ActionError = cut, Decision = record.Decision with {
                Message = record.Decision.Message + " StopInstances was cut short at the tick deadline: EC2 may or may not have stopped it; the next tick will see." } });
        }
        else if (result.Error is { } error)
        {
            log.Error(now, error, record.Instance.InstanceId, "Stopping the instance failed");
            if (error.Code == AwsCall.DeadlineCode) DeadlineReached = true;
            var reason = error.Code == AwsCall.DeadlineCode ? ReasonCodes.Deadline
                : AwsErrors.IsAccessDenied(error) ? ReasonCodes.AccessDenied : ReasonCodes.StopFailed;
            undo.Add(Skipped(record, reason, $"{record.Decision.Message} EC2 refused the stop: {error.Code}: {error.Message}") with { ActionError = error, ObservationAgeMs = age });
        }
        else
        {
            var fellBack = result.HibernateFellBack;
            lines.Add(record with
            {
                ObservationAgeMs = age,
                Decision = fellBack ? record.Decision with { Action = DecisionAction.Stop, Message = record.Decision.Message + " EC2 refused hibernation for this instance, so it was stopped instead." } : record.Decision,
                Fallback = fellBack ? "hibernation-not-supported" : record.Fallback ?? record.Decision.Fallback,
            });
        }
    }

    /// <summary>Writes the idle-state tag transitions of everything not yet written, one call per kind of change, then their lines.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        var nowText = SettingValues.FormatTime(now);
        var changes = new TagChange[]
        {
            new(d => d.StateChange.SetIdleSince is not null, [IdleSinceKey], Set: true),
            // StopReason goes with StoppedAt: both describe the last stop (deleting a key an instance lacks is not an error).
            new(d => d.StateChange is { ClearIdleSince: true, ClearStoppedAt: true }, [IdleSinceKey, StoppedAtKey, StopReasonKey], Set: false),
            new(d => d.StateChange is { ClearIdleSince: true, ClearStoppedAt: false }, [IdleSinceKey], Set: false),
            new(d => d.StateChange is { ClearIdleSince: false, ClearStoppedAt: true }, [StoppedAtKey, StopReasonKey], Set: false),
        };
        List<DecisionRecord> records;
        lock (_gate)
        {
            records = _waiting.ToList();
            _waiting.Clear();
        }
        var failedClears = new List<int>();
        foreach (var change in changes)
        {
            var indexes = Enumerable.Range(0, records.Count).Where(i => change.Applies(records[i].Decision)).ToList();
            if (indexes.Count == 0) continue;
            var ids = indexes.Select(i => records[i].Instance.InstanceId).ToList();
            var failures = await Guard(() => change.Set
                ? aws.Actions.SetTagAsync(ids, change.Keys[0], nowText, cancellationToken)
                : aws.Actions.RemoveTagsAsync(ids, change.Keys, cancellationToken), indexes.Select(i => records[i]).ToList(), change.Set ? "EC2:CreateTags" : "EC2:DeleteTags");
            foreach (var i in indexes)
            {
                var record = records[i];
                if (failures.TryGetValue(record.Instance.InstanceId, out var failure))
                {
                    log.Error(now, failure, record.Instance.InstanceId, $"Could not {(change.Set ? "write" : "remove")} {string.Join(", ", change.Keys)}");
                    if (!change.Set && change.Keys.Contains(IdleSinceKey)) failedClears.Add(i);
                    continue;
                }
                records[i] = change.Set
                    ? record with { TagsWritten = [.. record.TagsWritten ?? [], .. change.Keys] }
                    : record with { TagsRemoved = [.. record.TagsRemoved ?? [], .. change.Keys] };
            }
        }

        // A stale IdleSince that could not be removed would start the next idle period too early. Overwriting it with the
        // next tick's time records the earliest the idle clock may start: this tick saw people, who may stay until just
        // before the next one (the policy reads a stored time not yet reached as now).
        if (failedClears.Count > 0)
        {
            var ids = failedClears.Select(i => records[i].Instance.InstanceId).ToList();
            var nextTick = SettingValues.FormatTime(now.AddMinutes(config.ScheduleMinutes));
            var failures = await Guard(() => aws.Actions.SetTagAsync(ids, IdleSinceKey, nextTick, cancellationToken), failedClears.Select(i => records[i]).ToList(), "EC2:CreateTags");
            foreach (var i in failedClears.Where(i => !failures.ContainsKey(records[i].Instance.InstanceId)))
                records[i] = records[i] with
                {
                    TagsWritten = [.. records[i].TagsWritten ?? [], IdleSinceKey],
                    Decision = records[i].Decision with { Message = records[i].Decision.Message + $" {IdleSinceKey} could not be removed, so it was set to the next tick's time instead (the idle clock cannot start before the next tick)." },
                };
        }
        await SendNoticesAsync(records, cancellationToken);
        foreach (var record in records) Write(record);
    }

    /// <summary>
    /// The stop notice, one tick ahead, to the instances due to stop at the next tick whose people the policy ignores
    /// (terminals idle past IgnoreIdleTerminalsAfter, uncounted tmux/screen): one SendCommand per 50 instances that share
    /// the stop time and action (a tick's notices all share the stop time). Best effort after the tag writes: a notice
    /// that cannot be sent is said in the line (warned false) and an error line, and never changes a decision.
    /// </summary>
    private async Task SendNoticesAsync(List<DecisionRecord> records, CancellationToken cancellationToken)
    {
        if (aws.Notices is not { } notices || config.NoticeDocument is not { } document) return;
        var groups = Enumerable.Range(0, records.Count).Where(i => records[i].Decision.Notice is not null)
            .GroupBy(i => (records[i].Decision.Notice!.StopAt, records[i].Decision.Notice!.Hibernate));
        foreach (var group in groups)
        {
            var indexes = group.ToList();
            var ids = indexes.Select(i => records[i].Instance.InstanceId).ToList();
            var (stopAt, hibernate) = group.Key;
            IReadOnlyDictionary<string, AwsFailure> failures;
            if (aws.Calls.TimeLeft < aws.Calls.Required("SSM:SendCommand"))
            {
                var late = new AwsFailure("SSM:SendCommand", AwsCall.DeadlineCode, "the tick deadline was too close to send the stop notice");
                failures = ids.ToDictionary(id => id, _ => late);
            }
            else
            {
                var request = new NoticeRequest(document, config.NoticeDocumentVersion, stopAt, hibernate, $"AutoStop notice: {(hibernate ? "hibernate" : "stop")} at {SettingValues.FormatTime(stopAt)}");
                failures = await Guard(() => notices.SendAsync(ids, request, cancellationToken), indexes.Select(i => records[i]).ToList(), "SSM:SendCommand");
            }
            foreach (var failed in failures.GroupBy(f => f.Value))
                log.Error(now, failed.Key, failed.Count() == 1 ? failed.First().Key : null,
                    $"The stop notice could not be sent to {failed.Count()} instance(s) ({string.Join(", ", failed.Select(f => f.Key).Take(5))}{(failed.Count() > 5 ? ", ..." : "")})");
            foreach (var i in indexes)
            {
                var record = records[i];
                var notice = record.Decision.Notice!;
                var sent = !failures.TryGetValue(record.Instance.InstanceId, out var failure);
                var note = sent
                    ? $" A notice of the {(hibernate ? "hibernation" : "stop")} at {SettingValues.FormatTime(stopAt)} went to its {notice.Audience}."
                    : $" The notice of the {(hibernate ? "hibernation" : "stop")} at {SettingValues.FormatTime(stopAt)} could not be sent ({failure!.Code}).";
                records[i] = record with { Warned = sent, Decision = record.Decision with { Message = record.Decision.Message + note } };
            }
        }
    }

    private void Write(DecisionRecord record)
    {
        log.Decision(now, record);
        lock (_gate) _done.Add(record);
    }

    /// <summary>Splits stops into those whose look is fresh enough to act on and those that are not. Fresh enough means the
    /// stop should still land within the bound: the look's age now plus what a StopInstances call has taken this tick.</summary>
    private (List<DecisionRecord> Fresh, List<DecisionRecord> Stale) SplitByAge(IEnumerable<DecisionRecord> records)
    {
        var now = clock.GetUtcNow();
        var bound = TimeSpan.FromSeconds(config.MaxObservationAgeSeconds) - aws.Calls.Required("EC2:StopInstances");
        if (bound < TimeSpan.Zero) bound = TimeSpan.Zero;
        var fresh = new List<DecisionRecord>();
        var stale = new List<DecisionRecord>();
        foreach (var record in records)
            (record.ObservedAt is { } seen && now - seen <= bound ? fresh : stale).Add(record);
        return (fresh, stale);
    }

    private DecisionRecord StaleSkip(DecisionRecord record)
    {
        var age = record.ObservedAt is { } seen ? $"{(clock.GetUtcNow() - seen).TotalSeconds:0.#} s old" : "of unknown age";
        return Skipped(record, ReasonCodes.StaleObservation,
            $"Decided to {Verb(record)} ({record.Decision.Message}) but the look was {age} when the stop would have gone out (the bound is {config.MaxObservationAgeSeconds} s); left running for the next tick's fresh look.");
    }

    private static DecisionRecord Skipped(DecisionRecord record, string reason, string message) =>
        record with { Decision = Decision.Skip(reason, message, record.Decision.ThresholdSeconds, record.Decision.StateChange) with { IdleSeconds = record.Decision.IdleSeconds } };

    private static string Verb(DecisionRecord record) => record.Decision.Action == DecisionAction.Hibernate ? "hibernate" : "stop";

    private async Task<IReadOnlyDictionary<string, StopResult>> GuardStop(List<DecisionRecord> records, CancellationToken cancellationToken)
    {
        try
        {
            return await aws.Actions.StopAsync(records.Select(r => new StopRequest(r.Instance.InstanceId, r.Decision.Action == DecisionAction.Hibernate)).ToList(), cancellationToken);
        }
        catch (Exception e) when (!AwsErrors.IsCallerCancellation(e, cancellationToken))
        {
            var failure = e is AwsCallException a ? a.Failure : new AwsFailure("EC2:StopInstances", e.GetType().Name, e.Message);
            return records.ToDictionary(r => r.Instance.InstanceId, _ => new StopResult(false, false, failure));
        }
    }

    /// <summary>An adapter that threw instead of answering per instance fails each instance it was given, never the tick.</summary>
    private static async Task<IReadOnlyDictionary<string, AwsFailure>> Guard(Func<Task<IReadOnlyDictionary<string, AwsFailure>>> call,
        IReadOnlyList<DecisionRecord> records, string operation)
    {
        if (records.Count == 0) return new Dictionary<string, AwsFailure>();
        try { return await call(); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failure = e is AwsCallException a ? a.Failure : new AwsFailure(operation, e.GetType().Name, e.Message);
            return records.ToDictionary(r => r.Instance.InstanceId, _ => failure);
        }
    }

    /// <summary>One kind of idle-state tag change, applied to every instance whose decision asks for it.</summary>
    private sealed record TagChange(Func<Decision, bool> Applies, IReadOnlyList<string> Keys, bool Set);
}
