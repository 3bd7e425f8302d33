namespace AutoStop.Lab.Tests;

/// <summary>
/// Issue 13's warning one tick ahead, end to end: the real function decides, sends the notice document through the lab's
/// SSM, the lab delivers it; then the stop comes at the time the notice gave.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class StopNoticeScenarioTests
{
    [Fact]
    public async Task AForgottenTerminalAndAnUncountedTmuxAreWarnedOneTickBeforeTheStopAndNobodyElseIs()
    {
        // alice left a terminal at 08:10 and a tmux session; after 60 min idle her terminal stops counting (09:10), the
        // idle clock starts then, the threshold (15 min) is reached at 09:25: the 09:20 tick warns her, the 09:25 one stops.
        var lab = await LabScenario.RunAsync("""
            start: 2026-11-23T08:00:00Z
            tickMinutes: 5
            duration: 100m
            config: { AUTOSTOP_NOTICE_DOCUMENT: AutoStop-StopNotice, AUTOSTOP_IGNORE_IDLE_TERMINALS_AFTER: "60" }
            instances:
              - { name: forgotten, tags: { AutoStop: "true" }, launchTime: "2026-11-23T07:00:00Z", sessions: [ { kind: ssh, user: alice, tty: true, from: "+0m", to: "+3h", idleAfter: 10m }, { kind: tmux, user: alice, from: "+0m", to: "+3h" } ] }
              - { name: empty, tags: { AutoStop: "true" }, launchTime: "2026-11-23T07:00:00Z" }
              - { name: working, tags: { AutoStop: "true" }, launchTime: "2026-11-23T07:00:00Z", sessions: [ { kind: ssh, user: bob, tty: true, from: "+0m", to: "+3h" } ] }
            """);

        var notice = Assert.Single(lab.Notices("forgotten"));
        Assert.Equal("2026-11-23T09:25:00Z", notice["stopAt"]!.GetValue<string>());
        Assert.Equal("stop", notice["action"]!.GetValue<string>());
        Assert.StartsWith("2026-11-23T09:20:", notice["time"]!.GetValue<string>());
        var warned = lab.Decisions("forgotten").Single(d => d["time"]!.GetValue<string>() == "2026-11-23T09:20:00Z");
        Assert.True(warned["warned"]!.GetValue<bool>());
        Assert.Equal("2026-11-23T09:25:00Z", warned["stopAt"]!.GetValue<string>());
        Assert.Contains("1 terminal idle past IgnoreIdleTerminalsAfter (60 min) and 1 tmux/screen session (not counted)", warned["message"]!.GetValue<string>());
        Assert.Contains("09:25 stop/idle-threshold-reached", lab.Story("forgotten"));
        Assert.Equal(1, lab.Lines("tick").Single(t => t["time"]!.GetValue<string>() == "2026-11-23T09:20:00Z")["warned"]!.GetValue<int>());

        // Nobody on it: stopped without a notice (there is nobody to tell). In use: never warned.
        Assert.Empty(lab.Notices("empty"));
        Assert.True(lab.Stops("empty") > 0);
        Assert.Empty(lab.Notices("working"));
        Assert.Equal(0, lab.Stops("working"));
    }
}
