using System.Text.Json.Nodes;

namespace AutoStop.Lab.Tests;

/// <summary>
/// A tick that runs out of time, or meets a throttling storm, still says what it did: every instance the lab saw stopped
/// has its decision line and its StoppedAt tag, and every tick has its tick line.
/// </summary>
[Collection(LabCollection.Name)]
public class DeadlineScenarioTests
{
    /// <summary>Every instance the lab stopped (StopInstances moved it to stopping) at the tick starting <paramref name="tick"/>.</summary>
    private static void EveryStopHasItsLineAndTag(LabScenario lab)
    {
        var stopLines = lab.Lines("decision").Where(d => d["action"]!.GetValue<string>() is "stop" or "hibernate")
            .Select(d => (Id: d["instanceId"]!.GetValue<string>(), Time: d["time"]!.GetValue<string>())).ToHashSet();
        var stopped = 0;
        foreach (var instance in lab.Run.Fleet.Instances)
        {
            foreach (var change in instance.Timeline.Where(c => c.State == "stopping"))
            {
                stopped++;
                var tick = lab.Run.Ticks.Last(t => t.Time <= change.Time).Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
                Assert.True(stopLines.Contains((instance.Id, tick)), $"{instance.Id} was stopped at {change.Time:HH:mm:ss} with no stop line in the {tick} tick");
            }
            if (instance.Timeline.Any(c => c.State == "stopping"))
                Assert.True(instance.Tags.ContainsKey("AutoStop:StoppedAt"), $"{instance.Id} was stopped without AutoStop:StoppedAt");
        }
        Assert.True(stopped > 0, "the scenario stopped nothing, so it shows nothing");
        Assert.Equal(lab.Run.Ticks.Count, lab.Lines("tick").Count);
    }

    [Fact]
    public async Task ATickCutShortDuringItsStopsLeavesALineForEveryStopAndItsTickLine()
    {
        // 450 idle instances due at 08:15; StopInstances takes 12 s a call (as under heavy throttling); the function has
        // 20 s. Probes finish over 9 s, so answers trickle in and queue for the stop calls, four at once: the four in
        // flight end at about 13 s, and a call started then could not finish before the deadline, so it is not sent:
        // its instances are logged as deadline, left running, and the next ticks stop more of them. (The
        // observation-age bound is widened to 60 s here, or 12-s calls would make those looks stale first.)
        var lab = await LabScenario.RunAsync("""
            start: 2026-11-23T08:00:00Z
            tickMinutes: 5
            duration: 35m
            seed: 9
            functionTimeoutSeconds: 20
            config: { AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS: "60" }
            ssm: { deliveryMs: { min: 100, max: 300 }, executionMs: { min: 200, max: 9000 } }
            apiFaults:
              - { operation: "EC2:StopInstances", throttleRate: 0, errorRate: 0, latencyMs: { min: 12000, max: 12000 } }
            instances:
              - { name: idle, count: 450, tags: { AutoStop: "true" } }
            """);

        EveryStopHasItsLineAndTag(lab);
        var cut = lab.Lines("tick").Single(t => t["time"]!.GetValue<string>() == "2026-11-23T08:15:00Z");
        Assert.True(cut["deadlineReached"]!.GetValue<bool>());
        var cutLines = lab.Lines("decision").Where(d => d["time"]!.GetValue<string>() == "2026-11-23T08:15:00Z").ToList();
        Assert.Equal(450, cutLines.Select(d => d["instanceId"]!.GetValue<string>()).Distinct().Count()); // cut short, every instance has its line
        var leftRunning = cutLines.Where(d => d["reason"]!.GetValue<string>() == "deadline").Select(d => d["instanceId"]!.GetValue<string>()).ToHashSet();
        Assert.NotEmpty(leftRunning);
        // What the deadline left running is stopped by later ticks.
        var stoppedLater = lab.Run.Fleet.Instances.Count(i => leftRunning.Contains(i.Id) && i.Timeline.Any(c => c.State == "stopping"));
        Assert.True(stoppedLater > 0, "no instance the deadline left running was stopped by a later tick");
        lab.NoSessionInterrupted();
    }

    [Fact]
    public async Task AThrottlingStormStillLeavesALineForEveryStopAndEveryTick()
    {
        var lab = await LabScenario.RunAsync("""
            start: 2026-11-23T08:00:00Z
            tickMinutes: 5
            duration: 40m
            seed: 13
            functionTimeoutSeconds: 30
            apiFaults:
              - { operation: "*", throttleRate: 0.7, errorRate: 0, latencyMs: { min: 5, max: 30 } }
            instances:
              - { name: idle, count: 40, tags: { AutoStop: "true" } }
              - { name: busy, count: 5, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: kim, from: "+0m", to: "+2h" } ] }
            """);

        // A tick whose listing failed even after every retry says so (completed: false) and decides nothing; the others decide.
        Assert.Contains(lab.Lines("tick"), t => t["completed"]!.GetValue<bool>());
        EveryStopHasItsLineAndTag(lab);
        for (var i = 1; i <= 5; i++) lab.NeverStopped($"busy-{i}");
        lab.NoSessionInterrupted();
        Assert.True(lab.Summary["throttledCallsTotal"]!.GetValue<int>() > 0);
    }
}
