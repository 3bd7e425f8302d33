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
        metrics.Fleet(new TickSummary(now, 3, 3, 1, 2, 1, 0, 0, 0, 1, 2, 0.5, 4, false, false, true, 1200, new Dictionary<string, int>()));
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
        Assert.Equal(["InstancesStopped", "InstanceHoursSaved", "ProbeFailures", "UnauthenticatedSshConnections"], fleet);
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

    [GeneratedRegex(@"\[ ""\$\{MetricNamespace\}"", ""([A-Za-z]+)"" \]")]
    private static partial Regex FleetMetric();

    [GeneratedRegex(@"SEARCH\('\{\$\{MetricNamespace\},([A-Za-z,]+)\} MetricName=\\""([A-Za-z]+)\\""'")]
    private static partial Regex SearchSchema();
}
