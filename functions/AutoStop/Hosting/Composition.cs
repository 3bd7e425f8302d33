using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Reporting;
using AutoStop.Ticking;

namespace AutoStop.Hosting;

/// <summary>Wires the real AWS adapters to a tick runner that prints to <paramref name="stdout"/>. The only place that does.</summary>
public static class Composition
{
    /// <summary>The AWS SDK clients are built on the first tick, not at start: a Lambda cold start then reaches the
    /// Runtime API's first request sooner (the SDK's set-up is most of what start-up did), and the first tick pays it once.
    /// The configuration is still read and checked at start, so a bad one is still an init error.
    /// <paramref name="stdout"/> is asked for then too: in Lambda, opening Console.Out is start-up work as well.</summary>
    public static ITickHandler CreateTickHandler(AutoStopConfig config, string? region, Func<TextWriter> stdout) =>
        new DeferredTickHandler(() => Build(config, region, stdout()));

    private static TickRunner Build(AutoStopConfig config, string? region, TextWriter stdout)
    {
        var calls = new ApiCallLog();
        var ec2 = AwsClientFactory.CreateEc2(region, pace: calls.Pace);
        var ssm = AwsClientFactory.CreateSsm(region, pace: calls.Pace);
        var ports = new AwsPorts(
            new Ec2InstanceInventory(ec2, calls),
            new SsmProbeRunner(ssm, calls, TimeProvider.System, config.TagKey),
            new SsmSessionHistory(ssm, calls),
            new Ec2InstanceActions(ec2, calls),
            calls,
            new SsmStopNotices(ssm, calls));
        var sink = new JsonLineSink(stdout);
        return new TickRunner(config, ports, new DecisionLog(sink), new EmfMetrics(sink, config.MetricNamespace), TimeProvider.System);
    }

    /// <summary>Builds the real handler on the first tick, once; a process serves one tick at a time.</summary>
    private sealed class DeferredTickHandler(Func<ITickHandler> build) : ITickHandler
    {
        private readonly Lazy<ITickHandler> _handler = new(build, LazyThreadSafetyMode.ExecutionAndPublication);

        public Task<TickOutcome> RunTickAsync(TickRequest request, CancellationToken cancellationToken) =>
            _handler.Value.RunTickAsync(request, cancellationToken);
    }
}
