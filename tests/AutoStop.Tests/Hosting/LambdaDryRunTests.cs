using System.Text;
using System.Text.Json;
using AutoStop.Hosting.Lambda;
using AutoStop.Reporting;
using AutoStop.Tests.Ticking;
using AutoStop.Ticking;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Hosting;

/// <summary>A payload through the Lambda host into a real TickRunner: it can never turn off the deployment's dry run.</summary>
public class LambdaDryRunTests
{
    private sealed class RecordingRuntime : IRuntimeApi
    {
        public readonly List<(string Kind, string Body)> Posts = [];
        public Task<Invocation> NextAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RespondAsync(string requestId, string responseJson, CancellationToken cancellationToken) { Posts.Add(("response", responseJson)); return Task.CompletedTask; }
        public Task ReportInvocationErrorAsync(string requestId, string errorType, string errorMessage, CancellationToken cancellationToken) { Posts.Add(("error", errorMessage)); return Task.CompletedTask; }
        public Task ReportInitErrorAsync(string errorType, string errorMessage, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private readonly InMemoryAws _aws = new();
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();
    private readonly RecordingRuntime _runtime = new();

    private async Task Invoke(string dryRunSetting, string payload)
    {
        _aws.Add(Instance("i-01", tags: ("AutoStop:IdleSince", Time(Now.AddMinutes(-60)))), Ok(Report()));
        var config = Config(("AUTOSTOP_DRY_RUN", dryRunSetting));
        var sink = new JsonLineSink(_stdout);
        var runner = new TickRunner(config, _aws.Ports, new DecisionLog(sink), new EmfMetrics(sink, config.MetricNamespace), TimeProvider.System);
        // The payloads carry a fixed 2026 time: no skew check against the real clock (EventSkewTests cover it).
        var host = new LambdaHost(_runtime, n => n == "AUTOSTOP_EVENT_MAX_SKEW_MINUTES" ? "off" : null, _ => runner, TimeProvider.System, _stderr);
        var invocation = new Invocation("req-1", DateTimeOffset.UtcNow.AddSeconds(60), null, null, Encoding.UTF8.GetBytes(payload));
        await host.HandleAsync(runner, invocation, CancellationToken.None);
    }

    private JsonElement Response() => JsonDocument.Parse(Assert.Single(_runtime.Posts, p => p.Kind == "response").Body).RootElement;

    [Fact]
    public async Task DryRunFalseInThePayloadStopsNothingOnADryRunDeployment()
    {
        await Invoke("true", """{"time":"2026-11-23T10:00:00Z","dryRun":false}""");

        Assert.Empty(_aws.StopCalls);
        Assert.Equal("running", _aws.Instances["i-01"].State);
        Assert.True(Response().GetProperty("dryRun").GetBoolean());
        Assert.Equal(1, Response().GetProperty("wouldStop").GetInt32());
        Assert.Contains("\"dryRun\":false has no effect", _stderr.ToString());
    }

    [Fact]
    public async Task DryRunTrueInThePayloadStopsNothingOnALiveDeployment()
    {
        await Invoke("false", """{"time":"2026-11-23T10:00:00Z","dryRun":true}""");

        Assert.Empty(_aws.StopCalls);
        Assert.True(Response().GetProperty("dryRun").GetBoolean());
    }

    [Fact]
    public async Task ALiveDeploymentStopsTheIdleInstance() // the control: the same fleet and payload shape do stop when allowed
    {
        await Invoke("false", """{"time":"2026-11-23T10:00:00Z","dryRun":false}""");

        Assert.Equal("stopped", _aws.Instances["i-01"].State);
        Assert.False(Response().GetProperty("dryRun").GetBoolean());
    }
}
