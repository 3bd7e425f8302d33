using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Policy;

/// <summary>Table-driven: every reason code and every never-stop rule, through InstanceScreen + IdlePolicy as the tick calls them.</summary>
public class IdlePolicyTests
{
    public sealed record Case(string Name, InstanceRecord Instance, ProbeOutcome Probe, DecisionAction Action, string Reason,
        bool DryRun = false, AutoStopConfig? Config = null, DateTimeOffset? At = null, ActivityEvidence? Evidence = null)
    {
        public override string ToString() => Name;
    }

    private static readonly ProbeOutcome Idle = Ok(Report());
    private static string Ago(int minutes) => Time(Now.AddMinutes(-minutes));
    private static InstanceRecord Hibernatable(params (string Key, string Value)[] tags) => Instance(tags: tags) with { HibernationConfigured = true };
    private static ProbeReport Mosh(long ttyIdle) => Report(ttyIdle: ttyIdle, users: "alice") with { RemoteShellSessions = 1, RemoteShellKinds = ["mosh-server"] };

    public static TheoryData<Case> Cases() => new()
    {
        // stop / hibernate / would-stop
        new Case("idle past threshold stops", Instance(tags: ("AutoStop:IdleSince", Ago(20))), Idle, DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("exactly at threshold stops", Instance(tags: ("AutoStop:IdleSince", Ago(15))), Idle, DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("hibernate action", Hibernatable(("AutoStop:IdleSince", Ago(20)), ("AutoStop:Action", "hibernate")), Idle, DecisionAction.Hibernate, ReasonCodes.IdleThresholdReached),
        new Case("global hibernate", Hibernatable(("AutoStop:IdleSince", Ago(20))), Idle, DecisionAction.Hibernate, ReasonCodes.IdleThresholdReached, Config: Config(("AUTOSTOP_ACTION", "hibernate"))),
        new Case("hibernate without hibernation configured is a plain stop", Instance(tags: [("AutoStop:IdleSince", Ago(20)), ("AutoStop:Action", "hibernate")]), Idle, DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("dry run would stop", Instance(tags: ("AutoStop:IdleSince", Ago(20))), Idle, DecisionAction.WouldStop, ReasonCodes.DryRun, DryRun: true),
        // keep: activity
        new Case("ssh session", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(ssh: 1, users: "alice")), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("root notty session", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(ssh: 1, noTty: 1, users: "root")), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("session manager only", Instance(), Ok(Report(ssm: 1)), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("keep-alive marker", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(keepAlive: 3600)), DecisionAction.Keep, ReasonCodes.KeepAlive),
        new Case("busy load when enabled", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:BusyLoadPerCpu", "0.5")]), Ok(Report(load: 1.2, cpus: 2)), DecisionAction.Keep, ReasonCodes.BusyLoad),
        new Case("load ignored when off", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(load: 8, cpus: 2)), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("busy load global", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(load: 2, cpus: 2)), DecisionAction.Keep, ReasonCodes.BusyLoad, Config: Config(("AUTOSTOP_BUSY_LOAD_PER_CPU", "1"))),
        new Case("inbound connection to an active port", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:ActivePorts", "8888")]),
            Ok(Report() with { InboundConnections = new Dictionary<int, int> { [8888] = 1 }, InboundConnectionsOther = 0 }), DecisionAction.Keep, ReasonCodes.ActivePorts),
        new Case("gpu busy when enabled", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:BusyGpuPercent", "40")]),
            Ok(Report() with { GpuUtilizationPercent = 90, GpuStatus = "ok" }), DecisionAction.Keep, ReasonCodes.BusyGpu),
        new Case("named busy process when enabled", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:BusyProcesses", "cargo")]),
            Ok(Report() with { BusyProcesses = ["cargo"] }), DecisionAction.Keep, ReasonCodes.BusyProcesses),
        new Case("gpu unknown when enabled is never stopped", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:BusyGpuPercent", "40")]),
            Ok(Report() with { GpuStatus = "failed" }), DecisionAction.Skip, ReasonCodes.SignalUnknown),
        new Case("multiplexers when enabled", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:CountMultiplexers", "true")]), Ok(Report(mux: 1)), DecisionAction.Keep, ReasonCodes.MultiplexerSessions),
        new Case("multiplexers ignored by default", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(mux: 2)), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("preauth is never activity", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(preauth: 40)), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("forgotten terminal ignored after limit", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:IgnoreIdleTerminalsAfter", "30")]), Ok(Report(ssh: 1, ttyIdle: 3 * 3600)), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("fresh terminal still counts with limit", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:IgnoreIdleTerminalsAfter", "30")]), Ok(Report(ssh: 1, ttyIdle: 60)), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("notty connection defeats terminal limit", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:IgnoreIdleTerminalsAfter", "30")]), Ok(Report(ssh: 2, noTty: 1, ttyIdle: 3 * 3600)), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("idle terminal counts when limit off", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(ssh: 1, ttyIdle: 9 * 3600)), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("mosh session", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Mosh(ttyIdle: 30)), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("forgotten mosh terminal ignored after limit", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:IgnoreIdleTerminalsAfter", "30")]), Ok(Mosh(ttyIdle: 3 * 3600)), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("fresh mosh terminal counts with limit", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:IgnoreIdleTerminalsAfter", "30")]), Ok(Mosh(ttyIdle: 60)), DecisionAction.Keep, ReasonCodes.ActiveSessions),
        new Case("package manager at work", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report() with { SystemBusy = ["apt-get (pid 4242)"] }), DecisionAction.Keep, ReasonCodes.SystemBusy),
        new Case("system busy even in dry run", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report() with { SystemBusy = ["cloud-init (pid 77)"] }), DecisionAction.Keep, ReasonCodes.SystemBusy, DryRun: true),
        new Case("session manager lists an open session", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Keep, ReasonCodes.ActiveSessions, Evidence: new(SsmSessionOpen: true)),
        // keep: idle but not yet
        new Case("first idle tick", Instance(), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        new Case("idle below threshold", Instance(tags: ("AutoStop:IdleSince", Ago(10))), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        new Case("tag threshold longer", Instance(tags: [("AutoStop:IdleSince", Ago(20)), ("AutoStop:IdleMinutes", "30")]), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        new Case("login between ticks restarts idle time", Instance(tags: ("AutoStop:IdleSince", Ago(30))), Ok(Report(loginAge: 4 * 60)), DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        new Case("logout between ticks restarts idle time", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(loginAge: 57 * 60) with { LastLogoutAgeSeconds = 2 * 60 }), DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        new Case("old logout does not matter", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report() with { LastLogoutAgeSeconds = 3 * 3600 }), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("session manager session ended between ticks", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold, Evidence: new(LastSsmSessionEnd: Now.AddMinutes(-6))),
        new Case("session manager session still closing", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold, Evidence: new(LastSsmSessionEnd: DateTimeOffset.MaxValue)),
        new Case("the tick before saw it in use", Instance(tags: ("AutoStop:IdleSince", Ago(110))), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold, Evidence: new(FirstTickAfterUse: Now)),
        new Case("future IdleSince is rewritten, not trusted", Instance(tags: ("AutoStop:IdleSince", Time(Now.AddDays(2)))), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        new Case("absurd login age is no evidence", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(loginAge: 64_000_000_000)), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("no session history: no idle stop", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Skip, ReasonCodes.NoSessionHistory, Evidence: new(SessionHistoryKnown: false)),
        new Case("no session history does not hide sessions", Instance(tags: ("AutoStop:IdleSince", Ago(60))), Ok(Report(ssh: 1)), DecisionAction.Keep, ReasonCodes.ActiveSessions, Evidence: new(SessionHistoryKnown: false)),
        new Case("old login does not matter", Instance(tags: ("AutoStop:IdleSince", Ago(30))), Ok(Report(loginAge: 3 * 3600)), DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("boot grace", Instance(launch: Now.AddMinutes(-5)), Idle, DecisionAction.Keep, ReasonCodes.BootGrace),
        new Case("stale IdleSince before a restart by hand", Instance(launch: Now.AddMinutes(-20), tags: ("AutoStop:IdleSince", Ago(600))), Idle, DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("a StoppedAt whose stop never happened leaves the idle period standing", Instance(launch: Now.AddDays(-2), tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:StoppedAt", Ago(5))]), Idle, DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("restarted after AutoStop stop resets idle", Instance(launch: Now.AddMinutes(-30), tags: [("AutoStop:IdleSince", Ago(600)), ("AutoStop:StoppedAt", Ago(500))]), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        new Case("snoozed", Instance(tags: [("AutoStop:IdleSince", Ago(120)), ("AutoStop:SnoozeUntil", Time(Now.AddHours(2)))]), Idle, DecisionAction.Keep, ReasonCodes.Snoozed),
        new Case("snooze just ended counts from its end", Instance(tags: [("AutoStop:IdleSince", Ago(120)), ("AutoStop:SnoozeUntil", Ago(5))]), Idle, DecisionAction.Keep, ReasonCodes.IdleBelowThreshold),
        // skip: never stopped
        new Case("not running", Instance(state: "stopping", tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Skip, ReasonCodes.NotRunning),
        new Case("pending", Instance(state: "pending"), Idle, DecisionAction.Skip, ReasonCodes.NotRunning),
        new Case("opt-in tag false", Instance(tags: [("AutoStop", "false"), ("AutoStop:IdleSince", Ago(60))]), Idle, DecisionAction.Skip, ReasonCodes.NotOptedIn),
        new Case("opt-in tag missing", Instance(tags: [("AutoStop", null!), ("AutoStop:IdleSince", Ago(60))]), Idle, DecisionAction.Skip, ReasonCodes.NotOptedIn),
        new Case("opt-in tag any case", Instance(tags: [("AutoStop", "TRUE"), ("AutoStop:IdleSince", Ago(60))]), Idle, DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("auto scaling member", Instance(tags: [("aws:autoscaling:groupName", "web"), ("AutoStop:IdleSince", Ago(60))]), Idle, DecisionAction.Skip, ReasonCodes.AutoScalingGroup),
        new Case("one-time spot", Instance(lifecycle: "spot", spotType: "one-time", tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Skip, ReasonCodes.SpotInstance),
        new Case("spot of unknown type", Instance(lifecycle: "spot", tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Skip, ReasonCodes.SpotInstance),
        new Case("persistent spot can stop", Instance(lifecycle: "spot", spotType: "persistent", tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Stop, ReasonCodes.IdleThresholdReached),
        new Case("instance store root", Instance(root: "instance-store", tags: ("AutoStop:IdleSince", Ago(60))), Idle, DecisionAction.Skip, ReasonCodes.InstanceStoreRoot),
        new Case("bad IdleMinutes", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:IdleMinutes", "2")]), Idle, DecisionAction.Skip, ReasonCodes.InvalidTag),
        new Case("bad Action", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:Action", "terminate")]), Idle, DecisionAction.Skip, ReasonCodes.InvalidTag),
        new Case("bad SnoozeUntil (no zone)", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:SnoozeUntil", "2026-11-23T18:00:00")]), Idle, DecisionAction.Skip, ReasonCodes.InvalidTag),
        new Case("unknown setting tag", Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:IdleMinute", "30")]), Idle, DecisionAction.Skip, ReasonCodes.InvalidTag),
        new Case("garbage IdleSince", Instance(tags: ("AutoStop:IdleSince", "yesterday")), Idle, DecisionAction.Skip, ReasonCodes.InvalidTag),
        new Case("not ssm managed", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.NotManaged, "PingStatus ConnectionLost"), DecisionAction.Skip, ReasonCodes.NotSsmManaged),
        new Case("windows", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.UnsupportedPlatform, "Windows"), DecisionAction.Skip, ReasonCodes.UnsupportedPlatform),
        new Case("probe failed", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.Failed, "exit 127"), DecisionAction.Skip, ReasonCodes.ProbeFailed),
        new Case("probe not probed", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.NotProbed, "no result"), DecisionAction.Skip, ReasonCodes.ProbeFailed),
        new Case("probe timed out", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.TimedOut, "30 s"), DecisionAction.Skip, ReasonCodes.ProbeTimedOut),
        new Case("probe undeliverable", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.Undeliverable, "Undeliverable"), DecisionAction.Skip, ReasonCodes.ProbeUndeliverable),
        new Case("probe invalid output", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.InvalidOutput, "not JSON"), DecisionAction.Skip, ReasonCodes.ProbeInvalidOutput),
        new Case("no room for AutoStop's tags", Instance(tags: [.. Enumerable.Range(0, 48).Select(i => ($"team:{i}", "x"))]), Idle, DecisionAction.Skip, ReasonCodes.TagLimit),
        new Case("IAM refused the probe", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.Failed, "refused") with { CallFailure = new AutoStop.Aws.AwsFailure("SSM:SendCommand", "AccessDeniedException", "not authorized") }, DecisionAction.Skip, ReasonCodes.AccessDenied),
        new Case("probe failure wins over dry run", Instance(tags: ("AutoStop:IdleSince", Ago(60))), ProbeOutcome.Failure(ProbeStatus.Failed, "x"), DecisionAction.Skip, ReasonCodes.ProbeFailed, DryRun: true),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecidesWithTheNamedReason(Case c)
    {
        var config = c.Config ?? Config();
        var screen = InstanceScreen.Screen(c.Instance, config);
        var decision = screen.Skip ?? IdlePolicy.Decide(new PolicyInput(c.Instance, screen.Settings!, c.Probe, c.At ?? Now, c.DryRun, c.Evidence));
        Assert.Equal(c.Reason, decision.Reason);
        Assert.Equal(c.Action, decision.Action);
        Assert.False(string.IsNullOrWhiteSpace(decision.Message));
    }

    [Fact]
    public void EveryReasonCodeIsCoveredByATableRowOrTheTick()
    {
        var covered = ((IEnumerable<object[]>)Cases()).Select(row => ((Case)row[0]).Reason).ToHashSet();
        // These are produced by the tick (acting, or guarding the policy), not the policy: TickRunnerTests and TrustRuleTests cover them.
        covered.UnionWith([ReasonCodes.Deadline, ReasonCodes.StopFailed, ReasonCodes.StaleObservation, ReasonCodes.TagWriteFailed, ReasonCodes.PolicyError]);
        Assert.Empty(ReasonCodes.All.Except(covered));
    }

    [Fact]
    public void NothingThatCouldNotBeObservedIsEverStopped()
    {
        var statuses = Enum.GetValues<ProbeStatus>().Where(s => s != ProbeStatus.Ok);
        foreach (var status in statuses)
        foreach (var dry in new[] { false, true })
        {
            var instance = Instance(tags: ("AutoStop:IdleSince", Ago(24 * 60)));
            var screen = InstanceScreen.Screen(instance, Config());
            var decision = IdlePolicy.Decide(new PolicyInput(instance, screen.Settings!, ProbeOutcome.Failure(status, "x"), Now, dry));
            Assert.Equal(DecisionAction.Skip, decision.Action);
        }
    }

    [Fact]
    public void IdleSinceIsWrittenOnlyOnTransitions()
    {
        var config = Config();
        Decision Decide(InstanceRecord i, ProbeOutcome p) => IdlePolicy.Decide(new PolicyInput(i, InstanceScreen.Screen(i, config).Settings!, p, Now, false));

        var becameIdle = Decide(Instance(), Idle);
        Assert.Equal(Now, becameIdle.StateChange.SetIdleSince);
        Assert.False(becameIdle.StateChange.ClearIdleSince);

        var stillIdle = Decide(Instance(tags: ("AutoStop:IdleSince", Ago(5))), Idle);
        Assert.True(stillIdle.StateChange.IsNone);

        var activeAgain = Decide(Instance(tags: ("AutoStop:IdleSince", Ago(5))), Ok(Report(ssh: 1)));
        Assert.True(activeAgain.StateChange.ClearIdleSince);

        var stillActive = Decide(Instance(), Ok(Report(ssh: 1)));
        Assert.True(stillActive.StateChange.IsNone);

        var restarted = Decide(Instance(launch: Now.AddMinutes(-30), tags: [("AutoStop:IdleSince", Ago(600)), ("AutoStop:StoppedAt", Ago(500))]), Ok(Report(ssh: 1)));
        Assert.True(restarted.StateChange.ClearStoppedAt);
        Assert.True(restarted.StateChange.ClearIdleSince);

        var restartedIdle = Decide(Instance(launch: Now.AddMinutes(-30), tags: [("AutoStop:IdleSince", Ago(600)), ("AutoStop:StoppedAt", Ago(500))]), Idle);
        Assert.True(restartedIdle.StateChange.ClearStoppedAt);
        Assert.Equal(Now, restartedIdle.StateChange.SetIdleSince);
        Assert.False(restartedIdle.StateChange.ClearIdleSince);
    }

    [Fact]
    public void IdleTimeCountsFromTheLoginWhenItIsMoreRecent()
    {
        var instance = Instance(tags: ("AutoStop:IdleSince", Ago(30)));
        var decision = IdlePolicy.Decide(new PolicyInput(instance, InstanceScreen.Screen(instance, Config()).Settings!, Ok(Report(loginAge: 240)), Now, false));
        Assert.Equal(240, decision.IdleSeconds);
        Assert.Equal(15 * 60, decision.ThresholdSeconds);
    }

    [Fact]
    public void InvalidTagMessageNamesTagValueAndWhatIsAllowed()
    {
        var instance = Instance(tags: ("AutoStop:IdleMinutes", "abc"));
        var skip = InstanceScreen.Screen(instance, Config()).Skip!;
        Assert.Contains("AutoStop:IdleMinutes", skip.Message);
        Assert.Contains("'abc'", skip.Message);
        Assert.Contains("5 to 10080", skip.Message);
    }

    [Fact]
    public void ConfiguredTagKeyIsUsedForOptInAndSettings()
    {
        var config = Config(("AUTOSTOP_TAG_KEY", "IdleStop"));
        var instance = Instance(tags: [("AutoStop", null!), ("IdleStop", "true"), ("IdleStop:IdleSince", Ago(60)), ("AutoStop:Whatever", "x")]);
        var screen = InstanceScreen.Screen(instance, config);
        Assert.Null(screen.Skip);
        var decision = IdlePolicy.Decide(new PolicyInput(instance, screen.Settings!, Idle, Now, false));
        Assert.Equal(DecisionAction.Stop, decision.Action);
    }

    [Fact]
    public void DryRunSaysWhatWouldReallyHappen()
    {
        var notConfigured = Instance(tags: [("AutoStop:IdleSince", Ago(60)), ("AutoStop:Action", "hibernate")]);
        var configured = notConfigured with { HibernationConfigured = true };
        string Message(InstanceRecord i) => IdlePolicy.Decide(new PolicyInput(i, InstanceScreen.Screen(i, Config()).Settings!, Idle, Now, DryRun: true)).Message;

        Assert.Contains("would hibernate", Message(configured));
        Assert.DoesNotContain("would hibernate", Message(notConfigured));
        Assert.Contains("would stop (hibernation is not configured", Message(notConfigured));
    }

    [Fact]
    public void TheIdleClockStartsAtTheLatestEvidenceAndNamesIt()
    {
        var instance = Instance(tags: ("AutoStop:IdleSince", Ago(90)));
        var settings = InstanceScreen.Screen(instance, Config()).Settings!;
        var report = Report(loginAge: 50 * 60) with { LastLogoutAgeSeconds = 12 * 60 };
        var decision = IdlePolicy.Decide(new PolicyInput(instance, settings, Ok(report), Now, false, new ActivityEvidence(LastSsmSessionEnd: Now.AddMinutes(-20))));

        Assert.Equal(12 * 60, decision.IdleSeconds);
        Assert.Contains("last logout 12 min ago", decision.Message);
        Assert.Null(decision.StateChange.SetIdleSince); // the stored upper bound stays; evidence only moves the start later
    }

    [Fact]
    public void AStaleStopIntentTagIsClearedAndARealRestartResetsTheIdlePeriod()
    {
        var neverStopped = Instance(launch: Now.AddDays(-2), tags: [("AutoStop:IdleSince", Ago(10)), ("AutoStop:StoppedAt", Ago(5))]);
        var restarted = Instance(launch: Now.AddMinutes(-3), tags: [("AutoStop:IdleSince", Ago(600)), ("AutoStop:StoppedAt", Ago(500))]);
        Decision Decide(InstanceRecord i) => IdlePolicy.Decide(new PolicyInput(i, InstanceScreen.Screen(i, Config()).Settings!, Idle, Now, false));

        var stale = Decide(neverStopped);
        Assert.Equal(new IdleStateChange(ClearStoppedAt: true), stale.StateChange);
        Assert.Equal(600, stale.IdleSeconds);
        var fresh = Decide(restarted);
        Assert.True(fresh.StateChange.ClearStoppedAt);
        Assert.Equal(Now, fresh.StateChange.SetIdleSince);
    }
}
