using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using AutoStop.Aws;
using AutoStop.Probing;

namespace AutoStop.Tests.Aws;

/// <summary>How each SSM invocation status becomes a probe outcome (the lab tests run the same mapping end to end).</summary>
public class InvocationOutcomeTests
{
    private const string ValidLine =
        """{"v":1,"agent":"1.0.0","sshSessions":1,"sshNoTtySessions":0,"ssmSessions":0,"users":["alice"],"lastLoginAgeSeconds":120,"minTtyIdleSeconds":30,"keepAliveSeconds":null,"uptimeSeconds":3600,"load1":0.25,"cpuCount":2,"multiplexerSessions":0,"preauthConnections":0,"errors":[]}""";

    private static CommandInvocation Invocation(string status, string? details = null, string? output = null, int code = 0) => new()
    {
        InstanceId = "i-0123456789abcdef0",
        Status = new CommandInvocationStatus(status),
        StatusDetails = details ?? status,
        CommandPlugins = [new CommandPlugin { Output = output, ResponseCode = code }],
    };

    [Theory]
    [InlineData("Success", null, ValidLine + "\n", ProbeStatus.Ok)]
    [InlineData("Success", null, "", ProbeStatus.InvalidOutput)]
    [InlineData("Success", null, "sh: 1: jq: not found", ProbeStatus.InvalidOutput)]
    [InlineData("TimedOut", "Execution Timed Out", null, ProbeStatus.TimedOut)]
    [InlineData("TimedOut", "Delivery Timed Out", null, ProbeStatus.TimedOut)]
    [InlineData("Failed", "Undeliverable", null, ProbeStatus.Undeliverable)]
    [InlineData("Failed", "Failed", "bash: line 1: oops", ProbeStatus.Failed)]
    [InlineData("Cancelled", "Cancelled", null, ProbeStatus.Failed)]
    public void TerminalStatusesBecomeOutcomes(string status, string? details, string? output, ProbeStatus expected)
    {
        var outcome = SsmProbeRunner.ToOutcome(Invocation(status, details, output), "cmd-1").Outcome;
        Assert.NotNull(outcome);
        Assert.Equal(expected, outcome!.Status);
        Assert.Equal("cmd-1", outcome.CommandId);
        Assert.Equal(expected == ProbeStatus.Ok, outcome.Report is not null);
    }

    [Theory]
    [InlineData("Pending")]
    [InlineData("InProgress")]
    [InlineData("Delayed")]
    [InlineData("Cancelling")]
    public void UnfinishedInvocationsAreStillWaitedFor(string status) =>
        Assert.Null(SsmProbeRunner.ToOutcome(Invocation(status), "cmd-1").Outcome);

    [Fact]
    public void AnOutputTruncatedBySsmIsInvalid()
    {
        var truncated = ValidLine[..^1] + new string(' ', 2600);
        var outcome = SsmProbeRunner.ToOutcome(Invocation("Success", output: truncated[..2500]), "cmd-1").Outcome;
        Assert.Equal(ProbeStatus.InvalidOutput, outcome!.Status);
    }

    [Fact]
    public void AProbeThatCouldNotReadTheProcessTableIsAFailureThatSaysWhy()
    {
        // The probe prints its line (zero counts, and why) but exits 3: the zeros must never read as "idle".
        var line = ValidLine.Replace("\"sshSessions\":1", "\"sshSessions\":0").Replace("\"errors\":[]", "\"errors\":[\"ps failed\"]");
        var outcome = SsmProbeRunner.ToOutcome(Invocation("Failed", "Failed", line + "\n", code: 3), "cmd-1").Outcome;

        Assert.Equal(ProbeStatus.Failed, outcome!.Status);
        Assert.Null(outcome.Report);
        Assert.Contains("exit code 3", outcome.Detail);
        Assert.Contains("ps failed", outcome.Detail);
    }
}
