using System.Diagnostics;
using System.Text.Json;
using AutoStop.Configuration;
using AutoStop.Hosting.Lambda;
using AutoStop.Ticking;

namespace AutoStop.Deploy.Tests;

/// <summary>The custom runtime loop (RuntimeApiClient + LambdaHost) against a local fake Runtime API.</summary>
public sealed class RuntimeLoopTests : IAsyncLifetime
{
    private readonly FakeRuntimeApi _api = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly RecordingHandler _handler = new();
    private readonly StringWriter _stderr = new();
    private Task<int>? _loop;

    private sealed class RecordingHandler : ITickHandler
    {
        public readonly List<(TickRequest Request, string? TraceId)> Calls = [];
        public Func<TickRequest, CancellationToken, Task<TickOutcome>> Behaviour = (r, _) =>
            Task.FromResult(new TickOutcome($$"""{"event":"tick","time":"{{SettingValues.FormatTime(r.Now)}}"}""", true));

        public Task<TickOutcome> RunTickAsync(TickRequest request, CancellationToken cancellationToken)
        {
            lock (Calls) Calls.Add((request, Environment.GetEnvironmentVariable("_X_AMZN_TRACE_ID")));
            return Behaviour(request, cancellationToken);
        }
    }

    private Task<int> StartLoop(Dictionary<string, string>? environment = null, Func<AutoStopConfig, ITickHandler>? createHandler = null)
    {
        var client = new RuntimeApiClient(_api.Address);
        // The payloads carry fixed 2026 times: no skew check against the real clock unless a test asks (EventSkewTests cover it).
        string? Variable(string n) => environment?.GetValueOrDefault(n) ?? (n == "AUTOSTOP_EVENT_MAX_SKEW_MINUTES" ? "off" : null);
        var host = new LambdaHost(client, Variable, createHandler ?? (_ => _handler), TimeProvider.System, TextWriter.Synchronized(_stderr));
        return _loop = Task.Run(() => host.RunAsync(_stop.Token));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null) await Task.WhenAny(_loop, Task.Delay(5000));
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task AScheduledEventRunsATickAtItsTimeAndPostsTheSummary()
    {
        _ = StartLoop();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        _api.Enqueue("req-1", """{"time":"2026-11-23T10:05:00Z"}""", deadline);

        var posted = await _api.NextPostAsync();

        Assert.Equal("runtime/invocation/req-1/response", posted.Path);
        Assert.Equal("2026-11-23T10:05:00Z", JsonDocument.Parse(posted.Body).RootElement.GetProperty("time").GetString());
        var request = Assert.Single(_handler.Calls).Request;
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T10:05:00Z"), request.Now);
        // The tick's deadline is Lambda's minus the margin for printing and posting.
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(deadline.ToUnixTimeMilliseconds()) - LambdaHost.DeadlineMargin, request.Deadline);
        Assert.False(request.ForceDryRun);
    }

    [Fact]
    public async Task TheClassicEventBridgeEnvelopeAndAnEmptyObjectAreAccepted()
    {
        _ = StartLoop();
        _api.Enqueue("req-1", """{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-23T10:10:00Z","detail":{}}""", DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.EndsWith("/response", (await _api.NextPostAsync()).Path);
        var before = DateTimeOffset.UtcNow;
        _api.Enqueue("req-2", "{}", DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.EndsWith("/response", (await _api.NextPostAsync()).Path);

        Assert.Equal(DateTimeOffset.Parse("2026-11-23T10:10:00Z"), _handler.Calls[0].Request.Now);
        Assert.InRange(_handler.Calls[1].Request.Now, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task APayloadCanTurnDryRunOnButNeverOff()
    {
        _ = StartLoop();
        _api.Enqueue("req-1", """{"time":"2026-11-23T10:05:00Z","dryRun":true}""", DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.EndsWith("/response", (await _api.NextPostAsync()).Path);
        Assert.DoesNotContain("ignored", _stderr.ToString());
        _api.Enqueue("req-2", """{"dryRun":false}""", DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.EndsWith("/response", (await _api.NextPostAsync()).Path);

        Assert.True(_handler.Calls[0].Request.ForceDryRun);
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T10:05:00Z"), _handler.Calls[0].Request.Now);
        Assert.False(_handler.Calls[1].Request.ForceDryRun); // not an override: the configured DryRun decides
        Assert.Contains("\"dryRun\":false has no effect", _stderr.ToString());
    }

    [Fact]
    public async Task AnUnparseablePayloadIsAnInvocationErrorAndNoTickRuns()
    {
        _ = StartLoop();
        _api.Enqueue("req-bad", """{"time":"yesterday"}""", DateTimeOffset.UtcNow.AddSeconds(60));

        var posted = await _api.NextPostAsync();

        Assert.Equal("runtime/invocation/req-bad/error", posted.Path);
        Assert.Equal(LambdaHost.InvalidEventError, posted.ErrorTypeHeader);
        var error = JsonDocument.Parse(posted.Body).RootElement;
        Assert.Equal(LambdaHost.InvalidEventError, error.GetProperty("errorType").GetString());
        Assert.Contains("yesterday", error.GetProperty("errorMessage").GetString());
        Assert.Equal(JsonValueKind.Array, error.GetProperty("stackTrace").ValueKind);
        Assert.Empty(_handler.Calls);

        _api.Enqueue("req-next", "[1,2]", DateTimeOffset.UtcNow.AddSeconds(60)); // the loop goes on
        Assert.Equal("runtime/invocation/req-next/error", (await _api.NextPostAsync()).Path);
    }

    [Fact]
    public async Task AnInvalidConfigurationIsAnInitError()
    {
        var exit = StartLoop(new() { ["AUTOSTOP_IDLE_MINUTES"] = "4" });

        var posted = await _api.NextPostAsync();

        Assert.Equal("runtime/init/error", posted.Path);
        Assert.Equal(LambdaHost.InvalidConfigurationError, posted.ErrorTypeHeader);
        var message = JsonDocument.Parse(posted.Body).RootElement.GetProperty("errorMessage").GetString();
        Assert.Contains("AUTOSTOP_IDLE_MINUTES", message);
        Assert.Contains("'4'", message);
        Assert.Equal(1, await exit);
    }

    [Fact]
    public async Task AnyFailureWhileStartingIsAnInitError()
    {
        var exit = StartLoop(createHandler: _ => throw new InvalidOperationException("The region 'mars-1' is not known."));

        var posted = await _api.NextPostAsync();

        Assert.Equal("runtime/init/error", posted.Path);
        Assert.Equal(LambdaHost.InitFailedError, posted.ErrorTypeHeader);
        var error = JsonDocument.Parse(posted.Body).RootElement;
        Assert.Equal(LambdaHost.InitFailedError, error.GetProperty("errorType").GetString());
        Assert.Contains("InvalidOperationException: The region 'mars-1' is not known.", error.GetProperty("errorMessage").GetString());
        Assert.Equal(1, await exit);
    }

    [Fact]
    public async Task ARejectedResponseFallsBackToAnErrorAndAFailedPostNeverEndsTheLoop()
    {
        // req-1: the response is too large (413) and the fallback error post is refused too; req-2 must still be served.
        _api.StatusFor = path => path.Contains("/req-1/") ? 413 : 202;
        var loop = StartLoop();
        _api.Enqueue("req-1", "{}", DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.Equal("runtime/invocation/req-1/response", (await _api.NextPostAsync()).Path);
        var fallback = await _api.NextPostAsync();
        Assert.Equal("runtime/invocation/req-1/error", fallback.Path);
        Assert.Contains("413", JsonDocument.Parse(fallback.Body).RootElement.GetProperty("errorMessage").GetString());

        _api.Enqueue("req-2", "{}", DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.Equal("runtime/invocation/req-2/response", (await _api.NextPostAsync()).Path);
        Assert.False(loop.IsCompleted);
        Assert.Contains("Could not post the result of invocation req-1", _stderr.ToString());
    }

    [Fact]
    public async Task A500FromTheRuntimeApiEndsTheLoop()
    {
        _api.StatusFor = _ => 500;
        var loop = StartLoop();
        _api.Enqueue("req-1", "{}", DateTimeOffset.UtcNow.AddSeconds(60));

        Assert.Equal("runtime/invocation/req-1/response", (await _api.NextPostAsync()).Path);
        Assert.Equal(1, await loop.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Empty(_api.Posts); // no error post after a 500: the runtime just exits
    }

    [Fact]
    public async Task A500ToNextEndsTheLoopWithoutAnUnhandledException()
    {
        _api.NextStatus = 500;
        var loop = StartLoop();

        Assert.Equal(1, await loop.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("The Runtime API answered 500 to runtime/invocation/next", _stderr.ToString());
        Assert.Empty(_api.Posts);
    }

    [Fact]
    public async Task CancellingEndsAWaitForTheNextInvocation()
    {
        var loop = StartLoop();
        // The client blocks in a receive on its own thread: cancelling must close the socket under it.
        var waited = Stopwatch.StartNew();
        while (_api.NextRequests == 0 && waited.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(10);
        Assert.Equal(1, _api.NextRequests);

        _stop.Cancel();

        Assert.Equal(0, await loop.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ManyInvocationsInARowEachGetTheirOwnAnswer()
    {
        _ = StartLoop();
        for (var i = 0; i < 20; i++)
        {
            // Payloads from empty to past one read buffer (8 KiB), so both Kestrel's chunked framing and the reader's refills are used.
            var padding = new string(' ', i * 1000);
            _api.Enqueue($"req-{i}", "{" + padding + "}", DateTimeOffset.UtcNow.AddSeconds(60));
            Assert.Equal($"runtime/invocation/req-{i}/response", (await _api.NextPostAsync()).Path);
        }
        Assert.Equal(20, _handler.Calls.Count);
    }

    [Fact]
    public async Task TheTraceIdIsSetForTheTick()
    {
        _ = StartLoop();
        _api.Enqueue("req-1", "{}", DateTimeOffset.UtcNow.AddSeconds(60), "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
        await _api.NextPostAsync();
        Assert.Equal("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", Assert.Single(_handler.Calls).TraceId);
    }

    [Fact]
    public async Task ATickThatCouldNotListInstancesIsReportedAsAnError()
    {
        _handler.Behaviour = (_, _) => Task.FromResult(new TickOutcome("{}", Completed: false));
        _ = StartLoop();
        _api.Enqueue("req-1", "{}", DateTimeOffset.UtcNow.AddSeconds(60));
        var posted = await _api.NextPostAsync();
        Assert.Equal("runtime/invocation/req-1/error", posted.Path);
        Assert.Equal(LambdaHost.TickIncompleteError, posted.ErrorTypeHeader);
    }

    [Fact]
    public async Task TheDeadlineIsHonouredWhenATickHangs()
    {
        _ = StartLoop();
        // Warm up the loop, the HTTP client and its connection first: the timing below is the host's, not first-call costs.
        _api.Enqueue("warm-up", "{}", DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.EndsWith("/response", (await _api.NextPostAsync()).Path);
        _handler.Behaviour = async (_, token) => { await Task.Delay(Timeout.Infinite, token); return new TickOutcome("{}", true); };
        // Absolute, as Lambda sends it (whole milliseconds), and far enough ahead that a slow hand-out still leaves a hang.
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds());
        _api.Enqueue("req-1", "{}", deadline);

        var posted = await _api.NextPostAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("runtime/invocation/req-1/error", posted.Path);
        Assert.Equal(LambdaHost.DeadlineExceededError, posted.ErrorTypeHeader);
        // Measured where Lambda measures it (the Runtime API's receipt), against the deadline it sent: the hung tick was
        // cut off by the hard stop (not earlier) and the error arrived before Lambda's deadline.
        var hardStop = deadline - LambdaHost.HardStopMargin;
        Assert.True(posted.ReceivedAt >= hardStop - TimeSpan.FromMilliseconds(50), $"answered at {posted.ReceivedAt:O}, before the hard stop {hardStop:O}");
        Assert.True(posted.ReceivedAt < deadline, $"answered at {posted.ReceivedAt:O}, past Lambda's deadline {deadline:O}");
    }

    [Fact]
    public async Task TheRealBootstrapReportsABadConfigurationAsAnInitError()
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "bootstrap"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["AWS_LAMBDA_RUNTIME_API"] = _api.Address;
        start.Environment["AUTOSTOP_IDLE_MINUTES"] = "soon";
        start.Environment["AUTOSTOP_ACTION"] = "terminate";
        start.Environment["AWS_REGION"] = "us-east-1";
        using var process = Process.Start(start)!;

        var posted = await _api.NextPostAsync();
        Assert.Equal("runtime/init/error", posted.Path);
        Assert.Equal(LambdaHost.InvalidConfigurationError, posted.ErrorTypeHeader);
        var message = JsonDocument.Parse(posted.Body).RootElement.GetProperty("errorMessage").GetString()!;
        Assert.Contains("AUTOSTOP_IDLE_MINUTES='soon'", message); // every bad variable is named, with its value
        Assert.Contains("AUTOSTOP_ACTION='terminate'", message);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, process.ExitCode);
    }
}
