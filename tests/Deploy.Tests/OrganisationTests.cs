using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>Cost and organisation-wide rollout: what the member template's parameters leave out or add, the link to a
/// monitoring account, and the monitoring account's sink.</summary>
public class OrganisationTests
{
    private static readonly TemplateFile Member = TemplateFile.Member;
    private static readonly TemplateFile Monitoring = TemplateFile.Monitoring;
    private const string SinkArn = "arn:aws:oam:us-east-1:111122223333:sink/f3b1c0de-1234-4abc-9def-0123456789ab";

    private static HashSet<string> MemberResources(params (string Name, string Value)[] parameters) =>
        Member.Deploy(parameters.ToDictionary(p => p.Name, p => p.Value)).Resources();

    /// <summary>What every member stack needs whatever its options: the function and what it runs and writes.</summary>
    private static readonly string[] Core =
        ["AutoStopFunction", "FunctionRole", "ProbeDocument", "NoticeDocument", "DecisionLogGroup", "QuerySessionsPerInstance", "QueryTimeInUse", "QueryStoppedToday", "QueryProbeFailures"];

    [Fact]
    public void ByDefaultTheStackHasItsDashboardAndAlarmsAndNoPaidExtras()
    {
        var created = MemberResources();
        Assert.Superset(new HashSet<string>(Core) { "Dashboard", "FunctionErrorsAlarm", "ProbeFailuresAlarm" }, created);
        foreach (var optional in new[] { "AlertTopic", "StopsNotice", "InstancesInUseRule", "MonitoringLink" })
            Assert.DoesNotContain(optional, created);
        Assert.Equal("false", Member.Parameters["InstanceMetrics"]["Default"].ToString());
        Assert.Equal("false", Member.Parameters["ContributorInsights"]["Default"].ToString());
        Assert.Contains("DashboardUrl", Member.Deploy().Outputs());
    }

    [Fact]
    public void CreateDashboardAndCreateAlarmsFalseLeaveOutEveryDashboardAlarmAndTopic()
    {
        var created = MemberResources(("CreateDashboard", "false"), ("CreateAlarms", "false"));
        Assert.Superset(new HashSet<string>(Core), created);
        var monitoringTypes = new[] { "AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm", "AWS::SNS::Topic" };
        var left = Member.Resources.Children.Where(r => monitoringTypes.Contains(r.Value["Type"].ToString())).Select(r => r.Key.ToString()).ToList();
        Assert.NotEmpty(left);
        Assert.All(left, name => Assert.DoesNotContain(name, created));
        Assert.DoesNotContain("DashboardUrl", Member.Deploy(new Dictionary<string, string> { ["CreateDashboard"] = "false" }).Outputs());

        // Each one alone leaves out only its part.
        var noDashboard = MemberResources(("CreateDashboard", "false"));
        Assert.DoesNotContain("Dashboard", noDashboard);
        Assert.Contains("ProbeFailuresAlarm", noDashboard);
        var noAlarms = MemberResources(("CreateAlarms", "false"));
        Assert.Contains("Dashboard", noAlarms);
        Assert.DoesNotContain("FunctionErrorsAlarm", noAlarms);
    }

    [Fact]
    public void AnAlertEmailWithoutAlarmsIsRefused()
    {
        Assert.Empty(TemplateRules.Failures(new Dictionary<string, string> { ["CreateAlarms"] = "false" }));
        Assert.Empty(TemplateRules.Failures(new Dictionary<string, string> { ["AlertEmail"] = "ops@example.com" }));
        var failures = TemplateRules.Failures(new Dictionary<string, string> { ["CreateAlarms"] = "false", ["AlertEmail"] = "ops@example.com" });
        Assert.Contains(failures, f => f.Contains("AlertEmail must be empty"));
        Assert.DoesNotContain("AlertTopic", MemberResources(("CreateAlarms", "false"), ("AlertEmail", "ops@example.com")));
    }

    [Fact]
    public void InstanceMetricsReachTheFunctionAndChooseTheSessionsWidget()
    {
        var variables = Member.Properties("AutoStopFunction")["Environment"]["Variables"];
        Assert.Equal("InstanceMetrics", variables["AUTOSTOP_INSTANCE_METRICS"]["Ref"].ToString());
        foreach (var (value, parsed) in new[] { ("true", true), ("false", false) })
        {
            Assert.Equal(parsed, AutoStop.Configuration.AutoStopConfig.FromEnvironment(n => n == "AUTOSTOP_INSTANCE_METRICS" ? value : null).InstanceMetrics);
            var body = Member.Deploy(new Dictionary<string, string> { ["InstanceMetrics"] = value }).Json(Member.Properties("Dashboard")["DashboardBody"]);
            var widgets = body.GetProperty("widgets").EnumerateArray().ToList();
            Assert.Equal(9, widgets.Count);   // with the quick-restart chart and table (issue 13)
            var sessions = widgets[0];
            Assert.Equal(parsed ? "metric" : "log", sessions.GetProperty("type").GetString());
            var properties = sessions.GetProperty("properties");
            if (parsed)
                Assert.Equal("SEARCH('{AutoStop,InstanceId} MetricName=\"Sessions\"', 'Maximum', 300)", properties.GetProperty("metrics")[0][0].GetProperty("expression").GetString());
            else
                Assert.StartsWith("SOURCE '/aws/lambda/stack' |", properties.GetProperty("query").GetString());
            // Every widget of the body is a whole widget in a 24-column grid.
            Assert.All(widgets, w => Assert.InRange(w.GetProperty("x").GetInt32() + w.GetProperty("width").GetInt32(), 1, 24));
        }
    }

    [Fact]
    public void TheContributorInsightsRuleExistsOnlyWhenAskedAndReadsTheDecisionLog()
    {
        Assert.DoesNotContain("InstancesInUseRule", MemberResources());
        var deployment = Member.Deploy(new Dictionary<string, string> { ["ContributorInsights"] = "true" });
        Assert.Contains("InstancesInUseRule", deployment.Resources());
        var properties = Member.Properties("InstancesInUseRule");
        Assert.Equal("ENABLED", properties["RuleState"].ToString());
        var rule = deployment.Json(properties["RuleBody"]);
        Assert.Equal("CloudWatchLogRule", rule.GetProperty("Schema").GetProperty("Name").GetString());
        Assert.Equal(["/aws/lambda/stack"], rule.GetProperty("LogGroupNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("JSON", rule.GetProperty("LogFormat").GetString());
        Assert.Equal("Count", rule.GetProperty("AggregateOn").GetString());

        var logged = LogContract.Fields();
        var contribution = rule.GetProperty("Contribution");
        var keys = contribution.GetProperty("Keys").EnumerateArray().Select(k => k.GetString()!).ToList();
        Assert.Equal("$.instanceId", keys[0]);
        var filters = contribution.GetProperty("Filters").EnumerateArray().ToDictionary(f => f.GetProperty("Match").GetString()!, f => f.GetProperty("In").EnumerateArray().Select(v => v.GetString()!).ToList());
        Assert.Equal(["decision"], filters["$.event"]);
        Assert.Equal(["active-sessions"], filters["$.reason"]);
        Assert.All(filters["$.reason"], code => Assert.Contains(code, AutoStop.Policy.ReasonCodes.All));
        Assert.All(keys.Concat(filters.Keys), path => Assert.Contains(path["$.".Length..], logged));
    }

    [Fact]
    public void TheLinkExistsOnlyWithASinkArnAndSharesOnlyAutoStopsMetricsAndDecisionLog()
    {
        Assert.DoesNotContain("MonitoringLink", MemberResources());
        var deployment = Member.Deploy(new Dictionary<string, string> { ["MonitoringSinkArn"] = SinkArn, ["MetricNamespace"] = "AutoStop/team-a" });
        Assert.Contains("MonitoringLink", deployment.Resources());
        Assert.Contains("MonitoringLinkArn", deployment.Outputs());
        Assert.DoesNotContain("MonitoringLinkArn", Member.Deploy().Outputs());

        var link = Member.Properties("MonitoringLink");
        Assert.Equal(SinkArn, deployment.Text(link["SinkIdentifier"]));
        Assert.Equal(["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"], ((YamlSequenceNode)link["ResourceTypes"]).Children.Select(c => c.ToString()));
        Assert.Equal("Namespace IN ('AutoStop/team-a')", deployment.Text(link["LinkConfiguration"]["MetricConfiguration"]["Filter"]));
        Assert.Equal("LogGroupName IN ('/aws/lambda/stack')", deployment.Text(link["LinkConfiguration"]["LogGroupConfiguration"]["Filter"]));
        Assert.Equal("DecisionLogGroup", Template.Properties("AutoStopFunction")["LoggingConfig"]["LogGroup"]["Ref"].ToString()); // the group shared is the one written

        var pattern = Member.Parameters["MonitoringSinkArn"]["AllowedPattern"].ToString();
        Assert.Matches(pattern, SinkArn);
        Assert.Matches(pattern, "");
        Assert.DoesNotMatch(pattern, "arn:aws:oam:us-east-1:111122223333:link/f3b1c0de-1234-4abc-9def-0123456789ab");
        Assert.DoesNotMatch(pattern, "arn:aws:sns:us-east-1:111122223333:sink/x");
        Assert.Equal(pattern, Monitoring.Parameters["ExistingSinkArn"]["AllowedPattern"].ToString());
    }

    private static JsonElement SinkPolicy()
    {
        var deployment = Monitoring.Deploy(new Dictionary<string, string> { ["OrganizationId"] = "o-a1b2c3d4e5" });
        var json = Template.ToJson(Monitoring.Properties("Sink")["Policy"]).Replace("{\"Ref\":\"OrganizationId\"}", JsonSerializer.Serialize(deployment.Parameter("OrganizationId")));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Only principals of the organisation may link, and only to share metrics and log groups: every Allow
    /// carries aws:PrincipalOrgID with the organisation id, and nothing else is allowed.</summary>
    [Fact]
    public void TheSinkPolicyLetsOnlyTheOrganisationLinkAndOnlyMetricsAndLogGroups()
    {
        var statements = SinkPolicy().GetProperty("Statement").EnumerateArray().ToList();
        Assert.NotEmpty(statements);
        Assert.All(statements, s =>
        {
            Assert.Equal("Allow", s.GetProperty("Effect").GetString());
            Assert.Equal(["oam:CreateLink", "oam:UpdateLink"], s.GetProperty("Action").EnumerateArray().Select(a => a.GetString()).Order());
            var condition = s.GetProperty("Condition");
            Assert.Equal("o-a1b2c3d4e5", condition.GetProperty("StringEquals").GetProperty("aws:PrincipalOrgID").GetString());
            Assert.Equal(["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"],
                condition.GetProperty("ForAllValues:StringEquals").GetProperty("oam:ResourceTypes").EnumerateArray().Select(t => t.GetString()));
        });
        // What a member's link shares is what the sink accepts.
        var shared = ((YamlSequenceNode)Member.Properties("MonitoringLink")["ResourceTypes"]).Children.Select(c => c.ToString()).ToHashSet();
        Assert.All(statements, s => Assert.Equal(shared, s.GetProperty("Condition").GetProperty("ForAllValues:StringEquals").GetProperty("oam:ResourceTypes").EnumerateArray().Select(t => t.GetString()!).ToHashSet()));

        var pattern = Monitoring.Parameters["OrganizationId"]["AllowedPattern"].ToString();
        Assert.False(((YamlMappingNode)Monitoring.Parameters["OrganizationId"]).Children.ContainsKey("Default")); // no deploy without it
        Assert.Matches(pattern, "o-a1b2c3d4e5");
        Assert.DoesNotMatch(pattern, "");
        Assert.DoesNotMatch(pattern, "*");
        Assert.DoesNotMatch(pattern, "123456789012");
    }

    [Fact]
    public void AnExistingSinkIsUsedInsteadOfANewOne()
    {
        var fresh = Monitoring.Deploy(new Dictionary<string, string> { ["OrganizationId"] = "o-a1b2c3d4e5" });
        Assert.Contains("Sink", fresh.Resources());
        var existing = Monitoring.Deploy(new Dictionary<string, string> { ["OrganizationId"] = "o-a1b2c3d4e5", ["ExistingSinkArn"] = SinkArn });
        Assert.DoesNotContain("Sink", existing.Resources());
        Assert.Superset(new HashSet<string> { "Dashboard", "QuerySessionsPerInstance", "QueryStacks" }, existing.Resources());
        var output = Monitoring.Root["Outputs"]["SinkArn"]["Value"]["Fn::If"];
        Assert.Equal(Monitoring.Resource("Sink")["Condition"].ToString(), output[0].ToString());
        Assert.Equal(SinkArn, existing.Text(Monitoring.Root["Outputs"]["SinkArn"]["Value"]));
    }

    /// <summary>The monitoring template deploys anywhere a plain stack does: no transform, no IAM resources (so no
    /// capabilities), and its saved queries name no log group (a monitoring account's query picks source accounts' groups
    /// when run).</summary>
    [Fact]
    public void TheMonitoringTemplateIsPlainCloudFormation()
    {
        Assert.False(Monitoring.Root.Children.ContainsKey("Transform"));
        Assert.DoesNotContain(Monitoring.Resources.Children, r => r.Value["Type"].ToString().StartsWith("AWS::IAM::"));
        var queries = Monitoring.ResourcesOfType("AWS::Logs::QueryDefinition").ToList();
        Assert.True(queries.Count >= 6);
        Assert.All(queries, q => Assert.False(((YamlMappingNode)q.Resource["Properties"]).Children.ContainsKey("LogGroupNames"), q.Name));
        Assert.All(queries, q => Assert.StartsWith("AutoStop/organisation/", q.Resource["Properties"]["Name"].ToString()));
        // Per-account views say which account each line came from.
        Assert.All(queries.Where(q => q.Name != "QuerySessionsPerInstance"), q => Assert.Contains("@log", q.Resource["Properties"]["QueryString"].ToString()));
    }

    /// <summary>A StackSet names each stack StackSet-&lt;name&gt;-&lt;36-character id&gt;; the README's limit on the StackSet
    /// name keeps the names made from the stack name within their limits.</summary>
    [Fact]
    public void AThirteenCharacterStackSetNameFitsEveryNameMadeFromTheStackName()
    {
        var stackName = "StackSet-" + new string('a', 13) + "-" + Guid.NewGuid();
        Assert.Equal(13 + 46, stackName.Length);
        Assert.Contains("at most 13 characters", File.ReadAllText(AutoStop.TestSupport.RepoPaths.Of("README.md")));
        var limits = new (YamlNode Name, int Limit)[]
        {
            (Member.Properties("AutoStopFunction")["FunctionName"], 64),
            (Member.Properties("AutoStopFunction")["Events"]["Tick"]["Properties"]["Name"], 64),
            (Member.Properties("InstancesInUseRule")["RuleName"], 128),
        };
        var deployment = Member.Deploy();
        foreach (var (name, limit) in limits)
        {
            var text = name is YamlMappingNode map && map.Children.ContainsKey("Ref") ? stackName : deployment.Text(name).Replace("stack", stackName);
            Assert.True(text.Length <= limit, $"{text} is longer than {limit}");
        }
    }
}
