using AutoStop.Configuration;
using AutoStop.Policy;
using AutoStop.TestSupport;

namespace AutoStop.Tests;

/// <summary>The README's tables are a contract with users: they must name what the code does.</summary>
public class ReadmeContractTests
{
    private static readonly string Readme = File.ReadAllText(RepoPaths.Of("README.md"));

    [Fact]
    public void EveryConfigurationVariableIsDocumentedWithItsDefault()
    {
        foreach (var v in AutoStopConfig.Variables)
            Assert.Contains($"| `{v.Name}` | `{v.Default}` |", Readme);
    }

    [Fact]
    public void EveryReasonCodeIsDocumented()
    {
        foreach (var code in ReasonCodes.All) Assert.Contains($"| `{code}` |", Readme);
    }

    [Fact]
    public void EverySettingTagIsDocumented()
    {
        foreach (var name in InstanceSettingsReader.KnownNames) Assert.Contains($"| `AutoStop:{name}` |", Readme);
    }

    [Fact]
    public void TheTestCommandIsWhatCiRuns()
    {
        Assert.Contains("    bash tests/run.sh", Readme);
        Assert.Contains("bash tests/run.sh", File.ReadAllText(RepoPaths.Of(".ci", "run")));
    }

    [Fact]
    public void EveryDecisionAndTickFieldIsDocumented()
    {
        var output = new StringWriter();
        var log = new AutoStop.Reporting.DecisionLog(new AutoStop.Reporting.JsonLineSink(output));
        var now = Policy.Build.Now;
        var report = Policy.Build.Report(ssh: 1, loginAge: 60, users: "alice") with
        {
            Errors = ["e"], RemoteShellSessions = 1, RemoteShellKinds = ["mosh-server"], LastLogoutAgeSeconds = 5, SystemBusy = ["dpkg (pid 1)"],
        };
        var decision = new Decision(DecisionAction.Stop, ReasonCodes.IdleThresholdReached, "m", 1, 900, IdleStateChange.None) { Fallback = "hibernation-not-configured" };
        log.Decision(now, new AutoStop.Reporting.DecisionRecord(Policy.Build.Instance(), decision, Policy.Build.Ok(report), false,
            ActionError: new AutoStop.Aws.AwsFailure("EC2:StopInstances", "X", "y", "req"), TagsWritten: ["a"], TagsRemoved: ["b"],
            ProbeWarning: "w", ObservationAgeMs: 5, LastSsmSessionEnd: now.AddMinutes(-1)));
        log.Decision(now, new AutoStop.Reporting.DecisionRecord(Policy.Build.Instance(), Decision.Skip(ReasonCodes.ProbeFailed, "m", 900),
            AutoStop.Probing.ProbeOutcome.Failure(AutoStop.Probing.ProbeStatus.Failed, "d"), false));
        var calls = new AutoStop.Aws.ApiCallLog();
        log.Tick(AutoStop.Reporting.TickSummary.Empty(now, false, true, 1, calls));
        foreach (var line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            foreach (var field in System.Text.Json.JsonDocument.Parse(line).RootElement.EnumerateObject())
                Assert.True(Readme.Contains($"`{field.Name}`") || Readme.Contains($"\"{field.Name}\""), $"README does not document the field '{field.Name}'");
    }
}
