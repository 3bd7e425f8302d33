using System.Text.Json;
using AutoStop.Configuration;
using AutoStop.Reporting;
using AutoStop.Ticking;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Ticking;

/// <summary>A tick runner over an in-memory fleet, and readers for the lines it printed.</summary>
public abstract class TickTestBase
{
    private protected readonly InMemoryAws _aws = new();
    private readonly StringWriter _stdout = new();

    private protected TickRunner Runner(AutoStopConfig? config = null)
    {
        config ??= Config();
        var sink = new JsonLineSink(_stdout);
        return new TickRunner(config, _aws.Ports, new DecisionLog(sink), new EmfMetrics(sink, config.MetricNamespace), TimeProvider.System);
    }

    private protected static TickRequest At(DateTimeOffset now, double deadlineSeconds = 60) => new(now, DateTimeOffset.UtcNow.AddSeconds(deadlineSeconds));

    private protected List<JsonElement> Lines(string? eventName = null) =>
        _stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(e => eventName is null || e.GetProperty("event").GetString() == eventName).ToList();

    private protected JsonElement DecisionFor(string id) => Lines("decision").Single(d => d.GetProperty("instanceId").GetString() == id);
}
