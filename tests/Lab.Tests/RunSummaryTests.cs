using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Running;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Tests;

/// <summary>How the summary judges a stop, independently of the function: a fleet is stopped by hand at a known
/// virtual moment, after a probe that looked at a known moment.</summary>
public class RunSummaryTests
{
    [Fact]
    public void AStopReportsTheSessionsAndMaintenanceItCutOffAndHowOldItsLookWas()
    {
        var scenario = ScenarioLoader.Parse("""
            start: 2026-11-23T08:00:00Z
            duration: 1h
            instances:
              - id: i-0a00000000000000a
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: mosh, user: mia, from: "+0m", to: "+30m" }
                  - { kind: et, user: eli, from: "+10m", to: "+40m" }
                  - { kind: ssh, user: sam, from: "+0m", to: "+5m" }
                busy:
                  - { kind: patch, from: "+5m", to: "+20m" }
                  - { kind: apt, from: "+30m", to: "+35m" }
            """);
        var fleet = new LabFleet(scenario, new LabClock(scenario.Start, followsRealTime: false));
        var instance = fleet.Instances[0];
        var real = DateTimeOffset.UtcNow;
        // Two looks: at 08:09:58.500 (answered) and 08:10:30 (after the stop: not the one it was decided on).
        fleet.Commands.Add(new LabCommand("c1", "AutoStop-SessionProbe", "", real, 60,
            [new LabInvocation(instance.Id, "a", real, real) { ObservedAt = scenario.Start + TimeSpan.FromSeconds(598.5) }]));
        fleet.Commands.Add(new LabCommand("c2", "AutoStop-SessionProbe", "", real, 60,
            [new LabInvocation(instance.Id, "a", real, real) { ObservedAt = scenario.Start + TimeSpan.FromSeconds(630) }]));
        instance.Stop(scenario.Start + TimeSpan.FromMinutes(10), hibernate: false);

        var run = new LabRunResult(scenario, fleet, new ApiGate(scenario), FunctionBuild.Jit, [], [], [], null, null, null, false, null, 1);
        var summary = RunSummary.Build(run);
        var judged = summary["instances"]![0]!;

        // mosh was live at the stop; et began at the stop itself (live from 08:10); sam's SSH had ended at 08:05.
        Assert.Equal(["et/eli", "mosh/mia"], judged["sessionsInterrupted"]!.AsArray().Select(s => $"{s!["kind"]}/{s["user"]}").Order());
        Assert.Equal(2, summary["fleet"]!["sessionsInterrupted"]!.GetValue<int>());
        var busy = Assert.Single(judged["busyInterrupted"]!.AsArray())!;
        Assert.Equal("patch", busy["kind"]!.GetValue<string>());
        Assert.Equal("2026-11-23T08:10:00.000Z", busy["stoppedAt"]!.GetValue<string>());
        Assert.Equal(1, summary["fleet"]!["busyInterrupted"]!.GetValue<int>());
        var observation = Assert.Single(judged["stopObservations"]!.AsArray())!;
        Assert.Equal("2026-11-23T08:09:58.500Z", observation["observedAt"]!.GetValue<string>());
        Assert.Equal(1.5, observation["observationAgeSeconds"]!.GetValue<double>());
        Assert.Equal(1.5, summary["fleet"]!["observationAgeSecondsMax"]!.GetValue<double>());
    }
}
