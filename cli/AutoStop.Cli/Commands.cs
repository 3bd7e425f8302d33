using System.CommandLine;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement;
using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Policy;
using Spectre.Console;

namespace AutoStop.Cli;

/// <summary>What a command run needs from outside: environment, streams, clock, whether stderr is a terminal.</summary>
public sealed record CliHost(
    Func<string, string?> Environment,
    Stream StdinBytes,
    Stream StdoutBytes,
    TextWriter Stdout,
    TextWriter Stderr,
    bool StderrIsTerminal,
    bool StdoutIsTerminal,
    TimeProvider Time,
    TimeZoneInfo Zone);

/// <summary>`autostop` for people: ls, snooze, start, ssh-proxy (System.CommandLine). Usage errors exit 2; see ExitCodes.</summary>
public static class Commands
{
    private static readonly Option<string?> Region = new("--region")
    {
        Description = "AWS region (default: the AWS SDK chain: AWS_REGION, the profile's region)",
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args, CliHost host, CancellationToken cancellationToken)
    {
        var root = Build(host);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) host.Stderr.WriteLine("autostop: " + error.Message);
            host.Stderr.WriteLine("autostop: see autostop --help. Nothing was done.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = host.Stdout, Error = host.Stderr, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (CliFailure e)
        {
            host.Stderr.WriteLine("autostop: " + e.Message);
            return e.ExitCode;
        }
        catch (ConfigException e)
        {
            foreach (var problem in e.Problems) host.Stderr.WriteLine("autostop: " + problem);
            host.Stderr.WriteLine("autostop: nothing was done.");
            return ExitCodes.Usage;
        }
    }

    private static RootCommand Build(CliHost host)
    {
        var root = new RootCommand(
            "autostop: see, snooze, start and ssh into your EC2 instances managed by AutoStop.\n" +
            "Credentials and region come from the AWS SDK chain. Exit codes: 0 ok, 1 connection failed, 2 usage, 3 AWS error, " +
            "4 unknown instance, 5 name shared by several instances, 6 not opted in, 7 missing permission, 8 not up in time, 9 wake refused.");
        root.Options.Add(Region);
        root.Subcommands.Add(Ls(host));
        root.Subcommands.Add(Snooze(host));
        root.Subcommands.Add(Start(host));
        root.Subcommands.Add(Proxy(host));
        return root;
    }

    // ---------------------------------------------------------------------------------------------- ls
    private static Command Ls(CliHost host)
    {
        var json = new Option<bool>("--json") { Description = "one JSON array on stdout, for scripts" };
        var command = new Command("ls", "The opted-in instances in the region: name, id, state, idle since, threshold, snooze, when AutoStop stopped it, and a status.") { json };
        command.SetAction(async (parse, token) =>
        {
            var session = Session.Open(host, parse);
            var rows = (await session.Directory.ListTaggedAsync(token))
                .Where(i => i.OptIn(session.Config) is OptIn.OptedIn or OptIn.Padded)
                .Select(i => InstanceStatus.Of(i, session.Config, session.Clock)).ToList();
            if (parse.GetValue(json)) WriteJson(host.StdoutBytes, rows);
            else WriteTable(host, session, rows);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteTable(CliHost host, Session session, List<InstanceStatus> rows)
    {
        if (rows.Count == 0)
        {
            host.Stdout.WriteLine($"No instance in {session.RegionName} is tagged {session.Config.TagKey}=true.");
            return;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(host.Stdout),
            Ansi = host.StdoutIsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = host.StdoutIsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!host.StdoutIsTerminal) console.Profile.Width = 240; // a pipe or a file: no wrapping
        var table = new Table().Border(host.StdoutIsTerminal ? TableBorder.Rounded : TableBorder.Simple);
        foreach (var column in new[] { "NAME", "ID", "STATE", "IDLE SINCE", "THRESHOLD", "SNOOZE", "STOPPED BY AUTOSTOP", "STATUS" }) table.AddColumn(column);
        string Time(DateTimeOffset? t) => t is { } v ? session.Clock.Format(v) : "-";
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Instance.Name ?? "-"), r.Instance.Id, r.Instance.State, Time(r.IdleSince), $"{r.ThresholdMinutes} min",
                Time(r.SnoozeUntil is { } s && s > session.Clock.Now ? s : null), Time(r.StoppedAt), Markup.Escape(r.Status));
        console.Write(table);
        host.Stdout.Flush();
    }

    /// <summary>Written with Utf8JsonWriter (no reflection), times as AutoStop writes them (UTC, Z).</summary>
    private static void WriteJson(Stream stdout, List<InstanceStatus> rows)
    {
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            void Time(string name, DateTimeOffset? t)
            {
                if (t is { } v) writer.WriteString(name, SettingValues.FormatTime(v));
                else writer.WriteNull(name);
            }
            writer.WriteStartArray();
            foreach (var r in rows)
            {
                writer.WriteStartObject();
                writer.WriteString("name", r.Instance.Name);
                writer.WriteString("instanceId", r.Instance.Id);
                writer.WriteString("state", r.Instance.State);
                writer.WriteBoolean("optedIn", r.OptedIn);
                Time("idleSince", r.IdleSince);
                writer.WriteNumber("thresholdMinutes", r.ThresholdMinutes);
                Time("snoozeUntil", r.SnoozeUntil);
                Time("stoppedAt", r.StoppedAt);
                writer.WriteString("publicIp", r.Instance.PublicIp);
                writer.WriteString("privateIp", r.Instance.PrivateIp);
                writer.WriteString("status", r.Status);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        stdout.WriteByte((byte)'\n');
        stdout.Flush();
    }

    // ---------------------------------------------------------------------------------------------- snooze
    private static Command Snooze(CliHost host)
    {
        var instance = new Argument<string>("instance") { Description = "Name tag or instance id" };
        var until = new Argument<string?>("until") { Description = SnoozeValue.Forms, Arity = ArgumentArity.ZeroOrOne };
        var off = new Option<bool>("--off") { Description = "remove the snooze (AutoStop:SnoozeUntil)" };
        var command = new Command("snooze", "Keep an instance running until a time: writes AutoStop:SnoozeUntil (or removes it with --off).") { instance, until, off };
        command.SetAction(async (parse, token) =>
        {
            var text = parse.GetValue(until);
            var remove = parse.GetValue(off);
            if (remove == (text is not null))
                throw new CliFailure(ExitCodes.Usage, remove ? "snooze --off takes no time; give one or the other. Nothing was written."
                    : $"snooze needs a time or --off: {SnoozeValue.Forms}. Nothing was written.");
            var session = Session.Open(host, parse);
            var key = session.Config.TagPrefix + InstanceSettingsReader.SnoozeUntilTag;
            // The value is checked before the instance is even looked up: a bad value never costs a call.
            var value = remove ? default : SnoozeValue.Parse(text!, session.Config, session.Clock);
            var target = await session.Directory.FindAsync(parse.GetValue(instance)!, token);
            RequireOptedIn(target, session.Config, "snooze");
            if (remove)
            {
                await AwsGuard.CallAsync("ec2:DeleteTags", target.Label, () => session.Ec2.DeleteTagsAsync(new DeleteTagsRequest
                {
                    Resources = [target.Id], Tags = [new Tag { Key = key }],
                }, token));
                host.Stdout.WriteLine($"{target.Label}: snooze removed ({key}); AutoStop counts its idle time again from the next tick.");
                return ExitCodes.Ok;
            }
            await AwsGuard.CallAsync("ec2:CreateTags", target.Label, () => session.Ec2.CreateTagsAsync(new CreateTagsRequest
            {
                Resources = [target.Id], Tags = [new Tag(key, value.TagValue)],
            }, token));
            host.Stdout.WriteLine($"{target.Label}: snoozed until {session.Clock.Format(value.Until)} ({key}={value.TagValue}); AutoStop keeps it running until then.");
            return ExitCodes.Ok;
        });
        return command;
    }

    // ---------------------------------------------------------------------------------------------- start
    private static readonly Option<int> Timeout = new("--timeout")
    {
        Description = "seconds to wait for it to come up (1 to 3600)", DefaultValueFactory = _ => 300,
        Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 3600) r.AddError($"--timeout '{r.GetValueOrDefault<int>()}' is not allowed: whole seconds from 1 to 3600."); } },
    };

    private static Option<AddressChoice> AddressOption() => new("--address")
    {
        Description = "which address: auto (public IPv4, else private), public or private", DefaultValueFactory = _ => AddressChoice.Auto,
    };

    private static Command Start(CliHost host)
    {
        var instance = new Argument<string>("instance") { Description = "Name tag or instance id" };
        var wait = new Option<bool>("--wait") { Description = "wait until it is running, its SSM agent is Online and its SSH port answers" };
        var port = new Option<int>("--port") { Description = "the SSH port to wait for; 0: do not check it (Session Manager, README)", DefaultValueFactory = _ => 22 };
        var address = AddressOption();
        var command = new Command("start", "Start an opted-in instance (progress on stderr).") { instance, wait, Timeout, port, address };
        command.SetAction(async (parse, token) =>
        {
            var session = Session.Open(host, parse);
            var target = await session.Directory.FindAsync(parse.GetValue(instance)!, token);
            if (target.State is "stopped" or "stopping") RequireOptedIn(target, session.Config, "start");
            var waker = session.Waker(host);
            var up = await waker.StartAsync(target, parse.GetValue(wait), parse.GetValue(port) == 0 ? 0 : CheckPort(parse.GetValue(port)), parse.GetValue(address), TimeSpan.FromSeconds(parse.GetValue(Timeout)), token);
            if (parse.GetValue(wait)) host.Stdout.WriteLine($"{up.Label} is up at {up.PublicIp ?? up.PrivateIp ?? "(no IPv4 address)"}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    // ---------------------------------------------------------------------------------------------- ssh-proxy
    private static Command Proxy(CliHost host)
    {
        var name = new Argument<string>("host") { Description = "instance id or Name tag (ssh's %h)" };
        var port = new Argument<int>("port") { Description = "SSH port (ssh's %p)" };
        var wake = new Option<WakeMode>("--wake")
        {
            Description = "auto: wake a stopped instance unless AutoStop stopped it less than --recent-minutes ago and stderr is not a terminal; always; never",
            DefaultValueFactory = _ => WakeMode.Auto,
        };
        var recent = new Option<int>("--recent-minutes")
        {
            Description = "with --wake auto: how recent an AutoStop stop must be for a terminal-less connection to be refused (0 to 10080)",
            DefaultValueFactory = _ => WakeGuard.DefaultRecentMinutes,
            Validators = { r => { if (r.GetValueOrDefault<int>() is < 0 or > 10080) r.AddError($"--recent-minutes '{r.GetValueOrDefault<int>()}' is not allowed: 0 to 10080."); } },
        };
        var address = AddressOption();
        var command = new Command("ssh-proxy",
            "An OpenSSH ProxyCommand (ProxyCommand autostop ssh-proxy %h %p): starts the instance when stopped, waits until it is up, " +
            "then copies bytes between stdin/stdout and its SSH port. stdout carries only the SSH bytes; progress goes to stderr.")
            { name, port, wake, recent, Timeout, address };
        command.SetAction(async (parse, token) =>
        {
            var session = Session.Open(host, parse);
            var sshPort = CheckPort(parse.GetValue(port));
            var target = await session.Directory.FindAsync(parse.GetValue(name)!, token);
            var choice = parse.GetValue(address);
            if (target.State is not "running")
            {
                if (target.State is "stopped" or "stopping")
                {
                    RequireOptedIn(target, session.Config, "wake");
                    if (WakeGuard.Refusal(target, parse.GetValue(wake), parse.GetValue(recent), host.StderrIsTerminal, session.Config, session.Clock) is { } refusal)
                        throw new CliFailure(ExitCodes.WakeRefused, refusal);
                }
                target = await session.Waker(host).StartAsync(target, wait: true, sshPort, choice, TimeSpan.FromSeconds(parse.GetValue(Timeout)), token);
            }
            return await SshProxy.PumpAsync(Waker.Address(target, choice), sshPort, host.StdinBytes, host.StdoutBytes, host.Stderr, token);
        });
        return command;
    }

    private static int CheckPort(int port) => port is >= 1 and <= 65535 ? port
        : throw new CliFailure(ExitCodes.Usage, $"port '{port}' is not allowed: 1 to 65535. Nothing was done.");

    private static void RequireOptedIn(PersonInstance instance, AutoStopConfig config, string verb)
    {
        var optIn = OptInTag.Read(instance.Tags, config, out var value);
        if (optIn == OptIn.OptedIn) return;
        var why = optIn switch
        {
            OptIn.Missing => $"it has no {config.TagKey} tag",
            OptIn.Padded => $"its tag {config.TagKey}='{value}' has spaces around true, which IAM's StringEqualsIgnoreCase does not ignore",
            _ => $"its tag {config.TagKey} is '{value}', not true",
        };
        throw new CliFailure(ExitCodes.NotOptedIn,
            $"{instance.Label} has not opted in to AutoStop ({why}); autostop does not {verb} instances AutoStop does not manage. Nothing was done. " +
            $"Tag it {config.TagKey}=true to opt in.");
    }

    /// <summary>The AWS clients and settings of one command run.</summary>
    private sealed class Session
    {
        public required AutoStopConfig Config { get; init; }
        public required IAmazonEC2 Ec2 { get; init; }
        public required IAmazonSimpleSystemsManagement Ssm { get; init; }
        public required InstanceDirectory Directory { get; init; }
        public required PersonClock Clock { get; init; }
        public required string RegionName { get; init; }

        public Waker Waker(CliHost host) => new(Ec2, Ssm, Directory, Config, Clock, host.Stderr);

        public static Session Open(CliHost host, ParseResult parse)
        {
            var config = AutoStopConfig.FromEnvironment(host.Environment);
            var region = parse.GetValue(Region);
            if (region is not null && !System.Text.RegularExpressions.Regex.IsMatch(region, "^[a-z]{2}(-[a-z]+)+-[0-9]+$"))
                throw new CliFailure(ExitCodes.Usage, $"--region '{region}' is not allowed: a region name such as eu-west-1.");
            // A person's command answers fast or says why: 2 retries, not the tick's 6.
            var ec2 = AwsClientFactory.CreateEc2(region, maxErrorRetry: 2);
            var ssm = AwsClientFactory.CreateSsm(region, maxErrorRetry: 2);
            var regionName = ec2.Config.RegionEndpoint?.SystemName ?? region ?? "the configured region";
            var clock = new PersonClock(host.Time, host.Zone);
            return new Session
            {
                Config = config, Ec2 = ec2, Ssm = ssm, Clock = clock, RegionName = regionName,
                Directory = new InstanceDirectory(ec2, config, regionName),
            };
        }
    }
}
