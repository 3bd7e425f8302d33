namespace AutoStop.Lab.Tests;

/// <summary>
/// One poisoned instance among 20 idle ones, for each way AWS refuses a whole batch for one item (../shared/aws-notes.md,
/// "All-or-nothing batches", modelled by the lab with AWS's codes): the 20 are stopped at their threshold in the same tick
/// as with no poison at all, the poisoned one gets its own outcome, nobody's session is cut, and the calls the isolation
/// cost are in the tick lines.
/// </summary>
[Collection(LabCollection.Name)]
public class IsolationScenarioTests
{
    /// <summary>20 idle instances (threshold 15 min, 5-min ticks from 08:00): each due at 08:15.</summary>
    private static string Fleet(string poisoned, string idleTags = "", string idleFields = "") => $$"""
        start: 2026-11-23T08:00:00Z
        tickMinutes: 5
        duration: 30m
        seed: 11
        instances:
          - { name: idle, count: 20, tags: { AutoStop: "true"{{idleTags}} }{{idleFields}} }
          - {{poisoned}}
        """;

    private static void TheTwentyStopOnTime(LabScenario lab, string expectedAction = "stop")
    {
        for (var i = 1; i <= 20; i++)
        {
            var story = lab.Story($"idle-{i}");
            Assert.Contains($"08:15 {expectedAction}/idle-threshold-reached", story);
            Assert.DoesNotContain(story, s => s.CompareTo("08:15") < 0 && s.Contains("/idle-threshold-reached"));
            Assert.Equal(1, lab.Stops($"idle-{i}"));
        }
        lab.NoSessionInterrupted();
    }

    private static int IsolationCalls(LabScenario lab) => lab.Lines("tick").Sum(t => t["isolationCalls"]!.GetValue<int>());

    [Fact]
    public async Task AnInstanceWithNoRoomForAutoStopsTagsIsSkippedUpFront()
    {
        var lab = await LabScenario.RunAsync(Fleet("""{ name: tag-full, extraTags: 48, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: alice, from: "+0m", to: "+2h" } ] }"""));

        TheTwentyStopOnTime(lab);
        lab.NeverStopped("tag-full");
        Assert.All(lab.Story("tag-full"), s => Assert.EndsWith("skip/tag-limit", s));
        Assert.Contains("50", lab.Decisions("tag-full")[0]["message"]!.GetValue<string>());
        Assert.DoesNotContain(lab.Lines("error"), e => e["errorCode"]?.GetValue<string>() == "TagLimitExceeded");
    }

    [Fact]
    public async Task TagWritesIamRefusesForOneInstanceDoNotFailTheOthers()
    {
        var lab = await LabScenario.RunAsync(Fleet("""{ name: no-tags-allowed, iam: { deny: [ec2:CreateTags] }, tags: { AutoStop: "true" } }"""));

        TheTwentyStopOnTime(lab);
        // It can never record an idle period nor a StoppedAt, so it is never stopped; each refusal is logged on it.
        lab.NeverStopped("no-tags-allowed");
        Assert.Contains(lab.Lines("error"), e => e["operation"]!.GetValue<string>() == "EC2:CreateTags"
            && e["errorCode"]!.GetValue<string>() == "UnauthorizedOperation" && e["instanceId"] is not null);
        Assert.True(IsolationCalls(lab) > 0);
    }

    [Fact]
    public async Task SendCommandIamRefusesForOneInstanceStillProbesTheOthers()
    {
        var lab = await LabScenario.RunAsync(Fleet("""{ name: probe-denied, iam: { deny: [ssm:SendCommand] }, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: bob, from: "+0m", to: "+2h" } ] }"""));

        TheTwentyStopOnTime(lab);
        lab.NeverStopped("probe-denied");
        Assert.All(lab.Story("probe-denied"), s => Assert.EndsWith("skip/access-denied", s));
        Assert.True(IsolationCalls(lab) > 0);
        Assert.All(lab.Lines("tick"), t => Assert.Equal(1, t["unobservable"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AnInstanceThatLostItsSsmRegistrationIsIsolatedFromItsSendCommandBatch()
    {
        var lab = await LabScenario.RunAsync(Fleet("""{ name: deregistered, tags: { AutoStop: "true" }, faults: [ { kind: deregistered } ], sessions: [ { kind: ssm, user: carol, from: "+0m", to: "+2h" } ] }"""));

        TheTwentyStopOnTime(lab);
        lab.NeverStopped("deregistered");
        Assert.All(lab.Story("deregistered"), s => Assert.EndsWith("skip/probe-undeliverable", s));
        Assert.Contains("InvalidInstanceId", lab.Decisions("deregistered")[0]["probeDetail"]!.GetValue<string>());
        Assert.True(IsolationCalls(lab) > 0);
    }

    [Fact]
    public async Task APaddedOptInValueIsAnInvalidTagNotABlindedBatch()
    {
        var lab = await LabScenario.RunAsync(Fleet("""{ name: padded, tags: { AutoStop: " true" }, sessions: [ { kind: ssh, user: dan, from: "+0m", to: "+2h" } ] }"""));

        TheTwentyStopOnTime(lab);
        lab.NeverStopped("padded");
        Assert.All(lab.Story("padded"), s => Assert.EndsWith("skip/invalid-tag", s));
        Assert.Contains("' true'", lab.Decisions("padded")[0]["message"]!.GetValue<string>());
        Assert.DoesNotContain(lab.Lines("error"), e => e["errorCode"]?.GetValue<string>() is "AccessDeniedException" or "UnauthorizedOperation");
    }

    [Fact]
    public async Task AnInstanceSsmDoesNotKnowIsNotManagedAndBlindsNoOne()
    {
        var lab = await LabScenario.RunAsync(Fleet("""{ name: unknown-to-ssm, managed: false, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: eve, from: "+0m", to: "+2h" } ] }"""));

        TheTwentyStopOnTime(lab);
        lab.NeverStopped("unknown-to-ssm");
        Assert.All(lab.Story("unknown-to-ssm"), s => Assert.EndsWith("skip/not-ssm-managed", s));
    }

    [Fact]
    public async Task HibernationIsRequestedOnlyWhereConfiguredSoOneInstanceCannotFailTheBatch()
    {
        var lab = await LabScenario.RunAsync(Fleet(
            """{ name: not-configured, hibernation: false, tags: { AutoStop: "true", "AutoStop:Action": "hibernate" } }""",
            idleTags: """, "AutoStop:Action": "hibernate" """, idleFields: ", hibernation: true"));

        TheTwentyStopOnTime(lab, "hibernate");
        var plain = lab.Decisions("not-configured").Single(d => d["action"]!.GetValue<string>() == "stop");
        Assert.Equal("hibernation-not-configured", plain["fallback"]!.GetValue<string>());
        Assert.Equal("2026-11-23T08:15:00Z", plain["time"]!.GetValue<string>());
        Assert.DoesNotContain(lab.Lines("error"), e => e["errorCode"]?.GetValue<string>() == "UnsupportedHibernationConfiguration");
    }

    [Fact]
    public async Task ADeletedSpotRequestLeavesOnlyItsInstanceUnknown()
    {
        var lab = await LabScenario.RunAsync(Fleet(
            """{ name: request-gone, lifecycle: spot, spotType: persistent, spotRequestDeleted: true, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: fay, from: "+0m", to: "+2h" } ] }""",
            idleFields: ", lifecycle: spot, spotType: persistent"));

        TheTwentyStopOnTime(lab);
        lab.NeverStopped("request-gone");
        Assert.All(lab.Story("request-gone"), s => Assert.EndsWith("skip/spot-instance", s));
        Assert.Contains(lab.Lines("error"), e => e["operation"]!.GetValue<string>() == "EC2:DescribeSpotInstanceRequests"
            && e["errorCode"]!.GetValue<string>() == "InvalidSpotInstanceRequestID.NotFound");
        Assert.True(IsolationCalls(lab) > 0);
    }

    [Fact]
    public async Task AProbeWarningOnStderrIsReportedAndTheInstanceIsStillDecided()
    {
        var lab = await LabScenario.RunAsync(Fleet("""{ name: warns, tags: { AutoStop: "true" }, faults: [ { kind: agent-stderr, message: "setlocale: LC_ALL: cannot change locale" } ] }"""));

        TheTwentyStopOnTime(lab);
        var stop = lab.Decisions("warns").Single(d => d["action"]!.GetValue<string>() == "stop");
        Assert.Equal("2026-11-23T08:15:00Z", stop["time"]!.GetValue<string>());
        Assert.Contains("setlocale", stop["probeWarning"]!.GetValue<string>());
    }
}
