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
}

/// <summary>A KEY:* tag whose value AutoStop cannot use: named with its value and what is allowed.</summary>
public sealed record TagProblem(string Key, string Value, string Allowed)
{
    public string Describe() => $"tag {Key}='{Value}' is not allowed: {Allowed}";
}

/// <summary>Reads the KEY:* tags of one instance. Never falls back to a default for a bad value.</summary>
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

    public static readonly IReadOnlyList<string> KnownNames =
        [IdleMinutesTag, ActionTag, SnoozeUntilTag, IgnoreIdleTerminalsAfterTag, BusyLoadPerCpuTag, CountMultiplexersTag, IdleSinceTag, StoppedAtTag];

    /// <summary>Returns the settings, or every problem found (then settings is null).</summary>
    public static (InstanceSettings? Settings, IReadOnlyList<TagProblem> Problems) Read(
        IReadOnlyDictionary<string, string> tags, AutoStopConfig config)
    {
        var prefix = config.TagPrefix;
        var problems = new List<TagProblem>();
        var settings = new InstanceSettings(config.IdleMinutes, config.Action, null, config.IgnoreIdleTerminalsAfterMinutes,
            config.BusyLoadPerCpu, config.CountMultiplexers, null, null);

        foreach (var (key, rawValue) in tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var name = key[prefix.Length..];
            var value = rawValue.Trim();
            switch (name)
            {
                case IdleMinutesTag:
                    if (SettingValues.TryParseMinutes(value, 5, 10080, out var minutes)) settings = settings with { IdleMinutes = minutes };
                    else problems.Add(new(key, rawValue, "whole minutes from 5 to 10080"));
                    break;
                case ActionTag:
                    if (SettingValues.TryParseAction(value, out var action)) settings = settings with { Action = action };
                    else problems.Add(new(key, rawValue, "stop or hibernate"));
                    break;
                case SnoozeUntilTag:
                    if (SettingValues.TryParseTime(value, out var snooze)) settings = settings with { SnoozeUntil = snooze };
                    else problems.Add(new(key, rawValue, "an ISO-8601 time with Z or an offset, e.g. 2026-11-23T18:00:00Z"));
                    break;
                case IgnoreIdleTerminalsAfterTag:
                    if (SettingValues.TryParseOptionalMinutes(value, out var ignore)) settings = settings with { IgnoreIdleTerminalsAfterMinutes = ignore };
                    else problems.Add(new(key, rawValue, "whole minutes from 1 to 10080, or off"));
                    break;
                case BusyLoadPerCpuTag:
                    if (SettingValues.TryParseOptionalLoad(value, out var load)) settings = settings with { BusyLoadPerCpu = load };
                    else problems.Add(new(key, rawValue, "a number from 0.01 to 64, or off"));
                    break;
                case CountMultiplexersTag:
                    if (SettingValues.TryParseBool(value, out var count)) settings = settings with { CountMultiplexers = count };
                    else problems.Add(new(key, rawValue, "true or false"));
                    break;
                case IdleSinceTag:
                    if (SettingValues.TryParseTime(value, out var idleSince)) settings = settings with { IdleSince = idleSince };
                    else problems.Add(new(key, rawValue, "an ISO-8601 UTC time written by AutoStop; remove the tag to reset idle tracking"));
                    break;
                case StoppedAtTag:
                    if (SettingValues.TryParseTime(value, out var stoppedAt)) settings = settings with { StoppedAt = stoppedAt };
                    else problems.Add(new(key, rawValue, "an ISO-8601 UTC time written by AutoStop; remove the tag"));
                    break;
                default:
                    // A typo such as KEY:IdleMinute would otherwise be ignored silently.
                    problems.Add(new(key, rawValue, "a known setting tag: " + string.Join(", ", KnownNames.Select(n => prefix + n))));
                    break;
            }
        }
        return problems.Count > 0 ? (null, problems) : (settings, problems);
    }
}
