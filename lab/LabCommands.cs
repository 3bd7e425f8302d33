using System.Runtime.InteropServices;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Running;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab;

/// <summary>The lab's command line: demo, run, serve.</summary>
public static class LabCommands
{
    public const int ExitOk = 0, ExitFunctionCrashed = 1, ExitUsage = 2, ExitStopped = 130;

    public static readonly string Help = """
        lab: a local stand-in for EC2, SSM Run Command and the Lambda runtime that runs the real AutoStop function.

        Usage:
          dotnet run --project lab -- demo [--function jit|aot]
              A small fleet whose people come and go; prints a timeline and a summary. Ends by itself.
          dotnet run --project lab -- run --scenario FILE --out DIR [--function jit|aot] [--no-build] [--quiet]
              Runs a scenario; writes DIR/log.jsonl, DIR/metrics.json, DIR/summary.json.
              Exits 1 if the function did not build, could not start, crashed, or reported an unexpected
              invocation error (AutoStop.UnhandledException); TickIncomplete and DeadlineExceeded are expected.
          dotnet run --project lab -- serve --scenario FILE [--port P]
              Serves EC2, SSM and the Runtime API on 127.0.0.1 in real time without running the function,
              for the AWS CLI (aws --endpoint-url http://127.0.0.1:P ...), `bootstrap tick` or any SDK.

        Scenario files are YAML or JSON: see lab/README.md and lab/scenarios/.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        // SIGTERM (kill, timeout, a container stopping) ends serve as Ctrl-C does; otherwise the host swallows it and serve never exits.
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help") { stdout.Write(Help); return args.Length == 0 ? ExitUsage : ExitOk; }
        var options = LabOptions.Parse(args[1..], out var problem);
        if (options is null) { stderr.WriteLine($"lab: {problem}"); return ExitUsage; }
        try
        {
            return args[0] switch
            {
                "demo" => await DemoAsync(options, stdout, stop.Token),
                "run" => await RunScenarioAsync(options, stdout, stderr, stop.Token),
                "serve" => await ServeAsync(options, stdout, stop.Token),
                _ => Usage(stderr, $"unknown command '{args[0]}'; the commands are demo, run and serve (see lab --help)"),
            };
        }
        catch (ScenarioException e) { return Usage(stderr, e.Message); }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            stderr.WriteLine("lab: stopped before the run ended; no outputs were written.");
            return ExitStopped;
        }
        catch (FunctionBuildException e)
        {
            stderr.WriteLine($"lab: {e.Message.TrimEnd()}");
            stderr.WriteLine("lab: nothing was run; fix the build (dotnet build functions/AutoStop -c Release shows the same errors).");
            return ExitFunctionCrashed;
        }
    }

    private static int Usage(TextWriter stderr, string message)
    {
        stderr.WriteLine($"lab: {message}");
        return ExitUsage;
    }

    private static async Task<int> DemoAsync(LabOptions options, TextWriter stdout, CancellationToken cancellationToken)
    {
        var scenario = ScenarioLoader.Load(options.Scenario ?? LabPaths.Of("lab", "scenarios", "demo.yaml"));
        stdout.WriteLine($"AutoStop lab demo: {scenario.Instances.Sum(i => i.Count)} instances, {scenario.Duration.TotalHours:0.#} virtual hours, a tick every {scenario.TickPeriod.TotalMinutes} minutes.");
        stdout.WriteLine("The real function runs against the lab's EC2, SSM and Lambda Runtime API; rows show what it decided and why.");
        stdout.WriteLine();
        var timeline = new DemoTimeline(stdout);
        var run = new LabRun(scenario, options.Function, options.NoBuild, stdout) { OnTick = timeline.Tick };
        var result = await run.RunAsync(cancellationToken);
        var outDir = options.Out ?? Path.Combine(Path.GetTempPath(), "autostop-lab-demo");
        var summary = RunSummary.Write(result, outDir);
        timeline.Summary(summary);
        stdout.WriteLine($"\nThe function's log, metrics and the summary are in {outDir}/ (log.jsonl, metrics.json, summary.json).");
        return Finish(result, stdout);
    }

    private static async Task<int> RunScenarioAsync(LabOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (options.Scenario is null || options.Out is null) return Usage(stderr, "run needs --scenario FILE and --out DIR");
        var scenario = ScenarioLoader.Load(options.Scenario);
        var run = new LabRun(scenario, options.Function, options.NoBuild, options.Quiet ? TextWriter.Null : stdout);
        var result = await run.RunAsync(cancellationToken);
        var summary = RunSummary.Write(result, options.Out);
        if (!options.Quiet)
            stdout.WriteLine($"lab: {result.Ticks.Count} ticks, {summary["fleet"]!["stops"]} stops, {summary["fleet"]!["sessionsInterrupted"]} sessions interrupted, " +
                $"{summary["fleet"]!["idleMinutesNotSaved"]} idle minutes not saved; wrote {options.Out}/summary.json");
        return Finish(result, stderr);
    }

    private static int Finish(LabRunResult result, TextWriter output)
    {
        if (!result.Crashed) return ExitOk;
        output.WriteLine($"lab: the function crashed: {result.CrashReason}");
        foreach (var line in result.FunctionStderr.TakeLast(20)) output.WriteLine("  " + line);
        return ExitFunctionCrashed;
    }

    private static async Task<int> ServeAsync(LabOptions options, TextWriter stdout, CancellationToken cancellationToken)
    {
        var scenario = ScenarioLoader.Load(options.Scenario ?? LabPaths.Of("lab", "scenarios", "demo.yaml"));
        var fleet = new LabFleet(scenario, new LabClock(scenario.Start, followsRealTime: true));
        await using var server = await LabServer.StartAsync(fleet, options.Port);
        stdout.WriteLine($"lab: serving {fleet.Instances.Count} instances of '{scenario.Name}' on {server.Url} (EC2, SSM, Lambda Runtime API). Ctrl-C stops.");
        stdout.WriteLine($"  AWS_ENDPOINT_URL={server.Url} AWS_ACCESS_KEY_ID=lab AWS_SECRET_ACCESS_KEY=lab AWS_DEFAULT_REGION=us-east-1 aws ec2 describe-instances");
        stdout.WriteLine($"  AWS_ENDPOINT_URL={server.Url} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=lab AWS_SECRET_ACCESS_KEY=lab functions/AutoStop/bin/Release/net10.0/bootstrap tick");
        stdout.Flush();
        try { await Task.Delay(Timeout.Infinite, cancellationToken); }
        catch (OperationCanceledException) { }
        return ExitOk;
    }
}

/// <summary>The lab's options, parsed with messages that name the bad value.</summary>
public sealed record LabOptions(string? Scenario, string? Out, FunctionBuild Function, bool NoBuild, bool Quiet, int Port)
{
    public static LabOptions? Parse(string[] args, out string problem)
    {
        problem = "";
        string? scenario = null, output = null;
        var function = FunctionBuild.Jit;
        bool noBuild = false, quiet = false;
        var port = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--scenario": scenario = Value(); break;
                case "--out": output = Value(); break;
                case "--no-build": noBuild = true; break;
                case "--quiet": quiet = true; break;
                case "--function":
                    var f = Value();
                    if (f is not ("jit" or "aot")) { problem = $"--function '{f}' is not allowed: jit or aot"; return null; }
                    function = f == "aot" ? FunctionBuild.Aot : FunctionBuild.Jit;
                    break;
                case "--port":
                    var p = Value();
                    if (!int.TryParse(p, out port) || port is < 0 or > 65535) { problem = $"--port '{p}' is not allowed: 0 to 65535 (0: a free port)"; return null; }
                    break;
                default:
                    problem = $"unknown option '{args[i]}' (allowed: --scenario, --out, --function jit|aot, --no-build, --quiet, --port)";
                    return null;
            }
        }
        return new LabOptions(scenario, output, function, noBuild, quiet, port);
    }
}
