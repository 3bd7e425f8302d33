using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace AutoStop.Lab.Tests;

/// <summary>The lab's command line: `run` through the entry point the CLI uses, `serve` as a process of its own.</summary>
[Collection(LabCollection.Name)]
public sealed class LabCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lab-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private const string Scenario = """
        name: cli
        start: 2026-11-23T08:00:00Z
        duration: 30m
        instances:
          - { name: worked-on, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: alice, from: "+0m", to: "+2h" } ] }
          - { name: idle, tags: { AutoStop: "true" } }
        """;

    [Fact]
    public async Task RunWritesTheLogTheMetricsAndTheSummary()
    {
        var (code, _, stderr) = await Lab("run", "--scenario", ScenarioFile(Scenario), "--out", Out, "--no-build", "--quiet");
        Assert.True(code == 0, stderr);

        var log = File.ReadAllLines(Path.Combine(Out, "log.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(6, log.Count(l => l["event"]?.GetValue<string>() == "tick"));
        Assert.Equal(6 + 4, log.Count(l => l["event"]?.GetValue<string>() == "decision")); // idle is not decided once stopped

        var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "metrics.json")))!.AsArray();
        Assert.NotEmpty(metrics);
        Assert.All(metrics, m => Assert.All(new[] { "time", "namespace", "dimensions", "values" }, f => Assert.NotNull(m![f])));

        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "summary.json")))!.AsObject();
        foreach (var field in new[] { "fleet", "function", "ticks", "apiCalls", "apiCallsByFunction", "throttledCalls", "injectedErrors", "logBytes" })
            Assert.True(summary.ContainsKey(field), field);
        foreach (var field in new[] { "coldStartMs", "firstTickMs", "peakRssKb" }) Assert.NotNull(summary["function"]![field]);
        Assert.False(summary["function"]!["crashed"]!.GetValue<bool>());
        Assert.Equal(0, summary["function"]!["invocationErrors"]!.GetValue<int>());
        Assert.Equal(6, summary["ticks"]!["count"]!.GetValue<int>());
        Assert.Equal(0, summary["fleet"]!["sessionsInterrupted"]!.GetValue<int>());
        var instances = summary["instances"]!.AsArray().Select(i => i!.AsObject()).ToList();
        foreach (var field in new[] { "instanceId", "name", "optedIn", "finalState", "timeline", "stops", "sessionsInterrupted", "idleMinutesNotSaved", "runningMinutes", "probeFailures", "decisions" })
            Assert.All(instances, i => Assert.True(i.ContainsKey(field), field));
        var idle = instances.Single(i => i["name"]!.GetValue<string>() == "idle");
        Assert.Equal("2026-11-23T08:15:00Z", Assert.Single(idle["stops"]!.AsArray())!.GetValue<string>());
        Assert.Empty(instances.Single(i => i["name"]!.GetValue<string>() == "worked-on")["stops"]!.AsArray());
    }

    [Fact]
    public async Task RunExitsOneWhenTheFunctionCannotStart()
    {
        var broken = Scenario.Replace("duration: 30m", "duration: 30m\nconfig: { AUTOSTOP_IDLE_MINUTES: soon }", StringComparison.Ordinal);
        var (code, _, stderr) = await Lab("run", "--scenario", ScenarioFile(broken), "--out", Out, "--no-build", "--quiet");
        Assert.Equal(LabCommands.ExitFunctionCrashed, code);
        Assert.Contains("init error", stderr);
        Assert.Contains("AUTOSTOP_IDLE_MINUTES", stderr);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "summary.json")))!;
        Assert.True(summary["function"]!["crashed"]!.GetValue<bool>());
        Assert.Equal(0, summary["ticks"]!["count"]!.GetValue<int>());
        Assert.Equal(0, summary["fleet"]!["stops"]!.GetValue<int>());
    }

    [Fact]
    public async Task ServeAnswersTheAwsCliOnTheGivenPort()
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "lab.dll"), "serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--scenario", ScenarioFile(Scenario)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = LabPaths.Root,
        };
        using var serve = new Process { StartInfo = start };
        var serving = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        serve.OutputDataReceived += (_, e) => { if (e.Data is { } l) { output.Enqueue(l); if (l.StartsWith("lab: serving", StringComparison.Ordinal)) serving.TrySetResult(l); } };
        serve.ErrorDataReceived += (_, e) => { if (e.Data is { } l) output.Enqueue(l); };
        serve.Start();
        serve.BeginOutputReadLine();
        serve.BeginErrorReadLine();
        try
        {
            // Ready once it says where it serves; bounded.
            var first = await Task.WhenAny(serving.Task, serve.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(first == serving.Task, "serve did not start serving: " + string.Join('\n', output));
            Assert.Contains($"http://127.0.0.1:{port}", await serving.Task);

            var (code, stdout, stderr) = await ChildProcess.AwsAsync($"http://127.0.0.1:{port}", "ec2", "describe-instances", "--filters", "Name=tag:AutoStop,Values=true");
            Assert.True(code == 0, stderr);
            var instances = JsonNode.Parse(stdout)!["Reservations"]!.AsArray().SelectMany(r => r!["Instances"]!.AsArray()).ToList();
            Assert.Equal(2, instances.Count);
            Assert.All(instances, i => Assert.Equal("running", i!["State"]!["Name"]!.GetValue<string>()));
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
            await serve.WaitForExitAsync();
        }
    }

    private string Out => Path.Combine(_directory, "out");

    private string ScenarioFile(string yaml)
    {
        var path = Path.Combine(_directory, $"scenario-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> Lab(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await LabCommands.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
