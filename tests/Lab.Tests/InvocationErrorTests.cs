using AutoStop.Lab.Running;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Tests;

/// <summary>
/// How a run judges the invocation errors a function reports. The real function does not fail on purpose, so a
/// stand-in runtime (a shell script speaking the Runtime API with curl) reports the errors; the lab is what is tested.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class InvocationErrorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("lab-runtime-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task AnUnhandledExceptionIsACrash()
    {
        var result = await RunWithStandIn("AutoStop.UnhandledException");
        Assert.True(result.Crashed);
        Assert.Contains("AutoStop.UnhandledException", result.CrashReason);
        Assert.True(RunSummary.Build(result)["function"]!["crashed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AnIncompleteTickIsNot()
    {
        var result = await RunWithStandIn("AutoStop.TickIncomplete");
        Assert.Equal(2, result.Ticks.Count);
        Assert.All(result.Ticks, t => Assert.Equal("AutoStop.TickIncomplete", t.ErrorType));
        Assert.False(result.Crashed, result.CrashReason);
        Assert.Equal(2, RunSummary.Build(result)["function"]!["invocationErrors"]!.GetValue<int>());
    }

    private async Task<LabRunResult> RunWithStandIn(string errorType)
    {
        var script = Path.Combine(_directory, "bootstrap");
        // Answers at most 5 invocations with the error, each request bounded; the lab kills it at the end of the run.
        await File.WriteAllTextAsync(script, $$"""
            #!/bin/sh
            api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
            for n in 1 2 3 4 5; do
              id=$(curl -s --noproxy '*' --max-time 60 -D - -o /dev/null "$api/next" | tr -d '\r' | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: //p')
              curl -s --noproxy '*' --max-time 10 -X POST -H "Lambda-Runtime-Function-Error-Type: {{errorType}}" \
                -d '{"errorType":"{{errorType}}","errorMessage":"stand-in"}' "$api/$id/error" > /dev/null
            done
            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var scenario = ScenarioLoader.Parse("""
            start: 2026-11-23T08:00:00Z
            duration: 10m
            functionTimeoutSeconds: 20
            instances:
              - { name: a, tags: { AutoStop: "true" } }
            """);
        return await new LabRun(scenario, FunctionBuild.Jit, skipBuild: true, TextWriter.Null) { FunctionBinary = script }.RunAsync(CancellationToken.None);
    }
}
