using System.Globalization;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Cli.Tests;

/// <summary>A lab served in real time (as `lab serve` does) for one test: the scenario's start is now, so tag times
/// written relative to now mean what they say.</summary>
public sealed class LabFleetServer : IAsyncDisposable
{
    public LabServer Server { get; private init; } = null!;
    public string Url => Server.Url;
    public DateTimeOffset Start { get; private init; }

    public static async Task<LabFleetServer> StartAsync(string instancesYaml)
    {
        var start = DateTimeOffset.UtcNow;
        var scenario = ScenarioLoader.Parse($"start: {Time(start)}\nduration: 2h\ninstances:\n{instancesYaml}");
        var server = await LabServer.StartAsync(new LabFleet(scenario, new LabClock(scenario.Start, followsRealTime: true)));
        return new LabFleetServer { Server = server, Start = start };
    }

    /// <summary>A time relative to the lab's start, in AutoStop's tag form.</summary>
    public static string Ago(int minutes) => Time(DateTimeOffset.UtcNow.AddMinutes(-minutes));

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public LabInstance Instance(string id) => Server.Fleet.Find(id) ?? throw new InvalidOperationException(id);

    public string State(string id)
    {
        Server.Fleet.Advance();
        lock (Instance(id).Gate) return Instance(id).State;
    }

    public string? Tag(string id, string key)
    {
        lock (Instance(id).Gate) return Instance(id).Tags.GetValueOrDefault(key);
    }

    public int Calls(string operation) => Server.Gate.Calls.GetValueOrDefault(operation);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
