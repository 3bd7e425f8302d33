using System.Text.Json;
using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Probing;
using AutoStop.Reporting;
using AutoStop.Ticking;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Ticking;

/// <summary>
/// The three rules every tick keeps: one instance's failure never fails its neighbours; nothing is stopped without its
/// decision line (and StoppedAt); the idle clock never starts before the last person left. Plus a stop acts on a fresh look.
/// </summary>
public class TrustRuleTests : TickTestBase
{
    private void AddIdle(string id, int idleMinutes = 60, ProbeReport? report = null) =>
        _aws.Add(Instance(id, tags: ("AutoStop:IdleSince", Time(Now.AddMinutes(-idleMinutes)))), Ok(report ?? Report()));

    [Fact]
    public async Task AnInstanceWhoseStoppedAtCannotBeWrittenIsNotStoppedAndTheOthersAre()
    {
        AddIdle("i-01"); AddIdle("i-02"); AddIdle("i-03");
        _aws.TagFailures["i-02"] = new AwsFailure("EC2:CreateTags", "UnauthorizedOperation", "You are not authorized to perform this operation.");

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Equal("stopped", _aws.Instances["i-01"].State);
        Assert.Equal("running", _aws.Instances["i-02"].State);
        Assert.Equal("stopped", _aws.Instances["i-03"].State);
        Assert.Equal("access-denied", DecisionFor("i-02").GetProperty("reason").GetString());
        Assert.DoesNotContain(_aws.StopCalls, c => c.Ids.Contains("i-02"));
    }

    [Fact]
    public async Task EveryStopHasItsLineAndStoppedAtEvenWhenTheDeadlineCutsTheTickShort()
    {
        for (var i = 1; i <= 5; i++) AddIdle($"i-{i:00}");
        _aws.AnswerDelays["i-05"] = TimeSpan.FromMilliseconds(1500); // answers after the deadline's act window

        await Runner().RunTickAsync(At(Now, deadlineSeconds: 2.5), CancellationToken.None);

        var decisions = Lines("decision");
        Assert.Equal(5, decisions.Count);
        foreach (var instance in _aws.Instances.Values.Where(i => i.State == "stopped"))
        {
            Assert.Equal("stop", DecisionFor(instance.InstanceId).GetProperty("action").GetString());
            Assert.True(instance.Tags.ContainsKey("AutoStop:StoppedAt"));
        }
        Assert.Equal("running", _aws.Instances["i-05"].State);
        Assert.Equal("deadline", DecisionFor("i-05").GetProperty("reason").GetString());
        Assert.True(Lines("tick").Single().GetProperty("deadlineReached").GetBoolean());
    }

    [Fact]
    public async Task ASlowInstanceDoesNotHoldBackTheStopsOfTheOthers()
    {
        AddIdle("i-01"); AddIdle("i-02");
        _aws.AnswerDelays["i-03"] = TimeSpan.FromSeconds(2);
        AddIdle("i-03");

        var started = DateTimeOffset.UtcNow;
        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Equal(2, _aws.StopCalls.Count); // the fast two at once, the slow one when it answered
        Assert.Equal(["i-01", "i-02"], _aws.StopCalls[0].Ids.Order());
        // Held back behind the slow one, the fast two's looks would be over 2 s old; the bound leaves room for a loaded machine.
        foreach (var id in new[] { "i-01", "i-02", "i-03" })
            Assert.InRange(DecisionFor(id).GetProperty("observationAgeMs").GetInt64(), 0, 1500);
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task StopsArrivingWhileEc2IsSlowShareCallsInsteadOfQueueingOneCallPerBatch()
    {
        // 40 answers, one every 20 ms, while each StopInstances takes 300 ms: one call per batch of answers would be 40
        // calls queueing behind four in flight (and looks going stale); the queue hands each free actor all that waits.
        for (var i = 1; i <= 40; i++)
        {
            AddIdle($"i-{i:00}");
            _aws.AnswerDelays[$"i-{i:00}"] = TimeSpan.FromMilliseconds(20);
        }
        _aws.StopDelay = TimeSpan.FromMilliseconds(300);

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.All(_aws.Instances.Values, i => Assert.Equal("stopped", i.State));
        Assert.InRange(_aws.StopCalls.Count, 2, 20);
        Assert.Equal(40, _aws.StopCalls.Sum(c => c.Ids.Count));
        Assert.All(Lines("decision"), d => Assert.Equal("stop", d.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task AStopIsNeverSentOnALookOlderThanTheBound()
    {
        AddIdle("i-01");
        _aws.ObservationAge = TimeSpan.FromSeconds(30);

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        var d = DecisionFor("i-01");
        Assert.Equal("stale-observation", d.GetProperty("reason").GetString());
        Assert.Contains("bound is 10 s", d.GetProperty("message").GetString());
        Assert.False(_aws.Instances["i-01"].Tags.ContainsKey("AutoStop:StoppedAt"));
    }

    [Fact]
    public async Task ASessionManagerSessionBetweenTicksRestartsTheIdleClockAtItsEnd()
    {
        AddIdle("i-01", idleMinutes: 20);
        _aws.SsmSessionEnds["i-01"] = Now.AddMinutes(-3); // 08:06-08:09 style: no process left for the probe to see

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        var d = DecisionFor("i-01");
        Assert.Equal("idle-below-threshold", d.GetProperty("reason").GetString());
        Assert.Equal(180, d.GetProperty("idleSeconds").GetInt64());
        Assert.Contains("Session Manager session ended 3 min ago", d.GetProperty("message").GetString());
        Assert.Equal(180, d.GetProperty("lastSsmSessionEndAgeSeconds").GetInt64());
    }

    [Fact]
    public async Task WithoutSessionManagerHistoryNothingIsStoppedForIdlenessButKeepsStillWork()
    {
        AddIdle("i-01");
        _aws.Add(Instance("i-02"), Ok(Report(ssh: 1)));
        _aws.HistoryFailure = new AwsFailure("SSM:DescribeSessions", "AccessDeniedException", "not allowed");

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        Assert.Equal("no-session-history", DecisionFor("i-01").GetProperty("reason").GetString());
        Assert.Equal("active-sessions", DecisionFor("i-02").GetProperty("reason").GetString());
        Assert.Contains(Lines("error"), e => e.GetProperty("operation").GetString() == "SSM:DescribeSessions");
    }

    [Fact]
    public async Task AFailedClearOfIdleSinceIsReplacedByTheNextTickSoTheNextIdleTickCannotStopEarly()
    {
        // 10:00: two people on it, IdleSince from 08:10 is stale and DeleteTags fails (CreateTags still works).
        _aws.Add(Instance("i-01", tags: ("AutoStop:IdleSince", Time(Now.AddMinutes(-110)))), Ok(Report(ssh: 2)));
        _aws.RemoveTagFailures["i-01"] = new AwsFailure("EC2:DeleteTags", "InternalError", "An internal error has occurred.");
        var runner = Runner(Config(("AUTOSTOP_IDLE_MINUTES", "30")));
        await runner.RunTickAsync(At(Now), CancellationToken.None);
        Assert.Contains(Lines("error"), e => e.GetProperty("operation").GetString() == "EC2:DeleteTags");

        // The fallback CreateTags wrote IdleSince = the next tick's time.
        _aws.RemoveTagFailures.Clear();
        Assert.Equal(Time(Now.AddMinutes(5)), _aws.Instances["i-01"].Tags["AutoStop:IdleSince"]);
        // They left at 10:02 (no logout source on this instance, a new process with no memory); 10:05 is idle.
        _aws.Probes["i-01"] = Ok(Report());
        var fresh = Runner(Config(("AUTOSTOP_IDLE_MINUTES", "30")));
        await fresh.RunTickAsync(At(Now.AddMinutes(5)), CancellationToken.None);
        await fresh.RunTickAsync(At(Now.AddMinutes(30)), CancellationToken.None);

        Assert.Empty(_aws.StopCalls); // 10:30 is only 25 minutes after the first tick that could see them gone
        var last = Lines("decision").Last();
        Assert.Equal("idle-below-threshold", last.GetProperty("reason").GetString());
        Assert.Equal(25 * 60, last.GetProperty("idleSeconds").GetInt64());
        await fresh.RunTickAsync(At(Now.AddMinutes(35)), CancellationToken.None);
        Assert.Single(_aws.StopCalls);
    }

    [Fact]
    public async Task AFailedClearThatCannotBeRepairedStillCannotStopEarlyInAWarmProcess()
    {
        _aws.Add(Instance("i-01", tags: ("AutoStop:IdleSince", Time(Now.AddMinutes(-110)))), Ok(Report(ssh: 2)));
        _aws.TagFailures["i-01"] = new AwsFailure("EC2:DeleteTags", "UnauthorizedOperation", "not allowed");
        var runner = Runner(Config(("AUTOSTOP_IDLE_MINUTES", "30")));
        await runner.RunTickAsync(At(Now), CancellationToken.None);
        Assert.Equal(Time(Now.AddMinutes(-110)), _aws.Instances["i-01"].Tags["AutoStop:IdleSince"]); // still stale

        _aws.Probes["i-01"] = Ok(Report());
        await runner.RunTickAsync(At(Now.AddMinutes(5)), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        var last = Lines("decision").Last();
        Assert.Equal("idle-below-threshold", last.GetProperty("reason").GetString());
        Assert.Contains("the tick before this one saw it in use", last.GetProperty("message").GetString());
        Assert.Equal(0, last.GetProperty("idleSeconds").GetInt64());
    }

    [Fact]
    public async Task NonsenseTimesDecideEveryInstanceInsteadOfCrashingTheTick()
    {
        AddIdle("i-01", report: Report(loginAge: 64_000_000_000));
        AddIdle("i-02");

        await Runner().RunTickAsync(At(DateTimeOffset.MinValue), CancellationToken.None);
        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Equal(4, Lines("decision").Count);
        Assert.Equal(2, Lines("tick").Count);
        Assert.Equal("stopped", _aws.Instances["i-01"].State); // the 2000-year-old login is no evidence of use
    }

    [Fact]
    public async Task MaintenanceAtWorkKeepsAnIdleInstanceUp()
    {
        AddIdle("i-01", report: Report() with { SystemBusy = ["dpkg (pid 812)", "ssm-document-worker: another SSM command (pid 901)"] });

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        var d = DecisionFor("i-01");
        Assert.Equal("system-busy", d.GetProperty("reason").GetString());
        Assert.Contains("dpkg (pid 812)", d.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AFutureIdleSinceIsRewrittenAndSaidSo()
    {
        _aws.Add(Instance("i-01", tags: ("AutoStop:IdleSince", Time(Now.AddDays(30)))), Ok(Report()));

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        var d = DecisionFor("i-01");
        Assert.Equal("idle-below-threshold", d.GetProperty("reason").GetString());
        Assert.Contains("in the future", d.GetProperty("message").GetString());
        Assert.Equal(Time(Now), _aws.Instances["i-01"].Tags["AutoStop:IdleSince"]);
    }
}
