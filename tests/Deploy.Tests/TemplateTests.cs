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
        var (exitCode, output) = GeneratedDocuments.Generator("--check");
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public void TheGeneratorsCheckFailsOnAStaleTemplateAndRegeneratingOnlyTouchesTheBlock()
    {
        var directory = Directory.CreateTempSubdirectory("autostop-generator-");
        try
        {
            var template = Path.Combine(directory.FullName, "template.yaml");
            var script = Path.Combine(directory.FullName, "probe.sh");
            File.Copy(Template.Path, template);
            File.WriteAllText(script, "#!/usr/bin/env bash\necho '{\"v\":1}' # \"quoted\" \\ backslash\n");

            var (staleExit, staleOutput) = GeneratedDocuments.Generator("--check", "--template", template, "--script", script);
            Assert.Equal(1, staleExit);
            Assert.Contains("differs", staleOutput);

            Assert.Equal(0, GeneratedDocuments.Generator("--template", template, "--script", script).ExitCode);
            Assert.Equal(0, GeneratedDocuments.Generator("--check", "--template", template, "--script", script).ExitCode);

            // Outside the block only the document name's hash may change (it is the hash of the document).
            static string[] Unhashed(string path) => File.ReadAllLines(path)
                .Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"(AutoStop-\$\{AWS::StackName\}-probe-)[0-9a-f]{12}", "${1}<hash>")).ToArray();
            var before = Unhashed(Template.Path);
            var after = Unhashed(template);
            bool Outside(string[] lines, int i) => i <= Array.FindIndex(lines, l => l.Contains("# BEGIN GENERATED")) || i >= Array.FindIndex(lines, l => l.Contains("# END GENERATED"));
            Assert.Equal(before.Where((_, i) => Outside(before, i)), after.Where((_, i) => Outside(after, i)));
            Assert.Contains("                - \"echo '{\\\"v\\\":1}' # \\\"quoted\\\" \\\\ backslash\"", after);

            File.WriteAllText(script, "#!/bin/sh\necho {{ command }}\n");
            var (parameterExit, parameterOutput) = GeneratedDocuments.Generator("--template", template, "--script", script);
            Assert.NotEqual(0, parameterExit);
            Assert.Contains("{{", parameterOutput);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void TheScheduleCarriesTheScheduledTime()
    {
        var tick = Template.Properties("AutoStopFunction")["Events"]["Tick"];
        Assert.Equal("ScheduleV2", tick["Type"].ToString());
        Assert.Equal("""{"time":"<aws.scheduler.scheduled-time>"}""", tick["Properties"]["Input"].ToString());
        Assert.Equal("rate(5 minutes)", Template.Root["Parameters"]["ScheduleExpression"]["Default"].ToString());
        // A stack-specific name, so two stacks in one region do not collide on SAM's default name.
        Assert.Equal("${AWS::StackName}-tick", tick["Properties"]["Name"]["Fn::Sub"].ToString());
    }

    [Fact]
    public void AStaleTickIsDroppedNotRunLate()
    {
        // A late or retried event carries an old scheduled time: neither Scheduler nor Lambda may deliver one.
        var retry = Template.Properties("AutoStopFunction")["Events"]["Tick"]["Properties"]["RetryPolicy"];
        Assert.Equal("0", retry["MaximumRetryAttempts"].ToString());
        Assert.Equal("60", retry["MaximumEventAgeInSeconds"].ToString()); // Scheduler's minimum
        var invoke = Template.Properties("AutoStopFunction")["EventInvokeConfig"];
        Assert.Equal("0", invoke["MaximumRetryAttempts"].ToString());
        Assert.Equal("60", invoke["MaximumEventAgeInSeconds"].ToString()); // Lambda's minimum
    }

    [Fact]
    public void EveryAutoStopSettingComesFromAParameterOrAFixedValue()
    {
        var variables = (YamlMappingNode)Template.Properties("AutoStopFunction")["Environment"]["Variables"];
        foreach (var name in new[] { "AUTOSTOP_TAG_KEY", "AUTOSTOP_IDLE_MINUTES", "AUTOSTOP_ACTION", "AUTOSTOP_DRY_RUN", "AUTOSTOP_PROBE_DOCUMENT" })
            Assert.True(variables.Children.ContainsKey(name), name);
        Assert.Equal(Template.Properties("ProbeDocument")["Name"]["Fn::Sub"].ToString(), variables["AUTOSTOP_PROBE_DOCUMENT"]["Fn::Sub"].ToString());
        Assert.Equal("true", Template.Root["Parameters"]["DryRun"]["Default"].ToString()); // a first deploy stops nothing
        foreach (var parameter in new[] { "ScheduleExpression", "IdleMinutes", "Action", "DryRun", "TagKey", "LogRetentionDays", "AlertEmail", "ReservedConcurrency", "ProbeTimeoutSeconds" })
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
