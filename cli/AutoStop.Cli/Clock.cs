using System.Globalization;

namespace AutoStop.Cli;

/// <summary>Times for people: the local zone (TZ), HH:mm today, with the date otherwise; durations in whole units.</summary>
public sealed class PersonClock(TimeProvider time, TimeZoneInfo zone)
{
    public DateTimeOffset Now => time.GetUtcNow();

    public TimeZoneInfo Zone => zone;

    public string Format(DateTimeOffset t)
    {
        var local = TimeZoneInfo.ConvertTime(t, zone);
        var today = TimeZoneInfo.ConvertTime(Now, zone).Date;
        return local.Date == today
            ? local.ToString("HH:mm", CultureInfo.InvariantCulture)
            : local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
    }

    public static string Minutes(TimeSpan span) =>
        span.TotalMinutes < 120 ? $"{Math.Max(0, (int)span.TotalMinutes)} min"
        : span.TotalHours < 48 ? $"{(int)span.TotalHours} h {span.Minutes} min"
        : $"{(int)span.TotalDays} days";
}
