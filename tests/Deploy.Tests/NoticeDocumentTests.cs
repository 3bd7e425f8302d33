using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using AutoStop.TestSupport;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>The stop notice's document (issue 13) is wired like the probe's: it is agent/stop-notice.sh, named after a
/// hash of itself, the function's environment names exactly it (version 1), the role may send exactly it, and its two
/// parameters only take what the script takes, so no value reaches the script's shell as code.</summary>
public class NoticeDocumentTests
{
    private const string StopAtPattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$";
    private const string ActionPattern = "^(stop|hibernate)$";

    private static YamlMappingNode Function => Template.Properties("AutoStopFunction");
    private static YamlMappingNode Document => Template.Properties("NoticeDocument");
    private static YamlMappingNode Content => (YamlMappingNode)Document["Content"];

    [Fact]
    public void TheFunctionNamesExactlyTheDocumentTheTemplateCreatesAndItsOnlyVersion()
    {
        var variables = Function["Environment"]["Variables"];
        Assert.Equal(Document["Name"]["Fn::Sub"].ToString(), variables["AUTOSTOP_NOTICE_DOCUMENT"]["Fn::Sub"].ToString());
        Assert.Matches(@"^AutoStop-\$\{AWS::StackName\}-notice-[0-9a-f]{12}$", Document["Name"]["Fn::Sub"].ToString());
        Assert.Equal("1", variables["AUTOSTOP_NOTICE_DOCUMENT_VERSION"].ToString());
        Assert.NotEqual(Template.ProbeDocumentName(), Template.NoticeDocumentName());

        Assert.Equal("Replace", Document["UpdateMethod"].ToString());
        Assert.Equal("Command", Document["DocumentType"].ToString());
        Assert.Contains("NoticeDocument", ((YamlSequenceNode)Template.Resource("AutoStopFunction")["DependsOn"]).Children.Select(c => c.ToString()));
        Assert.Equal("NoticeDocument", Template.Root["Outputs"]["NoticeDocumentName"]["Value"]["Ref"].ToString());
    }

    [Fact]
    public void TheDocumentIsExactlyTheNoticeScriptRunOnLinuxWithItsTwoParametersAsArguments()
    {
        Assert.Equal("2.2", Content["schemaVersion"].ToString());
        var step = (YamlMappingNode)Assert.Single(((YamlSequenceNode)Content["mainSteps"]).Children);
        Assert.Equal("aws:runShellScript", step["action"].ToString());
        Assert.Equal(["platformType", "Linux"], ((YamlSequenceNode)step["precondition"]["StringEquals"]).Children.Select(c => c.ToString()));
        var lines = ((YamlSequenceNode)step["inputs"]["runCommand"]).Children.Select(c => ((YamlScalarNode)c).Value ?? "").ToList();

        // Inside single quotes: the patterns admit no quote, so a value is one argument and never code.
        Assert.Equal("bash -s -- '{{ StopAt }}' '{{ Action }}' <<'AUTOSTOP_NOTICE_EOF'", lines[0]);
        Assert.Equal("AUTOSTOP_NOTICE_EOF", lines[^1]);
        Assert.Equal(File.ReadAllText(RepoPaths.Of("agent", "stop-notice.sh")).Split('\n').SkipLast(1), lines.Skip(1).SkipLast(1));
        Assert.DoesNotContain(lines.Skip(1), l => l.Contains("{{"));
    }

    /// <summary>The runCommand lines as the SSM agent runs them: parameters substituted as text ({{ name }}), written to
    /// a script and run by sh. The script gets both values as its arguments and answers its line.</summary>
    [Theory]
    [InlineData("stop", 0)]
    [InlineData("hibernate", 0)]
    [InlineData("reboot", 2)]   // what SSM's allowedPattern refuses first; the script refuses it too
    public async Task TheDocumentRunsTheScriptWithItsParametersAsArguments(string action, int exit)
    {
        var step = (YamlMappingNode)((YamlSequenceNode)Content["mainSteps"])[0];
        var lines = ((YamlSequenceNode)step["inputs"]["runCommand"]).Children.Select(c => ((YamlScalarNode)c).Value ?? "");
        var script = Path.Combine(Path.GetTempPath(), $"autostop-notice-document-{Guid.NewGuid():N}.sh");
        File.WriteAllText(script, string.Join("\n", lines).Replace("{{ StopAt }}", "2026-11-23T18:05:00Z").Replace("{{ Action }}", action) + "\n");
        try
        {
            var start = new ProcessStartInfo("sh", [script]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment["AUTOSTOP_NOTICE_TTYS"] = ""; // write to no terminal of this machine
            start.Environment["AUTOSTOP_NOTICE_TMUX_DIR"] = "/nonexistent";
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(limit.Token);
            Assert.True(process.ExitCode == exit, await stderr);
            if (exit == 0) Assert.Equal("""{"noticeVersion":"1.0.0","terminals":0,"tmuxClients":0,"errors":[]}""" + "\n", await stdout);
            else Assert.Contains("ACTION 'reboot' is not stop or hibernate", await stderr);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public void EveryParameterHasAnAllowedPatternAndNoDefault()
    {
        var parameters = (YamlMappingNode)Content["parameters"];
        Assert.Equal(["StopAt", "Action"], parameters.Children.Keys.Select(k => k.ToString()));
        foreach (var (name, pattern) in new[] { ("StopAt", StopAtPattern), ("Action", ActionPattern) })
        {
            var parameter = (YamlMappingNode)parameters[name];
            Assert.Equal("String", parameter["type"].ToString());
            Assert.Equal(pattern, parameter["allowedPattern"].ToString());
            // No default: SSM refuses a SendCommand that leaves one out (InvalidParameters), never runs with a guess.
            Assert.False(parameter.Children.ContainsKey("default"), name);
        }
    }

    [Theory]
    [InlineData("StopAt", "2026-11-23T18:05:00Z", true)]
    [InlineData("StopAt", "2026-11-23T18:05:00+00:00", false)]
    [InlineData("StopAt", "2026-11-23 18:05:00Z", false)]
    [InlineData("StopAt", "2026-11-23T18:05:00Z' ; reboot ; '", false)]
    [InlineData("StopAt", "2026-11-23T18:05:00Z\n", false)]
    [InlineData("Action", "stop", true)]
    [InlineData("Action", "hibernate", true)]
    [InlineData("Action", "Stop", false)]
    [InlineData("Action", "stop'", false)]
    [InlineData("Action", "", false)]
    public void ThePatternsTakeOnlyWhatTheScriptTakes(string parameter, string value, bool allowed)
    {
        var pattern = Content["parameters"][parameter]["allowedPattern"].ToString();
        // Read with $ as the very end (\z). In regex flavours where $ also matches before a final newline (.NET, Java),
        // SSM might let "...Z\n" through: inside single quotes that is still one argument, and the script refuses it
        // (bash's [[ =~ ]] is POSIX: $ is the end of the string; tests/Agent.Tests StopNoticeTests).
        Assert.Equal(allowed, Regex.IsMatch(value, pattern.TrimEnd('$') + @"\z"));
    }

    [Fact]
    public void TheRoleMaySendExactlyThisDocumentToOptedInInstances()
    {
        var arn = "arn:aws:ssm:us-east-1:123456789012:document/" + Template.NoticeDocumentName();
        var statements = Template.RoleStatements();
        var notice = Assert.Single(statements, s => s.GetProperty("Sid").GetString() == "SendOnlyTheNoticeDocument");
        Assert.Equal("ssm:SendCommand", notice.GetProperty("Action").GetString());
        Assert.Equal(arn, notice.GetProperty("Resource").GetString());
        // Only the one statement names this document; the instance side is the probe's (opted-in instances only).
        Assert.Single(statements, s => s.GetProperty("Resource").ToString().Contains(":document/" + Template.NoticeDocumentName()));
        var instances = Assert.Single(statements, s => s.GetProperty("Sid").GetString() == "SendOnlyToOptedInInstances");
        Assert.Equal(JsonValueKind.Object, instances.GetProperty("Condition").ValueKind);
    }

    [Fact]
    public void TheNameCarriesTheHashOfTheDocumentResource()
    {
        var lines = File.ReadAllLines(Template.Path);
        var hash = HashIn(lines);
        // Computed here independently of the generator, as ProbeDocumentTests does for the probe.
        var (expected, blockLines) = GeneratedDocuments.ComputedHash(lines, "NoticeDocument", "notice");
        Assert.Equal(expected, hash);
        Assert.True(blockLines > 50, "the resource block should hold the whole embedded notice script");
    }

    [Fact]
    public void ChangingTheNoticeScriptChangesOnlyTheNoticeDocumentsName()
    {
        var directory = Directory.CreateTempSubdirectory("autostop-notice-name-");
        try
        {
            var template = Path.Combine(directory.FullName, "template.yaml");
            var script = Path.Combine(directory.FullName, "stop-notice.sh");
            File.Copy(Template.Path, template);
            File.Copy(RepoPaths.Of("agent", "stop-notice.sh"), script);
            var lines = File.ReadAllLines(template);
            var (notice, probe) = (HashIn(lines), ProbeHashIn(lines));

            Assert.Equal(0, GeneratedDocuments.Generator("--template", template, "--notice-script", script).ExitCode);
            Assert.Equal(File.ReadAllText(Template.Path), File.ReadAllText(template));

            File.AppendAllText(script, "# a change\n");
            var (staleExit, staleOutput) = GeneratedDocuments.Generator("--check", "--template", template, "--notice-script", script);
            Assert.Equal(1, staleExit);
            Assert.Contains("differs", staleOutput);
            Assert.Equal(0, GeneratedDocuments.Generator("--template", template, "--notice-script", script).ExitCode);
            lines = File.ReadAllLines(template);
            Assert.NotEqual(notice, HashIn(lines));
            Assert.Equal(probe, ProbeHashIn(lines));

            // A script that would end the here-document early, or that SSM would read as a parameter, is refused.
            File.AppendAllText(script, "AUTOSTOP_NOTICE_EOF\n");
            Assert.NotEqual(0, GeneratedDocuments.Generator("--template", template, "--notice-script", script).ExitCode);
            File.WriteAllText(script, File.ReadAllText(RepoPaths.Of("agent", "stop-notice.sh")) + "echo '{{ StopAt }}'\n");
            Assert.NotEqual(0, GeneratedDocuments.Generator("--template", template, "--notice-script", script).ExitCode);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static string HashIn(string[] lines) => GeneratedDocuments.HashIn(lines, "notice");

    private static string ProbeHashIn(string[] lines) => GeneratedDocuments.HashIn(lines, "probe");



}
