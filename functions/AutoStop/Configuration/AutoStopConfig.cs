using System.Globalization;
using System.Text.RegularExpressions;

namespace AutoStop.Configuration;

/// <summary>What to do with an idle instance.</summary>
public enum StopAction { Stop, Hibernate }

/// <summary>
/// The controller's settings, read once per process from AUTOSTOP_* environment variables
/// (the same names in Lambda and the CLI). AWS endpoints, region and credentials are not here:
/// they come from the standard AWS SDK chain.
/// </summary>
public sealed partial record AutoStopConfig
{
    public string TagKey { get; init; } = "AutoStop";
    public int IdleMinutes { get; init; } = 15;
    public StopAction Action { get; init; } = StopAction.Stop;
    public bool DryRun { get; init; }
    public string ProbeDocument { get; init; } = "AutoStop-SessionProbe";
    public int ProbeTimeoutSeconds { get; init; } = 30;
    /// <summary>SendCommand's DocumentVersion: a version number, $DEFAULT or $LATEST; null: none sent, so SSM runs the default version.</summary>
    public string? ProbeDocumentVersion { get; init; }
    /// <summary>The SSM document that writes the stop notice to terminals one tick ahead; null: no notices.</summary>
    public string? NoticeDocument { get; init; }
    /// <summary>SendCommand's DocumentVersion for the notice document; null: its default version.</summary>
    public string? NoticeDocumentVersion { get; init; }
    /// <summary>A stop is never sent on a look (probe observation) older than this.</summary>
    public int MaxObservationAgeSeconds { get; init; } = 10;
    /// <summary>How far a payload's time may be from the clock; see <see cref="EventMaxSkew"/>.</summary>
    public EventSkewSetting EventMaxSkewSetting { get; init; } = EventSkewSetting.Auto;
    /// <summary>First wait before polling probe results; doubles each round up to 5 s.</summary>
    public int ProbePollMilliseconds { get; init; } = 1000;
    public string MetricNamespace { get; init; } = "AutoStop";
    public bool InstanceMetrics { get; init; }
    /// <summary>The schedule period, used to turn "instances still stopped" into instance-hours saved.</summary>
    public int ScheduleMinutes { get; init; } = 5;
    public int? IgnoreIdleTerminalsAfterMinutes { get; init; }
    public double? BusyLoadPerCpu { get; init; }
    public bool CountMultiplexers { get; init; }
    /// <summary>Established inbound connections from non-loopback peers to these local ports are sessions; null: off.</summary>
    public IReadOnlySet<int>? ActivePorts { get; init; }
    /// <summary>GPU utilization at or above this percentage keeps an instance; null: off.</summary>
    public int? BusyGpuPercent { get; init; }
    /// <summary>An instance where one of these (allow-listed) processes runs is kept; null: off.</summary>
    public IReadOnlyList<string>? BusyProcesses { get; init; }

    /// <summary>Tag keys this controller owns are "TagKey:Name".</summary>
    public string TagPrefix => TagKey + ":";

    /// <summary>The largest allowed distance between a payload's time and the clock, either direction; null: not checked (off).</summary>
    public TimeSpan? EventMaxSkew => EventMaxSkewSetting.Resolve(ScheduleMinutes);

    public static readonly IReadOnlyList<ConfigVariable> Variables =
    [
        new("AUTOSTOP_TAG_KEY", "AutoStop", "Opt-in tag key; an instance opts in with value true (any case). Settings tags are KEY:Name."),
        new("AUTOSTOP_IDLE_MINUTES", "15", "Minutes idle before an instance is stopped (5 to 10080)."),
        new("AUTOSTOP_ACTION", "stop", "stop or hibernate."),
        new("AUTOSTOP_DRY_RUN", "false", "true: decide and log (would-stop) but never stop."),
        new("AUTOSTOP_PROBE_DOCUMENT", "AutoStop-SessionProbe", "Name of the SSM Command document that runs the probe."),
        new("AUTOSTOP_PROBE_DOCUMENT_VERSION", "$DEFAULT", "Version of the probe document SendCommand runs: a version number, $DEFAULT or $LATEST (unset: the document's default version)."),
        new("AUTOSTOP_NOTICE_DOCUMENT", "off", "Name of the SSM Command document that writes the stop notice to ignored terminals and tmux clients one tick ahead, or off (the template sets it)."),
        new("AUTOSTOP_NOTICE_DOCUMENT_VERSION", "$DEFAULT", "Version of the notice document: a version number, $DEFAULT or $LATEST (unset: its default version)."),
        new("AUTOSTOP_PROBE_TIMEOUT_SECONDS", "30", "How long a tick waits for probe results (5 to 120)."),
        new("AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS", "10", "A stop is never sent on a probe observation older than this many seconds (1 to 60)."),
        new("AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "auto", "How far a payload's time may be from the clock, either way: auto (the larger of 15 and two schedule periods), minutes 1 to 10080, or off."),
        new("AUTOSTOP_PROBE_POLL_MILLISECONDS", "1000", "A cold process's first wait before polling probe results, growing by half each poll up to 3 s (10 to 10000); a warm one waits a tenth longer than the slowest answer took the tick before."),
        new("AUTOSTOP_METRIC_NAMESPACE", "AutoStop", "CloudWatch namespace of the EMF metrics."),
        new("AUTOSTOP_INSTANCE_METRICS", "false", "true: also publish a Sessions metric per instance (a paid custom metric each; the decision lines chart it for free)."),
        new("AUTOSTOP_SCHEDULE_MINUTES", "5", "The schedule period in minutes (1 to 1440), for InstanceHoursSaved."),
        new("AUTOSTOP_IGNORE_IDLE_TERMINALS_AFTER", "off", "Minutes (1 to 10080) after which an idle terminal stops counting as a session, or off."),
        new("AUTOSTOP_BUSY_LOAD_PER_CPU", "off", "Load average per CPU (0.01 to 64) at or above which an instance counts as busy, or off."),
        new("AUTOSTOP_COUNT_MULTIPLEXERS", "false", "true: live tmux/screen sessions count as sessions."),
        new("AUTOSTOP_ACTIVE_PORTS", "off", "Local TCP ports (e.g. 8888,8080,3389,8443) whose established inbound connections from non-loopback peers count as sessions, or off."),
        new("AUTOSTOP_BUSY_GPU_PERCENT", "off", "GPU utilization (1 to 100 percent) at or above which an instance counts as busy, or off."),
        new("AUTOSTOP_BUSY_PROCESSES", "off", "Process names from the probe's list (e.g. make,cargo,docker-build,rsync) that keep an instance while they run, or off."),
    ];

    /// <summary>Reads and validates every variable; all problems are reported together.</summary>
    public static AutoStopConfig FromEnvironment(Func<string, string?> getVariable)
    {
        var errors = new List<string>();
        string? Raw(string name)
        {
            var value = getVariable(name);
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }

        var config = new AutoStopConfig();
        var tagKey = Raw("AUTOSTOP_TAG_KEY");
        if (tagKey is not null)
        {
            if (!SettingValues.IsValidTagKey(tagKey))
                errors.Add($"AUTOSTOP_TAG_KEY='{tagKey}' is not allowed: use 1 to 100 letters, digits, spaces or + - = . _ / @, not starting with 'aws:' and without ':'.");
            else config = config with { TagKey = tagKey };
        }

        config = config with
        {
            IdleMinutes = ReadInt("AUTOSTOP_IDLE_MINUTES", Raw("AUTOSTOP_IDLE_MINUTES"), 5, 10080, config.IdleMinutes, errors),
            // At most 120 s: the probe round, then stops, tags and log lines, fit the template's 240-s function timeout.
            ProbeTimeoutSeconds = ReadInt("AUTOSTOP_PROBE_TIMEOUT_SECONDS", Raw("AUTOSTOP_PROBE_TIMEOUT_SECONDS"), 5, 120, config.ProbeTimeoutSeconds, errors),
            MaxObservationAgeSeconds = ReadInt("AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS", Raw("AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS"), 1, 60, config.MaxObservationAgeSeconds, errors),
            ProbePollMilliseconds = ReadInt("AUTOSTOP_PROBE_POLL_MILLISECONDS", Raw("AUTOSTOP_PROBE_POLL_MILLISECONDS"), 10, 10000, config.ProbePollMilliseconds, errors),
            ScheduleMinutes = ReadInt("AUTOSTOP_SCHEDULE_MINUTES", Raw("AUTOSTOP_SCHEDULE_MINUTES"), 1, 1440, config.ScheduleMinutes, errors),
            DryRun = ReadBool("AUTOSTOP_DRY_RUN", Raw("AUTOSTOP_DRY_RUN"), config.DryRun, errors),
            InstanceMetrics = ReadBool("AUTOSTOP_INSTANCE_METRICS", Raw("AUTOSTOP_INSTANCE_METRICS"), config.InstanceMetrics, errors),
            CountMultiplexers = ReadBool("AUTOSTOP_COUNT_MULTIPLEXERS", Raw("AUTOSTOP_COUNT_MULTIPLEXERS"), config.CountMultiplexers, errors),
        };

        var action = Raw("AUTOSTOP_ACTION");
        if (action is not null)
        {
            if (SettingValues.TryParseAction(action, out var parsed)) config = config with { Action = parsed };
            else errors.Add($"AUTOSTOP_ACTION='{action}' is not allowed: use stop or hibernate.");
        }

        config = config with
        {
            ProbeDocument = ReadDocumentName("AUTOSTOP_PROBE_DOCUMENT", Raw("AUTOSTOP_PROBE_DOCUMENT"), offAllowed: false, config.ProbeDocument, errors)!,
            ProbeDocumentVersion = ReadDocumentVersion("AUTOSTOP_PROBE_DOCUMENT_VERSION", Raw("AUTOSTOP_PROBE_DOCUMENT_VERSION"), config.ProbeDocumentVersion, errors),
            NoticeDocument = ReadDocumentName("AUTOSTOP_NOTICE_DOCUMENT", Raw("AUTOSTOP_NOTICE_DOCUMENT"), offAllowed: true, config.NoticeDocument, errors),
            NoticeDocumentVersion = ReadDocumentVersion("AUTOSTOP_NOTICE_DOCUMENT_VERSION", Raw("AUTOSTOP_NOTICE_DOCUMENT_VERSION"), config.NoticeDocumentVersion, errors),
        };

        var skew = Raw("AUTOSTOP_EVENT_MAX_SKEW_MINUTES");
        if (skew is not null)
        {
            if (EventSkewSetting.TryParse(skew, out var parsedSkew)) config = config with { EventMaxSkewSetting = parsedSkew };
            else errors.Add($"AUTOSTOP_EVENT_MAX_SKEW_MINUTES='{skew}' is not allowed: use auto, whole minutes from 1 to 10080, or off.");
        }

        var ns = Raw("AUTOSTOP_METRIC_NAMESPACE");
        if (ns is not null)
        {
            if (MetricNamespacePattern().IsMatch(ns) && !ns.StartsWith("AWS/", StringComparison.Ordinal)) config = config with { MetricNamespace = ns };
            else errors.Add($"AUTOSTOP_METRIC_NAMESPACE='{ns}' is not allowed: use 1 to 255 letters, digits, spaces or . - _ / # : , not starting with AWS/.");
        }

        var ignore = Raw("AUTOSTOP_IGNORE_IDLE_TERMINALS_AFTER");
        if (ignore is not null)
        {
            if (SettingValues.TryParseOptionalMinutes(ignore, out var minutes)) config = config with { IgnoreIdleTerminalsAfterMinutes = minutes };
            else errors.Add($"AUTOSTOP_IGNORE_IDLE_TERMINALS_AFTER='{ignore}' is not allowed: use whole minutes from 1 to 10080, or off.");
        }

        var load = Raw("AUTOSTOP_BUSY_LOAD_PER_CPU");
        if (load is not null)
        {
            if (SettingValues.TryParseOptionalLoad(load, out var perCpu)) config = config with { BusyLoadPerCpu = perCpu };
            else errors.Add($"AUTOSTOP_BUSY_LOAD_PER_CPU='{load}' is not allowed: use a plain decimal number from 0.01 to 64 (e.g. 0.8), or off.");
        }

        var ports = Raw("AUTOSTOP_ACTIVE_PORTS");
        if (ports is not null)
        {
            if (SettingValues.TryParseOptionalPorts(ports, out var parsedPorts)) config = config with { ActivePorts = parsedPorts };
            else errors.Add($"AUTOSTOP_ACTIVE_PORTS='{ports}' is not allowed: use {SettingValues.PortsAllowed}.");
        }

        var gpu = Raw("AUTOSTOP_BUSY_GPU_PERCENT");
        if (gpu is not null)
        {
            if (SettingValues.TryParseOptionalPercent(gpu, out var percent)) config = config with { BusyGpuPercent = percent };
            else errors.Add($"AUTOSTOP_BUSY_GPU_PERCENT='{gpu}' is not allowed: use {SettingValues.GpuPercentAllowed}.");
        }

        var processes = Raw("AUTOSTOP_BUSY_PROCESSES");
        if (processes is not null)
        {
            if (SettingValues.TryParseOptionalProcessNames(processes, out var names)) config = config with { BusyProcesses = names };
            else errors.Add($"AUTOSTOP_BUSY_PROCESSES='{processes}' is not allowed: use {SettingValues.ProcessNamesAllowed}.");
        }

        if (errors.Count > 0) throw new ConfigException(errors);
        return config;
    }

    private static int ReadInt(string name, string? raw, int min, int max, int fallback, List<string> errors)
    {
        if (raw is null) return fallback;
        if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        errors.Add($"{name}='{raw}' is not allowed: use a whole number from {min} to {max}.");
        return fallback;
    }

    /// <summary>An SSM document name or ARN; with <paramref name="offAllowed"/>, "off" (any case) turns it off (null).</summary>
    private static string? ReadDocumentName(string name, string? raw, bool offAllowed, string? fallback, List<string> errors)
    {
        if (raw is null) return fallback;
        if (offAllowed && raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return null;
        if (DocumentName().IsMatch(raw)) return raw;
        errors.Add($"{name}='{raw}' is not an SSM document name: use 3 to 128 letters, digits, _ - . (or a document ARN){(offAllowed ? ", or off" : "")}.");
        return fallback;
    }

    /// <summary>botocore ssm DocumentVersion pattern: ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$), case-sensitive.</summary>
    private static string? ReadDocumentVersion(string name, string? raw, string? fallback, List<string> errors)
    {
        if (raw is null) return fallback;
        if (DocumentVersion().IsMatch(raw)) return raw;
        errors.Add($"{name}='{raw}' is not allowed: use a version number (1, 2, ...), $DEFAULT or $LATEST, or leave it unset.");
        return fallback;
    }

    private static bool ReadBool(string name, string? raw, bool fallback, List<string> errors)
    {
        if (raw is null) return fallback;
        if (SettingValues.TryParseBool(raw, out var value)) return value;
        errors.Add($"{name}='{raw}' is not allowed: use true or false.");
        return fallback;
    }

    [GeneratedRegex(@"^([a-zA-Z0-9_\-.]{3,128}|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:document/[a-zA-Z0-9_\-.]{3,128})$")]
    private static partial Regex DocumentName();

    [GeneratedRegex(@"^([$]LATEST|[$]DEFAULT|[1-9][0-9]{0,9})\z", RegexOptions.CultureInvariant)]
    private static partial Regex DocumentVersion();

    [GeneratedRegex(@"^[a-zA-Z0-9 .\-_/#:]{1,255}$")]
    private static partial Regex MetricNamespacePattern();
}

/// <summary>
/// AUTOSTOP_EVENT_MAX_SKEW_MINUTES: auto (the larger of 15 minutes and two schedule periods), whole minutes, or off.
/// A scheduled payload's time is the policy's now; one far from the clock (a payload of 2099-01-01) would make every
/// idle instance look idle past its threshold at once, so it is refused. off is for virtual clocks (the lab).
/// </summary>
public sealed record EventSkewSetting(bool IsAuto, int? Minutes)
{
    public static readonly EventSkewSetting Auto = new(true, null);
    public static readonly EventSkewSetting Off = new(false, null);

    /// <summary>The floor of auto. A delivered tick is at most a minute late (Scheduler and Lambda's asynchronous queue drop
    /// older events, README "Sizing"), so 15 minutes leaves room for clock differences and a tick queued behind a long
    /// one, and still refuses a wrong date; two schedule periods cover a tick waiting behind the previous one.</summary>
    public const int AutoMinimumMinutes = 15;

    public static bool TryParse(string raw, out EventSkewSetting setting)
    {
        setting = Auto;
        if (raw.Equals("auto", StringComparison.OrdinalIgnoreCase)) return true;
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) { setting = Off; return true; }
        if (!SettingValues.TryParseMinutes(raw, 1, 10080, out var minutes)) return false;
        setting = new EventSkewSetting(false, minutes);
        return true;
    }

    public TimeSpan? Resolve(int scheduleMinutes) =>
        IsAuto ? TimeSpan.FromMinutes(Math.Max(AutoMinimumMinutes, 2 * scheduleMinutes))
        : Minutes is { } m ? TimeSpan.FromMinutes(m) : null;

    public override string ToString() => IsAuto ? "auto" : Minutes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "off";
}

/// <summary>One documented configuration variable (for --help and the README).</summary>
public sealed record ConfigVariable(string Name, string Default, string Meaning);

/// <summary>Configuration that cannot be used; nothing is done when this is thrown.</summary>
public sealed class ConfigException(IReadOnlyList<string> problems)
    : Exception("Invalid configuration: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
