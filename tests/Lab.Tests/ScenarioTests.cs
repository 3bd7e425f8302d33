namespace AutoStop.Lab.Tests;

/// <summary>The real function, run tick after tick in the lab, for the situations a fleet meets.</summary>
[Collection(LabCollection.Name)]
public class ScenarioTests
{
    private const string Header = """
        start: 2026-11-23T08:00:00Z
        tickMinutes: 5
        seed: 3
        """;

    [Fact]
    public async Task PeopleComingAndGoingAreNeverCutOffAndIdleMachinesStop()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 3h
            instances:
              - name: dev
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: ssh, user: alice, from: "+0m", to: "+1h" }
                  - { kind: ssh, user: bob, from: "+30m", to: "+1h20m" }
                  - { kind: ssh, user: alice, from: "+2h", to: "+2h30m" }
            """);

        lab.NoSessionInterrupted();
        var story = lab.Story("dev");
        Assert.Contains("08:00 keep/active-sessions", story);
        Assert.Contains("09:15 keep/active-sessions", story);      // bob still there after alice left
        Assert.Contains("09:20 keep/idle-below-threshold", story);  // bob left at 09:20: the first idle tick
        Assert.Contains("09:35 stop/idle-threshold-reached", story); // 15 min later
        Assert.Equal(2, lab.Stops("dev"));                           // again after alice's afternoon visit
        Assert.Equal("stopped", lab.Instance("dev")["finalState"]!.GetValue<string>());
    }

    [Fact]
    public async Task AConnectionThatCameAndWentBetweenTicksRestartsTheIdleClock()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 1h
            instances:
              - name: scp-target
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: ssh, user: ci, tty: false, from: "+11m", to: "+12m" }
            """);

        var story = lab.Story("scp-target");
        // Idle from 08:00 would stop at 08:15; the 08:11 login between ticks moves that to 08:26 -> the 08:30 tick.
        Assert.Contains("08:15 keep/idle-below-threshold", story);
        Assert.Contains("08:30 stop/idle-threshold-reached", story);
        Assert.Contains("last login", lab.Decisions("scp-target").Single(d => d["time"]!.GetValue<string>().EndsWith("08:15:00Z")) ["message"]!.GetValue<string>());
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task ARootLoginIsASession()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 1h
            instances:
              - name: admin-box
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: ssh, user: root, from: "+0m", to: "+50m" }
            """);

        Assert.All(lab.Decisions("admin-box").Take(10), d => Assert.Equal("active-sessions", d["reason"]!.GetValue<string>()));
        Assert.Contains("root", lab.Decisions("admin-box")[0]["users"]!.AsArray().Select(u => u!.GetValue<string>()));
        Assert.Equal(0, lab.Stops("admin-box"));
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task SessionManagerOnlyUseKeepsTheInstance()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 2h
            instances:
              - name: ssm-only
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: ssm, user: dave, from: "+0m", to: "+1h" }
            """);

        var first = lab.Decisions("ssm-only")[0];
        Assert.Equal("keep", first["action"]!.GetValue<string>());
        Assert.Equal(1, first["sessions"]!["ssm"]!.GetValue<int>());
        Assert.Contains("09:15 stop/idle-threshold-reached", lab.Story("ssm-only"));
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task AnUnmanagedInstanceIsNeverStopped()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 1h
            instances:
              - { name: no-agent, tags: { AutoStop: "true" }, managed: false }
              - { name: lost-agent, tags: { AutoStop: "true" }, ping: ConnectionLost }
              - { name: windows, tags: { AutoStop: "true" }, platform: Windows }
              - { name: idle, tags: { AutoStop: "true" } }
            """);

        Assert.All(lab.Story("no-agent"), s => Assert.EndsWith("skip/not-ssm-managed", s));
        Assert.All(lab.Story("lost-agent"), s => Assert.EndsWith("skip/not-ssm-managed", s));
        Assert.All(lab.Story("windows"), s => Assert.EndsWith("skip/unsupported-platform", s));
        Assert.Equal(0, lab.Stops("no-agent") + lab.Stops("lost-agent") + lab.Stops("windows"));
        Assert.Equal(1, lab.Stops("idle")); // the others in the same batch are still decided
        // Unmanaged instances get no command: SendCommand would refuse the whole batch for them.
        var unmanaged = lab.Run.Fleet.Instances.Where(i => i.Spec.Name != "idle").Select(i => i.Id).ToHashSet();
        Assert.DoesNotContain(lab.Run.Fleet.Commands.All().SelectMany(c => c.Invocations), v => unmanaged.Contains(v.InstanceId));
    }

    [Fact]
    public async Task ProbeTimeoutsFailuresAndGarbageAreNeverStopped()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 1h
            config: { AUTOSTOP_PROBE_TIMEOUT_SECONDS: "5" }
            instances:
              - { name: times-out, tags: { AutoStop: "true" }, faults: [ { kind: probe-timeout } ] }
              - { name: never-delivered, tags: { AutoStop: "true" }, faults: [ { kind: delivery-timeout } ] }
              - { name: undeliverable, tags: { AutoStop: "true" }, faults: [ { kind: undeliverable } ] }
              - { name: fails, tags: { AutoStop: "true" }, faults: [ { kind: probe-failed } ] }
              - { name: garbage, tags: { AutoStop: "true" }, faults: [ { kind: garbage } ] }
              - { name: truncated, tags: { AutoStop: "true" }, faults: [ { kind: truncated } ] }
              - { name: agent-gone, tags: { AutoStop: "true" }, faults: [ { kind: agent-missing, from: "+20m" } ] }
              - { name: hangs-once, tags: { AutoStop: "true" }, faults: [ { kind: probe-hang, from: "+15m", to: "+20m" } ] }
            """);

        Assert.All(lab.Story("times-out"), s => Assert.EndsWith("skip/probe-timed-out", s));
        Assert.All(lab.Story("never-delivered"), s => Assert.EndsWith("skip/probe-timed-out", s));
        Assert.All(lab.Story("undeliverable"), s => Assert.EndsWith("skip/probe-undeliverable", s));
        Assert.All(lab.Story("fails"), s => Assert.EndsWith("skip/probe-failed", s));
        Assert.All(lab.Story("garbage"), s => Assert.EndsWith("skip/probe-invalid-output", s));
        Assert.All(lab.Story("truncated"), s => Assert.EndsWith("skip/probe-invalid-output", s));
        foreach (var name in new[] { "times-out", "never-delivered", "undeliverable", "fails", "garbage", "truncated" }) Assert.Equal(0, lab.Stops(name));
        // Idle since 08:00: due at 08:15, but its probe hung at 08:15 (timed out, kept) and it stopped at 08:20.
        Assert.Contains("08:15 skip/probe-timed-out", lab.Story("hangs-once"));
        Assert.Contains("08:20 stop/idle-threshold-reached", lab.Story("hangs-once"));
        // The agent vanished after it had been seen idle: due at 08:15, stopped then, before the fault began.
        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("agent-gone"));
    }

    [Fact]
    public async Task AStopThatFailsForOneInstanceDoesNotKeepTheOthersRunning()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 30m
            instances:
              - { name: protected, tags: { AutoStop: "true" }, faults: [ { kind: stop-error, code: OperationNotPermitted } ] }
              - { name: idle-a, tags: { AutoStop: "true" } }
              - { name: idle-b, tags: { AutoStop: "true" } }
            """);

        Assert.Contains("08:15 skip/stop-failed", lab.Story("protected"));
        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("idle-a"));
        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("idle-b"));
        Assert.Equal(0, lab.Stops("protected"));
        var error = lab.Lines("error").First(e => e["errorCode"]?.GetValue<string>() == "OperationNotPermitted");
        Assert.Equal("EC2:StopInstances", error["operation"]!.GetValue<string>());
        Assert.Equal(lab.Instance("protected")["instanceId"]!.GetValue<string>(), error["instanceId"]!.GetValue<string>());
    }

    [Fact]
    public async Task HibernateWhereSupportedAndStopPlainlyWhereNot()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 30m
            config: { AUTOSTOP_ACTION: hibernate }
            instances:
              - { name: can-hibernate, tags: { AutoStop: "true" }, hibernation: true }
              - { name: cannot-hibernate, tags: { AutoStop: "true" }, hibernation: false }
              - { name: per-tag-stop, tags: { AutoStop: "true", "AutoStop:Action": stop }, hibernation: true }
            """);

        Assert.Contains("08:15 hibernate/idle-threshold-reached", lab.Story("can-hibernate"));
        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("per-tag-stop"));
        var fallback = lab.Decisions("cannot-hibernate").Single(d => d["time"]!.GetValue<string>().EndsWith("08:15:00Z"));
        Assert.Equal("idle-threshold-reached", fallback["reason"]!.GetValue<string>());
        Assert.Contains("hibernat", fallback["message"]!.GetValue<string>());
        Assert.Contains("hibernat", fallback["fallback"]!.GetValue<string>());
        Assert.Equal("stopped", lab.Instance("cannot-hibernate")["finalState"]!.GetValue<string>());
        Assert.True(lab.Run.Fleet.Instances.Single(i => i.Spec.Name == "can-hibernate").LastStopHibernated);
        Assert.False(lab.Run.Fleet.Instances.Single(i => i.Spec.Name == "cannot-hibernate").LastStopHibernated);
    }

    [Fact]
    public async Task SnoozeAndKeepAliveKeepAnIdleInstance()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 2h
            instances:
              - { name: snoozed, tags: { AutoStop: "true", "AutoStop:SnoozeUntil": "2026-11-23T09:00:00Z" } }
              - name: batch
                tags: { AutoStop: "true" }
                keepAlive: [ { from: "+0m", until: "+1h" } ]
                load: [ { from: "+0m", to: "+1h", value: 4 } ]
            """);

        Assert.Contains("08:55 keep/snoozed", lab.Story("snoozed"));
        Assert.Contains("09:15 stop/idle-threshold-reached", lab.Story("snoozed"));
        Assert.Contains("08:55 keep/keep-alive", lab.Story("batch"));
        Assert.Contains("09:15 stop/idle-threshold-reached", lab.Story("batch"));
        Assert.Equal(1, lab.Stops("snoozed"));
    }

    [Fact]
    public async Task DryRunStopsNothingAndSaysWhatItWouldDo()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 1h
            config: { AUTOSTOP_DRY_RUN: "true" }
            instances:
              - { name: idle, tags: { AutoStop: "true" } }
            """);

        Assert.Contains("08:15 would-stop/dry-run", lab.Story("idle"));
        Assert.Equal(0, lab.Stops("idle"));
        Assert.All(lab.Decisions("idle"), d => Assert.True(d["dryRun"]!.GetValue<bool>()));
        Assert.Equal(0, lab.Run.Gate.Calls.GetValueOrDefault("EC2:StopInstances"));
    }

    [Fact]
    public async Task ThrottlingSlowsTheTickButLosesNothing()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 30m
            apiFaults:
              - { operation: "SSM:SendCommand", throttleRate: 0.2 }
              - { operation: "SSM:ListCommandInvocations", throttleRate: 0.2 }
              - { operation: "EC2:CreateTags", throttleRate: 0.2 }
            rateLimits:
              - { operation: "EC2:DescribeInstances", perSecond: 1, burst: 2 }
            instances:
              - { name: busy, count: 60, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: dev, from: "+0m", to: "+2h" } ] }
              - { name: idle, count: 60, tags: { AutoStop: "true" } }
            """);

        Assert.True(lab.Summary["throttledCallsTotal"]!.GetValue<int>() > 0);
        lab.NoSessionInterrupted();
        Assert.Equal(0, lab.Run.Fleet.Instances.Where(i => i.Spec.Name == "busy").Sum(i => i.Timeline.Count(c => c.State == "stopping")));
        Assert.Equal(60, lab.Run.Fleet.Instances.Count(i => i.Spec.Name == "idle" && i.State == "stopped"));
        Assert.Equal(0, lab.Summary["fleet"]!["probeFailures"]!.GetValue<int>());
        Assert.All(lab.Run.Ticks, t => Assert.True(t.Succeeded, t.Body));
    }

    [Fact]
    public async Task ATickOverFiveThousandInstancesWithThrottlingCompletesAndStopsNoOneInASession()
    {
        var lab = await LabScenario.RunAsync("""
            start: 2026-11-23T08:00:00Z
            tickMinutes: 5
            duration: 5m
            seed: 11
            functionTimeoutSeconds: 300
            apiFaults:
              - { operation: "SSM:SendCommand", throttleRate: 0.05 }
              - { operation: "SSM:ListCommandInvocations", throttleRate: 0.05 }
              - { operation: "EC2:StopInstances", throttleRate: 0.05 }
            rateLimits:
              - { operation: "EC2:DescribeInstances", perSecond: 20, burst: 100 }
              - { operation: "SSM:DescribeInstanceInformation", perSecond: 20, burst: 40 }
            instances:
              - { name: working, count: 2500, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: dev, from: "+0m", to: "+1h" } ] }
              - { name: idle, count: 2500, launchTime: "2026-11-23T06:00:00Z", tags: { AutoStop: "true", "AutoStop:IdleSince": "2026-11-23T07:00:00Z" } }
            """);

        var tick = Assert.Single(lab.Lines("tick"));
        Assert.Equal(5000, tick["instances"]!.GetValue<int>());
        Assert.Equal(0, tick["failed"]!.GetValue<int>());
        Assert.Equal(2500, tick["stopped"]!.GetValue<int>());
        lab.NoSessionInterrupted();
        var calls = tick["apiCalls"]!.AsObject();
        // 1,000 instances a page and 50 ids a command; throttled attempts are counted too, so allow for retries.
        Assert.InRange(lab.Run.Gate.Calls["EC2:DescribeInstances"] - lab.Run.Gate.Throttled.GetValueOrDefault("EC2:DescribeInstances"), 5, 5);
        Assert.InRange(lab.Run.Gate.Calls["SSM:SendCommand"] - lab.Run.Gate.Throttled.GetValueOrDefault("SSM:SendCommand"), 100, 100);
        Assert.True(lab.Summary["throttledCallsTotal"]!.GetValue<int>() > 0);
        Assert.DoesNotContain("SSM:GetCommandInvocation", calls.Select(c => c.Key));
    }

    [Fact]
    public async Task ALocalProbeInstanceRunsTheRealAgentScriptOnThisMachine()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 10m
            instances:
              - { name: this-machine, tags: { AutoStop: "true" }, probe: local }
            """);

        Assert.All(lab.Decisions("this-machine"), d =>
        {
            Assert.Equal("ok", d["probeStatus"]!.GetValue<string>());
            Assert.True(d["cpuCount"]!.GetValue<int>() >= 1);
        });
        Assert.DoesNotContain(lab.Decisions("this-machine"), d => d["action"]!.GetValue<string>() == "skip");
    }
}
