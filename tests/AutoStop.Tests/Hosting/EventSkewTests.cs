using System.Text;
using AutoStop.Hosting.Lambda;
using AutoStop.Ticking;

namespace AutoStop.Tests.Hosting;

/// <summary>A payload time far from the clock is an invalid event, through the Lambda host (AUTOSTOP_EVENT_MAX_SKEW_MINUTES).</summary>
public class EventSkewTests
{
    private static readonly DateTimeOffset Clock = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed class RecordingRuntime : IRuntimeApi
    {
        public readonly List<(string Kind, string Type, string Body)> Posts = [];
        public Task<Invocation> NextAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task RespondAsync(string requestId, string responseJson, CancellationToken cancellationToken) { Posts.Add(("response", "", responseJson)); return Task.CompletedTask; }
        public Task ReportInvocationErrorAsync(string requestId, string errorType, string errorMessage, CancellationToken cancellationToken) { Posts.Add(("error", errorType, errorMessage)); return Task.CompletedTask; }
        public Task ReportInitErrorAsync(string errorType, string errorMessage, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class RecordingHandler : ITickHandler
    {
        public readonly List<TickRequest> Requests = [];
        public Task<TickOutcome> RunTickAsync(TickRequest request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult(new TickOutcome("{}", true));
        }
    }

    private readonly RecordingRuntime _runtime = new();
    private readonly RecordingHandler _handler = new();
    private readonly StringWriter _stderr = new();

    private async Task Invoke(string time, params (string Name, string Value)[] env)
    {
        var map = env.ToDictionary(e => e.Name, e => e.Value);
        var host = new LambdaHost(_runtime, n => map.GetValueOrDefault(n), _ => _handler, new FixedClock(Clock), _stderr);
        var invocation = new Invocation("req-1", Clock.AddSeconds(60), null, null, Encoding.UTF8.GetBytes($$"""{"time":"{{time}}"}"""));
        await host.HandleAsync(_handler, invocation, CancellationToken.None);
    }

    private (string Type, string Message) Error() { var p = Assert.Single(_runtime.Posts); Assert.Equal("error", p.Kind); return (p.Type, p.Body); }

    [Theory]
    [InlineData("2099-01-01T00:00:00Z", "ahead of")]
    [InlineData("2026-11-23T10:15:01Z", "ahead of")]
    [InlineData("2026-11-23T09:44:59Z", "behind")]
    [InlineData("2025-11-23T10:00:00Z", "behind")]
    public async Task APayloadTimeFarFromTheClockIsAnInvalidEventAndNoTickRuns(string time, string direction)
    {
        await Invoke(time);

        Assert.Empty(_handler.Requests);
        var (type, message) = Error();
        Assert.Equal(LambdaHost.InvalidEventError, type);
        Assert.Contains($"'{time}'", message);
        Assert.Contains(direction + " the clock (2026-11-23T10:00:00Z)", message);
        Assert.Contains("at most 15 min either way", message);
        Assert.Contains("AUTOSTOP_EVENT_MAX_SKEW_MINUTES", message);
    }

    [Theory]
    [InlineData("2026-11-23T10:15:00Z")]
    [InlineData("2026-11-23T09:45:00Z")]
    [InlineData("2026-11-23T10:00:00Z")]
    [InlineData("2026-11-23T11:14:00+01:00")]
    public async Task WithinTheDefaultWindowTheTickRunsAtThePayloadTime(string time)
    {
        await Invoke(time);

        Assert.Equal(DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture), Assert.Single(_handler.Requests).Now);
        Assert.Equal("response", Assert.Single(_runtime.Posts).Kind);
    }

    [Fact]
    public async Task AutoWidensToTwoSchedulePeriods()
    {
        await Invoke("2026-11-23T10:59:00Z", ("AUTOSTOP_SCHEDULE_MINUTES", "30"));
        Assert.Single(_handler.Requests);
        await Invoke("2026-11-23T11:01:00Z", ("AUTOSTOP_SCHEDULE_MINUTES", "30"));
        Assert.Single(_handler.Requests);
        Assert.Contains("at most 60 min", _runtime.Posts[^1].Body);
    }

    [Fact]
    public async Task AnExplicitWindowIsUsed()
    {
        await Invoke("2026-11-23T10:06:00Z", ("AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "5"));
        Assert.Empty(_handler.Requests);
        Assert.Contains("6 min ahead of the clock", Error().Message);
    }

    [Fact]
    public async Task OffAcceptsAnyTimeForAVirtualClock()
    {
        await Invoke("2099-01-01T00:00:00Z", ("AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "off"));
        Assert.Equal(new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), Assert.Single(_handler.Requests).Now);
    }

    [Fact]
    public async Task APayloadWithoutATimeUsesTheClockAndIsNeverSkewed()
    {
        var host = new LambdaHost(_runtime, _ => null, _ => _handler, new FixedClock(Clock), _stderr);
        await host.HandleAsync(_handler, new Invocation("req-1", Clock.AddSeconds(60), null, null, "{}"u8.ToArray()), CancellationToken.None);
        Assert.Equal(Clock, Assert.Single(_handler.Requests).Now);
    }

    [Fact]
    public async Task AnInvalidSkewSettingIsAConfigurationErrorNotATick()
    {
        await Invoke("2026-11-23T10:00:00Z", ("AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "sometimes"));
        Assert.Empty(_handler.Requests);
        var (type, message) = Error();
        Assert.Equal(LambdaHost.InvalidConfigurationError, type);
        Assert.Contains("AUTOSTOP_EVENT_MAX_SKEW_MINUTES='sometimes'", message);
    }
}
