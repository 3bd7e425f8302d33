namespace AutoStop.Lab.Tests;

/// <summary>
/// The idle clock starts when the last person left, never earlier, whatever the tick period; a stop acts on a fresh
/// look; maintenance is use. The lab's clock moves during a tick here as it does on AWS.
/// </summary>
[Collection(LabCollection.Name)]
public class SessionTruthScenarioTests
{
    private static string Header(int tickMinutes, string duration) => $"""
        start: 2026-11-23T08:00:00Z
        tickMinutes: {tickMinutes}
        duration: {duration}
        seed: 5
        """;

    private static DateTimeOffset FirstStop(LabScenario lab, string name) =>
        DateTimeOffset.Parse(lab.Decisions(name).First(d => d["action"]!.GetValue<string>() is "stop" or "hibernate")["time"]!.GetValue<string>());

    [Fact]
    public async Task ASessionManagerSessionWhollyBetweenTwoTicksIsSeenAndTheStopComesAThresholdAfterItEnded()
    {
        var lab = await LabScenario.RunAsync(Header(5, "1h") + """

            instances:
              - { name: ssm-blip, tags: { AutoStop: "true" }, sessions: [ { kind: ssm, user: dave, from: "+6m", to: "+9m" } ] }
            """);

        // 08:06-08:09 between the 08:05 and 08:10 ticks: no process for the probe; SSM's history has it. Due 08:24.
        Assert.True(FirstStop(lab, "ssm-blip") >= DateTimeOffset.Parse("2026-11-23T08:24:00Z"), string.Join(", ", lab.Story("ssm-blip")));
        Assert.Contains("08:25 stop/idle-threshold-reached", lab.Story("ssm-blip"));
        Assert.Contains("Session Manager session ended", lab.Decisions("ssm-blip").Single(d => d["time"]!.GetValue<string>() == "2026-11-23T08:20:00Z")["message"]!.GetValue<string>());
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task AnSshSessionWhollyBetweenTwoTicksCountsFromItsLogoutNotItsLogin()
    {
        var lab = await LabScenario.RunAsync(Header(5, "1h") + """

            instances:
              - { name: ssh-blip, tags: { AutoStop: "true", "AutoStop:IdleMinutes": "17" }, sessions: [ { kind: ssh, user: erin, from: "+6m", to: "+9m" } ] }
            """);

        // 08:06-08:09, wholly between the 08:05 and 08:10 ticks. Counting from the login (08:06 + 17 = 08:23) would stop it
        // at the 08:25 tick, 16 minutes after she left; counting from the logout (08:26) it waits for the 08:30 tick.
        Assert.Contains("08:25 keep/idle-below-threshold", lab.Story("ssh-blip"));
        Assert.Contains("08:30 stop/idle-threshold-reached", lab.Story("ssh-blip"));
        Assert.Contains("last logout", lab.Decisions("ssh-blip").Single(d => d["time"]!.GetValue<string>() == "2026-11-23T08:25:00Z")["message"]!.GetValue<string>());
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task WithHourlyTicksSomeoneWhoLeftJustBeforeATickIsNotStoppedAtIt()
    {
        var lab = await LabScenario.RunAsync(Header(60, "4h") + """

            instances:
              - { name: hourly-ssh, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: fred, from: "+1m", to: "+58m" } ] }
              - { name: hourly-ssm, tags: { AutoStop: "true" }, sessions: [ { kind: ssm, user: gail, from: "+10m", to: "+55m" } ] }
            """);

        // Left at 08:58 / 08:55: the 09:00 tick sees 2 / 5 idle minutes, and the stop waits for the 10:00 tick.
        Assert.Equal(["08:00 keep/idle-below-threshold", "09:00 keep/idle-below-threshold", "10:00 stop/idle-threshold-reached"], lab.Story("hourly-ssh").Take(3));
        Assert.Equal(["08:00 keep/idle-below-threshold", "09:00 keep/idle-below-threshold", "10:00 stop/idle-threshold-reached"], lab.Story("hourly-ssm").Take(3));
        Assert.Equal(120, lab.Decisions("hourly-ssh")[1]["idleSeconds"]!.GetValue<long>());
        Assert.Equal(300, lab.Decisions("hourly-ssm")[1]["idleSeconds"]!.GetValue<long>());
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task AFailedClearOfIdleSinceNeverShortensTheThreshold()
    {
        // IdleSince is written at 08:00; two people are on it from 08:20 to 10:02 and IAM refuses the DeleteTags that would
        // clear the stale IdleSince. The stop must wait a full 30 minutes after 10:02.
        var lab = await LabScenario.RunAsync(Header(5, "3h") + """

            instances:
              - name: no-delete
                iam: { deny: [ec2:DeleteTags] }
                tags: { AutoStop: "true", "AutoStop:IdleMinutes": "30" }
                sessions:
                  - { kind: ssm, user: hana, from: "+20m", to: "+2h2m" }
                  - { kind: ssm, user: ivan, from: "+21m", to: "+2h1m" }
            """);

        var stop = FirstStop(lab, "no-delete");
        Assert.True(stop >= DateTimeOffset.Parse("2026-11-23T10:32:00Z"), $"stopped at {stop:HH:mm}: {string.Join(", ", lab.Story("no-delete"))}");
        Assert.Contains("10:35 stop/idle-threshold-reached", lab.Story("no-delete"));
        Assert.Contains(lab.Lines("error"), e => e["operation"]!.GetValue<string>() == "EC2:DeleteTags" && e["errorCode"]!.GetValue<string>() == "UnauthorizedOperation");
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task APatchRunStartingBetweenTwoTicksIsNeverStoppedWhileItRuns()
    {
        var lab = await LabScenario.RunAsync(Header(5, "2h") + """

            instances:
              - { name: patched, tags: { AutoStop: "true" }, busy: [ { kind: patch, from: "+7m", to: "+40m" } ] }
              - { name: apt-box, tags: { AutoStop: "true" }, busy: [ { kind: apt, from: "+12m", to: "+22m" } ] }
            """);

        // Idle from 08:00 and due at 08:15, but Patch Manager began at 08:07: kept until it ends, then a full threshold.
        var story = lab.Story("patched");
        Assert.Equal(["08:10 keep/system-busy", "08:15 keep/system-busy", "08:20 keep/system-busy", "08:25 keep/system-busy",
            "08:30 keep/system-busy", "08:35 keep/system-busy", "08:40 keep/idle-below-threshold"], story.Skip(2).Take(7));
        Assert.True(FirstStop(lab, "patched") >= DateTimeOffset.Parse("2026-11-23T08:55:00Z"));
        Assert.Contains("ssm-document-worker", lab.Decisions("patched")[2]["message"]!.GetValue<string>());
        Assert.Contains("08:15 keep/system-busy", lab.Story("apt-box"));
        Assert.Equal(0, lab.Summary["fleet"]!["busyInterrupted"]!.GetValue<int>());
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task AHangingProbeInAFleetOf500HoldsNoStopBackAndSomeoneArrivingMidTickIsNotCutOff()
    {
        // The 08:15 tick: 501 idle instances are due; one more probe hangs past the 20-s probe timeout, so the tick lasts
        // over 20 s. The clock moves 5 virtual seconds per real one: the tick spans 08:15:00 to about 08:16:45. Jane reaches
        // `arrives` at 08:16:20, while the function still waits for the hung probe. Acting on answers as they come, its
        // stop went out around 08:15:03 and the machine was stopped by 08:16:03: she starts it again, nothing is cut off.
        // Waiting for every answer first would have stopped it at about 08:16:45, under her.
        var lab = await LabScenario.RunAsync(Header(5, "20m") + """

            clockScale: 5
            config: { AUTOSTOP_PROBE_TIMEOUT_SECONDS: "20" }
            instances:
              - { name: idle, count: 500, tags: { AutoStop: "true" } }
              - { name: hangs, tags: { AutoStop: "true" }, faults: [ { kind: probe-hang, from: "+15m", to: "+16m" } ] }
              - { name: arrives, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: jane, from: "2026-11-23T08:16:20Z", to: "+1h" } ] }
            """);

        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("arrives"));
        Assert.Contains(lab.Instance("arrives")["timeline"]!.AsArray(), c => c!["cause"]!.GetValue<string>() == "started by its user");
        Assert.Equal(500, Enumerable.Range(1, 500).Count(i => lab.Story($"idle-{i}").Contains("08:15 stop/idle-threshold-reached")));
        Assert.Contains("08:15 skip/probe-timed-out", lab.Story("hangs"));
        var maxAge = lab.Summary["fleet"]!["observationAgeSecondsMax"]!.GetValue<double>();
        Assert.True(maxAge <= 10, $"a stop acted on a look {maxAge} virtual s old");
        Assert.All(lab.Lines("decision").Where(d => d["action"]!.GetValue<string>() == "stop"),
            d => Assert.InRange(d["observationAgeMs"]!.GetValue<long>(), 0, 10_000));
        // The tick's wall time covered the hung probe's wait: the stops went out long before it ended.
        Assert.True(lab.Summary["ticks"]!["wallMsMax"]!.GetValue<double>() >= 15_000);
        Assert.True(lab.Summary["fleet"]!["sessionsInterrupted"]!.GetValue<int>() == 0,
            "interrupted: " + lab.Instance("arrives")["sessionsInterrupted"]!.ToJsonString());
    }
}
