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
        // Idle from 08:00 would stop at 08:15; the 08:11-08:12 connection between ticks (its logout, which the probe
        // reports as lastLogoutAgeSeconds) moves that to 08:27 -> the 08:30 tick.
        Assert.Contains("08:15 keep/idle-below-threshold", story);
        Assert.Contains("08:30 stop/idle-threshold-reached", story);
        var at0815 = lab.Decisions("scp-target").Single(d => d["time"]!.GetValue<string>().EndsWith("08:15:00Z"));
        Assert.Contains("last logout 3 min ago", at0815["message"]!.GetValue<string>());
        Assert.Equal(180, at0815["lastLogoutAgeSeconds"]!.GetValue<long>());
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
              - { name: no-agent, tags: { AutoStop: "true" }, managed: false, sessions: [ { kind: ssh, user: alice, from: "+0m", to: "+2h" } ] }
              - { name: lost-agent, tags: { AutoStop: "true" }, ping: ConnectionLost, sessions: [ { kind: ssh, user: bob, from: "+10m", to: "+40m" } ] }
              - { name: windows, tags: { AutoStop: "true" }, platform: Windows, sessions: [ { kind: ssm, user: carol, from: "+0m", to: "+2h" } ] }
              - { name: in-use, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: dave, from: "+0m", to: "+2h" } ] }
              - { name: idle, tags: { AutoStop: "true" } }
            """);

        // People are on the three unobservable instances through the run (bob comes and goes): never stopped.
        Assert.All(lab.Story("no-agent"), s => Assert.EndsWith("skip/not-ssm-managed", s));
        Assert.All(lab.Story("lost-agent"), s => Assert.EndsWith("skip/not-ssm-managed", s));
        Assert.All(lab.Story("windows"), s => Assert.EndsWith("skip/unsupported-platform", s));
        Assert.Equal(12, lab.Counted("no-agent", "skip/not-ssm-managed"));
        Assert.Equal(12, lab.Counted("lost-agent", "skip/not-ssm-managed"));
        Assert.Equal(12, lab.Counted("windows", "skip/unsupported-platform"));
        foreach (var name in new[] { "no-agent", "lost-agent", "windows", "in-use" }) lab.NeverStopped(name);
        Assert.All(lab.Story("in-use"), s => Assert.EndsWith("keep/active-sessions", s));
        Assert.Equal(1, lab.Stops("idle")); // the others in the same batch are still decided
        Assert.Equal(1, lab.Summary["fleet"]!["stops"]!.GetValue<int>());
        lab.NoSessionInterrupted();
        // Unmanaged instances get no command: SendCommand would refuse the whole batch for them.
        var unmanaged = lab.Run.Fleet.Instances.Where(i => i.Spec.Name is not ("idle" or "in-use")).Select(i => i.Id).ToHashSet();
        Assert.DoesNotContain(lab.Run.Fleet.Commands.All().SelectMany(c => c.Invocations), v => unmanaged.Contains(v.InstanceId));
    }

    [Fact]
    public async Task ProbeTimeoutsFailuresAndGarbageAreNeverStopped()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 1h
            config: { AUTOSTOP_PROBE_TIMEOUT_SECONDS: "5" }
            instances:
              - { name: times-out, tags: { AutoStop: "true" }, faults: [ { kind: probe-timeout } ], sessions: [ { kind: ssh, user: alice, from: "+0m", to: "+2h" } ] }
              - { name: never-delivered, tags: { AutoStop: "true" }, faults: [ { kind: delivery-timeout } ], sessions: [ { kind: ssh, user: bob, from: "+5m", to: "+35m" } ] }
              - { name: undeliverable, tags: { AutoStop: "true" }, faults: [ { kind: undeliverable } ], sessions: [ { kind: ssm, user: carol, from: "+0m", to: "+2h" } ] }
              - { name: fails, tags: { AutoStop: "true" }, faults: [ { kind: probe-failed } ], sessions: [ { kind: ssh, user: dave, tty: false, from: "+20m", to: "+2h" } ] }
              - { name: garbage, tags: { AutoStop: "true" }, faults: [ { kind: garbage } ], sessions: [ { kind: ssh, user: erin, from: "+0m", to: "+2h" } ] }
              - { name: truncated, tags: { AutoStop: "true" }, faults: [ { kind: truncated } ], sessions: [ { kind: ssh, user: frank, from: "+0m", to: "+2h" } ] }
              - { name: agent-gone, tags: { AutoStop: "true" }, faults: [ { kind: agent-missing, from: "+20m" } ] }
              - { name: agent-gone-in-use, tags: { AutoStop: "true" }, faults: [ { kind: agent-missing, from: "+20m" } ], sessions: [ { kind: ssh, user: gina, from: "+0m", to: "+2h" } ] }
              - { name: hangs-once, tags: { AutoStop: "true" }, faults: [ { kind: probe-hang, from: "+15m", to: "+20m" } ] }
              - { name: hangs-as-she-leaves, tags: { AutoStop: "true" }, faults: [ { kind: probe-hang, from: "+15m", to: "+20m" } ], sessions: [ { kind: ssh, user: hana, from: "+0m", to: "+17m" } ] }
            """);

        Assert.All(lab.Story("times-out"), s => Assert.EndsWith("skip/probe-timed-out", s));
        Assert.All(lab.Story("never-delivered"), s => Assert.EndsWith("skip/probe-timed-out", s));
        Assert.All(lab.Story("undeliverable"), s => Assert.EndsWith("skip/probe-undeliverable", s));
        Assert.All(lab.Story("fails"), s => Assert.EndsWith("skip/probe-failed", s));
        Assert.All(lab.Story("garbage"), s => Assert.EndsWith("skip/probe-invalid-output", s));
        Assert.All(lab.Story("truncated"), s => Assert.EndsWith("skip/probe-invalid-output", s));
        // Each has a person on it that the lab cannot show the function: never stopped, nothing interrupted.
        foreach (var name in new[] { "times-out", "never-delivered", "undeliverable", "fails", "garbage", "truncated", "agent-gone-in-use" })
        {
            lab.NeverStopped(name);
            Assert.Equal(lab.Decisions(name).Count(d => d["action"]!.GetValue<string>() == "skip"), lab.Instance(name)["probeFailures"]!.GetValue<int>());
        }
        Assert.Equal(12, lab.Counted("garbage", "skip/probe-invalid-output"));
        Assert.Equal(12, lab.Counted("times-out", "skip/probe-timed-out"));
        // Seen in use until the agent vanished at 08:20, then not observed: skipped, never stopped.
        Assert.Equal(4, lab.Counted("agent-gone-in-use", "keep/active-sessions"));
        Assert.Equal(8, lab.Counted("agent-gone-in-use", "skip/not-ssm-managed"));
        // Hana left at 08:17 while the probe hung: the idle clock starts at the next observed tick (08:20), not earlier.
        Assert.Equal(["08:00 keep/active-sessions", "08:05 keep/active-sessions", "08:10 keep/active-sessions", "08:15 skip/probe-timed-out",
            "08:20 keep/idle-below-threshold"], lab.Story("hangs-as-she-leaves").Take(5));
        Assert.Contains("08:35 stop/idle-threshold-reached", lab.Story("hangs-as-she-leaves"));
        Assert.Empty(lab.Instance("hangs-as-she-leaves")["sessionsInterrupted"]!.AsArray());
        lab.NoSessionInterrupted();
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
              - { name: protected, tags: { AutoStop: "true" }, faults: [ { kind: stop-error, code: OperationNotPermitted } ], sessions: [ { kind: ssh, user: alice, from: "+18m", to: "+2h" } ] }
              - { name: idle-a, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: bob, from: "+25m", to: "+2h" } ] }
              - { name: idle-b, tags: { AutoStop: "true" } }
              - { name: in-use, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: carol, from: "+0m", to: "+2h" } ] }
              - { name: mid-change, tags: { AutoStop: "true" }, faults: [ { kind: stop-error, code: IncorrectInstanceState } ] }
              - { name: instance-store, tags: { AutoStop: "true" }, faults: [ { kind: stop-error, code: UnsupportedOperation } ] }
            """);

        // Each refusal reaches the function with EC2's own code and message for it.
        foreach (var (name, code, words) in new[]
        {
            ("protected", "OperationNotPermitted", "'disableApiStop'"),
            ("mid-change", "IncorrectInstanceState", "is not in a state from which it can be stopped"),
            ("instance-store", "UnsupportedOperation", "does not have an 'ebs' root device type"),
        })
        {
            var id = lab.Instance(name)["instanceId"]!.GetValue<string>();
            var refused = lab.Lines("error").First(e => e["instanceId"]?.GetValue<string>() == id);
            Assert.Equal(code, refused["errorCode"]!.GetValue<string>());
            Assert.Contains(words, refused["message"]!.GetValue<string>());
            Assert.Contains("08:15 skip/stop-failed", lab.Story(name));
        }

        // Alice arrives at 08:18 at the instance whose stop failed: from then on it is hers.
        Assert.Equal(["08:15 skip/stop-failed", "08:20 keep/active-sessions", "08:25 keep/active-sessions"], lab.Story("protected").Skip(3));
        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("idle-a"));
        Assert.Contains("08:15 stop/idle-threshold-reached", lab.Story("idle-b"));
        // Bob arrives at stopped idle-a at 08:25 and starts it: a boot, not an interrupted session.
        Assert.Equal("08:25 keep/active-sessions", lab.Story("idle-a").Last());
        Assert.Equal("running", lab.Instance("idle-a")["finalState"]!.GetValue<string>());
        Assert.Contains(lab.Instance("idle-a")["timeline"]!.AsArray(), c => c!["cause"]!.GetValue<string>() == "started by its user");
        lab.NeverStopped("protected");
        lab.NeverStopped("in-use");
        Assert.Equal(1, lab.Counted("protected", "skip/stop-failed"));
        Assert.Equal(2, lab.Summary["fleet"]!["stops"]!.GetValue<int>()); // idle-a and idle-b
        lab.NoSessionInterrupted();
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
              - { name: hibernates-after-she-leaves, tags: { AutoStop: "true" }, hibernation: true, sessions: [ { kind: ssh, user: alice, from: "+0m", to: "+10m" } ] }
              - { name: hibernatable-in-use, tags: { AutoStop: "true" }, hibernation: true, sessions: [ { kind: ssm, user: bob, from: "+0m", to: "+2h" } ] }
            """);

        Assert.Contains("08:15 hibernate/idle-threshold-reached", lab.Story("can-hibernate"));
        // Alice left at 08:10: idle from then, hibernated 15 minutes later, with nothing of hers live.
        Assert.Equal("08:10 keep/idle-below-threshold", lab.Story("hibernates-after-she-leaves")[2]);
        Assert.Equal("08:25 hibernate/idle-threshold-reached", lab.Story("hibernates-after-she-leaves").Last());
        Assert.Equal(1, lab.Counted("hibernates-after-she-leaves", "hibernate/idle-threshold-reached"));
        lab.NeverStopped("hibernatable-in-use");
        Assert.Equal(6, lab.Counted("hibernatable-in-use", "keep/active-sessions"));
        Assert.Equal(4, lab.Summary["fleet"]!["stops"]!.GetValue<int>());
        lab.NoSessionInterrupted();
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
              - name: snoozed-in-use
                tags: { AutoStop: "true", "AutoStop:SnoozeUntil": "2026-11-23T09:00:00Z" }
                sessions: [ { kind: ssh, user: alice, from: "+30m", to: "+1h20m" } ]
              - name: kept-alive-in-use
                tags: { AutoStop: "true" }
                keepAlive: [ { from: "+0m", until: "+30m" } ]
                sessions: [ { kind: ssh, user: bob, from: "+20m", to: "+50m" } ]
            """);

        // Alice works through the end of the snooze and leaves at 09:20: the idle clock starts there, not at 09:00.
        Assert.Contains("08:55 keep/snoozed", lab.Story("snoozed-in-use"));
        Assert.Equal(4, lab.Counted("snoozed-in-use", "keep/active-sessions")); // 09:00 to 09:15
        Assert.Contains("09:20 keep/idle-below-threshold", lab.Story("snoozed-in-use"));
        Assert.Contains("09:35 stop/idle-threshold-reached", lab.Story("snoozed-in-use"));
        Assert.DoesNotContain(lab.Story("snoozed-in-use"), s => s.CompareTo("09:35") < 0 && s.Contains("stop/", StringComparison.Ordinal));
        // Bob's session outlives the keep-alive marker: kept until he leaves at 08:50, stopped at 09:05.
        Assert.Contains("08:15 keep/keep-alive", lab.Story("kept-alive-in-use"));
        Assert.Contains("08:45 keep/active-sessions", lab.Story("kept-alive-in-use"));
        Assert.Contains("09:05 stop/idle-threshold-reached", lab.Story("kept-alive-in-use"));
        Assert.Equal(1, lab.Stops("snoozed-in-use"));
        Assert.Equal(1, lab.Stops("kept-alive-in-use"));
        lab.NoSessionInterrupted();

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
              - { name: idle, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: alice, from: "+40m", to: "+2h" } ] }
              - { name: in-use, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: bob, from: "+0m", to: "+2h" } ] }
            """);

        Assert.Contains("08:15 would-stop/dry-run", lab.Story("idle"));
        Assert.Contains("08:40 keep/active-sessions", lab.Story("idle")); // alice arrives at the instance it left running
        Assert.Equal(5, lab.Counted("idle", "would-stop/dry-run"));   // 08:15 to 08:35
        Assert.All(lab.Story("in-use"), s => Assert.EndsWith("keep/active-sessions", s));
        lab.NeverStopped("idle");
        lab.NeverStopped("in-use");
        Assert.All(lab.Decisions("idle").Concat(lab.Decisions("in-use")), d => Assert.True(d["dryRun"]!.GetValue<bool>()));
        Assert.Equal(0, lab.Run.Gate.Calls.GetValueOrDefault("EC2:StopInstances"));
        Assert.Equal(0, lab.Summary["fleet"]!["stops"]!.GetValue<int>());
        Assert.True(lab.Instance("idle")["idleMinutesNotSaved"]!.GetValue<double>() > 0); // a dry run saves nothing
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task TheTickLineCountsEveryAttemptAwsThrottled()
    {
        // SendCommand limited to 2 a second (burst 2) while 8 commands go out: the function's throttle gate puts the
        // operation in single file, and the tick lines' throttledAttempts add up to what the lab refused.
        var lab = await LabScenario.RunAsync(Header + """

            duration: 10m
            rateLimits:
              - { operation: "SSM:SendCommand", perSecond: 2, burst: 2 }
            instances:
              - { name: busy, count: 200, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: dev, from: "+0m", to: "+2h" } ] }
              - { name: idle, count: 200, launchTime: "2026-11-23T06:00:00Z", tags: { AutoStop: "true", "AutoStop:IdleSince": "2026-11-23T07:00:00Z" } }
            """);

        var refused = lab.Summary["throttledCallsTotal"]!.GetValue<int>();
        Assert.True(refused > 0, "the rate limit refused nothing, so this shows nothing");
        Assert.Equal(refused, lab.Lines("tick").Sum(t => t["throttledAttempts"]!.GetValue<int>()));
        Assert.Equal(200, lab.Run.Fleet.Instances.Count(i => i.Spec.Name == "idle" && i.State == "stopped"));
        lab.NoSessionInterrupted();
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
        // Retries lose and duplicate nothing: every instance running at a tick has exactly one decision line for it.
        var decisions = lab.Lines("decision");
        foreach (var tick in lab.Run.Ticks)
        {
            var time = tick.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            var ids = decisions.Where(d => d["time"]!.GetValue<string>() == time).Select(d => d["instanceId"]!.GetValue<string>()).ToList();
            // The state as the tick began (stops made during it carry the tick's own time).
            var running = lab.Run.Fleet.Instances.Where(i => (i.Timeline.LastOrDefault(c => c.Time < tick.Time) ?? i.Timeline[0]).State == "running").Select(i => i.Id);
            Assert.Equal(running.Order(), ids.Order());
        }
        var busy = lab.Run.Fleet.Instances.Where(i => i.Spec.Name == "busy").Select(i => i.Id).ToHashSet();
        Assert.All(decisions.Where(d => busy.Contains(d["instanceId"]!.GetValue<string>())), d => Assert.Equal("keep", d["action"]!.GetValue<string>()));
        Assert.Equal(60, lab.Summary["fleet"]!["decisions"]!["stop/idle-threshold-reached"]!.GetValue<int>());
    }

    [Fact]
    public async Task ServerErrorsFromEc2AndSsmStopNoOneInASession()
    {
        var lab = await LabScenario.RunAsync(Header + """

            duration: 1h
            apiFaults:
              - { operation: "*", errorRate: 0.15 }
            instances:
              - { name: busy, count: 20, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: dev, from: "+0m", to: "+2h" } ] }
              - { name: leaves, count: 10, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: dev, from: "+0m", to: "+20m" } ] }
              - { name: idle, count: 10, tags: { AutoStop: "true" } }
            """);

        Assert.True(lab.Summary["injectedErrors"]!.AsObject().Sum(e => e.Value!.GetValue<int>()) > 0, lab.Summary["injectedErrors"]!.ToJsonString());
        // A tick may give up (TickIncomplete) but the function never crashes, and nobody in a session is stopped.
        Assert.All(lab.Run.Ticks, t => Assert.True(t.Succeeded || t.ErrorType == "AutoStop.TickIncomplete", $"{t.ErrorType}: {t.Body}"));
        lab.NoSessionInterrupted();
        var busy = lab.Run.Fleet.Instances.Where(i => i.Spec.Name == "busy").ToList();
        Assert.All(busy, i => Assert.DoesNotContain(i.Timeline, c => c.State == "stopping"));
        var busyIds = busy.Select(i => i.Id).ToHashSet();
        Assert.DoesNotContain(lab.Lines("decision"), d => busyIds.Contains(d["instanceId"]!.GetValue<string>()) && d["action"]!.GetValue<string>() == "stop");
        // The SDK's retries get most work through: idle machines still stop, those whose people left stop after them.
        Assert.True(lab.Run.Fleet.Instances.Count(i => i.Spec.Name == "idle" && i.State == "stopped") >= 8);
        Assert.All(lab.Run.Fleet.Instances.Where(i => i.Spec.Name == "leaves"),
            i => Assert.All(i.Timeline.Where(c => c.State == "stopping"), c => Assert.True(c.Time >= new DateTimeOffset(2026, 11, 23, 8, 35, 0, TimeSpan.Zero))));
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
