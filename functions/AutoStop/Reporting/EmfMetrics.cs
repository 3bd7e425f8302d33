using System.Text.Json;

namespace AutoStop.Reporting;

/// <summary>
/// CloudWatch Embedded Metric Format lines: CloudWatch Logs turns them into metrics, so no PutMetricData
/// call (and no AWSSDK.CloudWatch) is needed. Fleet metrics carry no dimension; Sessions is per InstanceId,
/// the same shape as the old per-instance metric so existing alarms can move over.
/// </summary>
public sealed class EmfMetrics(JsonLineSink sink, string metricNamespace)
{
    /// <summary>EMF allows at most 100 metric definitions per object.</summary>
    public const int MaxMetricsPerLine = 100;

    public void Fleet(TickSummary summary)
    {
        (string Name, string Unit, double Value)[] metrics =
        [
            ("InstancesProbed", "Count", summary.Probed),
            ("InstancesIdle", "Count", summary.Idle),
            ("InstancesStopped", "Count", summary.Stopped),
            ("ProbeFailures", "Count", summary.ProbeFailures),
            ("Unobservable", "Count", summary.Unobservable),
            ("TickDuration", "Milliseconds", summary.DurationMs),
            ("InstanceHoursSaved", "Count", summary.InstanceHoursSaved),
            ("UnauthenticatedSshConnections", "Count", summary.PreauthConnections),
            ("QuickRestarts", "Count", summary.QuickRestarts),
        ];
        Write(summary.Time, null, metrics);
    }

    /// <summary>One line per instance: a dimension value is a root field, so each InstanceId needs its own object.</summary>
    public void InstanceSessions(DateTimeOffset time, string instanceId, int sessions) =>
        Write(time, instanceId, [("Sessions", "Count", sessions)]);

    private void Write(DateTimeOffset time, string? instanceId, IReadOnlyList<(string Name, string Unit, double Value)> metrics)
    {
        if (metrics.Count > MaxMetricsPerLine) throw new ArgumentException($"EMF allows at most {MaxMetricsPerLine} metrics per line", nameof(metrics));
        sink.Write(w =>
        {
            w.WriteString("event", "metrics");
            w.WriteStartObject("_aws");
            w.WriteNumber("Timestamp", time.ToUnixTimeMilliseconds());
            w.WriteStartArray("CloudWatchMetrics");
            w.WriteStartObject();
            w.WriteString("Namespace", metricNamespace);
            w.WriteStartArray("Dimensions");
            w.WriteStartArray();
            if (instanceId is not null) w.WriteStringValue("InstanceId");
            w.WriteEndArray();
            w.WriteEndArray();
            w.WriteStartArray("Metrics");
            foreach (var metric in metrics)
            {
                w.WriteStartObject();
                w.WriteString("Name", metric.Name);
                w.WriteString("Unit", metric.Unit);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
            if (instanceId is not null) w.WriteString("InstanceId", instanceId);
            foreach (var metric in metrics) w.WriteNumber(metric.Name, metric.Value);
        });
    }
}
