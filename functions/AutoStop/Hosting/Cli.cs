using AutoStop.Configuration;
using AutoStop.Ticking;

namespace AutoStop.Hosting;

/// <summary>
/// The command line host: `autostop tick` runs one tick against whatever the AWS SDK chain and the standard
/// AWS_ENDPOINT_URL* variables point at (AWS, the lab, moto, LocalStack), printing the same lines as Lambda.
/// Exit codes: 0 the tick ran (even if instances were skipped); 2 usage or configuration error; 3 AWS could not be reached.
/// </summary>
public static class Cli
{
    public const int ExitOk = 0, ExitUsage = 2, ExitAwsUnreachable = 3;

    /// <summary>Default wall-clock budget of a CLI tick (Lambda's comes from the invocation deadline).</summary>
    public const int DefaultDeadlineSeconds = 120;

    public delegate ITickHandler TickHandlerFactory(AutoStopConfig config, string? region);

    public static async Task<int> RunAsync(string[] args, Func<string, string?> environment, TickHandlerFactory createHandler,
        TextWriter stdout, TextWriter stderr, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            (args.Length == 0 ? stderr : stdout).Write(HelpText());
            return args.Length == 0 ? ExitUsage : ExitOk;
        }
        if (args[0] != "tick")
        {
            stderr.WriteLine($"autostop: unknown command '{args[0]}'; the command is 'tick' (see autostop --help).");
            return ExitUsage;
        }

        var dryRun = false;
        DateTimeOffset? now = null;
        string? region = null;
        var deadlineSeconds = DefaultDeadlineSeconds;
        for (var i = 1; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--dry-run": dryRun = true; break;
                case "--help" or "-h": stdout.Write(HelpText()); return ExitOk;
                case "--now":
                    var nowText = Value();
                    if (nowText is null || !SettingValues.TryParseTime(nowText, out var parsed))
                    {
                        stderr.WriteLine($"autostop: --now '{nowText}' is not allowed: use an ISO-8601 time with Z or an offset, e.g. 2026-11-23T10:05:00Z.");
                        return ExitUsage;
                    }
                    now = parsed;
                    break;
                case "--region":
                    region = Value();
                    if (string.IsNullOrWhiteSpace(region)) { stderr.WriteLine("autostop: --region needs a region name, e.g. eu-west-1."); return ExitUsage; }
                    break;
                case "--deadline-seconds":
                    var text = Value();
                    if (text is null || !SettingValues.TryParseMinutes(text, 10, 3600, out deadlineSeconds))
                    {
                        stderr.WriteLine($"autostop: --deadline-seconds '{text}' is not allowed: use whole seconds from 10 to 3600.");
                        return ExitUsage;
                    }
                    break;
                default:
                    stderr.WriteLine($"autostop: unknown option '{args[i]}' (allowed: --dry-run, --now <time>, --region <region>, --deadline-seconds <n>).");
                    return ExitUsage;
            }
        }

        AutoStopConfig config;
        try { config = AutoStopConfig.FromEnvironment(environment); }
        catch (ConfigException e)
        {
            foreach (var problem in e.Problems) stderr.WriteLine("autostop: " + problem);
            stderr.WriteLine("autostop: nothing was done.");
            return ExitUsage;
        }

        var handler = createHandler(config, region);
        var request = new TickRequest(now ?? clock.GetUtcNow(), clock.GetUtcNow().AddSeconds(deadlineSeconds), dryRun);
        var outcome = await handler.RunTickAsync(request, cancellationToken);
        if (!outcome.Completed)
        {
            stderr.WriteLine("autostop: the tick could not reach AWS (see the error line above); nothing was decided.");
            return ExitAwsUnreachable;
        }
        return ExitOk;
    }

    public static string HelpText()
    {
        var lines = new List<string>
        {
            "autostop: stop idle EC2 instances tagged for it (the AutoStop Lambda, run by hand).",
            "",
            "Usage:",
            "  autostop tick [--dry-run] [--now <time>] [--region <region>] [--deadline-seconds <n>]",
            "  autostop --help",
            "",
            "tick runs one tick: lists instances tagged <AUTOSTOP_TAG_KEY>=true, probes their sessions through SSM Run",
            "Command, decides, stops the idle ones (unless dry run) and prints one JSON line per decision, the tick",
            "summary and CloudWatch EMF metric lines on stdout.",
            "  --dry-run               decide and log (would-stop) but stop nothing (idle-state tags are still kept)",
            "  --now <time>            the policy's time, ISO-8601 with Z or offset (default: the clock)",
            "  --region <region>       AWS region (default: the AWS SDK chain, e.g. AWS_REGION)",
            $"  --deadline-seconds <n>  wall-clock budget of the tick (default {DefaultDeadlineSeconds})",
            "",
            "AWS endpoints and credentials come from the standard AWS SDK chain and AWS_ENDPOINT_URL,",
            "AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_SSM (e.g. the lab: dotnet run --project lab -- serve).",
            "",
            "Configuration (environment variables, same names in Lambda):",
        };
        lines.AddRange(AutoStopConfig.Variables.Select(v => $"  {v.Name,-38} default {v.Default,-22} {v.Meaning}"));
        lines.Add("");
        lines.Add("Exit codes: 0 the tick ran; 2 usage or configuration error (nothing done); 3 AWS could not be reached.");
        return string.Join('\n', lines) + "\n";
    }
}
