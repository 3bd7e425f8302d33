using System.Text.Json;
using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Probing;
using AutoStop.Reporting;
using AutoStop.Ticking;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Ticking;

public class TickRunnerTests : TickTestBase
{
    private void AddIdle(string id, int idleMinutes = 60, params (string, string)[] tags) =>
        _aws.Add(Instance(id, tags: [("AutoStop:IdleSince", Time(Now.AddMinutes(-idleMinutes))), .. tags]), Ok(Report()));

    [Fact]
    public async Task OneFailedStopDoesNotKeepTheOthersFromStoppingAndIsLogged()
    {
        AddIdle("i-01"); AddIdle("i-02"); AddIdle("i-03");
        _aws.StopFailures["i-02"] = new AwsFailure("EC2:StopInstances", "OperationNotPermitted", "The instance has stop protection enabled", "req-123");

        var outcome = await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.True(outcome.Completed);
        Assert.Equal("stopped", _aws.Instances["i-01"].State);
        Assert.Equal("running", _aws.Instances["i-02"].State);
        Assert.Equal("stopped", _aws.Instances["i-03"].State);
        Assert.Equal("stop", DecisionFor("i-01").GetProperty("action").GetString());
        Assert.Equal("stop", DecisionFor("i-03").GetProperty("action").GetString());
        var failed = DecisionFor("i-02");
        Assert.Equal("skip", failed.GetProperty("action").GetString());
        Assert.Equal("stop-failed", failed.GetProperty("reason").GetString());
        Assert.Equal("OperationNotPermitted", failed.GetProperty("errorCode").GetString());
        var error = Lines("error").Single();
        Assert.Equal("i-02", error.GetProperty("instanceId").GetString());
        Assert.Equal("req-123", error.GetProperty("requestId").GetString());
        var tick = Lines("tick").Single();
        Assert.Equal(2, tick.GetProperty("stopped").GetInt32());
        Assert.Equal(1, tick.GetProperty("failed").GetInt32());
        // StoppedAt goes on before the stop (so no stop is ever without it), and comes off the one EC2 refused.
        Assert.True(_aws.Instances["i-01"].Tags.ContainsKey("AutoStop:StoppedAt"));
        Assert.True(_aws.Instances["i-03"].Tags.ContainsKey("AutoStop:StoppedAt"));
        Assert.False(_aws.Instances["i-02"].Tags.ContainsKey("AutoStop:StoppedAt"));
        Assert.Equal(["AutoStop:StoppedAt"], DecisionFor("i-01").GetProperty("tagsWritten").EnumerateArray().Select(e => e.GetString()));
        Assert.False(failed.TryGetProperty("tagsWritten", out _));
    }

    [Fact]
    public async Task ATickPastItsDeadlineStopsNothingItHadNotDecided()
    {
        AddIdle("i-01"); AddIdle("i-02");
        _aws.ProbeDelay = TimeSpan.FromMilliseconds(600);

        await Runner().RunTickAsync(At(Now, deadlineSeconds: 0.2), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        Assert.All(_aws.Instances.Values, i => Assert.Equal("running", i.State));
        Assert.All(Lines("decision"), d =>
        {
            Assert.Equal("skip", d.GetProperty("action").GetString());
            Assert.Equal("deadline", d.GetProperty("reason").GetString());
        });
        Assert.True(Lines("tick").Single().GetProperty("deadlineReached").GetBoolean());
    }

    [Fact]
    public async Task IdleStateTagsAreWrittenOnlyOnTransitionsInOneCallPerChange()
    {
        for (var i = 1; i <= 30; i++) _aws.Add(Instance($"i-{i:00}"), Ok(Report()));
        var runner = Runner();

        await runner.RunTickAsync(At(Now), CancellationToken.None);
        var first = Assert.Single(_aws.SetTagCalls);
        Assert.Equal("AutoStop:IdleSince", first.Key);
        Assert.Equal(30, first.Ids.Count);
        Assert.Equal(Time(Now), first.Value);

        await runner.RunTickAsync(At(Now.AddMinutes(5)), CancellationToken.None);
        Assert.Single(_aws.SetTagCalls); // still idle: nothing written
        Assert.Empty(_aws.RemoveTagCalls);

        foreach (var id in new[] { "i-01", "i-02" }) _aws.Probes[id] = Ok(Report(ssh: 1));
        await runner.RunTickAsync(At(Now.AddMinutes(10)), CancellationToken.None);
        var cleared = Assert.Single(_aws.RemoveTagCalls);
        Assert.Equal(["i-01", "i-02"], cleared.Ids.Order());
        Assert.Equal(["AutoStop:IdleSince"], cleared.Keys);

        await runner.RunTickAsync(At(Now.AddMinutes(15)), CancellationToken.None);
        Assert.Equal(28, _aws.StopCalls.Single().Ids.Count); // the idle ones reach 15 minutes together, in one call
        Assert.Equal(1, _aws.Calls.Count("EC2:StopInstances"));
    }

    [Fact]
    public async Task DryRunStopsNothingButLogsWouldStopAndKeepsIdleState()
    {
        AddIdle("i-01");
        _aws.Add(Instance("i-02"), Ok(Report()));

        await Runner(Config(("AUTOSTOP_DRY_RUN", "true"))).RunTickAsync(At(Now), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        var d = DecisionFor("i-01");
        Assert.Equal("would-stop", d.GetProperty("action").GetString());
        Assert.Equal("dry-run", d.GetProperty("reason").GetString());
        Assert.True(d.GetProperty("dryRun").GetBoolean());
        Assert.Contains(_aws.SetTagCalls, c => c.Key == "AutoStop:IdleSince" && c.Ids.Contains("i-02"));
        Assert.DoesNotContain(_aws.SetTagCalls, c => c.Key == "AutoStop:StoppedAt");
        Assert.Equal(1, Lines("tick").Single().GetProperty("wouldStop").GetInt32());
    }

    [Fact]
    public async Task HibernateFallsBackToStopWhereUnsupportedAndSaysSo()
    {
        AddIdle("i-01", tags: ("AutoStop:Action", "hibernate"));
        AddIdle("i-02", tags: ("AutoStop:Action", "hibernate"));
        AddIdle("i-03", tags: ("AutoStop:Action", "hibernate"));
        foreach (var id in new[] { "i-01", "i-02" }) _aws.Instances[id] = _aws.Instances[id] with { HibernationConfigured = true };
        _aws.NoHibernation.Add("i-02"); // configured, yet EC2 refuses it on its own: a plain stop

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Equal("hibernate", DecisionFor("i-01").GetProperty("action").GetString());
        var fallback = DecisionFor("i-02");
        Assert.Equal("stop", fallback.GetProperty("action").GetString());
        Assert.Equal("hibernation-not-supported", fallback.GetProperty("fallback").GetString());
        // Not configured for hibernation: never asked to hibernate (EC2 would refuse the whole batch), stopped and said so.
        var notConfigured = DecisionFor("i-03");
        Assert.Equal("stop", notConfigured.GetProperty("action").GetString());
        Assert.Equal("hibernation-not-configured", notConfigured.GetProperty("fallback").GetString());
        Assert.DoesNotContain(_aws.StopCalls, c => c.Hibernate && c.Ids.Contains("i-03"));
        Assert.All(_aws.Instances.Values, i => Assert.Equal("stopped", i.State));
    }

    [Fact]
    public async Task InstancesThatCouldNotBeObservedAreNeverStopped()
    {
        var statuses = Enum.GetValues<ProbeStatus>().Where(s => s != ProbeStatus.Ok).ToList();
        for (var i = 0; i < statuses.Count; i++)
            _aws.Add(Instance($"i-{i:00}", tags: ("AutoStop:IdleSince", Time(Now.AddDays(-3)))), ProbeOutcome.Failure(statuses[i], "scripted"));

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Empty(_aws.StopCalls);
        var tick = Lines("tick").Single();
        // Delivered but failed (alarm-worthy) apart from cannot-be-observed-at-all (a standing condition).
        Assert.Equal(4, tick.GetProperty("probeFailures").GetInt32()); // timed out, failed, invalid output, not probed
        Assert.Equal(3, tick.GetProperty("unobservable").GetInt32()); // not managed, unsupported platform, undeliverable
        Assert.Equal(statuses.Count, tick.GetProperty("probeFailures").GetInt32() + tick.GetProperty("unobservable").GetInt32());
    }

    [Fact]
    public async Task DecisionTickAndMetricLinesFollowTheContract()
    {
        _aws.Add(Instance("i-01"), Ok(Report(ssh: 2, ssm: 1, preauth: 4, users: ["alice", "root"])));
        AddIdle("i-02");
        _aws.Add(Instance("i-03", state: "stopped", tags: ("AutoStop:StoppedAt", Time(Now.AddHours(-2)))));

        var outcome = await Runner(Config(("AUTOSTOP_SCHEDULE_MINUTES", "5"), ("AUTOSTOP_INSTANCE_METRICS", "true"))).RunTickAsync(At(Now), CancellationToken.None);

        var d = DecisionFor("i-01");
        foreach (var field in new[] { "event", "time", "instanceId", "name", "action", "reason", "message", "sessions", "idleSeconds", "thresholdSeconds", "probeStatus", "commandId", "users", "preauthConnections" })
            Assert.True(d.TryGetProperty(field, out _), field);
        // Compact lines: what says nothing (false, null, zero, empty) is left out.
        foreach (var field in new[] { "dryRun", "state", "keepAliveSeconds", "multiplexerSessions", "probeErrors", "load1" })
            Assert.False(d.TryGetProperty(field, out _), field);
        Assert.Equal(2, d.GetProperty("sessions").GetProperty("ssh").GetInt32());
        Assert.Equal(1, d.GetProperty("sessions").GetProperty("ssm").GetInt32());
        Assert.Contains("unauthenticated", d.GetProperty("message").GetString());
        Assert.Equal("2026-11-23T10:00:00Z", d.GetProperty("time").GetString());

        var tick = Lines("tick").Single();
        foreach (var field in new[] { "instances", "probed", "active", "idle", "stopped", "skipped", "failed", "durationMs", "apiCalls" })
            Assert.True(tick.TryGetProperty(field, out _), field);
        Assert.Equal(2, tick.GetProperty("instances").GetInt32());
        Assert.Equal(1, tick.GetProperty("active").GetInt32());
        Assert.Equal(1, tick.GetProperty("apiCalls").GetProperty("EC2:DescribeInstances").GetInt32());
        Assert.Equal(JsonDocument.Parse(outcome.SummaryJson).RootElement.GetProperty("stopped").GetInt32(), tick.GetProperty("stopped").GetInt32());

        var metrics = Lines("metrics");
        var sessions = metrics.Where(m => m.TryGetProperty("InstanceId", out _)).ToList();
        Assert.Equal(2, sessions.Count);
        Assert.Equal(3, sessions.Single(m => m.GetProperty("InstanceId").GetString() == "i-01").GetProperty("Sessions").GetInt32());
        var fleet = metrics.Single(m => !m.TryGetProperty("InstanceId", out _));
        var directive = fleet.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0];
        Assert.Equal("AutoStop", directive.GetProperty("Namespace").GetString());
        foreach (var metric in directive.GetProperty("Metrics").EnumerateArray())
            Assert.True(fleet.TryGetProperty(metric.GetProperty("Name").GetString()!, out _)); // every declared metric has a value
        Assert.Equal(5 / 60.0, fleet.GetProperty("InstanceHoursSaved").GetDouble(), 6);
        Assert.Equal(4, fleet.GetProperty("UnauthenticatedSshConnections").GetInt32());
        Assert.Equal(1, fleet.GetProperty("InstancesStopped").GetInt32());
    }

    [Fact]
    public async Task InstanceMetricsAreOffByDefault()
    {
        AddIdle("i-01");
        await Runner().RunTickAsync(At(Now), CancellationToken.None);
        Assert.DoesNotContain(Lines("metrics"), m => m.TryGetProperty("InstanceId", out _));
        Assert.Single(Lines("metrics"));
    }

    [Fact]
    public async Task AnInventoryFailureDecidesNothingAndReportsIncomplete()
    {
        AddIdle("i-01");
        _aws.InventoryFailure = new AwsFailure("EC2:DescribeInstances", "UnauthorizedOperation", "not allowed", "req-9");

        var outcome = await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.False(outcome.Completed);
        Assert.Empty(Lines("decision"));
        Assert.Equal("UnauthorizedOperation", Lines("error").Single().GetProperty("errorCode").GetString());
        Assert.Empty(_aws.StopCalls);
    }

    [Fact]
    public async Task ABadInstanceIsSkippedAndTheOthersAreStillDecided()
    {
        AddIdle("i-01", tags: ("AutoStop:IdleMinutes", "often"));
        AddIdle("i-02");

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Equal("invalid-tag", DecisionFor("i-01").GetProperty("reason").GetString());
        Assert.Contains("often", DecisionFor("i-01").GetProperty("message").GetString());
        Assert.Equal("stop", DecisionFor("i-02").GetProperty("action").GetString());
    }

    [Fact]
    public async Task RestartedInstanceHasItsStoppedAtAndIdleSinceCleared()
    {
        _aws.Add(Instance("i-01", launch: Now.AddMinutes(-2), tags: [("AutoStop:StoppedAt", Time(Now.AddHours(-5))), ("AutoStop:IdleSince", Time(Now.AddHours(-6)))]), Ok(Report()));

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Contains(_aws.RemoveTagCalls, c => c.Keys.SequenceEqual(["AutoStop:StoppedAt", "AutoStop:StopReason"]));   // the stop's two tags go together
        Assert.Equal(Time(Now), _aws.Instances["i-01"].Tags["AutoStop:IdleSince"]); // the old idle period is replaced, not kept
        Assert.Equal("boot-grace", DecisionFor("i-01").GetProperty("reason").GetString());
        Assert.False(_aws.Instances["i-01"].Tags.ContainsKey("AutoStop:StoppedAt"));
    }

    [Fact]
    public async Task AStopRecordsWhenWhyAndHowLongIdleInItsTags()
    {
        AddIdle("i-01", idleMinutes: 20);
        AddIdle("i-02", idleMinutes: 20);
        AddIdle("i-03", idleMinutes: 45);

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Equal(Time(Now), _aws.Instances["i-01"].Tags["AutoStop:StoppedAt"]);
        Assert.Equal("stop: idle 20+ min / threshold 15 min", _aws.Instances["i-01"].Tags["AutoStop:StopReason"]);
        Assert.Equal("stop: idle 45+ min / threshold 15 min", _aws.Instances["i-03"].Tags["AutoStop:StopReason"]);
        // StoppedAt first (before the stop), StopReason after it, one CreateTags per distinct text (coarse steps, so few).
        var keys = _aws.SetTagCalls.Select(c => c.Key).ToList();
        Assert.True(keys.IndexOf("AutoStop:StoppedAt") < keys.IndexOf("AutoStop:StopReason"));
        Assert.Equal(2, _aws.SetTagCalls.Count(c => c.Key == "AutoStop:StopReason"));
        Assert.Contains(_aws.SetTagCalls, c => c.Key == "AutoStop:StopReason" && c.Ids.Order().SequenceEqual(["i-01", "i-02"]));
    }

    [Fact]
    public async Task AStopReasonThatCannotBeWrittenIsLoggedAndTheStopStands()
    {
        AddIdle("i-01");
        _aws.KeyTagFailures[("i-01", "AutoStop:StopReason")] = new AwsFailure("EC2:CreateTags", "RequestLimitExceeded", "slow down");

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        Assert.Equal("stopped", _aws.Instances["i-01"].State);
        Assert.Equal("stop", DecisionFor("i-01").GetProperty("action").GetString());
        var error = Lines("error").Single();
        Assert.Equal("i-01", error.GetProperty("instanceId").GetString());
        Assert.Contains("Could not write AutoStop:StopReason (the stop itself went out)", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AQuickRestartIsLoggedCountedAndPublished()
    {
        // i-01: stopped 09:00, started again 09:07 (quick); i-02: stopped 05:00, started again 09:00 (not quick).
        _aws.Add(Instance("i-01", launch: Now.AddMinutes(-53), tags: [("AutoStop:StoppedAt", Time(Now.AddMinutes(-60))), ("AutoStop:StopReason", "stop: idle 15 min")]), Ok(Report(ssh: 1, users: "alice")));
        _aws.Add(Instance("i-02", launch: Now.AddMinutes(-60), tags: ("AutoStop:StoppedAt", Time(Now.AddHours(-5)))), Ok(Report()));

        await Runner().RunTickAsync(At(Now), CancellationToken.None);

        var quick = DecisionFor("i-01");
        Assert.Equal(7 * 60, quick.GetProperty("restartedAfterSeconds").GetInt64());
        Assert.True(quick.GetProperty("quickRestart").GetBoolean());
        Assert.Contains("Started again 7 min after AutoStop stopped it", quick.GetProperty("message").GetString());
        var slow = DecisionFor("i-02");
        Assert.Equal(4 * 3600, slow.GetProperty("restartedAfterSeconds").GetInt64());
        Assert.False(slow.TryGetProperty("quickRestart", out _));
        Assert.Equal(1, Lines("tick").Single().GetProperty("quickRestarts").GetInt32());
        var metrics = Lines("metrics").Single(m => m.TryGetProperty("QuickRestarts", out _));
        Assert.Equal(1, metrics.GetProperty("QuickRestarts").GetDouble());
        Assert.False(_aws.Instances["i-01"].Tags.ContainsKey("AutoStop:StopReason"));   // cleared with StoppedAt
    }
}
