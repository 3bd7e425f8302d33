using System.Collections.Concurrent;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.SimpleSystemsManagement;

namespace AutoStop.Aws;

/// <summary>
/// The tick's pace per operation. Calls of an operation go out as fast as the tick asks (a few at once) until AWS
/// throttles one right after a run of accepted calls (<see cref="RunBeforePause"/>): then that operation waits
/// <see cref="Pause"/> and goes one call at a time for the rest of the tick. Why: EC2 and SSM limit each operation's
/// rate per account and Region with token buckets refilled every second (EC2 API reference, "Request throttling"; SSM
/// does not publish its rates). A throttle after a run of accepted calls says this tick emptied the bucket: calls fired
/// side by side into it are refused again and again, and each refusal is a call (a tick's cost); a second's refill,
/// then one call at a time (about 1/latency per second), keeps it from emptying again. A throttle after only a few
/// accepted calls says others share the limit or the service is shedding load: slowing down would refill nothing and
/// only age the tick's looks, so the pace stays as it is and the SDK's backoff spaces that call's retries. Every attempt
/// passes here, the SDK's retries included (<see cref="ThrottleGateHandler"/> sits inside the SDK's retry handler). A
/// new tick starts unpaced (<see cref="Reset"/>): buckets refill between ticks.
/// </summary>
public sealed class ThrottleGate(TimeProvider clock)
{
    /// <summary>How long an operation waits after a throttle that emptied its bucket: one refill of a per-second bucket.</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromSeconds(1);

    /// <summary>Accepted calls in a row before a throttle that make it this tick's own emptying of the bucket.</summary>
    public const int RunBeforePause = 10;

    private sealed class Lane
    {
        public readonly SemaphoreSlim OneAtATime = new(1, 1);
        public volatile bool Throttled;
        public long ResumeAtTicks;
        public int Refusals;
        public int AcceptedInARow;
    }

    private ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>Waits for the operation's turn; dispose the result when the attempt is over.</summary>
    public async ValueTask<Turn> EnterAsync(string operation, CancellationToken cancellationToken)
    {
        var lane = _lanes.GetOrAdd(operation, _ => new Lane());
        if (!lane.Throttled) return default;
        await lane.OneAtATime.WaitAsync(cancellationToken);
        try
        {
            var wait = new DateTimeOffset(Interlocked.Read(ref lane.ResumeAtTicks), TimeSpan.Zero) - clock.GetUtcNow();
            if (wait > TimeSpan.Zero) await Task.Delay(wait, clock, cancellationToken);
        }
        catch
        {
            lane.OneAtATime.Release();
            throw;
        }
        return new Turn(lane.OneAtATime);
    }

    /// <summary>AWS accepted an attempt of the operation.</summary>
    public void Accepted(string operation) => Interlocked.Increment(ref _lanes.GetOrAdd(operation, _ => new Lane()).AcceptedInARow);

    /// <summary>AWS throttled an attempt of the operation. When the throttle ended a run of accepted calls, the operation
    /// pauses and from then on goes one call at a time; otherwise only the refusal is counted.</summary>
    public void Throttled(string operation)
    {
        var lane = _lanes.GetOrAdd(operation, _ => new Lane());
        Interlocked.Increment(ref lane.Refusals);
        if (Interlocked.Exchange(ref lane.AcceptedInARow, 0) < RunBeforePause) return;
        var resumeAt = (clock.GetUtcNow() + Pause).UtcTicks;
        long seen;
        do seen = Interlocked.Read(ref lane.ResumeAtTicks);
        while (seen < resumeAt && Interlocked.CompareExchange(ref lane.ResumeAtTicks, resumeAt, seen) != seen);
        lane.Throttled = true;
    }

    /// <summary>Attempts AWS throttled since the tick began, per operation (the SDK's retries included).</summary>
    public IReadOnlyDictionary<string, int> Refusals() =>
        _lanes.Where(l => l.Value.Refusals > 0).OrderBy(l => l.Key, StringComparer.Ordinal)
            .ToDictionary(l => l.Key, l => l.Value.Refusals, StringComparer.Ordinal);

    /// <summary>A new tick: every operation unpaced again.</summary>
    public void Reset() => _lanes = new(StringComparer.Ordinal);

    /// <summary>An attempt's hold on its operation's single file (none while the operation is unpaced).</summary>
    public readonly struct Turn(SemaphoreSlim? held) : IDisposable
    {
        public void Dispose() => held?.Release();
    }
}

/// <summary>
/// Puts every attempt of an SDK client's calls, retries included, through the <see cref="ThrottleGate"/>: placed right
/// inside the SDK's retry handler, so it sees each attempt's throttling error before the retry handler backs off.
/// </summary>
internal sealed class ThrottleGateHandler(ThrottleGate gate, string service) : PipelineHandler
{
    public override async Task<T> InvokeAsync<T>(IExecutionContext executionContext)
    {
        var operation = OperationName(executionContext.RequestContext.RequestName);
        using var turn = await gate.EnterAsync(operation, executionContext.RequestContext.CancellationToken);
        try
        {
            var response = await base.InvokeAsync<T>(executionContext);
            gate.Accepted(operation);
            return response;
        }
        catch (AmazonServiceException e) when (AwsErrors.IsThrottling(AwsErrors.ToFailure(operation, e)))
        {
            gate.Throttled(operation);
            throw;
        }
    }

    /// <summary>"SendCommandRequest" becomes "SSM:SendCommand", the name the tick's call log uses.</summary>
    internal string OperationName(string requestName) =>
        service + ":" + (requestName.EndsWith("Request", StringComparison.Ordinal) ? requestName[..^"Request".Length] : requestName);
}

/// <summary>The EC2 client with the <see cref="ThrottleGateHandler"/> in its pipeline. The SDK builds the pipeline inside
/// its constructor, before a subclass's fields are set, so the gate travels in the config.</summary>
internal sealed class GatedEc2Client : AmazonEC2Client
{
    public GatedEc2Client(GatedConfig config) : base(config) { }

    public GatedEc2Client(AWSCredentials credentials, GatedConfig config) : base(credentials, config) { }

    public sealed class GatedConfig(ThrottleGate gate) : AmazonEC2Config { public ThrottleGate Gate { get; } = gate; }

    protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
    {
        base.CustomizeRuntimePipeline(pipeline);
        pipeline.AddHandlerAfter<RetryHandler>(new ThrottleGateHandler(((GatedConfig)Config).Gate, "EC2"));
    }
}

/// <summary>The SSM client with the <see cref="ThrottleGateHandler"/> in its pipeline (the gate in the config, as for EC2).</summary>
internal sealed class GatedSsmClient : AmazonSimpleSystemsManagementClient
{
    public GatedSsmClient(GatedConfig config) : base(config) { }

    public GatedSsmClient(AWSCredentials credentials, GatedConfig config) : base(credentials, config) { }

    public sealed class GatedConfig(ThrottleGate gate) : AmazonSimpleSystemsManagementConfig { public ThrottleGate Gate { get; } = gate; }

    protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
    {
        base.CustomizeRuntimePipeline(pipeline);
        pipeline.AddHandlerAfter<RetryHandler>(new ThrottleGateHandler(((GatedConfig)Config).Gate, "SSM"));
    }
}
