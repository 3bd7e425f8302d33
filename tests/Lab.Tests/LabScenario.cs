using System.Text.Json.Nodes;
using AutoStop.Lab.Running;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabCollection
{
    // Scenario runs each start the real function and a server: one at a time keeps them from starving each other.
    public const string Name = "lab";
}

/// <summary>A finished lab run of the real function, with helpers to read its decision log and summary.</summary>
internal sealed record LabScenario(LabRunResult Run, JsonObject Summary)
{
    public static async Task<LabScenario> RunAsync(string yaml)
    {
        var scenario = ScenarioLoader.Parse(yaml);
        var result = await new LabRun(scenario, FunctionBuild.Jit, skipBuild: true, TextWriter.Null).RunAsync(CancellationToken.None);
        Assert.False(result.Crashed, $"the function crashed: {result.CrashReason}\n{string.Join('\n', result.FunctionStderr)}");
        return new LabScenario(result, RunSummary.Build(result));
    }

    public List<JsonObject> Decisions(string name) =>
        RunSummary.Events(Run.Log, "decision").Where(d => d["name"]?.GetValue<string>() == name).ToList();

    /// <summary>The instance's decisions as "HH:mm action/reason", for readable assertions.</summary>
    public List<string> Story(string name) =>
        Decisions(name).Select(d => $"{d["time"]!.GetValue<string>()[11..16]} {d["action"]}/{d["reason"]}").ToList();

    public JsonObject Instance(string name) =>
        Summary["instances"]!.AsArray().Select(i => i!.AsObject()).Single(i => i["name"]!.GetValue<string>() == name);

    public int Stops(string name) => Instance(name)["stops"]!.AsArray().Count;

    /// <summary>The stop notices delivered to the instance (summary.json notices: time, stopAt, action, terminals, tmuxClients).</summary>
    public List<JsonObject> Notices(string name) =>
        Summary["notices"]!.AsArray().Select(n => n!.AsObject()).Where(n => n["name"]!.GetValue<string>() == name).ToList();

    public void NoSessionInterrupted() =>
        Assert.True(Summary["fleet"]!["sessionsInterrupted"]!.GetValue<int>() == 0, "sessions were interrupted: " + string.Join("; ",
            Summary["instances"]!.AsArray().Where(i => i!["sessionsInterrupted"]!.AsArray().Count > 0)
                .Select(i => $"{i!["name"]}: {i["sessionsInterrupted"]!.ToJsonString()}")));

    public List<JsonObject> Lines(string kind) => RunSummary.Events(Run.Log, kind);

    /// <summary>How many of the instance's decisions the summary counts under "action/reason".</summary>
    public int Counted(string name, string actionReason) => Instance(name)["decisions"]![actionReason]?.GetValue<int>() ?? 0;

    /// <summary>The safety case: no stop or hibernate decision, no stop in the summary, no session of its cut off.</summary>
    public void NeverStopped(string name)
    {
        Assert.DoesNotContain(Decisions(name), d => d["action"]!.GetValue<string>() is "stop" or "hibernate");
        Assert.Equal(0, Stops(name));
        Assert.Empty(Instance(name)["sessionsInterrupted"]!.AsArray());
        Assert.DoesNotContain(Instance(name)["timeline"]!.AsArray(), c => c!["state"]!.GetValue<string>() == "stopping");
    }
}
