namespace AutoStop.Lab.Tests;

/// <summary>
/// A person who works only in a browser on Jupyter (a kind: port session on 8888: established connections from a remote
/// peer, no SSH or Session Manager session) through the lab and the real function. Threshold 15 min, 5-minute ticks
/// from 08:00 (the clock frozen in a tick); the browser is connected 08:00-08:25 and again from 08:45 (the lab starts a
/// stopped instance for them).
/// </summary>
[Collection(LabCollection.Name)]
public class PortSessionScenarioTests
{
    private const string Scenario = """
        start: 2026-11-23T08:00:00Z
        tickMinutes: 5
        duration: 70m
        seed: 13
        clockScale: 0
        config:
          AUTOSTOP_IDLE_MINUTES: "15"
        instances:
          - name: notebook
            tags: { AutoStop: "true", "AutoStop:ActivePorts": "8888" }
            sessions:
              - { kind: port, user: ana, port: 8888, count: 2, from: "+0m", to: "+25m" }
              - { kind: port, user: ana, port: 8888, count: 2, from: "+45m", to: "+70m" }
          # Back at 08:41, the very moment the 08:40 stop completes (it takes 60 s): she starts it, nothing is cut.
          - name: notebook-punctual
            tags: { AutoStop: "true", "AutoStop:ActivePorts": "8888" }
            sessions:
              - { kind: port, user: cai, port: 8888, from: "+0m", to: "+25m" }
              - { kind: port, user: cai, port: 8888, from: "+41m", to: "+70m" }
          - name: notebook-untagged
            tags: { AutoStop: "true" }
            sessions:
              - { kind: port, user: ben, port: 8888, from: "+0m", to: "+25m" }
              - { kind: port, user: ben, port: 8888, from: "+45m", to: "+70m" }
        """;

    [Fact]
    public async Task ABrowserSessionIsKeptWithActivePortsStoppedUnderItsUserWithoutAndStartsTheInstanceWhenItArrives()
    {
        var lab = await LabScenario.RunAsync(Scenario);

        // With ActivePorts=8888: kept while ana is connected, stopped a threshold after she left (08:25 + 15), started
        // again when she came back at 08:45: no session cut, one quick restart (5 min after the stop).
        Assert.All(lab.Story("notebook").Where(s => s.CompareTo("08:25") < 0), s => Assert.EndsWith("keep/active-ports", s));
        Assert.Contains("08:40 stop/idle-threshold-reached", lab.Story("notebook"));
        Assert.Empty(lab.Instance("notebook")["sessionsInterrupted"]!.AsArray());
        Assert.Contains(lab.Instance("notebook")["timeline"]!.AsArray(),
            c => c!["state"]!.GetValue<string>() == "running" && c["cause"]!.GetValue<string>() == "started by its user" && c["time"]!.GetValue<string>() == "2026-11-23T08:45:00Z");
        var restart = Assert.Single(lab.Instance("notebook")["quickRestarts"]!.AsArray());
        Assert.Equal(5, restart!["minutesAfter"]!.GetValue<double>());
        Assert.Contains(lab.Story("notebook"), s => s.StartsWith("08:50 keep/", StringComparison.Ordinal));

        Assert.Contains("08:40 stop/idle-threshold-reached", lab.Story("notebook-punctual"));
        Assert.Contains(lab.Instance("notebook-punctual")["timeline"]!.AsArray(),
            c => c!["state"]!.GetValue<string>() == "running" && c["cause"]!.GetValue<string>() == "started by its user" && c["time"]!.GetValue<string>() == "2026-11-23T08:41:00Z");
        Assert.Empty(lab.Instance("notebook-punctual")["sessionsInterrupted"]!.AsArray());
        Assert.Equal(1, Assert.Single(lab.Instance("notebook-punctual")["quickRestarts"]!.AsArray())!["minutesAfter"]!.GetValue<double>());
        Assert.Contains("08:45 keep/active-ports", lab.Story("notebook-punctual"));

        // Without the tag the browser is nobody: stopped at 08:15 under ben, and again under him after he started it at
        // 08:45; the summary counts both sessions as cut.
        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("notebook-untagged"));
        var cut = lab.Instance("notebook-untagged")["sessionsInterrupted"]!.AsArray();
        Assert.Equal(2, cut.Count);
        Assert.All(cut, c => Assert.Equal(("port", "ben"), (c!["kind"]!.GetValue<string>(), c["user"]!.GetValue<string>())));
        Assert.Equal("2026-11-23T08:15:00Z", cut[0]!["stoppedAt"]!.GetValue<string>());
    }
}
