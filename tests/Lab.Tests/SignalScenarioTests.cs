namespace AutoStop.Lab.Tests;

/// <summary>
/// Issue 13 through the lab and the real function: each opt-in signal (inbound connections on ports, GPU utilization,
/// named processes) keeps an instance exactly while it is there and only when its tag asks for it; an unreadable
/// signal is never stopped on; a stop undone within 30 minutes is a quick restart, counted by the lab and by the function.
/// Threshold 15 min, 5-minute ticks from 08:00: an idle instance is due at 08:15.
/// </summary>
[Collection(LabCollection.Name)]
public class SignalScenarioTests
{
    private const string Scenario = """
        start: 2026-11-23T08:00:00Z
        tickMinutes: 5
        duration: 70m
        seed: 13
        config:
          AUTOSTOP_IDLE_MINUTES: "15"
        instances:
          # A Jupyter user in a browser (no shell), 08:00 to 08:40.
          - { name: jupyter, tags: { AutoStop: "true", "AutoStop:ActivePorts": "8888,8080,3389,8443" },
              inbound: [ { port: 8888, count: 2, from: "+0m", to: "+40m" } ] }
          - { name: jupyter-untagged, tags: { AutoStop: "true" }, inbound: [ { port: 8888, count: 2, from: "+0m", to: "+40m" } ] }
          # The same port reached only through an SSH tunnel / port forwarding: a loopback peer, never counted.
          - { name: tunnel-only, tags: { AutoStop: "true", "AutoStop:ActivePorts": "8888" }, inbound: [ { port: 8888, peer: loopback, from: "+0m", to: "+40m" } ] }
          # Training with nobody logged in: GPU at 90% until 08:40, then idle.
          - { name: training, tags: { AutoStop: "true", "AutoStop:BusyGpuPercent": "30" }, gpu: [ { percent: 90, from: "+0m", to: "+40m" } ] }
          - { name: light-gpu, tags: { AutoStop: "true", "AutoStop:BusyGpuPercent": "30" }, gpu: [ { percent: 10, from: "+0m", to: "+40m" } ] }
          # nvidia-smi hangs all run long: never stopped on a GPU it cannot read.
          - { name: gpu-hung, tags: { AutoStop: "true", "AutoStop:BusyGpuPercent": "30" }, gpu: [ { hang: true, from: "+0m", to: "+70m" } ] }
          # A build with nobody logged in, until 08:40.
          - { name: build, tags: { AutoStop: "true", "AutoStop:BusyProcesses": "make,cargo,docker-build,rsync" }, processes: [ { name: make, from: "+0m", to: "+40m" } ] }
          - { name: build-untagged, tags: { AutoStop: "true" }, processes: [ { name: make, from: "+0m", to: "+40m" } ] }
          # Stopped at 08:15, its person comes back at 08:22 (the instance starts for them): a quick restart.
          - { name: came-back, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: alice, from: "+22m", to: "+30m" } ] }
        """;

    private static LabScenario? _lab;
    private static readonly SemaphoreSlim Once = new(1, 1);

    /// <summary>One run for every test here (each run starts the real function).</summary>
    private static async Task<LabScenario> Lab()
    {
        await Once.WaitAsync();
        try { return _lab ??= await LabScenario.RunAsync(Scenario); }
        finally { Once.Release(); }
    }

    /// <summary>The instance's first stop, "HH:mm", or null.</summary>
    private static string? FirstStop(LabScenario lab, string name) =>
        lab.Story(name).FirstOrDefault(s => s.EndsWith("stop/idle-threshold-reached", StringComparison.Ordinal))?[..5];

    [Fact]
    public async Task ABrowserOnAnActivePortKeepsTheInstanceAndOnlyWithTheTag()
    {
        var lab = await Lab();
        Assert.All(lab.Story("jupyter").Where(s => s.CompareTo("08:40") < 0), s => Assert.EndsWith("keep/active-ports", s));
        Assert.Contains("2 inbound connections to ActivePorts: 8888 (2).", lab.Decisions("jupyter")[0]["message"]!.GetValue<string>());
        Assert.Equal("08:55", FirstStop(lab, "jupyter"));          // the browser left at 08:40: 15 minutes later
        Assert.Equal("08:15", FirstStop(lab, "jupyter-untagged"));  // the old behaviour: stopped under its user
        Assert.Equal("08:15", FirstStop(lab, "tunnel-only"));       // loopback peers are never people by themselves
    }

    [Fact]
    public async Task ABusyGpuKeepsItAndAnUnreadableOneIsNeverStoppedOn()
    {
        var lab = await Lab();
        Assert.All(lab.Story("training").Where(s => s.CompareTo("08:40") < 0), s => Assert.EndsWith("keep/busy-gpu", s));
        Assert.Equal("08:55", FirstStop(lab, "training"));
        Assert.Equal("08:15", FirstStop(lab, "light-gpu"));   // 10% is below 30%
        lab.NeverStopped("gpu-hung");
        Assert.All(lab.Story("gpu-hung"), s => Assert.EndsWith("skip/signal-unknown", s));
        Assert.Contains("nvidia-smi gave no answer within 2 s", lab.Decisions("gpu-hung")[0]["probeErrors"]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Fact]
    public async Task ANamedBuildProcessKeepsItWhileItRuns()
    {
        var lab = await Lab();
        Assert.All(lab.Story("build").Where(s => s.CompareTo("08:40") < 0), s => Assert.EndsWith("keep/busy-processes", s));
        Assert.Equal("08:55", FirstStop(lab, "build"));
        Assert.Equal("08:15", FirstStop(lab, "build-untagged"));
    }

    [Fact]
    public async Task AStopUndoneWithin30MinutesIsAQuickRestartInTheLogAndTheSummary()
    {
        var lab = await Lab();
        Assert.Equal("08:15", FirstStop(lab, "came-back"));
        var restart = Assert.Single(lab.Instance("came-back")["quickRestarts"]!.AsArray());
        Assert.InRange(restart!["minutesAfter"]!.GetValue<double>(), 6.5, 7.5);
        var logged = lab.Decisions("came-back").Single(d => d["restartedAfterSeconds"] is not null);
        Assert.True(logged["quickRestart"]!.GetValue<bool>());
        Assert.Contains("Started again 7 min after AutoStop stopped it (a quick restart", logged["message"]!.GetValue<string>());
        // The lab's own count (state timeline) and the function's count (tick lines) agree: one quick restart in the fleet.
        Assert.Equal(1, lab.Summary["fleet"]!["quickRestarts"]!.GetValue<int>());
        Assert.Equal(1, lab.Summary["fleet"]!["quickRestartsLogged"]!.GetValue<int>());
        // Every stop carried its StopReason tag while stopped (written right after the stop).
        Assert.DoesNotContain(lab.Lines("error"), e => e["message"]!.GetValue<string>().Contains("StopReason"));
    }
}
