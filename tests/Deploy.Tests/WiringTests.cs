using System.Text.RegularExpressions;
using AutoStop.TestSupport;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>The parts of the template that must agree with each other: build, logs, metrics namespace, schedule period.</summary>
public class WiringTests
{
    private static YamlMappingNode Function => Template.Properties("AutoStopFunction");

    [Fact]
    public void SamBuildCallsTheMakefileTargetThatPublishesTheAotBootstrap()
    {
        var resource = Template.Resource("AutoStopFunction");
        Assert.Equal("makefile", resource["Metadata"]["BuildMethod"].ToString());
        Assert.Equal("bootstrap", Function["Handler"].ToString());
        Assert.Equal("provided.al2023", Function["Runtime"].ToString());
        Assert.Equal(["x86_64"], ((YamlSequenceNode)Function["Architectures"]).Children.Select(c => c.ToString()));

        var codeUri = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Template.Path)!, Function["CodeUri"].ToString()));
        Assert.Equal(RepoPaths.Of("functions", "AutoStop"), codeUri.TrimEnd('/'));
        var makefile = File.ReadAllText(Path.Combine(codeUri, "Makefile"));
        // sam build runs the target named build-<logical id>.
        var recipe = Regex.Match(makefile, @"^build-AutoStopFunction:\s*\n((?:\t.*\n?)+)", RegexOptions.Multiline);
        Assert.True(recipe.Success, "no build-AutoStopFunction target in functions/AutoStop/Makefile");
        Assert.Contains("dotnet publish", recipe.Groups[1].Value);
        Assert.Contains("-r linux-x64", recipe.Groups[1].Value);
        Assert.Contains("-p:PublishAot=true", recipe.Groups[1].Value);
        Assert.Contains("$(ARTIFACTS_DIR)/bootstrap", recipe.Groups[1].Value);
    }

    [Fact]
    public void TheFunctionLogsToItsDefaultGroupCreatedWithRetention()
    {
        Assert.Equal("AWS::StackName", Function["FunctionName"]["Ref"].ToString());
        Assert.Equal("DecisionLogGroup", Function["LoggingConfig"]["LogGroup"]["Ref"].ToString());
        var group = Template.Properties("DecisionLogGroup");
        // /aws/lambda/<function name>: the group sam logs --name reads, so it must follow the function's name.
        Assert.Equal("/aws/lambda/${AWS::StackName}", group["LogGroupName"]["Fn::Sub"].ToString());
        Assert.Equal("LogRetentionDays", group["RetentionInDays"]["Ref"].ToString());
        var queries = Template.Resources.Children.Where(r => r.Value["Type"].ToString() == "AWS::Logs::QueryDefinition").ToList();
        Assert.All(queries, q => Assert.Equal("DecisionLogGroup", ((YamlSequenceNode)q.Value["Properties"]["LogGroupNames"])[0]["Ref"].ToString()));
    }

    [Fact]
    public void MetricsAreReadFromTheNamespaceTheFunctionWritesTo()
    {
        Assert.Equal("MetricNamespace", Function["Environment"]["Variables"]["AUTOSTOP_METRIC_NAMESPACE"]["Ref"].ToString());
        Assert.Equal("AutoStop", Template.Root["Parameters"]["MetricNamespace"]["Default"].ToString());

        var body = Template.AllText(Template.Properties("Dashboard")["DashboardBody"]);
        Assert.Contains("SEARCH('{${MetricNamespace},InstanceId} MetricName=\\\"Sessions\\\"', 'Maximum', 300)", body);
        foreach (var metric in new[] { "InstancesStopped", "InstanceHoursSaved", "ProbeFailures", "Unobservable" })
            Assert.Contains($"[ \"${{MetricNamespace}}\", \"{metric}\" ]", body); // fleet metrics: no dimensions
        Assert.DoesNotContain("\"AutoStop\"", body);

        foreach (var alarm in new[] { "ProbeFailuresAlarm", "StopsNotice" })
            Assert.Equal("MetricNamespace", Template.Properties(alarm)["Namespace"]["Ref"].ToString());
        Assert.Equal("AWS/Lambda", Template.Properties("FunctionErrorsAlarm")["Namespace"].ToString());
    }

    [Fact]
    public void TheNoticeAndTheTopicExistOnlyWithAnAlertEmailAndAlarms()
    {
        Assert.Equal("InstancesStopped", Template.Properties("StopsNotice")["MetricName"].ToString());
        Assert.Equal("", Template.Root["Parameters"]["AlertEmail"]["Default"].ToString());
        var member = TemplateFile.Member;
        Assert.DoesNotContain("AlertTopic", member.Deploy().Resources());
        Assert.DoesNotContain("StopsNotice", member.Deploy().Resources());
        var withEmail = member.Deploy(new Dictionary<string, string> { ["AlertEmail"] = "ops@example.com" }).Resources();
        Assert.Contains("AlertTopic", withEmail);
        Assert.Contains("StopsNotice", withEmail);
        // The alarms notify the topic exactly when it exists.
        foreach (var alarm in new[] { "FunctionErrorsAlarm", "ProbeFailuresAlarm" })
            Assert.Equal(member.Resource("AlertTopic")["Condition"].ToString(), member.Properties(alarm)["AlarmActions"]["Fn::If"][0].ToString());
    }

    [Fact]
    public void TheScheduleMinutesFollowTheSchedule()
    {
        Assert.Equal("ScheduleMinutes", Function["Environment"]["Variables"]["AUTOSTOP_SCHEDULE_MINUTES"]["Ref"].ToString());
        Assert.Equal("ScheduleExpression", Function["Events"]["Tick"]["Properties"]["ScheduleExpression"]["Ref"].ToString());

        Assert.Empty(TemplateRules.Failures(new Dictionary<string, string>()));
        Assert.Empty(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleExpression"] = "rate(10 minutes)", ["ScheduleMinutes"] = "10" }));
        Assert.Empty(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleExpression"] = "rate(1 hour)", ["ScheduleMinutes"] = "60" }));
        Assert.Empty(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleExpression"] = "cron(0/5 8-18 ? * MON-FRI *)", ["ScheduleMinutes"] = "5" }));

        Assert.Single(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleExpression"] = "rate(10 minutes)" }));
        Assert.Single(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleMinutes"] = "15" }));
        Assert.Single(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleExpression"] = "rate(1 hour)", ["ScheduleMinutes"] = "5" }));
    }

    [Fact]
    public void TheEnvironmentNamesOnlyKnownVariablesAndItsDefaultsAreAValidConfiguration()
    {
        var known = AutoStop.Configuration.AutoStopConfig.Variables.Select(v => v.Name).ToHashSet();
        var variables = ((YamlMappingNode)Function["Environment"]["Variables"]).Children;
        Assert.All(variables.Keys, k => Assert.Contains(k.ToString(), known));

        var parameters = (YamlMappingNode)Template.Root["Parameters"];
        var environment = variables.ToDictionary(v => v.Key.ToString(), v => v.Value switch
        {
            YamlScalarNode scalar => scalar.Value!,
            YamlMappingNode map when map.Children.ContainsKey("Fn::Sub") => map["Fn::Sub"].ToString().Replace("${AWS::StackName}", "autostop"),
            YamlMappingNode map => parameters[map["Ref"].ToString()]["Default"].ToString(),
            _ => throw new InvalidOperationException($"unexpected value for {v.Key}"),
        });
        var config = AutoStop.Configuration.AutoStopConfig.FromEnvironment(n => environment.GetValueOrDefault(n));
        Assert.True(config.DryRun); // the first deploy stops nothing
        Assert.Equal("AutoStop", config.TagKey);
        Assert.Equal(5, config.ScheduleMinutes);
        Assert.Equal(Template.ProbeDocumentName("autostop"), config.ProbeDocument);
        Assert.Equal(30, config.ProbeTimeoutSeconds);
        Assert.False(config.InstanceMetrics); // a paid metric per instance is opt-in (InstanceMetrics=true)
    }

    [Theory]
    [InlineData("AutoStop", true)]
    [InlineData("team/auto-stop", true)]
    [InlineData("Auto:Stop", false)] // the settings tags are KEY:Name, so the key itself has no colon
    [InlineData("aws:autostop", false)]
    [InlineData("", false)]
    public void TheTagKeyParameterAcceptsOnlyKeysTheFunctionAccepts(string key, bool allowed)
    {
        var pattern = Template.Root["Parameters"]["TagKey"]["AllowedPattern"].ToString();
        Assert.Equal(allowed, Regex.IsMatch(key, pattern));
        if (allowed) Assert.Equal(key, AutoStop.Configuration.AutoStopConfig.FromEnvironment(n => n == "AUTOSTOP_TAG_KEY" ? key : null).TagKey);
    }

    /// <summary>Time to act after the longest probe wait: decide, write tags, stop, log (the lab's throttled
    /// 5,000-instance tick took under 25 s in all).</summary>
    private const int RoomToActSeconds = 60;

    private static int MaxEventAgeSeconds => int.Parse(Function["EventInvokeConfig"]["MaximumEventAgeInSeconds"].ToString());

    [Fact]
    public void TheTimeoutFitsTheLongestProbeAndEndsBeforeTheNextTick()
    {
        var timeout = int.Parse(Function["Timeout"].ToString());
        var probe = Template.Root["Parameters"]["ProbeTimeoutSeconds"];
        var probeMax = int.Parse(probe["MaxValue"].ToString());
        Assert.True(timeout >= probeMax + RoomToActSeconds, $"Timeout {timeout} s leaves less than {RoomToActSeconds} s after a {probeMax}-s probe wait");
        Assert.True(timeout > AutoStop.Hosting.Lambda.LambdaHost.DeadlineMargin.TotalSeconds + 30);

        // Even a tick that starts as late as its events may be (then dropped) ends before the next one is due.
        var scheduleMinutes = int.Parse(Template.Root["Parameters"]["ScheduleMinutes"]["Default"].ToString());
        Assert.True(timeout + MaxEventAgeSeconds < scheduleMinutes * 60,
            $"Timeout {timeout} s + {MaxEventAgeSeconds} s late start does not end before the next {scheduleMinutes}-minute tick");
        Assert.True(int.Parse(Function["MemorySize"].ToString()) >= 128);
    }

    [Fact]
    public void TheProbeTimeoutParameterAllowsExactlyWhatTheFunctionAccepts()
    {
        var probe = Template.Root["Parameters"]["ProbeTimeoutSeconds"];
        Assert.Equal("ProbeTimeoutSeconds", Function["Environment"]["Variables"]["AUTOSTOP_PROBE_TIMEOUT_SECONDS"]["Ref"].ToString());
        var min = int.Parse(probe["MinValue"].ToString());
        var max = int.Parse(probe["MaxValue"].ToString());
        Assert.Equal((5, 120), (min, max)); // the contract's range
        bool Accepted(int seconds)
        {
            try
            {
                return AutoStop.Configuration.AutoStopConfig.FromEnvironment(n => n == "AUTOSTOP_PROBE_TIMEOUT_SECONDS" ? seconds.ToString() : null).ProbeTimeoutSeconds == seconds;
            }
            catch (AutoStop.Configuration.ConfigException) { return false; }
        }
        Assert.True(Accepted(min));
        Assert.True(Accepted(max));
        Assert.False(Accepted(min - 1));
        Assert.False(Accepted(max + 1)); // a value the function rejects fails the deploy's parameter check instead
    }

    [Fact]
    public void WithoutReservedConcurrencyOnlySchedulesLongerThanATickAreAllowed()
    {
        var timeout = int.Parse(Function["Timeout"].ToString());
        for (var minutes = 1; minutes <= 15; minutes++)
        {
            var parameters = new Dictionary<string, string> { ["ReservedConcurrency"] = "none", ["ScheduleMinutes"] = minutes.ToString() };
            parameters["ScheduleExpression"] = $"cron(0/{minutes} * * * ? *)"; // a cron is trusted to match ScheduleMinutes: only the overlap rule speaks
            var overlapPossible = timeout + MaxEventAgeSeconds >= minutes * 60;
            var failures = TemplateRules.Failures(parameters);
            if (overlapPossible) Assert.Contains(failures, f => f.Contains("ReservedConcurrency none"));
            else Assert.DoesNotContain(failures, f => f.Contains("ReservedConcurrency none"));
        }
        // With the reservation, ticks wait for each other: any period is fine.
        Assert.Empty(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleExpression"] = "rate(1 minute)", ["ScheduleMinutes"] = "1" }));
        Assert.Single(TemplateRules.Failures(new Dictionary<string, string> { ["ScheduleExpression"] = "rate(1 minute)", ["ScheduleMinutes"] = "1", ["ReservedConcurrency"] = "none" }));
    }
}
