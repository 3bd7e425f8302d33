using System.Text.Json;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Tests;

/// <summary>A lab served in real time from a scenario, and the AWS CLI pointed at it (botocore's exact wire shapes).</summary>
internal sealed class LabCli : IAsyncDisposable
{
    public LabServer Server { get; }

    private LabCli(LabServer server) => Server = server;

    public static async Task<LabCli> StartAsync(string yaml)
    {
        var scenario = ScenarioLoader.Parse(yaml);
        return new LabCli(await LabServer.StartAsync(new LabFleet(scenario, new LabClock(scenario.Start, followsRealTime: true))));
    }

    /// <summary>Runs aws with the arguments; asserts it succeeded and returns its JSON output.</summary>
    public async Task<JsonElement> Aws(params string[] args)
    {
        var (code, stdout, stderr) = await Run(args);
        Assert.True(code == 0, $"aws {string.Join(' ', args)} failed ({code}): {stderr}");
        return stdout.Trim().Length == 0 ? default : JsonDocument.Parse(stdout).RootElement.Clone();
    }

    /// <summary>Runs aws expecting it to fail with <paramref name="errorCode"/>; returns the CLI's error text.</summary>
    public async Task<string> Fails(string errorCode, params string[] args)
    {
        var (code, stdout, stderr) = await Run(args);
        Assert.True(code != 0, $"aws {string.Join(' ', args)} was expected to fail with {errorCode} but succeeded: {stdout}");
        Assert.Contains($"({errorCode})", stderr);
        return stderr;
    }

    public Task<(int Code, string Stdout, string Stderr)> Run(params string[] args) => ChildProcess.AwsAsync(Server.Url, args);

    /// <summary>The command's invocations (with details) once each satisfies <paramref name="done"/>; polls a bounded number of times.</summary>
    public async Task<List<JsonElement>> InvocationsWhen(string commandId, Func<JsonElement, bool> done, int attempts = 50)
    {
        var invocations = new List<JsonElement>();
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            invocations = (await Aws("ssm", "list-command-invocations", "--command-id", commandId, "--details")).GetProperty("CommandInvocations").EnumerateArray().ToList();
            if (invocations.Count > 0 && invocations.All(done)) return invocations;
            await Task.Delay(100);
        }
        Assert.Fail($"invocations of {commandId} did not reach the expected state: {string.Join(", ", invocations.Select(v => v.GetProperty("Status").GetString()))}");
        return invocations;
    }

    /// <summary>The instance's tags as the lab holds them now.</summary>
    public Dictionary<string, string> Tags(string id)
    {
        var instance = Server.Fleet.Find(id)!;
        lock (instance.Gate) return new Dictionary<string, string>(instance.Tags, StringComparer.Ordinal);
    }

    public string State(string id) => Server.Fleet.Find(id)!.State;

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>A timestamp as the AWS CLI v1 prints it: the wire's epoch seconds as they came (cli_timestamp_format none),
/// or ISO-8601 when configured so.</summary>
internal static class CliTime
{
    public static DateTimeOffset Of(JsonElement value) => value.ValueKind == JsonValueKind.Number
        ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(value.GetDouble() * 1000))
        : DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
}
