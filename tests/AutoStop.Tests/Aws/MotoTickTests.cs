using System.Diagnostics;
using System.Text.Json;
using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Reporting;
using AutoStop.TestSupport;
using AutoStop.Ticking;

namespace AutoStop.Tests.Aws;

/// <summary>
/// Whole ticks against moto: its SSM never runs the probe (DescribeInstanceInformation answers 500, commands have no
/// output), so every instance is unobserved, and an unobserved instance must never be stopped.
/// </summary>
[Collection(MotoCollection.Name)]
public class MotoTickTests(MotoServer moto)
{
    private readonly MotoFleet _fleet = new(moto);

    [Fact]
    public async Task EveryInstanceIsAProbeFailureAndNothingIsStopped()
    {
        var key = MotoFleet.UniqueTagKey();
        // Launched long ago as far as the policy knows: without the probe failure these would be stopped.
        var ids = await _fleet.LaunchAsync(3, (key, "true"), (key + ":IdleSince", "2020-01-01T00:00:00Z"));
        var config = AutoStopConfig.FromEnvironment(n => n switch { "AUTOSTOP_TAG_KEY" => key, "AUTOSTOP_PROBE_TIMEOUT_SECONDS" => "5", _ => null });
        var calls = new ApiCallLog();
        var ports = new AwsPorts(new Ec2InstanceInventory(_fleet.Ec2, calls), new SsmProbeRunner(_fleet.Ssm, calls, TimeProvider.System, key),
            new SsmSessionHistory(_fleet.Ssm, calls), new Ec2InstanceActions(_fleet.Ec2, calls), calls);
        var stdout = new StringWriter();
        var sink = new JsonLineSink(stdout);
        var runner = new TickRunner(config, ports, new DecisionLog(sink), new EmfMetrics(sink, config.MetricNamespace), TimeProvider.System);

        var outcome = await runner.RunTickAsync(new TickRequest(DateTimeOffset.UtcNow.AddDays(30), DateTimeOffset.UtcNow.AddSeconds(60)), CancellationToken.None);

        Assert.True(outcome.Completed);
        var decisions = Lines(stdout.ToString()).Where(l => l.GetProperty("event").GetString() == "decision").ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), decisions.Select(d => d.GetProperty("instanceId").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(decisions, d =>
        {
            Assert.Equal("skip", d.GetProperty("action").GetString());
            Assert.Equal("probe-failed", d.GetProperty("reason").GetString());
        });
        foreach (var id in ids) Assert.Equal("running", await _fleet.StateOfAsync(id));
        Assert.Equal(0, calls.Count("EC2:StopInstances"));
        Assert.Equal(1, calls.Count("EC2:DescribeInstances"));
    }

    [Fact]
    public async Task TheCliBinaryTicksAgainstTheStandardEndpointVariables()
    {
        var key = MotoFleet.UniqueTagKey();
        var ids = await _fleet.LaunchAsync(2, (key, "true"));
        var bootstrap = Path.Combine(AppContext.BaseDirectory, "bootstrap");
        var start = new ProcessStartInfo(bootstrap, ["tick", "--region", "us-east-1", "--deadline-seconds", "60"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["AWS_ENDPOINT_URL"] = moto.Url;
        start.Environment["AWS_ACCESS_KEY_ID"] = "test";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "test";
        start.Environment["AUTOSTOP_TAG_KEY"] = key;
        using var process = Process.Start(start)!;
        var stdoutTask = process.StandardOutput.ReadToEndAsync();
        var stderrTask = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, await stderrTask);
        var lines = Lines(await stdoutTask);
        var tick = lines.Single(l => l.GetProperty("event").GetString() == "tick");
        Assert.Equal(2, tick.GetProperty("instances").GetInt32());
        Assert.Equal(2, tick.GetProperty("probeFailures").GetInt32());
        Assert.Equal(0, tick.GetProperty("stopped").GetInt32());
        Assert.Equal(1, tick.GetProperty("apiCalls").GetProperty("EC2:DescribeInstances").GetInt32());
        Assert.Contains(lines, l => l.GetProperty("event").GetString() == "error"
            && l.GetProperty("operation").GetString() == "SSM:DescribeInstanceInformation");
        foreach (var id in ids) Assert.Equal("running", await _fleet.StateOfAsync(id));
    }

    private static List<JsonElement> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
}
