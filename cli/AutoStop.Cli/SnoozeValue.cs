using System.Globalization;
using System.Text.RegularExpressions;
using AutoStop.Configuration;
using AutoStop.Policy;

namespace AutoStop.Cli;

/// <summary>
/// What `autostop snooze NAME VALUE` writes into KEY:SnoozeUntil. VALUE is a duration (2h, 90m, 1h30m, 1d), a local time
/// today (HH:MM; tomorrow when already past), or a time in the function's own forms. Every value is checked by the
/// function's tag reader before anything is written, so a value the function would reject is refused with its message.
/// </summary>
public static partial class SnoozeValue
{
    /// <summary>The longest duration form (an explicit time may be later: the function sets no limit).</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(365);

    public const string Forms = "a duration such as 45m, 2h, 1h30m or 1d (1 minute to 365 days), a local time HH:MM (today, or tomorrow once past), " +
        "or a time " + SettingValues.TimeForms;

    /// <summary>The tag value to write and the time it means; or a CliFailure (Usage) naming the value and what is allowed.</summary>
    public static (string TagValue, DateTimeOffset Until) Parse(string text, AutoStopConfig config, PersonClock clock)
    {
        var now = clock.Now;
        string tagValue;
        if (DurationPattern().Match(text) is { Success: true } d && text.Length > 0)
        {
            var span = TimeSpan.FromDays(Part(d, "d")) + TimeSpan.FromHours(Part(d, "h")) + TimeSpan.FromMinutes(Part(d, "m"));
            if (span < TimeSpan.FromMinutes(1) || span > Longest)
                throw new CliFailure(ExitCodes.Usage, $"snooze '{text}' is not allowed: a duration from 1 minute to 365 days. Nothing was written.");
            tagValue = SettingValues.FormatTime(now + span);
        }
        else if (ClockPattern().Match(text) is { Success: true } c)
        {
            var hour = int.Parse(c.Groups["h"].Value, CultureInfo.InvariantCulture);
            var minute = int.Parse(c.Groups["m"].Value, CultureInfo.InvariantCulture);
            if (hour > 23 || minute > 59) throw new CliFailure(ExitCodes.Usage, $"snooze '{text}' is not allowed: a local time HH:MM from 00:00 to 23:59. Nothing was written.");
            var today = TimeZoneInfo.ConvertTime(now, clock.Zone).Date;
            var local = today.AddHours(hour).AddMinutes(minute);
            var at = new DateTimeOffset(local, clock.Zone.GetUtcOffset(local));
            if (at <= now) at = new DateTimeOffset(local.AddDays(1), clock.Zone.GetUtcOffset(local.AddDays(1)));
            tagValue = SettingValues.FormatTime(at);
        }
        else tagValue = text; // the function's own forms, written as given once its reader accepts them

        // The function's reader decides, with its own message (InstanceSettingsReader, the one definition of the tag).
        var key = config.TagPrefix + InstanceSettingsReader.SnoozeUntilTag;
        var (settings, problems) = InstanceSettingsReader.Read(new Dictionary<string, string>(StringComparer.Ordinal) { [key] = tagValue }, config);
        if (settings?.SnoozeUntil is not { } until)
            throw new CliFailure(ExitCodes.Usage,
                string.Join("; ", problems.Select(p => p.Describe())) + $".\nautostop snooze also takes {Forms[..Forms.IndexOf(", or a time", StringComparison.Ordinal)]}. Nothing was written.");
        if (until <= now)
            throw new CliFailure(ExitCodes.Usage, $"snooze '{text}' is not allowed: {SettingValues.FormatTime(until)} is in the past; give a later time or a duration. Nothing was written.");
        return (tagValue, until);
    }

    private static int Part(Match m, string group) =>
        m.Groups[group].Success ? int.Parse(m.Groups[group].Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"^(?=[0-9])((?<d>[0-9]{1,4})d)?((?<h>[0-9]{1,4})h)?((?<m>[0-9]{1,6})m)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^(?<h>[0-9]{1,2}):(?<m>[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex ClockPattern();
}
