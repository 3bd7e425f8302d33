using System.Diagnostics;
using System.Globalization;
using System.Text;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Running;

/// <summary>One tick as the lab saw it: the virtual time, how the invocation ended, how long it took, the lines it printed.</summary>
/// <param name="LabCalls">The AWS calls the lab received during this tick, by operation (throttled attempts included).</param>
public sealed record TickRecord(DateTimeOffset Time, bool Succeeded, string? ErrorType, string Body, double WallMs, IReadOnlyList<string> Lines,
    IReadOnlyDictionary<string, int>? LabCalls = null);

/// <summary>Everything a run produced, for the summary and the demo's timeline.</summary>
public sealed record LabRunResult(
    Scenario Scenario,
    LabFleet Fleet,
    ApiGate Gate,
    FunctionBuild Build,
    IReadOnlyList<TickRecord> Ticks,
    IReadOnlyList<string> Log,
    IReadOnlyList<string> FunctionStderr,
    double? ColdStartMs,
    double? FirstTickMs,
    long? PeakRssKb,
    bool Crashed,
    string? CrashReason,
    double WallSeconds);

/// <summary>
/// Runs a scenario: serves the fleet, starts the real function against it, and delivers one scheduled event per tick
/// in virtual time. Each tick's event carries its scheduled time; the virtual clock starts there and moves with real
/// time x clockScale while the function works on it (LabClock), then stands still until the next tick.
/// </summary>
public sealed class LabRun(Scenario scenario, FunctionBuild build, bool skipBuild, TextWriter progress)
{
    /// <summary>Called after each tick (the demo prints its timeline from it).</summary>
    public Action<TickRecord, LabFleet>? OnTick { get; init; }

    /// <summary>A bootstrap to run instead of building the function (tests of the lab's own crash handling).</summary>
    public string? FunctionBinary { get; init; }

    /// <summary>Invocation errors the function reports on purpose and then carries on (the tick failed, not the function).
    /// Any other error type (AutoStop.UnhandledException above all) counts as a crash.</summary>
    public static readonly IReadOnlySet<string> ExpectedErrors = new HashSet<string>(StringComparer.Ordinal) { "AutoStop.TickIncomplete", "AutoStop.DeadlineExceeded" };

    public async Task<LabRunResult> RunAsync(CancellationToken cancellationToken)
    {
        var wall = Stopwatch.StartNew();
        var binary = FunctionBinary ?? await FunctionProcess.BuildAsync(build, skipBuild, progress, cancellationToken);
        var fleet = new LabFleet(scenario, new LabClock(scenario.Start, followsRealTime: false, scenario.ClockScale));
        await using var server = await LabServer.StartAsync(fleet);
        // coldStartMs then measures the function, not the lab's own first request or first process start.
        await server.WarmUpAsync(cancellationToken);
        await FunctionProcess.WarmUpAsync(cancellationToken);
        await using var function = FunctionProcess.Start(binary, FunctionEnvironment(scenario, server));

        var ticks = new List<TickRecord>();
        double? coldStartMs = null, firstTickMs = null;
        long? peakRss = null;
        string? crash = null;
        var timeout = TimeSpan.FromSeconds(scenario.FunctionTimeoutSeconds);
        for (var t = scenario.Start; t < scenario.End && crash is null; t += scenario.TickPeriod)
        {
            cancellationToken.ThrowIfCancellationRequested();
            fleet.Clock.Set(t);
            fleet.Advance();
            var linesBefore = function.LineCount;
            var callsBefore = server.Gate.Calls;
            var tickClock = Stopwatch.StartNew();
            var payload = Encoding.UTF8.GetBytes($"{{\"time\":\"{t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\"}}");
            var invocation = server.Runtime.InvokeAsync(payload, timeout);
            // Lambda kills an invocation at its deadline; give the function that long plus a little, no more.
            var finished = await Task.WhenAny(invocation, function.Exited, server.Runtime.InitError, Task.Delay(timeout + TimeSpan.FromSeconds(5), cancellationToken));
            if (finished != invocation)
            {
                crash = finished == server.Runtime.InitError ? "init error: " + await server.Runtime.InitError
                    : function.HasExited ? $"the function exited with code {function.ExitCode}"
                    : $"the function did not answer within its {scenario.FunctionTimeoutSeconds} s timeout";
                break;
            }
            var result = await invocation;
            // The virtual clock ran with the tick (clockScale); it stands still until the next one.
            fleet.Clock.Pause();
            tickClock.Stop();
            firstTickMs ??= function.Elapsed.TotalMilliseconds;
            if (coldStartMs is null && server.Runtime.FirstNext.IsCompleted)
                coldStartMs = ((await server.Runtime.FirstNext) - function.StartedAt).TotalMilliseconds;
            // The summary line is printed before the response is posted, but give the pipe a moment to deliver it.
            await WaitForLinesAsync(function, linesBefore, cancellationToken);
            var lines = function.Lines().Skip(linesBefore).ToList();
            var callsDuring = server.Gate.Calls.ToDictionary(c => c.Key, c => c.Value - callsBefore.GetValueOrDefault(c.Key), StringComparer.Ordinal)
                .Where(c => c.Value > 0).ToDictionary(StringComparer.Ordinal);
            var record = new TickRecord(t, result.Succeeded, result.ErrorType, result.Body, tickClock.Elapsed.TotalMilliseconds, lines, callsDuring);
            ticks.Add(record);
            peakRss = function.PeakRssKb() ?? peakRss;
            OnTick?.Invoke(record, fleet);
        }
        fleet.Clock.Set(scenario.End);
        fleet.Advance();
        fleet.Clock.Pause();
        if (crash is null && function.HasExited) crash = $"the function exited with code {function.ExitCode}";
        var unexpected = ticks.Where(r => !r.Succeeded && !ExpectedErrors.Contains(r.ErrorType ?? "")).ToList();
        if (crash is null && unexpected.Count > 0)
            crash = $"{unexpected.Count} invocation(s) failed with an unexpected error, the first at {unexpected[0].Time:HH:mm}: {unexpected[0].ErrorType}: {unexpected[0].Body}";
        await Task.Delay(50, cancellationToken);
        return new LabRunResult(scenario, fleet, server.Gate, build, ticks, function.Lines(), [.. function.StandardError],
            coldStartMs, firstTickMs, peakRss, crash is not null, crash, wall.Elapsed.TotalSeconds);
    }

    /// <summary>Waits (briefly, bounded) until the tick's summary line has arrived on the function's stdout.</summary>
    private static async Task WaitForLinesAsync(FunctionProcess function, int linesBefore, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 200; i++)
        {
            if (function.Lines().Skip(linesBefore).Any(l => l.Contains("\"event\":\"tick\"", StringComparison.Ordinal))) return;
            await Task.Delay(5, cancellationToken);
        }
    }

    public static Dictionary<string, string> FunctionEnvironment(Scenario scenario, LabServer server)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AWS_LAMBDA_RUNTIME_API"] = $"127.0.0.1:{server.Port}",
            ["AWS_ENDPOINT_URL"] = server.Url,
            ["AWS_REGION"] = "us-east-1",
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_ACCESS_KEY_ID"] = "lab",
            ["AWS_SECRET_ACCESS_KEY"] = "lab",
            ["AWS_LAMBDA_FUNCTION_NAME"] = "AutoStop-lab",
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "256",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AUTOSTOP_SCHEDULE_MINUTES"] = ((int)scenario.TickPeriod.TotalMinutes).ToString(CultureInfo.InvariantCulture),
            // The lab answers in milliseconds; poll it that fast (AWS needs the 1 s default).
            ["AUTOSTOP_PROBE_POLL_MILLISECONDS"] = "20",
            // The lab's time is virtual: a scheduled time hours or days from the machine's clock is normal here
            // A scenario may still set it to test the bound.
            ["AUTOSTOP_EVENT_MAX_SKEW_MINUTES"] = "off",
        };
        // The standard retry-mode switch passes through, so runs can compare the SDK's retry modes.
        if (Environment.GetEnvironmentVariable("AWS_RETRY_MODE") is { Length: > 0 } retryMode) environment["AWS_RETRY_MODE"] = retryMode;
        foreach (var (key, value) in scenario.Config) environment[key] = value;
        return environment;
    }
}
