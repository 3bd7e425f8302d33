using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement.Model;
using AutoStop.Aws;
using AutoStop.TestSupport;
using Xunit;

namespace AutoStop.Tests.Aws;

/// <summary>
/// The throttle gate inside a real SDK client's pipeline, against a loopback server that speaks SSM's JSON protocol and
/// throttles as AWS does (HTTP 400, ThrottlingException): calls run side by side until one is throttled; then the
/// operation waits a second and goes one call at a time, the SDK's own retry included; a new tick starts unpaced.
/// </summary>
public sealed class ThrottleGateTests
{
    [Fact]
    public async Task AfterAThrottleTheOperationPausesThenGoesOneCallAtATime()
    {
        await using var server = await ThrottlingSsmServer.StartAsync(throttleFirst: 0, holdMs: 150);
        var gate = new ThrottleGate(TimeProvider.System);
        using var ssm = server.Client(gate);

        // Unpaced: a run of accepted calls overlaps at the server.
        await Task.WhenAll(Enumerable.Range(0, ThrottleGate.RunBeforePause).Select(_ => DescribeAsync(ssm)));
        Assert.True(server.MaxInFlight > 1, $"calls ran one at a time ({server.MaxInFlight}) before any throttle");
        Assert.Empty(gate.Refusals());

        // A throttled attempt after that run (this caller emptied the bucket): the SDK retries it, through the gate, a pause later.
        server.Reset(throttleFirst: 1);
        await DescribeAsync(ssm);
        var arrivals = server.Arrivals;
        Assert.Equal(2, arrivals.Count);
        var gap = arrivals[1] - server.ThrottledAnswerAt!.Value;
        Assert.True(gap >= ThrottleGate.Pause - TimeSpan.FromMilliseconds(50), $"the retry came {gap.TotalMilliseconds:F0} ms after the throttle");
        Assert.Equal(new Dictionary<string, int> { ["SSM:DescribeInstanceInformation"] = 1 }, gate.Refusals());

        // From now on in this tick: one at a time.
        server.Reset(throttleFirst: 0);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => DescribeAsync(ssm)));
        Assert.Equal(1, server.MaxInFlight);
        Assert.Equal(6, server.Arrivals.Count);

        // A new tick: side by side again.
        gate.Reset();
        server.Reset(throttleFirst: 0);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => DescribeAsync(ssm)));
        Assert.True(server.MaxInFlight > 1);
        Assert.Empty(gate.Refusals());
    }

    [Fact]
    public async Task AThrottleAfterFewAcceptedCallsLeavesThePaceAsItIs()
    {
        // Refused before this tick could have emptied any bucket (others share the limit, or a storm): slowing down
        // would refill nothing and only age the tick's looks. The SDK retries; calls still go side by side.
        await using var server = await ThrottlingSsmServer.StartAsync(throttleFirst: 1, holdMs: 150);
        var gate = new ThrottleGate(TimeProvider.System);
        using var ssm = server.Client(gate);
        await DescribeAsync(ssm);
        Assert.Equal(2, server.Arrivals.Count);
        Assert.Equal(new Dictionary<string, int> { ["SSM:DescribeInstanceInformation"] = 1 }, gate.Refusals());

        server.Reset(throttleFirst: 0);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => DescribeAsync(ssm)));
        Assert.True(server.MaxInFlight > 1, "a throttle after one accepted call put the operation in single file");
    }

    [Fact]
    public async Task OnlyTheThrottledOperationIsPaced()
    {
        await using var server = await ThrottlingSsmServer.StartAsync(throttleFirst: 0, holdMs: 150);
        var gate = new ThrottleGate(TimeProvider.System);
        using var ssm = server.Client(gate);
        await DescribeAsync(ssm); // the client's first call sets it up (not what is measured)
        for (var i = 0; i < ThrottleGate.RunBeforePause; i++) gate.Accepted("SSM:SendCommand");
        gate.Throttled("SSM:SendCommand");
        Assert.False(gate.EnterAsync("SSM:SendCommand", CancellationToken.None).IsCompleted, "SendCommand was not paced");
        server.Reset(throttleFirst: 0);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => DescribeAsync(ssm)));
        Assert.True(server.MaxInFlight > 1, "DescribeInstanceInformation went single file because SendCommand was throttled");
        Assert.Equal(["SSM:SendCommand"], gate.Refusals().Keys);
    }

    [Fact]
    public async Task OnlyAThrottleThatEndsARunOfAcceptedCallsPauses()
    {
        var gate = new ThrottleGate(TimeProvider.System);
        for (var i = 0; i < ThrottleGate.RunBeforePause - 1; i++) gate.Accepted("EC2:CreateTags");
        gate.Throttled("EC2:CreateTags");
        var first = gate.EnterAsync("EC2:CreateTags", CancellationToken.None);
        var second = gate.EnterAsync("EC2:CreateTags", CancellationToken.None);
        Assert.True(first.IsCompleted && second.IsCompleted, "a throttle after a few accepted calls changed the pace");
        (await first).Dispose();
        (await second).Dispose();

        for (var i = 0; i < ThrottleGate.RunBeforePause; i++) gate.Accepted("EC2:StopInstances");
        gate.Throttled("EC2:StopInstances");
        var paused = gate.EnterAsync("EC2:StopInstances", CancellationToken.None);
        Assert.False(paused.IsCompleted, "a throttle after a run of accepted calls did not pause the operation");
        var behind = gate.EnterAsync("EC2:StopInstances", CancellationToken.None);
        var turn = await paused;
        Assert.False(behind.IsCompleted, "a second call went out beside the first after the pause");
        turn.Dispose();
        (await behind).Dispose();
        Assert.Equal(new Dictionary<string, int> { ["EC2:CreateTags"] = 1, ["EC2:StopInstances"] = 1 }, gate.Refusals());
    }

    [Theory]
    [InlineData("EC2", "StopInstancesRequest", "EC2:StopInstances")]
    [InlineData("SSM", "SendCommandRequest", "SSM:SendCommand")]
    [InlineData("SSM", "Odd", "SSM:Odd")]
    public void OperationsAreNamedAsTheCallLogNamesThem(string service, string requestName, string expected) =>
        Assert.Equal(expected, new ThrottleGateHandler(new ThrottleGate(TimeProvider.System), service).OperationName(requestName));

    private static Task DescribeAsync(Amazon.SimpleSystemsManagement.IAmazonSimpleSystemsManagement ssm) =>
        ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest { MaxResults = 50 });

    /// <summary>SSM's JSON protocol on 127.0.0.1: answers every call with an empty listing after holding it, and the
    /// first N with ThrottlingException (400), as SSM does when an operation's rate is exceeded.</summary>
    private sealed class ThrottlingSsmServer : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly object _gate = new();
        private readonly List<DateTimeOffset> _arrivals = [];
        private readonly int _holdMs;
        private int _throttleLeft, _inFlight;
        private Task? _loop;

        private ThrottlingSsmServer(int holdMs) => _holdMs = holdMs;

        public string Url { get; private set; } = "";
        public int MaxInFlight { get; private set; }
        public DateTimeOffset? ThrottledAnswerAt { get; private set; }
        public IReadOnlyList<DateTimeOffset> Arrivals { get { lock (_gate) return [.. _arrivals]; } }

        public static Task<ThrottlingSsmServer> StartAsync(int throttleFirst, int holdMs)
        {
            var server = new ThrottlingSsmServer(holdMs);
            server.Url = $"http://127.0.0.1:{FreePort.Next()}/";
            server._listener.Prefixes.Add(server.Url);
            server._listener.Start();
            server.Reset(throttleFirst);
            server._loop = Task.Run(server.AcceptAsync);
            return Task.FromResult(server);
        }

        public void Reset(int throttleFirst)
        {
            lock (_gate) { _arrivals.Clear(); _throttleLeft = throttleFirst; MaxInFlight = 0; ThrottledAnswerAt = null; }
        }

        public GatedSsmClient Client(ThrottleGate gate) => new(new BasicAWSCredentials("test", "test"),
            new GatedSsmClient.GatedConfig(gate) { ServiceURL = Url, AuthenticationRegion = "us-east-1", MaxErrorRetry = 3, RetryMode = RequestRetryMode.Standard });

        private async Task AcceptAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(() => AnswerAsync(context));
            }
        }

        private async Task AnswerAsync(HttpListenerContext context)
        {
            bool throttle;
            lock (_gate)
            {
                _arrivals.Add(DateTimeOffset.UtcNow);
                MaxInFlight = Math.Max(MaxInFlight, ++_inFlight);
                throttle = _throttleLeft > 0;
                if (throttle) _throttleLeft--;
            }
            await Task.Delay(_holdMs);
            var body = throttle ? """{"__type":"ThrottlingException","message":"Rate exceeded"}""" : """{"InstanceInformationList":[]}""";
            context.Response.StatusCode = throttle ? 400 : 200;
            context.Response.ContentType = "application/x-amz-json-1.1";
            var bytes = Encoding.UTF8.GetBytes(body);
            lock (_gate)
            {
                _inFlight--;
                if (throttle) ThrottledAnswerAt = DateTimeOffset.UtcNow;
            }
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            if (_loop is not null) await _loop;
        }
    }
}
