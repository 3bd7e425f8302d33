using System.Globalization;

namespace AutoStop.Configuration;

/// <summary>The value grammar shared by environment variables and AutoStop:* tags, so both accept the same words.</summary>
public static class SettingValues
{
    public static bool TryParseBool(string raw, out bool value)
    {
        if (raw.Equals("true", StringComparison.OrdinalIgnoreCase)) { value = true; return true; }
        if (raw.Equals("false", StringComparison.OrdinalIgnoreCase)) { value = false; return true; }
        value = false;
        return false;
    }

    public static bool TryParseAction(string raw, out StopAction action)
    {
        if (raw.Equals("stop", StringComparison.OrdinalIgnoreCase)) { action = StopAction.Stop; return true; }
        if (raw.Equals("hibernate", StringComparison.OrdinalIgnoreCase)) { action = StopAction.Hibernate; return true; }
        action = StopAction.Stop;
        return false;
    }

    public static bool TryParseMinutes(string raw, int min, int max, out int minutes) =>
        int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out minutes) && minutes >= min && minutes <= max;

    /// <summary>Whole minutes 1..10080, or "off" (null).</summary>
    public static bool TryParseOptionalMinutes(string raw, out int? minutes)
    {
        minutes = null;
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return true;
        if (!TryParseMinutes(raw, 1, 10080, out var parsed)) return false;
        minutes = parsed;
        return true;
    }

    /// <summary>A load per CPU 0.01..64, or "off" (null).</summary>
    public static bool TryParseOptionalLoad(string raw, out double? load)
    {
        load = null;
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return true;
        if (!double.TryParse(raw, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) || parsed < 0.01 || parsed > 64) return false;
        load = parsed;
        return true;
    }

    /// <summary>An ISO-8601 time that names its offset (Z or +hh:mm); a bare local time is ambiguous and refused.</summary>
    public static bool TryParseTime(string raw, out DateTimeOffset time)
    {
        time = default;
        var s = raw.Trim();
        if (s.Length < 11 || s[4] != '-') return false;
        var hasZone = s.EndsWith('Z') || s.EndsWith('z') || HasOffset(s);
        if (!hasZone) return false;
        if (!DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time)) return false;
        time = time.ToUniversalTime();
        return true;
    }

    private static bool HasOffset(string s)
    {
        // ...T10:00:00+02:00 or -0500: a sign after the time part.
        var t = s.IndexOf('T');
        if (t < 0) return false;
        return s.IndexOf('+', t) > 0 || s.IndexOf('-', t) > 0;
    }

    /// <summary>Time as AutoStop writes it into tags and logs: UTC, second precision, trailing Z.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static bool IsValidTagKey(string key) =>
        key.Length is >= 1 and <= 100
        && !key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase)
        && key.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '+' or '-' or '=' or '.' or '_' or '/' or '@');
}
