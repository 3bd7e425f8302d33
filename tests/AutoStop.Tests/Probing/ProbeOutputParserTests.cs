using AutoStop.Probing;

namespace AutoStop.Tests.Probing;

/// <summary>The plugin Output as amazon-ssm-agent builds it (stdout, the error title, stderr, a 2,400-character cut),
/// duplicate keys, and a newer minor version of the schema.</summary>
public class ProbeOutputParserTests
{
    // A 1.0 line: the tests below add the later fields themselves (a field twice is refused).
    private const string Valid = ParserSchemaTests.ValidV10;
    private const string Title = "\n----------ERROR-------\n";

    [Fact]
    public void ADuplicateKeyIsRefusedNamingIt()
    {
        var output = Valid.Replace("\"errors\":[]", "\"errors\":[],\"sshSessions\":0");
        var parsed = ProbeOutputParser.Parse(output);
        Assert.Null(parsed.Report);
        Assert.Contains("field 'sshSessions' appears more than once", parsed.Error);
    }

    [Fact]
    public void ADuplicateKeyWrittenWithAnEscapeIsTheSameKey()
    {
        var output = Valid.Replace("\"errors\":[]", "\"errors\":[],\"ssh\\u0053essions\":0");
        Assert.Contains("'sshSessions' appears more than once", ProbeOutputParser.Parse(output).Error);
    }

    [Fact]
    public void ADuplicateUnknownKeyIsRefusedToo()
    {
        var output = Valid.Replace("\"v\":1,", "\"v\":1,\"future\":1,\"future\":2,");
        Assert.Contains("field 'future' appears more than once", ProbeOutputParser.Parse(output).Error);
    }

    [Fact]
    public void UnknownFieldsOfANewerMinorVersionAreIgnored()
    {
        var output = Valid.Replace("\"v\":1,", "\"v\":1,\"gpuSessions\":3,\"future\":{\"a\":[1,2]},");
        var parsed = ProbeOutputParser.Parse(output);
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(2, parsed.Report.SshSessions);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    [InlineData("1.1")]
    [InlineData("\"1\"")]
    public void TheMajorVersionMustBe1(string v)
    {
        var parsed = ProbeOutputParser.Parse(Valid.Replace("\"v\":1", "\"v\":" + v));
        Assert.Null(parsed.Report);
        Assert.Contains("'v'", parsed.Error);
    }

    [Fact]
    public void TheNewFieldsAreReadWhenPresent()
    {
        var output = Valid.Replace("\"errors\":[]",
            "\"errors\":[],\"remoteShellSessions\":2,\"remoteShellKinds\":[\"mosh-server\",\"etserver\"],\"lastLogoutAgeSeconds\":75,\"systemBusy\":[\"dnf (pid 812)\",\"cloud-init (pid 77)\"]");
        var report = ProbeOutputParser.Parse(output).Report!;
        Assert.Equal(2, report.RemoteShellSessions);
        Assert.Equal(["mosh-server", "etserver"], report.RemoteShellKinds);
        Assert.Equal(75, report.LastLogoutAgeSeconds);
        Assert.Equal(["dnf (pid 812)", "cloud-init (pid 77)"], report.SystemBusy);
    }

    [Fact]
    public void TheNewFieldsDefaultWhenAbsentOrNull()
    {
        var absent = ProbeOutputParser.Parse(Valid).Report!;
        Assert.Equal(0, absent.RemoteShellSessions);
        Assert.Empty(absent.RemoteShellKinds);
        Assert.Null(absent.LastLogoutAgeSeconds);
        Assert.Empty(absent.SystemBusy);
        Assert.Null(absent.InboundConnections);   // unknown, not "no connections": the policy will not stop on it when ActivePorts is set
        Assert.Null(absent.InboundConnectionsOther);
        Assert.Null(absent.GpuStatus);
        Assert.Null(absent.GpuUtilizationPercent);
        Assert.Null(absent.BusyProcesses);
        var nullLogout = ProbeOutputParser.Parse(Valid.Replace("\"errors\":[]", "\"errors\":[],\"lastLogoutAgeSeconds\":null")).Report!;
        Assert.Null(nullLogout.LastLogoutAgeSeconds);
    }

    public static TheoryData<string, string, string> BadNewFields() => new()
    {
        { "negative remote sessions", "\"remoteShellSessions\":-1", "remoteShellSessions" },
        { "null remote sessions", "\"remoteShellSessions\":null", "remoteShellSessions" },
        { "fractional remote sessions", "\"remoteShellSessions\":1.5", "remoteShellSessions" },
        { "kinds not an array", "\"remoteShellKinds\":\"mosh-server\"", "remoteShellKinds" },
        { "five kinds", "\"remoteShellKinds\":[\"a\",\"b\",\"c\",\"d\",\"e\"]", "at most 4" },
        { "repeated kind", "\"remoteShellKinds\":[\"mosh-server\",\"mosh-server\"]", "more than once" },
        { "empty kind", "\"remoteShellKinds\":[\"\"]", "1 to 32" },
        { "long kind", "\"remoteShellKinds\":[\"" + new string('k', 33) + "\"]", "1 to 32" },
        { "negative logout age", "\"lastLogoutAgeSeconds\":-5", "lastLogoutAgeSeconds" },
        { "logout age as string", "\"lastLogoutAgeSeconds\":\"5\"", "lastLogoutAgeSeconds" },
        { "nine busy items", "\"systemBusy\":[" + string.Join(",", Enumerable.Range(0, 9).Select(i => $"\"apt (pid {i})\"")) + "]", "at most 8" },
        { "long busy item", "\"systemBusy\":[\"" + new string('b', 65) + "\"]", "1 to 64" },
        { "empty busy item", "\"systemBusy\":[\"\"]", "1 to 64" },
        { "busy not strings", "\"systemBusy\":[1]", "systemBusy" },
        { "busy null", "\"systemBusy\":null", "systemBusy" },
        { "ports not an object", "\"inboundConnections\":[8888],\"inboundConnectionsOther\":0", "object or null" },
        { "port zero", "\"inboundConnections\":{\"0\":1},\"inboundConnectionsOther\":0", "port numbers 1 to 65535" },
        { "port too big", "\"inboundConnections\":{\"65536\":1},\"inboundConnectionsOther\":0", "port numbers 1 to 65535" },
        { "port with a leading zero", "\"inboundConnections\":{\"08888\":1},\"inboundConnectionsOther\":0", "port numbers 1 to 65535" },
        { "port not a number", "\"inboundConnections\":{\"http\":1},\"inboundConnectionsOther\":0", "port numbers 1 to 65535" },
        { "port twice", "\"inboundConnections\":{\"8888\":1,\"8888\":5},\"inboundConnectionsOther\":0", "port 8888 more than once" },
        { "zero count", "\"inboundConnections\":{\"8888\":0},\"inboundConnectionsOther\":0", "count from 1 to 99999" },
        { "nine ports", "\"inboundConnections\":{" + string.Join(",", Enumerable.Range(1, 9).Select(i => $"\"{i}\":1")) + "},\"inboundConnectionsOther\":0", "at most 8 ports" },
        { "ports without other", "\"inboundConnections\":{\"8888\":1},\"inboundConnectionsOther\":null", "both be null or both be set" },
        { "other without ports", "\"inboundConnections\":null,\"inboundConnectionsOther\":3", "both be null or both be set" },
        { "gpu over 100", "\"gpuUtilizationPercent\":101,\"gpuStatus\":\"ok\"", "at most 100" },
        { "gpu status unknown", "\"gpuUtilizationPercent\":null,\"gpuStatus\":\"busy\"", "one of absent, ok, failed" },
        { "gpu ok without a number", "\"gpuUtilizationPercent\":null,\"gpuStatus\":\"ok\"", "exactly when gpuStatus is ok" },
        { "gpu number when failed", "\"gpuUtilizationPercent\":50,\"gpuStatus\":\"failed\"", "exactly when gpuStatus is ok" },
        { "busy process twice", "\"busyProcesses\":[\"make\",\"make\"]", "more than once" },
        { "long busy process", "\"busyProcesses\":[\"" + new string('m', 13) + "\"]", "1 to 12" },
        { "busy processes null", "\"busyProcesses\":null", "busyProcesses" },
    };

    [Theory]
    [MemberData(nameof(BadNewFields))]
    public void TheNewFieldsKeepTheirLimits(string what, string field, string says)
    {
        var parsed = ProbeOutputParser.Parse(Valid.Replace("\"errors\":[]", "\"errors\":[]," + field));
        Assert.Null(parsed.Report);
        Assert.Contains(says, parsed.Error, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void StderrAfterTheErrorTitleIsAWarningNotPartOfTheLine()
    {
        var parsed = ProbeOutputParser.Parse(Valid + "\n" + Title + "bash: warning: setlocale: LC_ALL: cannot change locale (en_US.UTF-8)\n");
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal("bash: warning: setlocale: LC_ALL: cannot change locale (en_US.UTF-8)", parsed.Warning);
        Assert.Equal("", parsed.Error);
    }

    [Fact]
    public void AMultiLineWarningBecomesOneBoundedLine()
    {
        var stderr = string.Join("\n", Enumerable.Range(0, 60).Select(i => $"  line {i:00} of noise  "));
        var parsed = ProbeOutputParser.Parse(Valid + Title + stderr);
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.StartsWith("line 00 of noise line 01 of noise", parsed.Warning);
        Assert.DoesNotContain('\n', parsed.Warning!);
        Assert.Equal(301, parsed.Warning!.Length); // 300 characters and an ellipsis
        Assert.EndsWith("…", parsed.Warning);
    }

    [Fact]
    public void NoStderrMeansNoWarning()
    {
        Assert.Null(ProbeOutputParser.Parse(Valid + "\n").Warning);
        Assert.Null(ProbeOutputParser.Parse(Valid + Title + "  \n").Warning);
    }

    [Fact]
    public void TheWarningIsKeptWhenTheLineIsInvalid()
    {
        var parsed = ProbeOutputParser.Parse("{\"v\":1" + Title + "session-probe.sh: line 80: ps: command not found");
        Assert.Null(parsed.Report);
        Assert.Contains("not valid JSON", parsed.Error);
        Assert.Equal("session-probe.sh: line 80: ps: command not found", parsed.Warning);
    }

    [Theory]
    [InlineData(Title + "only stderr")]
    [InlineData("----------ERROR-------\nonly stderr")]
    public void EmptyStdoutWithStderrIsInvalidAndKeepsTheWarning(string output)
    {
        var parsed = ProbeOutputParser.Parse(output);
        Assert.Null(parsed.Report);
        Assert.Contains("nothing on stdout", parsed.Error);
        Assert.Equal("only stderr", parsed.Warning);
    }

    [Fact]
    public void JsonAfterTheErrorTitleIsNeverTakenForTheProbeLine()
    {
        var parsed = ProbeOutputParser.Parse(Title + Valid);
        Assert.Null(parsed.Report);
        Assert.Contains("nothing on stdout", parsed.Error);
    }

    [Fact]
    public void AStdoutCutByTheAgentIsTruncated()
    {
        // TruncateOutput with a short stderr: stdout[:2400 - 24 - 23 - len(stderr)] + "\n---Output truncated---" + title + stderr.
        const string stderr = "warning";
        var longLine = Valid.Replace("\"errors\":[]", "\"errors\":[" + string.Join(",", Enumerable.Range(0, 8).Select(_ => "\"" + new string('e', 160) + "\"")) + "],\"pad\":\"" + new string('p', 1200) + "\"");
        var cut = longLine[..(AgentOutput.Limit - 24 - 23 - stderr.Length)] + AgentOutput.OutputTruncatedMarker + Title + stderr;
        Assert.Equal(AgentOutput.Limit, cut.Length);
        var parsed = ProbeOutputParser.Parse(cut);
        Assert.Null(parsed.Report);
        Assert.Contains("truncated", parsed.Error);
        Assert.Contains("2400", parsed.Error);
        Assert.Equal(stderr, parsed.Warning);
    }

    [Fact]
    public void AMarkedCutIsTruncatedWhateverItsLength()
    {
        var parsed = ProbeOutputParser.Parse(Valid[..100] + AgentOutput.OutputTruncatedMarker);
        Assert.Contains("truncated", parsed.Error);
    }

    [Fact]
    public void TheLengthCheckIsTheAgents2400NotTheApis2500()
    {
        // A stdout part as long as a cut one (2,377 characters without the marker) is truncated ...
        var atCut = Valid + new string(' ', AgentOutput.Limit - AgentOutput.OutputTruncatedMarker.Length - Valid.Length);
        Assert.Equal(2377, atCut.Length);
        Assert.Contains("truncated", ProbeOutputParser.Parse(atCut).Error);
        // ... even between 2,400 and 2,500, where the old check let it through.
        Assert.Contains("truncated", ProbeOutputParser.Parse(Valid + new string(' ', 2450 - Valid.Length)).Error);
        // One character shorter is the probe's line with trailing blanks: valid.
        Assert.True(ProbeOutputParser.Parse(atCut[..^1]).IsValid);
    }

    [Fact]
    public void AStderrCutByTheAgentLeavesStdoutIntact()
    {
        // TruncateOutput with a short stdout: stdout + title + stderr[:...] + "\n---Error truncated----", 2,400 in all.
        var stderrRoom = AgentOutput.Limit - Valid.Length - 24 - AgentOutput.ErrorTruncatedMarker.Length;
        var output = Valid + Title + new string('w', stderrRoom) + AgentOutput.ErrorTruncatedMarker;
        Assert.Equal(AgentOutput.Limit, output.Length);
        var parsed = ProbeOutputParser.Parse(output);
        Assert.True(parsed.IsValid, parsed.Error);
        Assert.NotNull(parsed.Warning);
    }

    [Fact]
    public void TryParseStillAnswersForExistingCallers()
    {
        Assert.NotNull(ProbeOutputParser.TryParse(Valid + Title + "warning", out var error));
        Assert.Equal("", error);
        Assert.Null(ProbeOutputParser.TryParse(Valid.Replace("\"errors\":[]", "\"errors\":[],\"cpuCount\":1"), out error));
        Assert.Contains("cpuCount", error);
    }
}
