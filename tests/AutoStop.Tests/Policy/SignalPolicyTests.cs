using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Policy;

/// <summary>Issue 13's opt-in signals (ActivePorts, BusyGpuPercent, BusyProcesses), unknown signals, quick restarts and
/// StopReason, through InstanceScreen + IdlePolicy as the tick calls them.</summary>
public class SignalPolicyTests
{
    private static string Ago(int minutes) => Time(Now.AddMinutes(-minutes));
    private static readonly (string, string) IdleAnHour = ("AutoStop:IdleSince", Ago(60));

    /// <summary>A probe 1.4.0 report: nothing in use, every new signal read.</summary>
    private static ProbeReport Signals(Dictionary<int, int>? inbound = null, int other = 0, int? gpu = null, string gpuStatus = "absent", params string[] processes) =>
        Report() with
        {
            InboundConnections = inbound ?? [], InboundConnectionsOther = other,
            GpuUtilizationPercent = gpu, GpuStatus = gpu is null ? gpuStatus : "ok", BusyProcesses = processes,
        };

    private static Decision Decide(InstanceRecord instance, ProbeReport report, AutoStopConfig? config = null, DateTimeOffset? now = null)
    {
        config ??= Config();
        var screen = InstanceScreen.Screen(instance, config);
        Assert.True(screen.Settings is not null, screen.Skip?.Message);
        return IdlePolicy.Decide(new PolicyInput(instance, screen.Settings, Ok(report), now ?? Now, false));
    }

    [Fact]
    public void AnInboundConnectionToAnActivePortIsASession()
    {
        var jupyter = Instance(tags: [IdleAnHour, ("AutoStop:ActivePorts", "8888,8080,3389,8443")]);

        var kept = Decide(jupyter, Signals(new() { [8888] = 2, [22] = 1 }));

        Assert.Equal(DecisionAction.Keep, kept.Action);
        Assert.Equal(ReasonCodes.ActivePorts, kept.Reason);
        Assert.Equal("2 inbound connections to ActivePorts: 8888 (2).", kept.Message);
        Assert.True(kept.StateChange.ClearIdleSince);   // in use: the idle clock starts again
    }

    [Fact]
    public void WithoutActivePortsTheSameConnectionsDoNotKeepIt()
    {
        var decision = Decide(Instance(tags: IdleAnHour), Signals(new() { [8888] = 2 }));
        Assert.Equal(DecisionAction.Stop, decision.Action);
    }

    [Fact]
    public void ConnectionsToOtherPortsDoNotCount()
    {
        var decision = Decide(Instance(tags: [IdleAnHour, ("AutoStop:ActivePorts", "8888")]), Signals(new() { [22] = 3, [5432] = 1 }));
        Assert.Equal(DecisionAction.Stop, decision.Action);
    }

    [Fact]
    public void TheGlobalDefaultAppliesAndATagOverridesIt()
    {
        var config = Config(("AUTOSTOP_ACTIVE_PORTS", "8888"));
        Assert.Equal(ReasonCodes.ActivePorts, Decide(Instance(tags: IdleAnHour), Signals(new() { [8888] = 1 }), config).Reason);
        Assert.Equal(DecisionAction.Stop, Decide(Instance(tags: [IdleAnHour, ("AutoStop:ActivePorts", "off")]), Signals(new() { [8888] = 1 }), config).Action);
    }

    [Fact]
    public void UnreadableConnectionsWithActivePortsAreUnknownNotIdle()
    {
        var instance = Instance(tags: [IdleAnHour, ("AutoStop:ActivePorts", "8888")]);

        var unknown = Decide(instance, Signals() with { InboundConnections = null, InboundConnectionsOther = null });

        Assert.Equal(DecisionAction.Skip, unknown.Action);
        Assert.Equal(ReasonCodes.SignalUnknown, unknown.Reason);
        Assert.Contains("inbound connections could not be read", unknown.Message);
        Assert.True(unknown.StateChange.ClearIdleSince);   // the unread time never counts as idle
        // Without ActivePorts nobody relies on them: an ordinary stop.
        Assert.Equal(DecisionAction.Stop, Decide(Instance(tags: IdleAnHour), Signals() with { InboundConnections = null, InboundConnectionsOther = null }).Action);
    }

    [Fact]
    public void AnActivePortPossiblyAmongTheUnlistedPortsIsUnknown()
    {
        var eight = Enumerable.Range(9000, 8).ToDictionary(p => p, _ => 5);
        var decision = Decide(Instance(tags: [IdleAnHour, ("AutoStop:ActivePorts", "8888")]), Signals(eight, other: 2));
        Assert.Equal(ReasonCodes.SignalUnknown, decision.Reason);
        Assert.Contains("2 inbound connections went to ports beyond the 8 busiest", decision.Message);
        Assert.Contains("(8888)", decision.Message);
    }

    [Fact]
    public void AProbeOlderThan140IsUnknownForEverySignalItLacks()
    {
        var old = Report();   // none of the 1.4.0 fields: all null
        Assert.Equal(ReasonCodes.SignalUnknown, Decide(Instance(tags: [IdleAnHour, ("AutoStop:ActivePorts", "8888")]), old).Reason);
        Assert.Equal(ReasonCodes.SignalUnknown, Decide(Instance(tags: [IdleAnHour, ("AutoStop:BusyGpuPercent", "50")]), old).Reason);
        Assert.Equal(ReasonCodes.SignalUnknown, Decide(Instance(tags: [IdleAnHour, ("AutoStop:BusyProcesses", "make")]), old).Reason);
        Assert.Equal(DecisionAction.Stop, Decide(Instance(tags: IdleAnHour), old).Action);
    }

    [Theory]
    [InlineData(80, "50", DecisionAction.Keep)]
    [InlineData(50, "50", DecisionAction.Keep)]     // at or above
    [InlineData(49, "50", DecisionAction.Stop)]
    [InlineData(0, "1", DecisionAction.Stop)]
    [InlineData(100, "off", DecisionAction.Stop)]
    public void GpuUtilizationAtOrAboveBusyGpuPercentKeepsIt(int utilization, string tag, DecisionAction expected)
    {
        var decision = Decide(Instance(tags: [IdleAnHour, ("AutoStop:BusyGpuPercent", tag)]), Signals(gpu: utilization));
        Assert.Equal(expected, decision.Action);
        if (expected == DecisionAction.Keep)
        {
            Assert.Equal(ReasonCodes.BusyGpu, decision.Reason);
            Assert.Equal($"GPU utilization {utilization}% is at or above {tag}%: busy.", decision.Message);
        }
    }

    [Fact]
    public void ANvidiaSmiThatGaveNoAnswerIsUnknownButNoGpuIsIdle()
    {
        var tagged = Instance(tags: [IdleAnHour, ("AutoStop:BusyGpuPercent", "30")]);
        var failed = Decide(tagged, Signals(gpuStatus: "failed"));
        Assert.Equal(ReasonCodes.SignalUnknown, failed.Reason);
        Assert.Contains("nvidia-smi gave no GPU utilization", failed.Message);
        Assert.Equal(DecisionAction.Stop, Decide(tagged, Signals(gpuStatus: "absent")).Action);
    }

    [Fact]
    public void ANamedBusyProcessKeepsItWhileItRuns()
    {
        var instance = Instance(tags: [IdleAnHour, ("AutoStop:BusyProcesses", "make,cargo,docker-build,rsync")]);

        var kept = Decide(instance, Signals(processes: ["gcc", "make", "rsync"]));
        Assert.Equal(ReasonCodes.BusyProcesses, kept.Reason);
        Assert.Equal("Running: make, rsync (BusyProcesses).", kept.Message);

        Assert.Equal(DecisionAction.Stop, Decide(instance, Signals(processes: ["gcc"])).Action);   // not one of its names
        Assert.Equal(DecisionAction.Stop, Decide(instance, Signals()).Action);
    }

    [Theory]
    [InlineData("ActivePorts", "8888, 8080", "TCP port numbers")]
    [InlineData("ActivePorts", "8888,8888", "without spaces, signs or repeats")]
    [InlineData("ActivePorts", "0", "from 1 to 65535")]
    [InlineData("ActivePorts", "65536", "from 1 to 65535")]
    [InlineData("ActivePorts", "08888", "from 1 to 65535")]
    [InlineData("ActivePorts", "+8888", "from 1 to 65535")]
    [InlineData("ActivePorts", "8888,", "from 1 to 65535")]
    [InlineData("ActivePorts", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "1 to 16")]
    [InlineData("ActivePorts", "jupyter", "e.g. 8888,8080,3389,8443")]
    [InlineData("BusyGpuPercent", "0", "from 1 to 100")]
    [InlineData("BusyGpuPercent", "101", "from 1 to 100")]
    [InlineData("BusyGpuPercent", "50%", "from 1 to 100")]
    [InlineData("BusyGpuPercent", "0.5", "whole percentage")]
    [InlineData("BusyProcesses", "make,my-training", "names the probe reports (make, cmake")]
    [InlineData("BusyProcesses", "Make", "names the probe reports")]
    [InlineData("BusyProcesses", "make,make", "without spaces or repeats")]
    [InlineData("BusyProcesses", "make, cargo", "without spaces or repeats")]
    [InlineData("BusyProcesses", "", "or off")]
    public void ABadValueIsInvalidTagNamingTheValueAndWhatIsAllowed(string name, string value, string allowed)
    {
        var screen = InstanceScreen.Screen(Instance(tags: ($"AutoStop:{name}", value)), Config());
        Assert.Null(screen.Settings);
        Assert.Equal(ReasonCodes.InvalidTag, screen.Skip!.Reason);
        Assert.Contains($"AutoStop:{name}='{value}' is not allowed", screen.Skip.Message);
        Assert.Contains(allowed, screen.Skip.Message);
    }

    [Theory]
    [InlineData("AUTOSTOP_ACTIVE_PORTS", "8888;8080", "TCP port numbers")]
    [InlineData("AUTOSTOP_BUSY_GPU_PERCENT", "high", "whole percentage from 1 to 100")]
    [InlineData("AUTOSTOP_BUSY_PROCESSES", "python", "names the probe reports")]
    public void ABadGlobalDefaultFailsTheStartNamingTheVariable(string variable, string value, string allowed)
    {
        var e = Assert.Throws<ConfigException>(() => Config((variable, value)));
        var problem = Assert.Single(e.Problems);
        Assert.StartsWith($"{variable}='{value}' is not allowed: use ", problem);
        Assert.Contains(allowed, problem);
    }

    [Fact]
    public void GoodValuesParse()
    {
        var config = Config(("AUTOSTOP_ACTIVE_PORTS", "8888,3389"), ("AUTOSTOP_BUSY_GPU_PERCENT", "100"), ("AUTOSTOP_BUSY_PROCESSES", "docker-build"));
        Assert.Equal([3389, 8888], config.ActivePorts!.Order());
        Assert.Equal(100, config.BusyGpuPercent);
        Assert.Equal(["docker-build"], config.BusyProcesses);
        var off = Config(("AUTOSTOP_ACTIVE_PORTS", "OFF"), ("AUTOSTOP_BUSY_GPU_PERCENT", "off"), ("AUTOSTOP_BUSY_PROCESSES", "off"));
        Assert.Null(off.ActivePorts);
        Assert.Null(off.BusyGpuPercent);
        Assert.Null(off.BusyProcesses);
    }

    // --- quick restarts -----------------------------------------------------------------------------------------------

    [Fact]
    public void AnInstanceStartedAgain7MinutesAfterTheStopIsAQuickRestart()
    {
        // Stopped at 09:00, started again at 09:07; this is its first decision after the restart.
        var restarted = Instance(launch: Now.AddMinutes(-53), tags: [("AutoStop:StoppedAt", Ago(60)), ("AutoStop:StopReason", "stop: idle 15 min"), ("AutoStop:IdleSince", Ago(75))]);

        var decision = Decide(restarted, Signals(), now: Now);

        Assert.Equal(7 * 60, decision.RestartedAfterSeconds);
        Assert.True(decision.QuickRestart);
        Assert.EndsWith("Started again 7 min after AutoStop stopped it (a quick restart: within 30 min).", decision.Message);
        Assert.True(decision.StateChange.ClearStoppedAt);
    }

    [Theory]
    [InlineData(30, true)]
    [InlineData(31, false)]
    [InlineData(180, false)]
    public void AQuickRestartIsWithin30Minutes(int minutesAfter, bool quick)
    {
        var restarted = Instance(launch: Now.AddMinutes(-200 + minutesAfter), tags: ("AutoStop:StoppedAt", Ago(200)));
        var decision = Decide(restarted, Signals(new() { [22] = 1 }) with { SshSessions = 1 });
        Assert.Equal(minutesAfter * 60L, decision.RestartedAfterSeconds);
        Assert.Equal(quick, decision.QuickRestart);
        Assert.Contains($"Started again {IdlePolicy.Minutes(minutesAfter * 60L)} after AutoStop stopped it", decision.Message);
    }

    [Fact]
    public void AStoppedAtLeftByAStopThatNeverWentOutIsNoRestart()
    {
        // LaunchTime before StoppedAt: the instance never stopped (e.g. the stop was refused); cleared without a word.
        var decision = Decide(Instance(launch: Now.AddDays(-2), tags: ("AutoStop:StoppedAt", Ago(10))), Signals());
        Assert.Null(decision.RestartedAfterSeconds);
        Assert.False(decision.QuickRestart);
        Assert.True(decision.StateChange.ClearStoppedAt);
    }

    [Fact]
    public void AProbeFailureOnTheFirstTickAfterARestartStillCountsIt()
    {
        var restarted = Instance(launch: Now.AddMinutes(-10), tags: ("AutoStop:StoppedAt", Ago(20)));
        var screen = InstanceScreen.Screen(restarted, Config());
        var decision = IdlePolicy.Decide(new PolicyInput(restarted, screen.Settings!, ProbeOutcome.Failure(ProbeStatus.TimedOut, "no answer"), Now, false));
        Assert.Equal(DecisionAction.Skip, decision.Action);
        Assert.True(decision.QuickRestart);
    }

    // --- StopReason -------------------------------------------------------------------------------------------------

    [Fact]
    public void AStopCarriesItsStopReasonText()
    {
        var decision = Decide(Instance(tags: ("AutoStop:IdleSince", Ago(17))), Signals());
        Assert.Equal(DecisionAction.Stop, decision.Action);
        Assert.Equal("stop: idle 15+ min / threshold 15 min", decision.StopReasonText);
        // The characters every AWS tagging API accepts, and EC2's 256-character limit.
        Assert.Matches(@"^[A-Za-z0-9 :/\-.+]{1,256}$", decision.StopReasonText!);
        Assert.Null(Decide(Instance(tags: ("AutoStop:IdleSince", Ago(5))), Signals()).StopReasonText);
    }

    [Fact]
    public void TheLongestStopReasonFitsATagValue()
    {
        var longest = IdlePolicy.StopReasonText("hibernate", long.MaxValue, 10080 * 60L);
        Assert.InRange(longest.Length, 1, InstanceSettingsReader.MaxTagValueLength);
    }

    [Theory]
    [InlineData(0, "0+ min")]
    [InlineData(17 * 60, "15+ min")]
    [InlineData(119 * 60 + 59, "115+ min")]
    [InlineData(120 * 60, "2+ h")]
    [InlineData(47 * 3600 + 3599, "47+ h")]
    [InlineData(48 * 3600, "2+ days")]
    [InlineData(-5, "0+ min")]
    public void StopReasonIdleTimeGoesInCoarseSteps(long idleSeconds, string expected) =>
        Assert.Equal(expected, IdlePolicy.IdleStep(idleSeconds));

    [Fact]
    public void TheTagLimitCountsAllThreeStateTags()
    {
        // AutoStop + Name + 46 = 48 tags; it lacks IdleSince, StoppedAt and StopReason: 51 > 50.
        var full = InstanceScreen.Screen(Instance(tags: [.. Enumerable.Range(0, 46).Select(i => ($"extra{i:00}", "x"))]), Config());
        Assert.Equal(ReasonCodes.TagLimit, full.Skip!.Reason);
        Assert.Contains("lacks AutoStop:IdleSince, AutoStop:StoppedAt and AutoStop:StopReason", full.Skip.Message);
        Assert.NotNull(InstanceScreen.Screen(Instance(tags: [.. Enumerable.Range(0, 45).Select(i => ($"extra{i:00}", "x"))]), Config()).Settings);
    }
}
