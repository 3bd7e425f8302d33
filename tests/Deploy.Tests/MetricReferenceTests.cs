using System.Text.Json;
using System.Text.RegularExpressions;
using AutoStop.Reporting;

namespace AutoStop.Deploy.Tests;

/// <summary>The dashboard and alarms read metrics the function really emits, with the dimensions it emits them with
/// (a metric with other dimensions is a different metric, and an alarm on it would never fire).</summary>
public partial class MetricReferenceTests
{
    private const string Namespace = "AutoStop";

    /// <summary>(metric name, dimension names) the real EmfMetrics writes for one tick and one instance.</summary>
    private static HashSet<(string Metric, string Dimensions)> Emitted()
    {
        var output = new StringWriter();
        var metrics = new EmfMetrics(new JsonLineSink(output), Namespace);
        var now = DateTimeOffset.Parse("2026-11-23T10:05:00Z");
        metrics.Fleet(new TickSummary(now, 3, 3, 1, 2, 1, 0, 0, 0, 1, 1, 2, 0.5, 4, false, false, true, 1200, new Dictionary<string, int>(), 0));
        metrics.InstanceSessions(now, "i-0123456789abcdef0", 2);

        var emitted = new HashSet<(string, string)>();
        foreach (var line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            foreach (var directive in json.RootElement.GetProperty("_aws").GetProperty("CloudWatchMetrics").EnumerateArray())
            {
                Assert.Equal(Namespace, directive.GetProperty("Namespace").GetString());
                foreach (var set in directive.GetProperty("Dimensions").EnumerateArray())
                foreach (var metric in directive.GetProperty("Metrics").EnumerateArray())
                    emitted.Add((metric.GetProperty("Name").GetString()!, string.Join(",", set.EnumerateArray().Select(d => d.GetString()))));
            }
        }
        return emitted;
    }

    [Fact]
    public void EveryDashboardMetricIsEmittedWithTheSameDimensions()
    {
        var emitted = Emitted();
        var body = Template.AllText(Template.Properties("Dashboard")["DashboardBody"]);

        var fleet = FleetMetric().Matches(body).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["InstancesStopped", "InstanceHoursSaved", "ProbeFailures", "Unobservable", "UnauthenticatedSshConnections", "QuickRestarts"], fleet);
        Assert.All(fleet, name => Assert.Contains((name, ""), emitted));

        var search = SearchSchema().Match(body);
        Assert.True(search.Success, "no SEARCH expression for Sessions");
        Assert.Contains((search.Groups[2].Value, search.Groups[1].Value), emitted);
    }

    /// <summary>The organisation dashboard finds each metric with a SEARCH over every linked account. A schema with no
    /// dimension names, {namespace}, matches only metrics without dimensions: every metric it searches must be a
    /// fleet metric the function emits without dimensions, or the widget stays empty.</summary>
    [Fact]
    public void TheMonitoringDashboardSearchesOnlyFleetMetricsTheFunctionEmits()
    {
        var emitted = Emitted();
        var monitoring = TemplateFile.Monitoring;
        var body = monitoring.Deploy(new Dictionary<string, string> { ["OrganizationId"] = "o-a1b2c3d4e5" }).Json(monitoring.Properties("Dashboard")["DashboardBody"]);
        var expressions = body.GetProperty("widgets").EnumerateArray().Where(w => w.GetProperty("type").GetString() == "metric")
            .SelectMany(w => w.GetProperty("properties").GetProperty("metrics").EnumerateArray())
            .Select(m => m[0].GetProperty("expression").GetString()!).ToList();
        Assert.True(expressions.Count >= 8, string.Join("\n", expressions));
        var searched = expressions.Select(e => ResolvedSearch().Match(e)).ToList();
        Assert.All(searched, m => Assert.True(m.Success, "not a SEARCH over the AutoStop namespace"));
        Assert.All(searched, m => Assert.Equal("AutoStop", m.Groups[1].Value)); // the MetricNamespace default, the members' default
        Assert.All(searched, m => Assert.Contains((m.Groups[2].Value, ""), emitted));
        // Totals and per-account views of what was stopped and saved; ticks per hour stand in for the function-error alarm.
        Assert.Contains("SUM(SEARCH('{AutoStop} MetricName=\"InstancesStopped\"', 'Sum', 86400))", expressions);
        Assert.Contains("SEARCH('{AutoStop} MetricName=\"TickDuration\"', 'SampleCount', 3600)", expressions);
        Assert.Equal(TemplateFile.Member.Parameters["MetricNamespace"]["AllowedPattern"].ToString(), monitoring.Parameters["MetricNamespace"]["AllowedPattern"].ToString());
    }

    [Theory]
    [InlineData("ProbeFailuresAlarm")]
    [InlineData("StopsNotice")]
    public void AlarmsWatchAnEmittedFleetMetric(string alarm)
    {
        var properties = Template.Properties(alarm);
        Assert.False(properties.Children.ContainsKey("Dimensions"));
        Assert.Contains((properties["MetricName"].ToString(), ""), Emitted());
    }

    /// <summary>ProbeFailures (probes that reached the instance and failed) is alarmed; Unobservable (instances AutoStop
    /// cannot look at by their setup: not managed, offline, unsupported, access denied, tag limit) is not: an account
    /// with a few Windows or unmanaged instances tagged by mistake would otherwise be in alarm forever.</summary>
    [Fact]
    public void ProbeFailuresAreAlarmedAndUnobservableInstancesAreNot()
    {
        var alarmed = Template.Resources.Children.Where(r => r.Value["Type"].ToString() == "AWS::CloudWatch::Alarm")
            .Select(r => ((YamlDotNet.RepresentationModel.YamlMappingNode)r.Value)["Properties"]["MetricName"].ToString()).ToList();
        Assert.Contains("ProbeFailures", alarmed);
        Assert.DoesNotContain("Unobservable", alarmed);
        Assert.Equal("ProbeFailures", Template.Properties("ProbeFailuresAlarm")["MetricName"].ToString());
    }

    /// <summary>Reason codes the saved queries of both templates filter on are codes the function logs (a misspelt one
    /// matches nothing, silently); the probe-failure and unobservable queries do not overlap, as the two metrics do
    /// not; the organisation's queries list the same codes as the member's.</summary>
    [Fact]
    public void SavedQueriesFilterOnReasonCodesTheFunctionLogs()
    {
        foreach (var template in new[] { TemplateFile.Member, TemplateFile.Monitoring })
        {
            var queries = template.ResourcesOfType("AWS::Logs::QueryDefinition").ToDictionary(r => r.Name, r => r.Resource["Properties"]["QueryString"].ToString());
            var probeFailures = LogContract.ReasonsIn(queries["QueryProbeFailures"]);
            var unobservable = LogContract.ReasonsIn(queries["QueryUnobservable"]);
            Assert.Equal(["probe-failed", "probe-timed-out", "probe-invalid-output"], probeFailures);
            Assert.Equal(["not-ssm-managed", "unsupported-platform", "probe-undeliverable", "access-denied", "tag-limit"], unobservable);
            Assert.Empty(probeFailures.Intersect(unobservable));
            Assert.Equal(["active-sessions"], LogContract.ReasonsIn(queries["QueryTimeInUse"]));
            foreach (var (name, query) in queries)
                Assert.All(LogContract.ReasonsIn(query), code => Assert.True(AutoStop.Policy.ReasonCodes.All.Contains(code), $"{name} filters on reason '{code}', which the function never logs"));
        }
    }

    /// <summary>Every field a saved query, a dashboard log widget or the Contributor Insights rule reads is a field the
    /// real DecisionLog writes (sessions per instance come from sessions.ssh, sessions.ssm and sessions.remoteShell).</summary>
    [Fact]
    public void QueriesReadOnlyFieldsTheFunctionLogs()
    {
        var logged = LogContract.Fields();
        Assert.Contains("sessions.remoteShell", logged);
        var member = TemplateFile.Member;
        var queries = new List<(string Where, string Query)>();
        foreach (var template in new[] { member, TemplateFile.Monitoring })
            queries.AddRange(template.ResourcesOfType("AWS::Logs::QueryDefinition").Select(r => ($"{Path.GetFileName(template.Path)} {r.Name}", r.Resource["Properties"]["QueryString"].ToString())));
        foreach (var metrics in new[] { "true", "false" })
        {
            var body = member.Deploy(new Dictionary<string, string> { ["InstanceMetrics"] = metrics }).Json(member.Properties("Dashboard")["DashboardBody"]);
            queries.AddRange(body.GetProperty("widgets").EnumerateArray().Where(w => w.GetProperty("type").GetString() == "log")
                .Select(w => ($"dashboard widget {w.GetProperty("properties").GetProperty("title").GetString()}", w.GetProperty("properties").GetProperty("query").GetString()!)));
        }
        Assert.Contains(queries, q => q.Where.Contains("Sessions per instance (decision log)"));

        var sessions = queries.Where(q => q.Query.Contains("sessionCount")).ToList();
        Assert.Equal(3, sessions.Count); // the member's saved query, its dashboard widget, the organisation's saved query
        Assert.All(sessions, q => Assert.Superset(new HashSet<string> { "instanceId", "sessions.ssh", "sessions.ssm", "sessions.remoteShell" }, LogContract.FieldsReadBy(q.Query)));
        foreach (var (where, query) in queries)
        {
            var read = LogContract.FieldsReadBy(query);
            Assert.NotEmpty(read);
            Assert.All(read, field => Assert.True(logged.Contains(field), $"{where} reads '{field}', which the function never logs"));
        }
    }

    [GeneratedRegex(@"^(?:SUM\()?SEARCH\('\{([A-Za-z0-9._/-]+)\} MetricName=""([A-Za-z]+)""', '(?:Sum|Maximum|SampleCount)', \d+\)\)?$")]
    private static partial Regex ResolvedSearch();

    [GeneratedRegex(@"\[ ""\$\{MetricNamespace\}"", ""([A-Za-z]+)"" \]")]
    private static partial Regex FleetMetric();

    [GeneratedRegex(@"SEARCH\('\{\$\{MetricNamespace\},([A-Za-z,]+)\} MetricName=\\""([A-Za-z]+)\\""'")]
    private static partial Regex SearchSchema();
}
