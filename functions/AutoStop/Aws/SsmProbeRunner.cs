using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using AutoStop.Probing;

namespace AutoStop.Aws;

/// <summary>
/// Runs the session probe through SSM Run Command and streams the outcomes as they arrive: finds which instances SSM
/// manages (DescribeInstanceInformation by the opt-in tag key, then by id for the rest), sends the probe document to
/// those in batches of 50 (concurrently), then polls ListCommandInvocations (all pages, with output) with backoff, and
/// hands each round's finished invocations on at once, so an answer never waits for a slower instance. Never one call
/// per instance. Every requested id gets exactly one outcome; anything but a parsed report is a failure, so the
/// instance is not stopped. Batches AWS refuses as a whole for one instance are isolated (<see cref="BatchIsolation"/>).
/// </summary>
public sealed class SsmProbeRunner(IAmazonSimpleSystemsManagement ssm, ApiCallLog calls, TimeProvider clock, string tagKey = "AutoStop") : IProbeRunner
{
    /// <summary>SendCommand's InstanceIds limit, and DescribeInstanceInformation's page size.</summary>
    public const int SendBatchSize = SsmCommands.MaxInstancesPerCommand;

    /// <summary>Poll interval growth and cap: quick answers are seen quickly, slow ones cost few calls, and no answer
    /// waits longer than the cap to be acted on.</summary>
    private const double PollBackoff = 1.5;
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(3);

    /// <summary>In a warm process the first poll waits a little longer than the slowest answer took last tick (one
    /// listing per command then finds them all, instead of rounds that each find a few), whatever
    /// AUTOSTOP_PROBE_POLL_MILLISECONDS (the first tick's wait) says, but never longer than the maximum: an early
    /// answer's look must still be fresh when its stop goes out.</summary>
    private static readonly TimeSpan MaxFirstWait = TimeSpan.FromSeconds(4), MinFirstWait = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a listing of the managed nodes is reused (policy time). Who is managed changes rarely, and a
    /// stale entry is never unsafe: SendCommand refuses an instance that is no longer valid, the refusal is isolated, and
    /// the refused ids are looked up again at once.</summary>
    public static readonly TimeSpan ManagedListingTtl = TimeSpan.FromMinutes(15);

    private sealed record ManagedListing(DateTimeOffset TakenAt, IReadOnlyDictionary<string, InstanceInformation> Nodes);

    // Process memory (Lambda keeps a warm process between ticks); losing it only costs calls.
    private ManagedListing? _managed;
    private TimeSpan? _typicalAnswer;

    public async IAsyncEnumerable<IReadOnlyList<ProbeAnswer>> ProbeAsync(IReadOnlyList<string> instanceIds, ProbeRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var answers = Channel.CreateUnbounded<IReadOnlyList<ProbeAnswer>>(new UnboundedChannelOptions { SingleReader = true });
        var producer = Task.Run(async () =>
        {
            try { await ProduceAsync(instanceIds, request, answers.Writer, cancellationToken); answers.Writer.TryComplete(); }
            catch (Exception e) { answers.Writer.TryComplete(e); }
        }, CancellationToken.None);
        await foreach (var batch in answers.Reader.ReadAllAsync(CancellationToken.None)) yield return batch;
        await producer;
    }

    private async Task ProduceAsync(IReadOnlyList<string> ids, ProbeRequest request, ChannelWriter<IReadOnlyList<ProbeAnswer>> answers, CancellationToken cancellationToken)
    {
        // Each command is polled on its own schedule from the moment it is out (first at about the time most answers took
        // last tick, then backing off), and its answers are handed on as soon as its listing returns: however many
        // commands a large fleet needs, an answer waits only for its own command's next listing, never for a whole round.
        // Commands go out as soon as 50 reachable instances are known, while SSM's managed-node listing is still paging.
        var firstWait = _typicalAnswer is { } typical ? Clamp(typical, MinFirstWait, MaxFirstWait) : request.FirstPoll;
        var polls = new List<Task>();
        var answerTimes = new List<TimeSpan>();
        var refused = new Dictionary<string, AwsFailure>(StringComparer.Ordinal);
        using var listing = new SemaphoreSlim(MaxConcurrentCalls);
        var batches = Channel.CreateUnbounded<string[]>(new UnboundedChannelOptions { SingleWriter = true });
        var sending = Parallel.ForEachAsync(batches.Reader.ReadAllAsync(cancellationToken), Limited(cancellationToken), async (batch, token) =>
        {
            var (sent, notSent) = await SendAsync(batch, request, token);
            lock (polls)
            {
                foreach (var command in sent)
                    polls.Add(PollCommandAsync(command, request, firstWait, listing, answers, answerTimes, cancellationToken));
                foreach (var (id, failure) in notSent) refused[id] = failure;
            }
        });
        try
        {
            await foreach (var batch in ReachableBatchesAsync(ids, request.TickTime, answers, cancellationToken))
                batches.Writer.TryWrite(batch);
        }
        finally { batches.Writer.TryComplete(); }
        await sending;
        if (refused.Count > 0) await AnswerRefusedAsync(refused, answers, cancellationToken);
        await Task.WhenAll(polls);
        // The slowest answer's time sets the next tick's first wait (one listing per command then finds them all); a tick
        // with none keeps the last one.
        if (answerTimes.Count > 0) _typicalAnswer = answerTimes.Max() * 1.1;
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;

    /// <summary>
    /// Instances SendCommand refused. InvalidInstanceId means SSM no longer takes commands for it: the managed-node listing
    /// this tick used may be stale, so it is dropped, and the refused ids are asked for again: not managed (any more), or
    /// managed and still refused (undeliverable). Anything else (AccessDeniedException: IAM's tag condition) stands as it is.
    /// </summary>
    private async Task AnswerRefusedAsync(Dictionary<string, AwsFailure> refused, ChannelWriter<IReadOnlyList<ProbeAnswer>> answers, CancellationToken cancellationToken)
    {
        var invalid = refused.Where(r => r.Value.Code == "InvalidInstanceId").Select(r => r.Key).ToList();
        var now = new Dictionary<string, ProbeOutcome>(StringComparer.Ordinal);
        if (invalid.Count > 0)
        {
            _managed = null;
            foreach (var (id, outcome) in await ClassifyAsync(invalid, cancellationToken))
                if (outcome is not null) now[id] = outcome with { CallFailure = refused[id] };
        }
        await answers.WriteAsync(refused.Select(r => new ProbeAnswer(r.Key, now.GetValueOrDefault(r.Key) ?? ProbeOutcome.Failure(
            r.Value.Code == "InvalidInstanceId" ? ProbeStatus.Undeliverable : ProbeStatus.Failed,
            $"SendCommand was refused for this instance: {r.Value.Code}: {r.Value.Message}") with { CallFailure = r.Value })).ToList(), cancellationToken);
    }

    /// <summary>
    /// The instances that can be probed, 50 at a time, as soon as they are known; those SSM does not manage, has lost
    /// contact with, or that are not Linux get their outcome here and no command. First one listing of the managed nodes
    /// carrying the opt-in tag key (pages of 50, no ids, so no id can make it fail; reused for <see cref="ManagedListingTtl"/>),
    /// whose pages are used as they arrive; ids it did not return are then asked for by id, 50 a call, isolated:
    /// DescribeInstanceInformation refuses the whole call for one id "that isn't valid or a node that you don't own"
    /// (SSM API reference).
    /// </summary>
    private async IAsyncEnumerable<string[]> ReachableBatchesAsync(IReadOnlyList<string> ids, DateTimeOffset tickTime,
        ChannelWriter<IReadOnlyList<ProbeAnswer>> answers, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var wanted = new HashSet<string>(ids, StringComparer.Ordinal);
        var known = new HashSet<string>(StringComparer.Ordinal);
        var reachable = new List<string>();
        var unreachable = new List<ProbeAnswer>();
        void Sort(string id, ProbeOutcome? outcome)
        {
            known.Add(id);
            if (outcome is null) reachable.Add(id); else unreachable.Add(new ProbeAnswer(id, outcome));
        }
        async Task HandOnUnreachableAsync()
        {
            if (unreachable.Count == 0) return;
            await answers.WriteAsync(unreachable.ToList(), cancellationToken);
            unreachable.Clear();
        }
        IEnumerable<string[]> FullBatches()
        {
            while (reachable.Count >= SendBatchSize)
            {
                var batch = reachable.Take(SendBatchSize).ToArray();
                reachable.RemoveRange(0, SendBatchSize);
                yield return batch;
            }
        }

        if (_managed is { } cached && tickTime >= cached.TakenAt && tickTime - cached.TakenAt < ManagedListingTtl)
        {
            foreach (var id in ids)
                if (cached.Nodes.TryGetValue(id, out var info)) Sort(id, Classify(info));
        }
        else
        {
            var nodes = new Dictionary<string, InstanceInformation>(StringComparer.Ordinal);
            var pages = PagesAsync(new InstanceInformationStringFilter { Key = "tag-key", Values = [tagKey] }, cancellationToken).GetAsyncEnumerator(cancellationToken);
            var complete = true;
            try
            {
                while (true)
                {
                    try
                    {
                        if (!await pages.MoveNextAsync()) break;
                    }
                    catch (AwsCallException)
                    {
                        // The by-id look-ups below cover every instance not seen yet; the listing only saves calls.
                        complete = false;
                        break;
                    }
                    foreach (var info in pages.Current)
                    {
                        nodes[info.InstanceId] = info;
                        if (wanted.Contains(info.InstanceId) && !known.Contains(info.InstanceId)) Sort(info.InstanceId, Classify(info));
                    }
                    await HandOnUnreachableAsync();
                    foreach (var batch in FullBatches()) yield return batch;
                }
            }
            finally { await pages.DisposeAsync(); }
            _managed = complete ? new ManagedListing(tickTime, nodes) : null;
        }

        var missing = ids.Where(id => !known.Contains(id)).ToList();
        foreach (var (id, outcome) in await ClassifyAsync(missing, cancellationToken)) Sort(id, outcome);
        await HandOnUnreachableAsync();
        foreach (var batch in FullBatches()) yield return batch;
        if (reachable.Count > 0) yield return [.. reachable];
    }

    /// <summary>Looks the instances up by id (50 a call, isolated) and classifies each: null when it can be probed.</summary>
    private async Task<Dictionary<string, ProbeOutcome?>> ClassifyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, InstanceInformation>(StringComparer.Ordinal);
        var unknown = new Dictionary<string, AwsFailure>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ids.Chunk(SendBatchSize), Limited(cancellationToken), async (batch, token) =>
        {
            var result = await BatchIsolation.RunAsync(batch, "SSM:DescribeInstanceInformation", calls, async part =>
            {
                try { return (await DescribeAsync(new InstanceInformationStringFilter { Key = "InstanceIds", Values = [.. part] }, token), (AwsFailure?)null); }
                catch (AwsCallException e) { return (null, e.Failure); }
            });
            lock (seen)
            {
                foreach (var (_, found) in result.Accepted) foreach (var info in found) seen[info.InstanceId] = info;
                foreach (var (id, failure) in result.Refused) unknown[id] = failure;
            }
        });
        var outcomes = new Dictionary<string, ProbeOutcome?>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (unknown.TryGetValue(id, out var failure))
                outcomes[id] = AwsErrors.IsCallWide(failure)
                    ? ProbeOutcome.Failure(ProbeStatus.Failed, $"could not ask SSM whether it manages this instance: {failure.Operation} failed: {failure.Code}") with { CallFailure = failure }
                    : ProbeOutcome.Failure(ProbeStatus.NotManaged, $"SSM does not know this instance ({failure.Code}: {failure.Message})") with { CallFailure = failure };
            else if (!seen.TryGetValue(id, out var info))
                outcomes[id] = ProbeOutcome.Failure(ProbeStatus.NotManaged, "SSM does not manage this instance (no SSM agent registered, or no instance profile with AmazonSSMManagedInstanceCore)");
            else outcomes[id] = Classify(info);
        }
        return outcomes;
    }

    /// <summary>Null when the instance can be probed; else why not.</summary>
    private static ProbeOutcome? Classify(InstanceInformation info) =>
        info.PingStatus?.Value != "Online"
            ? ProbeOutcome.Failure(ProbeStatus.NotManaged, $"the SSM agent is not online (PingStatus {info.PingStatus?.Value ?? "unknown"})")
            : info.PlatformType?.Value is { } platform && platform != "Linux"
                ? ProbeOutcome.Failure(ProbeStatus.UnsupportedPlatform, $"the probe runs on Linux; this instance's platform is {platform}")
                : null;

    private async Task<List<InstanceInformation>> DescribeAsync(InstanceInformationStringFilter filter, CancellationToken cancellationToken)
    {
        var found = new List<InstanceInformation>();
        await foreach (var page in PagesAsync(filter, cancellationToken)) found.AddRange(page);
        return found;
    }

    /// <summary>DescribeInstanceInformation's pages (50 each, SSM's largest), each as it arrives.</summary>
    private async IAsyncEnumerable<List<InstanceInformation>> PagesAsync(InstanceInformationStringFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? nextToken = null;
        do
        {
            var request = new DescribeInstanceInformationRequest { Filters = [filter], MaxResults = 50, NextToken = nextToken };
            var page = await calls.InvokeAsync("SSM:DescribeInstanceInformation", token => ssm.DescribeInstanceInformationAsync(request, token), cancellationToken);
            yield return page.InstanceInformationList ?? [];
            nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        } while (nextToken is not null);
    }

    /// <summary>How many SSM calls of one kind are in flight at once: enough to overlap latency, few enough not to
    /// trip SSM's per-account rate limits in a large fleet.</summary>
    public const int MaxConcurrentCalls = 8;

    private static ParallelOptions Limited(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = MaxConcurrentCalls, CancellationToken = cancellationToken };

    private sealed record SentCommand(string CommandId, IReadOnlyList<string> InstanceIds, DateTimeOffset SentAt);

    /// <summary>Sends one batch, isolated (<see cref="SsmCommands"/>): the other instances are still probed in this tick
    /// when SSM refuses one. Returns what was sent and what was refused.</summary>
    private async Task<(IReadOnlyList<SentCommand> Sent, IReadOnlyDictionary<string, AwsFailure> Refused)> SendAsync(string[] batch, ProbeRequest request,
        CancellationToken cancellationToken)
    {
        // SSM counts its timeout from delivery; never less than its minimum of 30 s, never much past our own deadline.
        var timeout = (int)Math.Clamp(Math.Ceiling(request.AnswerTimeout.TotalSeconds), 30, 2_592_000);
        var result = await SsmCommands.SendIsolatedAsync(ssm, calls, batch, part => new SendCommandRequest
        {
            DocumentName = request.DocumentName,
            DocumentVersion = request.DocumentVersion,
            InstanceIds = [.. part],
            TimeoutSeconds = timeout,
            MaxConcurrency = SendBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            MaxErrors = "100%",
            Comment = SsmCommands.Comment(request.Comment),
        }, cancellationToken);
        var sentAt = clock.GetUtcNow();
        return (result.Accepted.Select(a => new SentCommand(a.Value, a.Items, sentAt)).ToList(), result.Refused);
    }

    /// <summary>Polls one command until every instance in it has answered or its time is up (the answer timeout from
    /// when it was sent, within the round's deadline); at most <see cref="MaxConcurrentCalls"/> listings run at once.</summary>
    private async Task PollCommandAsync(SentCommand command, ProbeRequest request, TimeSpan firstWait, SemaphoreSlim listing,
        ChannelWriter<IReadOnlyList<ProbeAnswer>> answers, List<TimeSpan> answerTimes, CancellationToken cancellationToken)
    {
        var waitUntil = command.SentAt + request.AnswerTimeout;
        var deadline = waitUntil < request.Deadline ? waitUntil : request.Deadline;
        var waiting = new HashSet<string>(command.InstanceIds, StringComparer.Ordinal);
        var lastStatus = new Dictionary<string, string>(StringComparer.Ordinal);
        var wait = firstWait;
        var next = request.FirstPoll;
        while (waiting.Count > 0)
        {
            var remaining = deadline - clock.GetUtcNow();
            if (remaining <= TimeSpan.Zero) break;
            await Task.Delay(wait < remaining ? wait : remaining, clock, cancellationToken);
            wait = next;
            next = TimeSpan.FromMilliseconds(Math.Min(next.TotalMilliseconds * PollBackoff, MaxPoll.TotalMilliseconds));

            await listing.WaitAsync(cancellationToken);
            (string CommandId, List<CommandInvocation> Invocations, AwsFailure? Failure) round;
            try { round = await ListAsync(command.CommandId, cancellationToken); }
            finally { listing.Release(); }
            // A failed listing is retried at the next poll; the instances stay unobserved if it never succeeds.
            if (round.Failure is not null) continue;
            var finished = new List<ProbeAnswer>();
            foreach (var invocation in round.Invocations)
            {
                if (!waiting.Contains(invocation.InstanceId)) continue;
                lastStatus[invocation.InstanceId] = invocation.Status?.Value ?? "Pending";
                var answer = ToAnswer(invocation, command.CommandId, command.SentAt);
                if (answer is null) continue;
                finished.Add(answer);
                if (answer.Outcome.Status == ProbeStatus.Ok && answer.ObservedAt is { } seenAt) lock (answerTimes) answerTimes.Add(seenAt - command.SentAt);
                waiting.Remove(invocation.InstanceId);
            }
            // Handed on at once: deciding and stopping these must not wait for slower instances.
            if (finished.Count > 0) await answers.WriteAsync(finished, cancellationToken);
        }
        if (waiting.Count > 0)
            await answers.WriteAsync(waiting.Select(id => new ProbeAnswer(id, ProbeOutcome.Failure(ProbeStatus.TimedOut,
                $"no answer before the probe deadline (last SSM status {lastStatus.GetValueOrDefault(id, "not yet listed")})",
                command.CommandId, lastStatus.GetValueOrDefault(id)))).ToList(), cancellationToken);
    }

    private async Task<(string CommandId, List<CommandInvocation> Invocations, AwsFailure? Failure)> ListAsync(string commandId, CancellationToken cancellationToken)
    {
        var invocations = new List<CommandInvocation>();
        string? nextToken = null;
        try
        {
            do
            {
                var request = new ListCommandInvocationsRequest { CommandId = commandId, Details = true, MaxResults = 50, NextToken = nextToken };
                var page = await calls.InvokeAsync("SSM:ListCommandInvocations", token => ssm.ListCommandInvocationsAsync(request, token), cancellationToken);
                invocations.AddRange(page.CommandInvocations ?? []);
                nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
            } while (nextToken is not null);
            return (commandId, invocations, null);
        }
        catch (AwsCallException e)
        {
            return (commandId, invocations, e.Failure);
        }
    }

    /// <summary>What a failed command printed (the probe says why it could not observe the instance), one line, bounded.</summary>
    private static string OutputExcerpt(string? output)
    {
        if (string.IsNullOrWhiteSpace(output)) return "";
        var line = string.Join(' ', output.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return ": " + (line.Length > 300 ? line[..300] + "…" : line);
    }

    /// <summary>The answer of a terminal invocation; null while SSM is still working on it. The look is as old as the
    /// plugin's ResponseFinishDateTime (botocore ssm CommandPlugin); without it, as old as the command (the safe side).</summary>
    internal static ProbeAnswer? ToAnswer(CommandInvocation invocation, string commandId, DateTimeOffset sentAt)
    {
        var plugin = invocation.CommandPlugins is { Count: > 0 } plugins ? plugins[0] : null;
        var observedAt = plugin?.ResponseFinishDateTime is { } finished && finished > DateTime.MinValue
            ? new DateTimeOffset(DateTime.SpecifyKind(finished.ToUniversalTime(), DateTimeKind.Utc))
            : sentAt;
        var (outcome, warning) = ToOutcome(invocation, commandId);
        return outcome is null ? null : new ProbeAnswer(invocation.InstanceId, outcome, observedAt, warning);
    }

    /// <summary>The outcome of a terminal invocation (null while SSM is still working on it), and what the probe wrote on stderr.</summary>
    internal static (ProbeOutcome? Outcome, string? Warning) ToOutcome(CommandInvocation invocation, string commandId)
    {
        var status = invocation.Status?.Value ?? "Pending";
        var details = invocation.StatusDetails ?? status;
        var plugin = invocation.CommandPlugins is { Count: > 0 } plugins ? plugins[0] : null;
        switch (status)
        {
            case "Success":
                var parsed = ProbeOutputParser.Parse(plugin?.Output);
                return (parsed.Report is not null
                    ? ProbeOutcome.Ok(parsed.Report, commandId)
                    : ProbeOutcome.Failure(ProbeStatus.InvalidOutput, $"the probe's output is not valid: {parsed.Error}", commandId, status), parsed.Warning);
            case "TimedOut":
                return (ProbeOutcome.Failure(ProbeStatus.TimedOut, $"SSM reports the command timed out ({details})", commandId, status), null);
            case "Failed" when details == "Undeliverable":
            case "Undeliverable":
                return (ProbeOutcome.Failure(ProbeStatus.Undeliverable, "SSM could not deliver the command (Undeliverable: agent offline or instance not reachable)", commandId, status), null);
            case "Failed":
                return (ProbeOutcome.Failure(ProbeStatus.Failed,
                    $"the probe command failed ({details}, exit code {plugin?.ResponseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}){OutputExcerpt(plugin?.Output)}", commandId, status), null);
            case "Cancelled":
                return (ProbeOutcome.Failure(ProbeStatus.Failed, $"the probe command was cancelled ({details})", commandId, status), null);
            default:
                return (null, null); // Pending, InProgress, Delayed, Cancelling
        }
    }
}
