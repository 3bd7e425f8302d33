using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Policy;

/// <summary>Issue 13's warning one tick ahead: when the policy asks for a stop notice, and when it does not.</summary>
public class StopNoticePolicyTests
{
    private static readonly TimeSpan FiveMinuteTicks = TimeSpan.FromMinutes(5);
    private static string Ago(int minutes) => Time(Now.AddMinutes(-minutes));

    /// <summary>One forgotten terminal, idle 2 hours; IgnoreIdleTerminalsAfter 60 makes it not count.</summary>
    private static readonly ProbeReport ForgottenTerminal = Report(ssh: 1, ttyIdle: 7200, users: "ana");

    private static Decision Decide(InstanceRecord instance, ProbeReport report, TimeSpan? nextTickIn, bool dryRun = false, AutoStopConfig? config = null)
    {
        config ??= Config();
        var screen = InstanceScreen.Screen(instance, config);
        Assert.True(screen.Settings is not null, screen.Skip?.Message);
        return IdlePolicy.Decide(new PolicyInput(instance, screen.Settings, Ok(report), Now, dryRun, null, nextTickIn));
    }

    private static InstanceRecord IdleFor(int minutes, params (string, string)[] more) =>
        Instance(tags: [("AutoStop:IdleSince", Ago(minutes)), ("AutoStop:IgnoreIdleTerminalsAfter", "60"), .. more]);

    [Theory]
    [InlineData(10, true)]   // 10 + 5 = 15: the next tick stops it, so warn now
    [InlineData(12, true)]
    [InlineData(9, false)]   // 9 + 5 < 15: not yet; the next tick warns
    public void AForgottenTerminalIsWarnedOneTickBeforeTheStop(int idleMinutes, bool warned)
    {
        var decision = Decide(IdleFor(idleMinutes), ForgottenTerminal, FiveMinuteTicks);

        Assert.Equal(DecisionAction.Keep, decision.Action);
        Assert.Equal(ReasonCodes.IdleBelowThreshold, decision.Reason);
        if (!warned) { Assert.Null(decision.Notice); return; }
        var notice = Assert.IsType<StopNotice>(decision.Notice);
        Assert.Equal(Now + FiveMinuteTicks, notice.StopAt);
        Assert.False(notice.Hibernate);
        Assert.Equal("1 terminal idle past IgnoreIdleTerminalsAfter (60 min)", notice.Audience);
    }

    [Fact]
    public void AnUncountedTmuxSessionIsWarnedAndSoIsHibernation()
    {
        var instance = Instance(tags: [("AutoStop:IdleSince", Ago(11)), ("AutoStop:Action", "hibernate")]) with { HibernationConfigured = true };

        var notice = Decide(instance, Report(mux: 2), FiveMinuteTicks).Notice;

        Assert.NotNull(notice);
        Assert.True(notice.Hibernate);
        Assert.Equal("2 tmux/screen sessions (not counted)", notice.Audience);
    }

    [Fact]
    public void NobodyToTellNoNotice()
    {
        // Idle and due, but nobody is on it at all: nothing to write to.
        Assert.Null(Decide(IdleFor(12), Report(), FiveMinuteTicks).Notice);
    }

    [Fact]
    public void CountedPresenceIsUseNotANotice()
    {
        // A terminal used 10 minutes ago counts as a session: kept as active, no notice.
        var d = Decide(IdleFor(12), Report(ssh: 1, ttyIdle: 600), FiveMinuteTicks);
        Assert.Equal(ReasonCodes.ActiveSessions, d.Reason);
        Assert.Null(d.Notice);
        // tmux counted (CountMultiplexers true) is use too.
        d = Decide(IdleFor(12, ("AutoStop:CountMultiplexers", "true")), Report(mux: 1), FiveMinuteTicks);
        Assert.Equal(ReasonCodes.MultiplexerSessions, d.Reason);
        Assert.Null(d.Notice);
    }

    [Fact]
    public void NoNoticeInADryRunOrWithoutANextTickOrOnTheStopItself()
    {
        Assert.Null(Decide(IdleFor(12), ForgottenTerminal, FiveMinuteTicks, dryRun: true).Notice);
        Assert.Null(Decide(IdleFor(12), ForgottenTerminal, nextTickIn: null).Notice);
        var stop = Decide(IdleFor(20), ForgottenTerminal, FiveMinuteTicks);
        Assert.Equal(DecisionAction.Stop, stop.Action);
        Assert.Null(stop.Notice);
    }
}
