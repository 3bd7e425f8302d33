using System.Diagnostics;
using AutoStop.TestSupport;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>The rest of the template: the probe document is the agent's script, the schedule, parameters, outputs.</summary>
public class TemplateTests
{
    [Fact]
    public void TheProbeDocumentIsExactlyTheAgentScript()
    {
        var content = Template.Properties("ProbeDocument")["Content"];
        Assert.Equal("2.2", content["schemaVersion"].ToString());
        Assert.False(((YamlMappingNode)content).Children.ContainsKey("parameters"));
        var step = (YamlMappingNode)((YamlSequenceNode)content["mainSteps"])[0];
        Assert.Equal("aws:runShellScript", step["action"].ToString());
        var lines = ((YamlSequenceNode)step["inputs"]["runCommand"]).Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList();

        Assert.Equal("bash <<'AUTOSTOP_PROBE_EOF'", lines[0]);
        Assert.Equal("AUTOSTOP_PROBE_EOF", lines[^1]);
        Assert.Equal(File.ReadAllText(RepoPaths.Of("agent", "session-probe.sh")).Split('\n').SkipLast(1), lines.Skip(1).SkipLast(1));
    }

    [Fact]
    public void TheGeneratorsCheckPasses()
    {
        var start = new ProcessStartInfo("python3", [RepoPaths.Of("templates", "generate-probe-document"), "--check"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit(30_000);
        Assert.True(process.ExitCode == 0, output);
    }

    [Fact]
    public void TheScheduleCarriesTheScheduledTime()
    {
        var tick = Template.Properties("AutoStopFunction")["Events"]["Tick"];
        Assert.Equal("ScheduleV2", tick["Type"].ToString());
        Assert.Equal("""{"time":"<aws.scheduler.scheduled-time>"}""", tick["Properties"]["Input"].ToString());
        Assert.Equal("rate(5 minutes)", Template.Root["Parameters"]["ScheduleExpression"]["Default"].ToString());
    }

    [Fact]
    public void EveryAutoStopSettingComesFromAParameterOrAFixedValue()
    {
        var variables = (YamlMappingNode)Template.Properties("AutoStopFunction")["Environment"]["Variables"];
        foreach (var name in new[] { "AUTOSTOP_TAG_KEY", "AUTOSTOP_IDLE_MINUTES", "AUTOSTOP_ACTION", "AUTOSTOP_DRY_RUN", "AUTOSTOP_PROBE_DOCUMENT" })
            Assert.True(variables.Children.ContainsKey(name), name);
        Assert.Equal("ProbeDocument", variables["AUTOSTOP_PROBE_DOCUMENT"]["Ref"].ToString());
        Assert.Equal("true", Template.Root["Parameters"]["DryRun"]["Default"].ToString()); // a first deploy stops nothing
        foreach (var parameter in new[] { "ScheduleExpression", "IdleMinutes", "Action", "DryRun", "TagKey", "LogRetentionDays", "AlertEmail" })
            Assert.True(((YamlMappingNode)Template.Root["Parameters"]).Children.ContainsKey(parameter), parameter);
    }

    [Fact]
    public void SavedQueriesUseTheDocumentedLogFields()
    {
        var queries = Template.Resources.Children.Where(r => r.Value["Type"].ToString() == "AWS::Logs::QueryDefinition")
            .Select(r => ((YamlMappingNode)r.Value)["Properties"]["QueryString"].ToString()).ToList();
        Assert.True(queries.Count >= 3);
        var readme = File.ReadAllText(RepoPaths.Of("README.md"));
        foreach (var field in new[] { "instanceId", "action", "reason", "message", "probeStatus", "probeDetail" })
        {
            Assert.Contains(queries, q => q.Contains(field));
            Assert.Contains($"`{field}`", readme);
        }
    }

    [Fact]
    public void OutputsNameTheFunctionLogGroupAndDashboard()
    {
        var outputs = (YamlMappingNode)Template.Root["Outputs"];
        foreach (var name in new[] { "FunctionName", "LogGroup", "DashboardUrl" }) Assert.True(outputs.Children.ContainsKey(name), name);
    }
}
