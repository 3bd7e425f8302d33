using AutoStop.Probing;
using AutoStop.TestSupport;

namespace AutoStop.Tests;

/// <summary>The controller's probe parser and agent/schema.json accept and refuse the same documents.</summary>
public class ParserSchemaTests
{
    private static readonly ProbeSchema Schema = ProbeSchema.Load(RepoPaths.Of("agent", "schema.json"));

    internal const string Valid =
        """{"v":1,"agent":"1.0.0","sshSessions":2,"sshNoTtySessions":1,"ssmSessions":0,"users":["alice","root"],"lastLoginAgeSeconds":120,"minTtyIdleSeconds":30,"keepAliveSeconds":null,"uptimeSeconds":3600,"load1":0.25,"cpuCount":2,"multiplexerSessions":1,"preauthConnections":3,"errors":[],"remoteShellSessions":1,"remoteShellKinds":["mosh-server"],"lastLogoutAgeSeconds":600,"systemBusy":[],"inboundConnections":{"8888":2,"22":1},"inboundConnectionsOther":0,"gpuUtilizationPercent":null,"gpuStatus":"absent","busyProcesses":["make"]}""";

    /// <summary>The same line as a probe of schema 1.0 printed it: none of the fields added since.</summary>
    internal const string ValidV10 =
        """{"v":1,"agent":"1.0.0","sshSessions":2,"sshNoTtySessions":1,"ssmSessions":0,"users":["alice","root"],"lastLoginAgeSeconds":120,"minTtyIdleSeconds":30,"keepAliveSeconds":null,"uptimeSeconds":3600,"load1":0.25,"cpuCount":2,"multiplexerSessions":1,"preauthConnections":3,"errors":[]}""";

    [Fact]
    public void ValidSampleParsesAndMatchesSchema()
    {
        Assert.Empty(Schema.Validate(Valid));
        var report = ProbeOutputParser.TryParse(Valid + "\n", out var error);
        Assert.NotNull(report);
        Assert.Equal("", error);
        Assert.Equal(2, report.SshSessions);
        Assert.Equal(["alice", "root"], report.Users);
        Assert.Equal(120, report.LastLoginAgeSeconds);
        Assert.Null(report.KeepAliveSeconds);
        Assert.Equal(3, report.PreauthConnections);
        Assert.Equal(1, report.RemoteShellSessions);
        Assert.Equal(["mosh-server"], report.RemoteShellKinds);
        Assert.Equal(600, report.LastLogoutAgeSeconds);
        Assert.Equal(new Dictionary<int, int> { [8888] = 2, [22] = 1 }, report.InboundConnections);
        Assert.Equal(0, report.InboundConnectionsOther);
        Assert.Null(report.GpuUtilizationPercent);
        Assert.Equal("absent", report.GpuStatus);
        Assert.Equal(["make"], report.BusyProcesses);
    }

    [Fact]
    public void ParserKnowsEverySchemaFieldAndRequiresOnlyVersion1Fields()
    {
        var schemaFields = Schema.Schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToHashSet();
        var required = Schema.Schema.GetProperty("required").EnumerateArray().Select(p => p.GetString()!).ToHashSet();
        // The probe prints every field (the schema requires them all); the parser reads each one it knows, and requires
        // only those of version 1.0, so a probe of an older or newer minor version is never invalid for that alone.
        Assert.Equal(schemaFields, required);
        Assert.Subset(ProbeOutputParser.KnownFields.ToHashSet(), schemaFields);
        Assert.Subset(schemaFields, ProbeOutputParser.RequiredFields.ToHashSet());
        Assert.Equal(["busyProcesses", "gpuStatus", "gpuUtilizationPercent", "inboundConnections", "inboundConnectionsOther", "lastLogoutAgeSeconds",
            "remoteShellKinds", "remoteShellSessions", "systemBusy"], ProbeOutputParser.OptionalFields.Order(StringComparer.Ordinal));
    }

    public static TheoryData<string, string> Mutations() => new()
    {
        { "empty", "" },
        { "extra text before", "hello " + Valid },
        { "two lines", Valid + "\n" + Valid },
        { "not json", "{\"v\":1," },
        { "array", "[1,2]" },
        { "wrong version", Valid.Replace("\"v\":1", "\"v\":2") },
        { "string count", Valid.Replace("\"sshSessions\":2", "\"sshSessions\":\"2\"") },
        { "negative count", Valid.Replace("\"sshSessions\":2", "\"sshSessions\":-1") },
        { "fractional count", Valid.Replace("\"sshSessions\":2", "\"sshSessions\":2.5") },
        { "null count", Valid.Replace("\"ssmSessions\":0", "\"ssmSessions\":null") },
        { "missing field", Valid.Replace("\"ssmSessions\":0,", "") },
        { "users not strings", Valid.Replace("[\"alice\",\"root\"]", "[1]") },
        { "zero cpus", Valid.Replace("\"cpuCount\":2", "\"cpuCount\":0") },
        { "load as string", Valid.Replace("\"load1\":0.25", "\"load1\":\"0.25\"") },
        { "too many users", Valid.Replace("[\"alice\",\"root\"]", "[" + string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"u{i}\"")) + "]") },
        { "truncated", Valid[..(Valid.Length / 2)] },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public void InvalidOutputIsRefusedWithAReason(string what, string output)
    {
        var report = ProbeOutputParser.TryParse(output, out var error);
        Assert.Null(report);
        Assert.False(string.IsNullOrWhiteSpace(error), what);
        // Where the text is one JSON document, the schema must refuse it too: parser and schema agree.
        if (!string.IsNullOrEmpty(output) && !output.Contains('\n') && output.StartsWith('{') && what != "truncated" && what != "not json")
            Assert.NotEmpty(Schema.Validate(output));
    }

    [Fact]
    public void OutputAtTheAgentsCutIsTreatedAsTruncated()
    {
        var padded = Valid.Replace("\"errors\":[]", "\"errors\":[\"" + new string('x', 150) + "\"]");
        var huge = padded + new string(' ', AgentOutput.Limit);
        Assert.Null(ProbeOutputParser.TryParse(huge, out var error));
        Assert.Contains("truncated", error);
    }

    [Fact]
    public void AnUnknownFieldIsIgnoredByTheParserThoughThisSchemaVersionRefusesIt()
    {
        // A newer minor probe adds fields: the controller must still read it (the schema file describes this version only).
        var newer = Valid.Replace("\"v\":1,", "\"v\":1,\"x\":1,");
        Assert.NotNull(ProbeOutputParser.TryParse(newer, out var error));
        Assert.Equal("", error);
    }
}
