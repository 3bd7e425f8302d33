using AutoStop.Configuration;

namespace AutoStop.Policy;

/// <summary>
/// One instance's effective settings: its KEY:* tags over the global configuration, plus the idle
/// state AutoStop stored on it. Built only from valid tags; see <see cref="InstanceSettingsReader"/>.
/// </summary>
public sealed record InstanceSettings(
    int IdleMinutes,
    StopAction Action,
    DateTimeOffset? SnoozeUntil,
    int? IgnoreIdleTerminalsAfterMinutes,
    double? BusyLoadPerCpu,
    bool CountMultiplexers,
    DateTimeOffset? IdleSince,
    DateTimeOffset? StoppedAt)
{
    public long ThresholdSeconds => IdleMinutes * 60L;

    /// <summary>KEY:ActivePorts: inbound connections to these local ports are sessions (null: off).</summary>
    public IReadOnlySet<int>? ActivePorts { get; init; }

    /// <summary>KEY:BusyGpuPercent: GPU utilization at or above it keeps the instance (null: off).</summary>
    public int? BusyGpuPercent { get; init; }

    /// <summary>KEY:BusyProcesses: one of these running keeps the instance (null: off).</summary>
    public IReadOnlyList<string>? BusyProcesses { get; init; }

    /// <summary>KEY:StopReason as AutoStop wrote it at its last stop (informational; cleared with StoppedAt).</summary>
    public string? StopReason { get; init; }
}

/// <summary>A tag AutoStop cannot use: its value (named with what is allowed), or its key (KeyProblem: a key AutoStop
/// would otherwise ignore without a word, named with the key expected).</summary>
public sealed record TagProblem(string Key, string Value, string Allowed, bool KeyProblem = false)
{
    public string Describe() => KeyProblem
        ? $"tag key '{Key}' is not one AutoStop reads: {Allowed}"
        : $"tag {Key}='{Value}' is not allowed: {Allowed}";
}

/// <summary>Reads the KEY:* tags of one instance. Never falls back to a default for a bad value, never trims one.</summary>
public static class InstanceSettingsReader
{
    public const string IdleMinutesTag = "IdleMinutes";
    public const string ActionTag = "Action";
    public const string SnoozeUntilTag = "SnoozeUntil";
    public const string IgnoreIdleTerminalsAfterTag = "IgnoreIdleTerminalsAfter";
    public const string BusyLoadPerCpuTag = "BusyLoadPerCpu";
    public const string CountMultiplexersTag = "CountMultiplexers";
    public const string IdleSinceTag = "IdleSince";
    public const string StoppedAtTag = "StoppedAt";
    public const string ActivePortsTag = "ActivePorts";
    public const string BusyGpuPercentTag = "BusyGpuPercent";
    public const string BusyProcessesTag = "BusyProcesses";
    public const string StopReasonTag = "StopReason";

    public static readonly IReadOnlyList<string> KnownNames =
        [IdleMinutesTag, ActionTag, SnoozeUntilTag, IgnoreIdleTerminalsAfterTag, BusyLoadPerCpuTag, CountMultiplexersTag, ActivePortsTag, BusyGpuPercentTag,
         BusyProcessesTag, IdleSinceTag, StoppedAtTag, StopReasonTag];

    /// <summary>The state tags AutoStop writes itself (each instance needs room for all of them: see InstanceScreen's tag-limit
    /// rule): IdleSince while idle, StoppedAt and StopReason while stopped by AutoStop.</summary>
    public static readonly IReadOnlyList<string> StateNames = [IdleSinceTag, StoppedAtTag, StopReasonTag];

    /// <summary>EC2's limit on a tag value (AWS docs, "Tag your Amazon EC2 resources", tag restrictions: 256 Unicode characters).</summary>
    public const int MaxTagValueLength = 256;

    /// <summary>Why a value with spaces around it is refused rather than trimmed (the same for every tag, decided per tag below).</summary>
    public const string PaddingReason =
        "AutoStop does not trim tag values, because EC2 tag filters and IAM conditions compare them exactly and other tools may parse them differently";

    /// <summary>One setting tag: what it allows and how its value changes the settings (null: not allowed).
    /// Padding is refused for every one of them, each for a reason of its own:
    /// IdleMinutes, IgnoreIdleTerminalsAfter, BusyLoadPerCpu: number parsers disagree on spaces (int.Parse with its default
    /// NumberStyles.Integer takes ' 30', NumberStyles.None does not), so another reader's threshold could differ from AutoStop's;
    /// Action, CountMultiplexers: an EC2 filter tag:KEY:Action=hibernate (a console search, a report) misses ' hibernate';
    /// SnoozeUntil: time parsers disagree on padding and on loose forms (see SettingValues.TryParseTime);
    /// IdleSince, StoppedAt: AutoStop writes them without spaces, so a padded one was edited by hand: say so, never guess.</summary>
    private sealed record TagSpec(string Allowed, Func<string, InstanceSettings, InstanceSettings?> Apply);

    private static readonly Dictionary<string, TagSpec> Specs = new(StringComparer.Ordinal)
    {
        [IdleMinutesTag] = new("whole minutes from 5 to 10080",
            (v, s) => SettingValues.TryParseMinutes(v, 5, 10080, out var m) ? s with { IdleMinutes = m } : null),
        [ActionTag] = new("stop or hibernate",
            (v, s) => SettingValues.TryParseAction(v, out var a) ? s with { Action = a } : null),
        [SnoozeUntilTag] = new("an ISO-8601 time: " + SettingValues.TimeForms,
            (v, s) => SettingValues.TryParseTime(v, out var t) ? s with { SnoozeUntil = t } : null),
        [IgnoreIdleTerminalsAfterTag] = new("whole minutes from 1 to 10080, or off",
            (v, s) => SettingValues.TryParseOptionalMinutes(v, out var m) ? s with { IgnoreIdleTerminalsAfterMinutes = m } : null),
        [BusyLoadPerCpuTag] = new("a plain decimal number from 0.01 to 64 (e.g. 0.8; not NaN, Infinity or an exponent), or off",
            (v, s) => SettingValues.TryParseOptionalLoad(v, out var l) ? s with { BusyLoadPerCpu = l } : null),
        [CountMultiplexersTag] = new("true or false",
            (v, s) => SettingValues.TryParseBool(v, out var b) ? s with { CountMultiplexers = b } : null),
        [IdleSinceTag] = new("an ISO-8601 UTC time written by AutoStop (e.g. 2026-11-23T10:05:00Z); remove the tag to reset idle tracking",
            (v, s) => SettingValues.TryParseTime(v, out var t) ? s with { IdleSince = t } : null),
        [StoppedAtTag] = new("an ISO-8601 UTC time written by AutoStop (e.g. 2026-11-23T10:05:00Z); remove the tag",
            (v, s) => SettingValues.TryParseTime(v, out var t) ? s with { StoppedAt = t } : null),
        [ActivePortsTag] = new(SettingValues.PortsAllowed,
            (v, s) => SettingValues.TryParseOptionalPorts(v, out var p) ? s with { ActivePorts = p } : null),
        [BusyGpuPercentTag] = new(SettingValues.GpuPercentAllowed,
            (v, s) => SettingValues.TryParseOptionalPercent(v, out var g) ? s with { BusyGpuPercent = g } : null),
        [BusyProcessesTag] = new(SettingValues.ProcessNamesAllowed,
            (v, s) => SettingValues.TryParseOptionalProcessNames(v, out var n) ? s with { BusyProcesses = n } : null),
        [StopReasonTag] = new("text written by AutoStop when it stopped the instance (e.g. 'stop: idle 15+ min / threshold 15 min'); remove the tag",
            (v, s) => v.Length > 0 ? s with { StopReason = v } : null),
    };

    /// <summary>Returns the settings, or every problem found (then settings is null).</summary>
    public static (InstanceSettings? Settings, IReadOnlyList<TagProblem> Problems) Read(
        IReadOnlyDictionary<string, string> tags, AutoStopConfig config)
    {
        var prefix = config.TagPrefix;
        var problems = new List<TagProblem>();
        var settings = new InstanceSettings(config.IdleMinutes, config.Action, null, config.IgnoreIdleTerminalsAfterMinutes,
            config.BusyLoadPerCpu, config.CountMultiplexers, null, null)
        { ActivePorts = config.ActivePorts, BusyGpuPercent = config.BusyGpuPercent, BusyProcesses = config.BusyProcesses };

        foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                var name = key[prefix.Length..];
                if (!Specs.TryGetValue(name, out var spec))
                {
                    // A typo such as KEY:IdleMinute, or KEY:idleminutes, would otherwise be ignored silently.
                    problems.Add(new(key, value, "use " + ExpectedKeys(prefix, name), KeyProblem: true));
                    continue;
                }
                if (SettingValues.IsPadded(value))
                {
                    problems.Add(new(key, value, $"{spec.Allowed}, without spaces around it ({PaddingReason})"));
                    continue;
                }
                if (spec.Apply(value, settings) is { } applied) settings = applied;
                else problems.Add(new(key, value, spec.Allowed));
            }
            else if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                // EC2 tag keys are case-sensitive: autostop:IdleMinutes is another key, which AutoStop would never read.
                problems.Add(new(key, value,
                    $"its prefix differs from {prefix} only by case, and EC2 tag keys are case-sensitive: use {ExpectedKeys(prefix, key[prefix.Length..])}",
                    KeyProblem: true));
            }
            else if (key.Equals(config.TagKey, StringComparison.OrdinalIgnoreCase) && key != config.TagKey)
            {
                // Listed only because the exact key is there too: the inventory filters on the exact, case-sensitive key,
                // so an instance tagged only with this variant is never listed at all.
                problems.Add(new(key, value,
                    $"it differs from the opt-in key {config.TagKey} only by case, and EC2 tag keys are case-sensitive: AutoStop reads only {config.TagKey} " +
                    $"(an instance tagged only {key} is not even listed); remove it or rename it to {config.TagKey}",
                    KeyProblem: true));
            }
        }
        return problems.Count > 0 ? (null, problems) : (settings, problems);
    }

    /// <summary>The exact key meant when a name matches a known one but for case; else the list of known keys.</summary>
    private static string ExpectedKeys(string prefix, string name)
    {
        var match = KnownNames.FirstOrDefault(n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
        return match is not null
            ? $"exactly {prefix}{match} (tag keys are case-sensitive)"
            : "a known setting tag: " + string.Join(", ", KnownNames.Select(n => prefix + n));
    }
}
