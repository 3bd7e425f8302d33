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
        var body = Template.Properties("Dashboard")["DashboardBody"]["Fn::Sub"].ToString();

        var fleet = FleetMetric().Matches(body).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["InstancesStopped", "InstanceHoursSaved", "ProbeFailures", "Unobservable", "UnauthenticatedSshConnections"], fleet);
        Assert.All(fleet, name => Assert.Contains((name, ""), emitted));

        var search = SearchSchema().Match(body);
        Assert.True(search.Success, "no SEARCH expression for Sessions");
        Assert.Contains((search.Groups[2].Value, search.Groups[1].Value), emitted);
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

    /// <summary>Reason codes the saved queries filter on are codes the function logs (a misspelt one matches nothing,
    /// silently); the probe-failure and unobservable queries do not overlap, as the two metrics do not.</summary>
    [Fact]
    public void SavedQueriesFilterOnReasonCodesTheFunctionLogs()
    {
        var queries = Template.Resources.Children.Where(r => r.Value["Type"].ToString() == "AWS::Logs::QueryDefinition")
            .ToDictionary(r => r.Key.ToString(), r => ((YamlDotNet.RepresentationModel.YamlMappingNode)r.Value)["Properties"]["QueryString"].ToString());
        List<string> ReasonsIn(string query)
        {
            var list = ReasonList().Match(query);
            return list.Success ? QuotedCode().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value).ToList() : [];
        }
        var probeFailures = ReasonsIn(queries["QueryProbeFailures"]);
        var unobservable = ReasonsIn(queries["QueryUnobservable"]);
        Assert.Equal(["probe-failed", "probe-timed-out", "probe-invalid-output"], probeFailures);
        Assert.Equal(["not-ssm-managed", "unsupported-platform", "probe-undeliverable", "access-denied", "tag-limit"], unobservable);
        Assert.Empty(probeFailures.Intersect(unobservable));
        foreach (var (name, query) in queries)
            Assert.All(ReasonsIn(query), code => Assert.True(AutoStop.Policy.ReasonCodes.All.Contains(code), $"{name} filters on reason '{code}', which the function never logs"));
    }

    [GeneratedRegex(@"reason in \[([^\]]*)\]")]
    private static partial Regex ReasonList();

    [GeneratedRegex(@"""([a-z-]+)""")]
    private static partial Regex QuotedCode();

    [GeneratedRegex(@"\[ ""\$\{MetricNamespace\}"", ""([A-Za-z]+)"" \]")]
    private static partial Regex FleetMetric();

    [GeneratedRegex(@"SEARCH\('\{\$\{MetricNamespace\},([A-Za-z,]+)\} MetricName=\\""([A-Za-z]+)\\""'")]
    private static partial Regex SearchSchema();
}
