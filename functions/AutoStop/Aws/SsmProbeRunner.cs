using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using AutoStop.Probing;

namespace AutoStop.Aws;

/// <summary>
/// Runs the session probe through SSM Run Command: finds which instances SSM manages (DescribeInstanceInformation),
/// sends the probe document to those in batches of 50 (concurrently), then polls ListCommandInvocations (all pages,
/// with output) with backoff until every invocation is terminal or the deadline passes. Never one call per instance.
/// Every requested id gets an outcome; anything but a parsed report is a failure, so the instance is not stopped.
/// </summary>
public sealed class SsmProbeRunner(IAmazonSimpleSystemsManagement ssm, ApiCallLog calls, TimeProvider clock) : IProbeRunner
{
    /// <summary>SendCommand's InstanceIds limit.</summary>
    public const int SendBatchSize = 50;

    /// <summary>Poll interval growth and cap: quick answers are seen quickly, slow ones cost few calls.</summary>
    private const double PollBackoff = 1.5;
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(5);

    public async Task<IReadOnlyDictionary<string, ProbeOutcome>> ProbeAsync(IReadOnlyList<string> instanceIds, ProbeRequest request, CancellationToken cancellationToken)
    {
        var outcomes = new Dictionary<string, ProbeOutcome>(StringComparer.Ordinal);
        var reachable = await ManagedLinuxInstancesAsync(instanceIds, outcomes, cancellationToken);

        var pending = new List<SentCommand>();
        await Parallel.ForEachAsync(reachable.Chunk(SendBatchSize), Limited(cancellationToken), async (batch, token) =>
        {
            if (await SendAsync(batch, request, outcomes, token) is { } sent) lock (pending) pending.Add(sent);
        });
        // Instances get the answer timeout from the moment their commands are out, within the round's deadline.
        var waitUntil = clock.GetUtcNow() + request.AnswerTimeout;
        await PollAsync(pending, waitUntil < request.Deadline ? waitUntil : request.Deadline, request.FirstPoll, outcomes, cancellationToken);
        return outcomes;
    }

    /// <summary>Instances SSM does not manage, has lost contact with, or that are not Linux get their outcome here and no command.</summary>
    private async Task<List<string>> ManagedLinuxInstancesAsync(IReadOnlyList<string> ids, Dictionary<string, ProbeOutcome> outcomes, CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, InstanceInformation>(StringComparer.Ordinal);
        var unknown = new Dictionary<string, AwsFailure>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ids.Chunk(SendBatchSize), Limited(cancellationToken), async (batch, token) =>
        {
            try
            {
                var found = await DescribeBatchAsync(batch, token);
                lock (seen) foreach (var info in found) seen[info.InstanceId] = info;
            }
            catch (AwsCallException e)
            {
                // Only this batch is unknown: its instances are unobserved, the others go on.
                lock (seen) foreach (var id in batch) unknown[id] = e.Failure;
            }
        });

        var reachable = new List<string>(ids.Count);
        foreach (var id in ids)
        {
            if (unknown.TryGetValue(id, out var failure))
                outcomes[id] = ProbeOutcome.Failure(ProbeStatus.Failed, $"could not ask SSM whether it manages this instance: {failure.Operation} failed: {failure.Code}") with { CallFailure = failure };
            else if (!seen.TryGetValue(id, out var info))
                outcomes[id] = ProbeOutcome.Failure(ProbeStatus.NotManaged, "SSM does not manage this instance (no SSM agent registered, or no instance profile with AmazonSSMManagedInstanceCore)");
            else if (info.PingStatus?.Value != "Online")
                outcomes[id] = ProbeOutcome.Failure(ProbeStatus.NotManaged, $"the SSM agent is not online (PingStatus {info.PingStatus?.Value ?? "unknown"})");
            else if (info.PlatformType?.Value is { } platform && platform != "Linux")
                outcomes[id] = ProbeOutcome.Failure(ProbeStatus.UnsupportedPlatform, $"the probe runs on Linux; this instance's platform is {platform}");
            else reachable.Add(id);
        }
        return reachable;
    }

    private async Task<List<InstanceInformation>> DescribeBatchAsync(string[] batch, CancellationToken cancellationToken)
    {
        var found = new List<InstanceInformation>();
        string? nextToken = null;
        do
        {
            var request = new DescribeInstanceInformationRequest
            {
                Filters = [new InstanceInformationStringFilter { Key = "InstanceIds", Values = [.. batch] }],
                MaxResults = 50,
                NextToken = nextToken,
            };
            var page = await calls.InvokeAsync("SSM:DescribeInstanceInformation", () => ssm.DescribeInstanceInformationAsync(request, cancellationToken), cancellationToken);
            found.AddRange(page.InstanceInformationList ?? []);
            nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        } while (nextToken is not null);
        return found;
    }

    /// <summary>How many SSM calls of one kind are in flight at once: enough to overlap latency, few enough not to
    /// trip SSM's per-account rate limits in a large fleet.</summary>
    public const int MaxConcurrentCalls = 8;

    private static ParallelOptions Limited(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = MaxConcurrentCalls, CancellationToken = cancellationToken };

    private sealed record SentCommand(string CommandId, IReadOnlyList<string> InstanceIds);

    private async Task<SentCommand?> SendAsync(string[] batch, ProbeRequest request, Dictionary<string, ProbeOutcome> outcomes, CancellationToken cancellationToken)
    {
        // SSM counts its timeout from delivery; never less than its minimum of 30 s, never much past our own deadline.
        var timeout = (int)Math.Clamp(Math.Ceiling(request.AnswerTimeout.TotalSeconds), 30, 2_592_000);
        var send = new SendCommandRequest
        {
            DocumentName = request.DocumentName,
            InstanceIds = [.. batch],
            TimeoutSeconds = timeout,
            MaxConcurrency = SendBatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            MaxErrors = "100%",
            Comment = request.Comment.Length > 100 ? request.Comment[..100] : request.Comment,
        };
        try
        {
            var response = await calls.InvokeAsync("SSM:SendCommand", () => ssm.SendCommandAsync(send, cancellationToken), cancellationToken);
            return new SentCommand(response.Command.CommandId, batch);
        }
        catch (AwsCallException e)
        {
            lock (outcomes)
                foreach (var id in batch)
                    outcomes[id] = ProbeOutcome.Failure(e.Failure.Code == "InvalidInstanceId" ? ProbeStatus.Undeliverable : ProbeStatus.Failed,
                        $"SendCommand was refused for this batch: {e.Failure.Code}: {e.Failure.Message}") with { CallFailure = e.Failure };
            return null;
        }
    }

    private async Task PollAsync(List<SentCommand> commands, DateTimeOffset deadline, TimeSpan firstPoll, Dictionary<string, ProbeOutcome> outcomes, CancellationToken cancellationToken)
    {
        var open = commands.ToDictionary(c => c.CommandId, c => new HashSet<string>(c.InstanceIds, StringComparer.Ordinal), StringComparer.Ordinal);
        var lastStatus = new Dictionary<string, string>(StringComparer.Ordinal);
        var wait = firstPoll;
        while (open.Count > 0)
        {
            var remaining = deadline - clock.GetUtcNow();
            if (remaining <= TimeSpan.Zero) break;
            await Task.Delay(wait < remaining ? wait : remaining, clock, cancellationToken);
            wait = TimeSpan.FromMilliseconds(Math.Min(wait.TotalMilliseconds * PollBackoff, MaxPoll.TotalMilliseconds));

            var rounds = new List<(string CommandId, List<CommandInvocation> Invocations, AwsFailure? Failure)>();
            await Parallel.ForEachAsync(open.Keys.ToList(), Limited(cancellationToken), async (id, token) =>
            {
                var round = await ListAsync(id, token);
                lock (rounds) rounds.Add(round);
            });
            foreach (var (commandId, invocations, failure) in rounds)
            {
                // A failed listing is retried at the next round; the instances stay unobserved if it never succeeds.
                if (failure is not null) continue;
                var waiting = open[commandId];
                foreach (var invocation in invocations)
                {
                    if (!waiting.Contains(invocation.InstanceId)) continue;
                    lastStatus[invocation.InstanceId] = invocation.Status?.Value ?? "Pending";
                    var outcome = ToOutcome(invocation, commandId);
                    if (outcome is null) continue;
                    outcomes[invocation.InstanceId] = outcome;
                    waiting.Remove(invocation.InstanceId);
                }
                if (waiting.Count == 0) open.Remove(commandId);
            }
        }
        foreach (var (commandId, waiting) in open)
            foreach (var id in waiting)
                outcomes[id] = ProbeOutcome.Failure(ProbeStatus.TimedOut,
                    $"no answer before the probe deadline (last SSM status {lastStatus.GetValueOrDefault(id, "not yet listed")})",
                    commandId, lastStatus.GetValueOrDefault(id));
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
                var page = await calls.InvokeAsync("SSM:ListCommandInvocations", () => ssm.ListCommandInvocationsAsync(request, cancellationToken), cancellationToken);
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

    /// <summary>The outcome of a terminal invocation; null while SSM is still working on it.</summary>
    internal static ProbeOutcome? ToOutcome(CommandInvocation invocation, string commandId)
    {
        var status = invocation.Status?.Value ?? "Pending";
        var details = invocation.StatusDetails ?? status;
        var plugin = invocation.CommandPlugins is { Count: > 0 } plugins ? plugins[0] : null;
        switch (status)
        {
            case "Success":
                var output = plugin?.Output;
                var report = ProbeOutputParser.TryParse(output, out var error);
                return report is not null
                    ? ProbeOutcome.Ok(report, commandId)
                    : ProbeOutcome.Failure(ProbeStatus.InvalidOutput, $"the probe's output is not valid: {error}", commandId, status);
            case "TimedOut":
                return ProbeOutcome.Failure(ProbeStatus.TimedOut, $"SSM reports the command timed out ({details})", commandId, status);
            case "Failed" when details == "Undeliverable":
            case "Undeliverable":
                return ProbeOutcome.Failure(ProbeStatus.Undeliverable, "SSM could not deliver the command (Undeliverable: agent offline or instance not reachable)", commandId, status);
            case "Failed":
                return ProbeOutcome.Failure(ProbeStatus.Failed,
                    $"the probe command failed ({details}, exit code {plugin?.ResponseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}){OutputExcerpt(plugin?.Output)}", commandId, status);
            case "Cancelled":
                return ProbeOutcome.Failure(ProbeStatus.Failed, $"the probe command was cancelled ({details})", commandId, status);
            default:
                return null; // Pending, InProgress, Delayed, Cancelling
        }
    }
}
