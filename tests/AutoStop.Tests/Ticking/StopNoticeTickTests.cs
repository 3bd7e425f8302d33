using AutoStop.Aws;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Ticking;

/// <summary>The stop notice through a tick: who gets it, in how many calls, and what the lines say.</summary>
public class StopNoticeTickTests : TickTestBase
{
    private static readonly (string, string) NoticeDocument = ("AUTOSTOP_NOTICE_DOCUMENT", "AutoStop-test-notice-abc123");

    private void AddForgotten(string id, int idleMinutes) =>
        _aws.Add(Instance(id, tags: [("AutoStop:IdleSince", Time(Now.AddMinutes(-idleMinutes))), ("AutoStop:IgnoreIdleTerminalsAfter", "60")]),
            Ok(Report(ssh: 1, ttyIdle: 7200, users: "ana")));

    [Fact]
    public async Task InstancesDueAtTheNextTickAreWarnedInOneCallAndTheLinesSaySo()
    {
        AddForgotten("i-01", 11);
        AddForgotten("i-02", 12);
        AddForgotten("i-03", 5);   // not due at the next tick
        AddForgotten("i-04", 30);  // due now: stopped, not warned

        await Runner(Config(NoticeDocument)).RunTickAsync(At(Now), CancellationToken.None);

        var call = Assert.Single(_aws.NoticeCalls);
        Assert.Equal(["i-01", "i-02"], call.Ids.Order());
        Assert.Equal("AutoStop-test-notice-abc123", call.Request.DocumentName);
        Assert.Equal(Now.AddMinutes(5), call.Request.StopAt);
        Assert.False(call.Request.Hibernate);
        foreach (var id in new[] { "i-01", "i-02" })
        {
            var d = DecisionFor(id);
            Assert.True(d.GetProperty("warned").GetBoolean());
            Assert.Equal(Time(Now.AddMinutes(5)), d.GetProperty("stopAt").GetString());
            Assert.Contains("went to its 1 terminal idle past IgnoreIdleTerminalsAfter", d.GetProperty("message").GetString());
        }
        Assert.False(DecisionFor("i-03").TryGetProperty("warned", out _));
        Assert.Equal("stop", DecisionFor("i-04").GetProperty("action").GetString());
        Assert.False(DecisionFor("i-04").TryGetProperty("warned", out _));
        Assert.Equal(2, Lines("tick").Single().GetProperty("warned").GetInt32());
    }

    [Fact]
    public async Task ANoticeSSMRefusesIsSaidAndChangesNoDecision()
    {
        AddForgotten("i-01", 11);
        AddForgotten("i-02", 11);
        _aws.NoticeFailures["i-02"] = new AwsFailure("SSM:SendCommand", "InvalidInstanceId", "Instances [[i-02]] not in a valid state");

        await Runner(Config(NoticeDocument)).RunTickAsync(At(Now), CancellationToken.None);

        Assert.True(DecisionFor("i-01").GetProperty("warned").GetBoolean());
        var refused = DecisionFor("i-02");
        Assert.False(refused.GetProperty("warned").GetBoolean());
        Assert.Equal("keep", refused.GetProperty("action").GetString());
        Assert.Contains("could not be sent (InvalidInstanceId)", refused.GetProperty("message").GetString());
        Assert.Contains(Lines("error"), e => e.GetProperty("instanceId").GetString() == "i-02" && e.GetProperty("errorCode").GetString() == "InvalidInstanceId");
    }

    [Fact]
    public async Task NoNoticeWithoutTheDocumentOrInADryRun()
    {
        AddForgotten("i-01", 11);
        await Runner().RunTickAsync(At(Now), CancellationToken.None);
        await Runner(Config(NoticeDocument, ("AUTOSTOP_DRY_RUN", "true"))).RunTickAsync(At(Now.AddMinutes(1)), CancellationToken.None);

        Assert.Empty(_aws.NoticeCalls);
        Assert.All(Lines("decision"), d => Assert.False(d.TryGetProperty("warned", out _)));
    }

    [Fact]
    public async Task TheWarnedInstanceIsStoppedAtTheNextTickWhenNobodyCameBack()
    {
        AddForgotten("i-01", 11);
        var runner = Runner(Config(NoticeDocument));
        await runner.RunTickAsync(At(Now), CancellationToken.None);
        await runner.RunTickAsync(At(Now.AddMinutes(5)), CancellationToken.None);

        Assert.Single(_aws.NoticeCalls);
        Assert.Equal("stopped", _aws.Instances["i-01"].State);
    }
}
