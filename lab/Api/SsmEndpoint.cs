using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;
using Microsoft.AspNetCore.Http;

namespace AutoStop.Lab.Api;

/// <summary>
/// SSM's JSON 1.1 API (X-Amz-Target: AmazonSSM.Op) for Run Command: SendCommand, ListCommandInvocations,
/// GetCommandInvocation, DescribeInstanceInformation, and Session Manager's DescribeSessions (SsmSessions.cs). Invocations move Pending, InProgress, then a final status over
/// real (compressed) time; their output is the probe's line built from the scenario at virtual now. Two documents exist:
/// the probe's and the stop notice's (issue 13), which takes StopAt and Action and whose deliveries the lab records.
/// Shapes follow botocore's ssm/2014-11-06 model.
/// </summary>
public sealed partial class SsmEndpoint(LabFleet fleet, ApiGate gate, LabIam iam, LocalAgentScript localProbe, LocalAgentScript localNotice)
{
    /// <summary>SSM keeps only this much of a plugin's output in ListCommandInvocations (and 24,000 in GetCommandInvocation).</summary>
    public const int ListOutputLimit = 2500, GetOutputLimit = 24000;

    private readonly Random _random = new(fleet.Scenario.Seed + 1);

    public string ProbeDocument { get; } = fleet.Scenario.Config.GetValueOrDefault("AUTOSTOP_PROBE_DOCUMENT") ?? "AutoStop-SessionProbe";

    /// <summary>The stop notice's document (templates/template.yaml NoticeDocument), named as the function is told.</summary>
    public string NoticeDocument { get; } = fleet.Scenario.Config.GetValueOrDefault("AUTOSTOP_NOTICE_DOCUMENT") ?? "AutoStop-StopNotice";

    /// <summary>
    /// Each document's parameters and their allowedPattern, as templates/template.yaml declares them (the probe takes
    /// none; tests/Lab.Tests StopNoticeLabTests compares these with the template). Every parameter is required: none
    /// has a default.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> NoticeParameters = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["StopAt"] = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
        ["Action"] = "^(stop|hibernate)$",
    };

    private sealed class SsmError(string code, string message, int status = 400) : Exception(message)
    {
        public string Code { get; } = code;
        public int Status { get; } = status;
    }

    public async Task HandleAsync(HttpContext context, string operation, JsonObject request)
    {
        var error = await gate.EnterAsync("SSM:" + operation, context.RequestAborted);
        if (error is not null) { await WriteErrorAsync(context, error.HttpStatus, error.Code, error.Message); return; }
        try
        {
            fleet.Advance();
            JsonObject response = operation switch
            {
                "SendCommand" => SendCommand(request),
                "ListCommandInvocations" => ListCommandInvocations(request),
                "GetCommandInvocation" => GetCommandInvocation(request),
                "DescribeInstanceInformation" => DescribeInstanceInformation(request),
                "DescribeSessions" => DescribeSessions(request),
                _ => throw new SsmError("UnknownOperationException", $"The lab does not serve AmazonSSM.{operation}"),
            };
            context.Response.ContentType = "application/x-amz-json-1.1";
            context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
            await context.Response.WriteAsync(response.ToJsonString(), context.RequestAborted);
        }
        catch (SsmError e)
        {
            await WriteErrorAsync(context, e.Status, e.Code, e.Message);
        }
    }

    /// <summary>Registered with SSM now: managed, agent present, and (for ping) running.</summary>
    private bool IsRegistered(LabInstance i, DateTimeOffset now) => i.Spec.Managed && !i.HasFault(FaultKind.AgentMissing, now) && i.State != "terminated";

    private string PingStatus(LabInstance i) => i.PingStatusAt(fleet.Clock.Now);

    /// <summary>
    /// botocore ssm DescribeInstanceInformation: "does not return information for nodes that are either Stopped or
    /// Terminated"; "If you specify a node ID that isn't valid or a node that you don't own, you receive an error"
    /// (InvalidInstanceId, in the operation's errors). Filters (InstanceInformationStringFilter): InstanceIds,
    /// PingStatus, PlatformType (PlatformTypes, the older InstanceInformationFilterKey, too), "tag-key" (Values: tag
    /// keys the node carries) and "tag:{keyname}" (Values: that tag's values), e.g. Key=tag-key,Values=Purpose.
    /// Values per filter: 1..100 (InstanceInformationFilterValueSet); the lab keeps its 50 for InstanceIds.
    /// </summary>
    private JsonObject DescribeInstanceInformation(JsonObject request)
    {
        var now = fleet.Clock.Now;
        IEnumerable<LabInstance> registered = fleet.Instances.Where(i => IsRegistered(i, now) && i.State is not ("stopped" or "terminated"));
        foreach (var filter in request["Filters"]?.AsArray() ?? [])
        {
            var key = filter?["Key"]?.GetValue<string>() ?? "";
            var values = filter?["Values"]?.AsArray().Select(v => v!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
            if (values.Count is 0 or > 100)
                throw new SsmError("ValidationException", $"1 validation error detected: Value at 'filters.{key}.values' failed to satisfy constraint: Member must have length between 1 and 100");
            if (key == "InstanceIds" && values.Count > 50) throw new SsmError("InvalidInstanceInformationFilterValue", "The InstanceIds filter takes at most 50 values.");
            if (key == "InstanceIds" && values.FirstOrDefault(id => !InstanceIdPattern().IsMatch(id) || fleet.Find(id) is null) is { } unknown)
                throw new SsmError("InvalidInstanceId", $"Instance id {unknown} is not valid or is not owned by account {LabIam.Account}.");
            registered = key switch
            {
                "InstanceIds" => registered.Where(i => values.Contains(i.Id)),
                "PingStatus" => registered.Where(i => values.Contains(PingStatus(i))),
                "PlatformTypes" or "PlatformType" => registered.Where(i => values.Contains(i.Spec.Platform)),
                "tag-key" => registered.Where(i => { lock (i.Gate) return i.Tags.Keys.Any(values.Contains); }),
                _ when key.StartsWith("tag:", StringComparison.Ordinal) && key.Length > 4 =>
                    registered.Where(i => { lock (i.Gate) return i.Tags.TryGetValue(key[4..], out var v) && values.Contains(v); }),
                _ => throw new SsmError("InvalidFilterKey", $"The filter key {key} is not valid (the lab supports InstanceIds, PingStatus, PlatformType(s), tag-key, tag:<key>)."),
            };
        }
        var max = MaxResults(request, 5, 50, 50);
        var all = registered.ToList();
        var (page, next) = Page(all, request, max);
        var response = new JsonObject
        {
            ["InstanceInformationList"] = new JsonArray(page.Select(i => (JsonNode)new JsonObject
            {
                ["InstanceId"] = i.Id,
                ["PingStatus"] = PingStatus(i),
                ["LastPingDateTime"] = Epoch(now),
                ["AgentVersion"] = "3.3.0.0",
                ["IsLatestVersion"] = true,
                ["PlatformType"] = i.Spec.Platform,
                ["PlatformName"] = i.Spec.Platform == "Linux" ? "Amazon Linux" : i.Spec.Platform,
                ["ResourceType"] = "EC2Instance",
                ["ComputerName"] = i.Spec.Name,
            }).ToArray()),
        };
        if (next is not null) response["NextToken"] = next;
        return response;
    }

    private JsonObject SendCommand(JsonObject request)
    {
        var now = fleet.Clock.Now;
        var document = request["DocumentName"]?.GetValue<string>() ?? throw new SsmError("ValidationException", "DocumentName is required.");
        if (document != ProbeDocument && document != NoticeDocument)
            throw new SsmError("InvalidDocument", $"Document {document} does not exist in your account (the lab serves {ProbeDocument} and {NoticeDocument}).");
        var isNotice = document == NoticeDocument;
        var parameters = Parameters(request, isNotice ? NoticeParameters : new Dictionary<string, string>());
        var explicitIds = request["InstanceIds"] is JsonArray { Count: > 0 } given ? given.Select(v => v!.GetValue<string>()).ToList() : null;
        var targets = request["Targets"] is JsonArray { Count: > 0 } t ? t : null;
        if (explicitIds is not null && targets is not null)
            throw new SsmError("ValidationException", "InstanceIds and Targets cannot both be specified: give one of them.");
        if (explicitIds is null && targets is null) throw new SsmError("ValidationException", "Either InstanceIds or Targets must be specified.");
        if (explicitIds is { Count: > 50 }) throw new SsmError("ValidationException", "1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50");
        // Targets that match no instance are not an error: SSM sends the command to nobody (TargetCount 0).
        var ids = explicitIds ?? targets!.SelectMany(target => ResolveTarget(target!.AsObject())).ToList();

        var version = DocumentVersion(request, document);

        // IAM before SSM: the template allows ssm:SendCommand only on instances whose opt-in tag is "true" (ignoring
        // case), and one refused instance fails the whole call: AccessDeniedException (botocore ssm model; HTTP 400 as
        // every JSON 1.1 client error), "User: ... is not authorized to perform: ssm:SendCommand on resource: arn:aws:ec2:...".
        if (explicitIds is not null && iam.FirstRefused("ssm:SendCommand", explicitIds.Select(fleet.Find).OfType<LabInstance>()) is { } refused)
            throw new SsmError("AccessDeniedException", LabIam.Refusal("ssm:SendCommand", refused.Instance, refused.Explicit));

        var instances = new List<LabInstance>();
        var invalid = new List<string>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            var i = fleet.Find(id);
            // deregistered: DescribeInstanceInformation still lists it Online (its record outlives the registration),
            // but SendCommand refuses it as not registered (InvalidInstanceId doc: "SSM Agent isn't registered with the SSM endpoint").
            if (i is null || !IsRegistered(i, now) || i.State != "running" || PingStatus(i) != "Online" || i.HasFault(FaultKind.Deregistered, now)) invalid.Add(id);
            else instances.Add(i);
        }
        // SSM refuses the whole call when one instance is not managed or not reachable.
        if (invalid.Count > 0) throw new SsmError("InvalidInstanceId", $"Instances [[{string.Join(", ", invalid)}]] not in a valid state for account 123456789012");

        var timeout = request["TimeoutSeconds"]?.GetValue<int>() ?? 3600;
        var commandId = fleet.Commands.NewCommandId();
        var realNow = DateTimeOffset.UtcNow;
        var invocations = instances.Select(i => isNotice ? InvokeNotice(i, now, realNow, parameters["StopAt"], parameters["Action"]) : Invoke(i, now, realNow)).ToList();
        var comment = request["Comment"]?.GetValue<string>() ?? "";
        fleet.Commands.Add(new LabCommand(commandId, document, comment, realNow, timeout, invocations) { DocumentVersion = version, IsNotice = isNotice });
        return new JsonObject
        {
            ["Command"] = new JsonObject
            {
                ["CommandId"] = commandId,
                ["DocumentName"] = document,
                ["DocumentVersion"] = version,
                ["Comment"] = comment,
                ["InstanceIds"] = new JsonArray((explicitIds ?? []).Select(id => (JsonNode)JsonValue.Create(id)!).ToArray()),
                ["Targets"] = targets?.DeepClone() ?? new JsonArray(),
                ["RequestedDateTime"] = Epoch(realNow),
                ["Status"] = "Pending",
                ["StatusDetails"] = "Pending",
                ["TimeoutSeconds"] = timeout,
                ["TargetCount"] = instances.Count,
                ["CompletedCount"] = 0,
                ["ErrorCount"] = 0,
                ["MaxConcurrency"] = request["MaxConcurrency"]?.GetValue<string>() ?? "50",
                ["MaxErrors"] = request["MaxErrors"]?.GetValue<string>() ?? "0",
            },
        };
    }

    /// <summary>
    /// SendCommand's optional DocumentVersion (botocore ssm DocumentVersion: pattern ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)):
    /// $DEFAULT, $LATEST, or a version that exists (1..ssm.documentVersions), else InvalidDocumentVersion ("The document
    /// version isn't valid or doesn't exist"). A value outside the pattern fails SSM's own validation (ValidationException).
    /// </summary>
    private string DocumentVersion(JsonObject request, string document)
    {
        if (request["DocumentVersion"]?.GetValue<string>() is not { } version) return "$DEFAULT";
        if (!DocumentVersionPattern().IsMatch(version))
            throw new SsmError("ValidationException", $"1 validation error detected: Value '{version}' at 'documentVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)");
        if (version is "$DEFAULT" or "$LATEST") return version;
        if (!int.TryParse(version, CultureInfo.InvariantCulture, out var number) || number > fleet.Scenario.DocumentVersions)
            throw new SsmError("InvalidDocumentVersion", $"Document {document} has no version {version} (the lab's has versions 1 to {fleet.Scenario.DocumentVersions}).");
        return version;
    }

    /// <summary>
    /// SendCommand's Parameters (botocore ssm Parameters: a map of ParameterName to ParameterValueList) checked against
    /// the document's: a name the document does not declare, a declared one left out (none has a default), or a value
    /// outside its allowedPattern is InvalidParameters, SendCommand's error for exactly this (botocore ssm/2014-11-06
    /// model, InvalidParameters: "You must specify values for all required parameters in the Amazon Web Services Systems
    /// Manager document (SSM document). You can only supply values to parameters defined in the SSM document.").
    /// A String parameter takes one value. The message is the lab's own wording.
    /// </summary>
    private static Dictionary<string, string> Parameters(JsonObject request, IReadOnlyDictionary<string, string> declared)
    {
        var given = request["Parameters"] as JsonObject ?? [];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, node) in given)
        {
            if (!declared.TryGetValue(name, out var pattern))
                throw new SsmError("InvalidParameters", $"Parameter {name} is not defined in the document (it takes {(declared.Count == 0 ? "no parameters" : string.Join(", ", declared.Keys))}).");
            var list = node as JsonArray ?? [];
            if (list.Count != 1 || list[0]?.GetValueKind() != JsonValueKind.String)
                throw new SsmError("InvalidParameters", $"Parameter {name} takes exactly one string value.");
            var value = list[0]!.GetValue<string>();
            // \z, not $: an allowedPattern's $ must not let a final newline through (the agent script refuses it anyway).
            if (!System.Text.RegularExpressions.Regex.IsMatch(value, pattern.TrimEnd('$') + @"\z", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1)))
                throw new SsmError("InvalidParameters", $"Parameter {name} value '{value}' does not match the document's allowedPattern {pattern}.");
            values[name] = value;
        }
        if (declared.Keys.FirstOrDefault(name => !values.ContainsKey(name)) is { } missing)
            throw new SsmError("InvalidParameters", $"Parameter {missing} is required by the document and has no default.");
        return values;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^([$]LATEST|[$]DEFAULT|[1-9][0-9]*)$")]
    private static partial System.Text.RegularExpressions.Regex DocumentVersionPattern();

    [System.Text.RegularExpressions.GeneratedRegex("^(i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$")]
    private static partial System.Text.RegularExpressions.Regex InstanceIdPattern();

    private IEnumerable<string> ResolveTarget(JsonObject target)
    {
        var key = target["Key"]?.GetValue<string>() ?? "";
        var values = target["Values"]?.AsArray().Select(v => v!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        if (key == "InstanceIds") return values;
        if (key.StartsWith("tag:", StringComparison.Ordinal))
        {
            var tag = key[4..];
            var now = fleet.Clock.Now;
            return fleet.Instances.Where(i => IsRegistered(i, now) && i.State == "running")
                .Where(i => { lock (i.Gate) return i.Tags.TryGetValue(tag, out var v) && values.Contains(v); }).Select(i => i.Id);
        }
        throw new SsmError("InvalidTarget", $"Target key {key} is not valid (the lab supports InstanceIds and tag:<key>).");
    }

    /// <summary>What the instance will answer. How the command fares (delivered, hangs, fails) is decided at SendCommand
    /// (virtual now); what a working probe reports is built for the virtual moment it runs, its execution end.</summary>
    private LabInvocation Invoke(LabInstance i, DateTimeOffset now, DateTimeOffset realNow)
    {
        int delivery, execution;
        lock (_random)
        {
            delivery = fleet.Scenario.SsmDelivery.Sample(_random);
            execution = fleet.Scenario.SsmExecution.Sample(_random);
        }
        var deliveredAt = realNow.AddMilliseconds(delivery);
        var hang = i.HasFault(FaultKind.ProbeHang, now);
        DateTimeOffset? doneAt = hang ? null : deliveredAt.AddMilliseconds(execution);
        var invocation = new LabInvocation(i.Id, i.Spec.Name, deliveredAt, doneAt) { ObservedAt = doneAt is { } d ? fleet.Clock.VirtualAt(d) : null };
        if (i.HasFault(FaultKind.Undeliverable, now)) (invocation.FinalStatus, invocation.FinalDetails, invocation.Started) = ("Failed", "Undeliverable", false);
        else if (i.HasFault(FaultKind.ProbeTimeout, now)) (invocation.FinalStatus, invocation.FinalDetails, invocation.ResponseCode) = ("TimedOut", "Execution Timed Out", -1);
        else if (i.HasFault(FaultKind.DeliveryTimeout, now)) (invocation.FinalStatus, invocation.FinalDetails, invocation.ResponseCode, invocation.Started) = ("TimedOut", "Delivery Timed Out", -1, false);
        else if (i.HasFault(FaultKind.ProbeFailed, now))
        {
            (invocation.FinalStatus, invocation.FinalDetails, invocation.ResponseCode) = ("Failed", "Failed", 127);
            invocation.Error = "/var/lib/amazon/ssm/i/document/orchestration/_script.sh: line 3: awk: command not found\n";
        }
        else if (i.HasFault(FaultKind.Garbage, now)) lock (_random) invocation.Output = ProbeSynthesizer.Garbage(_random);
        else if (i.HasFault(FaultKind.Truncated, now)) invocation.SynthesizeAtObservation(at => ProbeSynthesizer.Oversized(i, at));
        else if (i.Fault(FaultKind.AgentStderr, now) is { } warning)
        {
            // A probe that works but warns: exit 0, Success, and the agent still appends stderr under its ERROR line.
            invocation.SynthesizeAtObservation(at => ProbeSynthesizer.Build(i, at));
            invocation.Error = warning.Message ?? "";
        }
        else if (i.Spec.Probe == ProbeMode.Local) invocation.Producing = localProbe.RunInto(invocation);
        else invocation.SynthesizeAtObservation(at => ProbeSynthesizer.Build(i, at));
        return invocation;
    }

    /// <summary>
    /// A stop notice to one instance. Only the agent's own delivery faults apply (Undeliverable, Delivery Timed Out:
    /// the command never reaches the script); the probe's faults (hang, failure, garbage, oversized output, stderr) are
    /// the probe script's and leave the notice alone. A delivered notice is recorded for the summary at the virtual
    /// moment the agent receives it; a `probe: local` instance runs the real agent/stop-notice.sh with StopAt and
    /// Action, a synthesized one answers the script's line for the sessions the scenario has live then (terminals:
    /// terminal sessions, tmuxClients: tmux sessions, as the script would count them on that instance).
    /// </summary>
    private LabInvocation InvokeNotice(LabInstance i, DateTimeOffset now, DateTimeOffset realNow, string stopAt, string action)
    {
        int delivery, execution;
        lock (_random)
        {
            delivery = fleet.Scenario.SsmDelivery.Sample(_random);
            execution = fleet.Scenario.SsmExecution.Sample(_random);
        }
        var deliveredAt = realNow.AddMilliseconds(delivery);
        var invocation = new LabInvocation(i.Id, i.Spec.Name, deliveredAt, deliveredAt.AddMilliseconds(execution));
        if (i.HasFault(FaultKind.Undeliverable, now)) { (invocation.FinalStatus, invocation.FinalDetails, invocation.Started) = ("Failed", "Undeliverable", false); return invocation; }
        if (i.HasFault(FaultKind.DeliveryTimeout, now)) { (invocation.FinalStatus, invocation.FinalDetails, invocation.ResponseCode, invocation.Started) = ("TimedOut", "Delivery Timed Out", -1, false); return invocation; }

        var at = fleet.Clock.VirtualAt(deliveredAt);
        var live = i.Spec.Sessions.Where(s => s.IsLiveAt(at)).ToList();
        var terminals = live.Count(s => s.Kind is SessionKind.Ssh or SessionKind.Ssm && s.Tty || s.IsRemoteShell);
        var tmuxClients = live.Count(s => s.Kind == SessionKind.Tmux);
        var name = i.Spec.Tags.GetValueOrDefault("Name") ?? i.Spec.Name;
        if (i.Spec.Probe == ProbeMode.Local) invocation.Producing = RunLocalNotice(invocation, new DeliveredNotice(i.Id, name, at, stopAt, action, null, null));
        else
        {
            invocation.Output = $"{{\"noticeVersion\":\"1.0.0\",\"terminals\":{terminals},\"tmuxClients\":{tmuxClients},\"errors\":[]}}\n";
            fleet.Notices.Add(new DeliveredNotice(i.Id, name, at, stopAt, action, terminals, tmuxClients));
        }
        return invocation;
    }

    /// <summary>Runs the real script, then records the notice with the counts its line reports (null when it printed none).</summary>
    private async Task RunLocalNotice(LabInvocation invocation, DeliveredNotice notice)
    {
        await localNotice.RunInto(invocation, notice.StopAt, notice.Action);
        int? terminals = null, tmuxClients = null;
        try
        {
            if (JsonNode.Parse(invocation.Output) is JsonObject line)
                (terminals, tmuxClients) = (line["terminals"]?.GetValue<int>(), line["tmuxClients"]?.GetValue<int>());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { }
        fleet.Notices.Add(notice with { Terminals = terminals, TmuxClients = tmuxClients });
    }

    private JsonObject ListCommandInvocations(JsonObject request)
    {
        var commandId = request["CommandId"]?.GetValue<string>();
        var instanceId = request["InstanceId"]?.GetValue<string>();
        var details = request["Details"]?.GetValue<bool>() ?? false;
        IEnumerable<(LabCommand Command, LabInvocation Invocation)> all;
        if (commandId is not null)
        {
            var command = fleet.Commands.Find(commandId) ?? throw new SsmError("InvalidCommandId", $"Command {commandId} does not exist.");
            all = command.Invocations.Select(v => (command, v));
        }
        else all = fleet.Commands.All().SelectMany(c => c.Invocations.Select(v => (c, v)));
        if (instanceId is not null) all = all.Where(x => x.Invocation.InstanceId == instanceId);
        var max = MaxResults(request, 1, 50, 50);
        var (page, next) = Page(all.ToList(), request, max);
        var realNow = DateTimeOffset.UtcNow;
        var response = new JsonObject
        {
            ["CommandInvocations"] = new JsonArray(page.Select(x => (JsonNode)InvocationJson(x.Command, x.Invocation, realNow, details)).ToArray()),
        };
        if (next is not null) response["NextToken"] = next;
        return response;
    }

    private static JsonObject InvocationJson(LabCommand command, LabInvocation invocation, DateTimeOffset realNow, bool details)
    {
        var (status, statusDetails) = invocation.StatusAt(realNow);
        var done = status is not ("Pending" or "InProgress");
        var json = new JsonObject
        {
            ["CommandId"] = command.CommandId,
            ["InstanceId"] = invocation.InstanceId,
            ["InstanceName"] = invocation.InstanceName,
            ["Comment"] = command.Comment,
            ["DocumentName"] = command.DocumentName,
            ["DocumentVersion"] = command.DocumentVersion,
            ["RequestedDateTime"] = Epoch(command.RequestedAt),
            ["Status"] = status,
            ["StatusDetails"] = statusDetails,
            ["StandardOutputUrl"] = "",
            ["StandardErrorUrl"] = "",
        };
        if (details)
        {
            var plugin = new JsonObject
            {
                ["Name"] = "runShellScript",
                ["Status"] = status,
                ["StatusDetails"] = statusDetails,
                ["ResponseCode"] = done ? invocation.ResponseCode : -1,
                ["Output"] = done ? Truncate(invocation.CombinedOutput, ListOutputLimit) : "",
                ["StandardOutputUrl"] = "",
                ["StandardErrorUrl"] = "",
            };
            // botocore CommandPlugin: ResponseStartDateTime "the time the plugin started running", ResponseFinishDateTime
            // "the time the plugin stopped running". Real time (the function compares them with its own clock); absent
            // until the plugin has started / finished, and never for one that was not delivered.
            if (invocation.Started && status != "Pending") plugin["ResponseStartDateTime"] = Epoch(invocation.DeliveredAt);
            if (invocation.Started && done && invocation.FinishedAt is { } finished) plugin["ResponseFinishDateTime"] = Epoch(finished);
            json["CommandPlugins"] = new JsonArray(plugin);
        }
        return json;
    }

    private JsonObject GetCommandInvocation(JsonObject request)
    {
        var commandId = request["CommandId"]?.GetValue<string>() ?? throw new SsmError("ValidationException", "CommandId is required.");
        var instanceId = request["InstanceId"]?.GetValue<string>() ?? throw new SsmError("ValidationException", "InstanceId is required.");
        var command = fleet.Commands.Find(commandId) ?? throw new SsmError("InvalidCommandId", $"Command {commandId} does not exist.");
        var invocation = command.Invocations.FirstOrDefault(v => v.InstanceId == instanceId)
            ?? throw new SsmError("InvocationDoesNotExist", $"Command {commandId} was not sent to instance {instanceId}.");
        var (status, details) = invocation.StatusAt(DateTimeOffset.UtcNow);
        var done = status is not ("Pending" or "InProgress");
        return new JsonObject
        {
            ["CommandId"] = commandId,
            ["InstanceId"] = instanceId,
            ["Comment"] = command.Comment,
            ["DocumentName"] = command.DocumentName,
            ["PluginName"] = "runShellScript",
            ["ResponseCode"] = done ? invocation.ResponseCode : -1,
            ["Status"] = status,
            ["StatusDetails"] = details,
            ["StandardOutputContent"] = done ? Truncate(invocation.Output, GetOutputLimit) : "",
            ["StandardErrorContent"] = done ? Truncate(invocation.Error, GetOutputLimit) : "",
        };
    }

    private static int MaxResults(JsonObject request, int min, int max, int fallback)
    {
        if (request["MaxResults"] is not { } node) return fallback;
        var value = node.GetValue<int>();
        if (value < min || value > max)
            throw new SsmError("ValidationException", $"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: Member must have value between {min} and {max}");
        return value;
    }

    private static (List<T> Page, string? Next) Page<T>(List<T> all, JsonObject request, int max)
    {
        var offset = 0;
        if (request["NextToken"]?.GetValue<string>() is { } token &&
            (!int.TryParse(token.StartsWith("lab-", StringComparison.Ordinal) ? token[4..] : "x", CultureInfo.InvariantCulture, out offset) || offset < 0 || offset > all.Count))
            throw new SsmError("InvalidNextToken", $"The specified token '{token}' is not valid.");
        var page = all.Skip(offset).Take(max).ToList();
        return (page, offset + page.Count < all.Count ? "lab-" + (offset + page.Count).ToString(CultureInfo.InvariantCulture) : null);
    }

    private static string Truncate(string text, int limit) => text.Length <= limit ? text : text[..limit];

    private static double Epoch(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    private static async Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await context.Response.WriteAsync(new JsonObject { ["__type"] = code, ["message"] = message }.ToJsonString());
    }
}
