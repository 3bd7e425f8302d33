using System.Text.Json;
using System.Text.RegularExpressions;
using AutoStop.Aws;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;
using AutoStop.Reporting;

namespace AutoStop.Deploy.Tests;

/// <summary>What the function's log lines hold, written by the real DecisionLog, and which fields a Logs Insights
/// query reads: a query that names a field the function never writes matches nothing, silently.</summary>
internal static partial class LogContract
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-11-23T10:05:00Z");

    /// <summary>The dotted paths of every field of every kind of line (decision with a probe report, decision without
    /// one, a failed stop, a tick, an error), as Logs Insights names them (sessions.ssh).</summary>
    public static HashSet<string> Fields()
    {
        var output = new StringWriter();
        var log = new DecisionLog(new JsonLineSink(output));
        var instance = new InstanceRecord("i-0123456789abcdef0", "running", Now.AddHours(-2), null, null, "ebs", false,
            new Dictionary<string, string> { ["Name"] = "alice-dev", ["AutoStop"] = "true" });
        var report = ProbeOutputParser.TryParse(ProbeLine, out var error) ?? throw new InvalidOperationException(error);
        var ok = ProbeOutcome.Ok(report, "cmd-1");
        log.Decision(Now, new DecisionRecord(instance, new Decision(DecisionAction.Keep, ReasonCodes.ActiveSessions, "In use.", null, 900, IdleStateChange.None), ok, false));
        log.Decision(Now, new DecisionRecord(instance, new Decision(DecisionAction.Stop, ReasonCodes.IdleThresholdReached, "Idle.", 1020, 900, IdleStateChange.None), ok, false,
            ActionError: new AwsFailure("EC2:StopInstances", "OperationNotPermitted", "protected", "req-1"), ObservationAgeMs: 800));
        // The first decision after a quick restart (restartedAfterSeconds, quickRestart).
        log.Decision(Now, new DecisionRecord(instance, new Decision(DecisionAction.Keep, ReasonCodes.BootGrace, "Started again 7 min after AutoStop stopped it.", 60, 900, IdleStateChange.None)
            { RestartedAfterSeconds = 420 }, ok, false));
        log.Decision(Now, new DecisionRecord(instance, Decision.Skip(ReasonCodes.ProbeFailed, "Failed.", 900),
            ProbeOutcome.Failure(ProbeStatus.Failed, "exit 3", "cmd-2", "Failed"), false));
        log.Tick(new TickSummary(Now, 3, 3, 1, 2, 1, 0, 0, 0, 1, 1, 2, 0.5, 4, false, false, true, 1200, new Dictionary<string, int> { ["EC2:DescribeInstances"] = 1 }, 0));
        log.Error(Now, new AwsFailure("SSM:SendCommand", "ThrottlingException", "slow down", "req-2"), "i-0123456789abcdef0");

        var fields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            Collect(json.RootElement, "", fields);
        }
        return fields;
    }

    private const string ProbeLine =
        """{"v":1,"agent":"1.2.0","sshSessions":1,"sshNoTtySessions":0,"ssmSessions":1,"users":["dev"],"lastLoginAgeSeconds":60,"minTtyIdleSeconds":5,"keepAliveSeconds":null,"uptimeSeconds":7200,"load1":0.1,"cpuCount":2,"multiplexerSessions":0,"preauthConnections":0,"errors":[],"remoteShellSessions":1,"remoteShellKinds":["mosh-server"],"lastLogoutAgeSeconds":null,"systemBusy":[]}""";

    private static void Collect(JsonElement element, string prefix, HashSet<string> fields)
    {
        foreach (var property in element.EnumerateObject())
        {
            var path = prefix + property.Name;
            fields.Add(path);
            if (property.Value.ValueKind == JsonValueKind.Object) Collect(property.Value, path + ".", fields);
        }
    }

    /// <summary>The log fields a Logs Insights query reads in its fields, filter and stats commands: identifiers
    /// outside quotes that are not functions, keywords, system fields (@...) or names the query itself defines (as x).</summary>
    public static HashSet<string> FieldsReadBy(string query)
    {
        var unquoted = Quoted().Replace(query, "\"\"");
        var aliases = Alias().Matches(unquoted).Select(m => m.Groups[1].Value).ToHashSet();
        var read = new HashSet<string>(StringComparer.Ordinal);
        foreach (var command in unquoted.Split('|').Select(c => c.Trim()))
        {
            var verb = command.Split(' ', 2)[0];
            if (verb is not ("fields" or "filter" or "stats")) continue;
            foreach (Match m in Identifier().Matches(command[verb.Length..]))
            {
                var name = m.Groups[1].Value;
                if (!Keywords.Contains(name) && !aliases.Contains(name)) read.Add(name);
            }
        }
        return read;
    }

    private static readonly HashSet<string> Keywords = ["and", "or", "not", "in", "as", "by", "like", "desc", "asc"];

    [GeneratedRegex(@"""[^""]*""|'[^']*'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\bas\s+([A-Za-z][A-Za-z0-9]*)")]
    private static partial Regex Alias();

    // A whole name (not preceded by @, a word character or a dot; not cut short) not followed by "(" (a function): bin(5m)'s 5m starts with a digit.
    [GeneratedRegex(@"(?<![\w.@])([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*)(?![\w.])(?!\s*\()")]
    private static partial Regex Identifier();

    /// <summary>The reason codes a query lists in its reason in [...] filters.</summary>
    public static List<string> ReasonsIn(string query)
    {
        var list = ReasonList().Match(query);
        return list.Success ? QuotedCode().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value).ToList() : [];
    }

    [GeneratedRegex(@"reason in \[([^\]]*)\]")]
    private static partial Regex ReasonList();

    [GeneratedRegex(@"""([a-z-]+)""")]
    private static partial Regex QuotedCode();
}
