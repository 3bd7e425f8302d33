using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Reporting;
using AutoStop.Ticking;

namespace AutoStop.Hosting;

/// <summary>Wires the real AWS adapters to a tick runner that prints to <paramref name="stdout"/>. The only place that does.</summary>
public static class Composition
{
    public static ITickHandler CreateTickHandler(AutoStopConfig config, string? region, TextWriter stdout)
    {
        var calls = new ApiCallLog();
        var ec2 = AwsClientFactory.CreateEc2(region);
        var ssm = AwsClientFactory.CreateSsm(region);
        var ports = new AwsPorts(
            new Ec2InstanceInventory(ec2, calls),
            new SsmProbeRunner(ssm, calls, TimeProvider.System, config.TagKey),
            new SsmSessionHistory(ssm, calls),
            new Ec2InstanceActions(ec2, calls),
            calls);
        var sink = new JsonLineSink(stdout);
        return new TickRunner(config, ports, new DecisionLog(sink), new EmfMetrics(sink, config.MetricNamespace), TimeProvider.System);
    }
}
