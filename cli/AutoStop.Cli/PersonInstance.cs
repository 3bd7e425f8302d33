using Amazon.EC2.Model;
using AutoStop.Configuration;
using AutoStop.Policy;

namespace AutoStop.Cli;

/// <summary>One instance as a person sees it: EC2's facts, and its AutoStop tags read by the function's own reader.</summary>
public sealed record PersonInstance(
    string Id,
    string? Name,
    string State,
    DateTimeOffset? LaunchTime,
    string? PublicIp,
    string? PrivateIp,
    IReadOnlyDictionary<string, string> Tags)
{
    public string Label => Name is null ? Id : $"{Name} ({Id})";

    public static PersonInstance From(Instance i)
    {
        var tags = (i.Tags ?? []).GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value ?? "", StringComparer.Ordinal);
        DateTimeOffset? launch = i.LaunchTime is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc)) : null;
        return new PersonInstance(i.InstanceId, tags.GetValueOrDefault("Name"), i.State?.Name?.Value ?? "unknown", launch,
            string.IsNullOrEmpty(i.PublicIpAddress) ? null : i.PublicIpAddress,
            string.IsNullOrEmpty(i.PrivateIpAddress) ? null : i.PrivateIpAddress, tags);
    }

    public OptIn OptIn(AutoStopConfig config) => OptInTag.Read(Tags, config, out _);

    /// <summary>The function's reading of this instance's KEY:* tags: settings, or every problem it would report.</summary>
    public (InstanceSettings? Settings, IReadOnlyList<TagProblem> Problems) Settings(AutoStopConfig config) => InstanceSettingsReader.Read(Tags, config);

    /// <summary>When AutoStop stopped it (its StoppedAt tag), when readable.</summary>
    public DateTimeOffset? StoppedAt(AutoStopConfig config) => ReadTime(config.TagPrefix + InstanceSettingsReader.StoppedAtTag);

    public DateTimeOffset? IdleSince(AutoStopConfig config) => ReadTime(config.TagPrefix + InstanceSettingsReader.IdleSinceTag);

    public DateTimeOffset? SnoozeUntil(AutoStopConfig config) => ReadTime(config.TagPrefix + InstanceSettingsReader.SnoozeUntilTag);

    /// <summary>The idle threshold the function applies: the IdleMinutes tag when valid, else the configured default.</summary>
    public int IdleMinutes(AutoStopConfig config) =>
        Tags.TryGetValue(config.TagPrefix + InstanceSettingsReader.IdleMinutesTag, out var raw) && SettingValues.TryParseMinutes(raw, 5, 10080, out var m) ? m : config.IdleMinutes;

    private DateTimeOffset? ReadTime(string key) =>
        Tags.TryGetValue(key, out var raw) && SettingValues.TryParseTime(raw, out var t) ? t : null;
}
