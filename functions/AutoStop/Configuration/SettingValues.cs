using System.Globalization;
using System.Text.RegularExpressions;

namespace AutoStop.Configuration;

/// <summary>
/// The value grammar shared by environment variables and AutoStop:* tags, so both accept the same words.
/// Nothing here trims: a caller that tolerates padding says so itself (tags do not, see InstanceSettingsReader).
/// </summary>
public static partial class SettingValues
{
    /// <summary>The documented time forms, for messages.</summary>
    public const string TimeForms = "YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS or YYYY-MM-DDTHH:MM:SS.fff (1 to 7 fraction digits), " +
        "then Z or an offset ±HH:MM, e.g. 2026-11-23T18:00:00Z or 2026-11-23T19:00+01:00";

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

    /// <summary>ASCII digits only (NumberStyles.None: no sign, no spaces, no separators).</summary>
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

    /// <summary>
    /// A load per CPU 0.01..64 written as a plain decimal number (digits, optionally a point and more digits), or "off" (null).
    /// The grammar comes first because double.TryParse also takes "NaN", "-nan", "Infinity" and "∞" whatever the
    /// NumberStyles: NaN compares false with both bounds, so it passed the range check and turned busy detection off.
    /// </summary>
    public static bool TryParseOptionalLoad(string raw, out double? load)
    {
        load = null;
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return true;
        if (!PlainDecimal().IsMatch(raw)) return false;
        var parsed = double.Parse(raw, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        if (parsed < 0.01 || parsed > 64) return false;
        load = parsed;
        return true;
    }

    /// <summary>What AutoStop:ActivePorts and AUTOSTOP_ACTIVE_PORTS allow (one definition for both messages).</summary>
    public const string PortsAllowed = "a comma-separated list of 1 to 16 TCP port numbers from 1 to 65535, without spaces, signs or repeats (e.g. 8888,8080,3389,8443), or off";

    /// <summary>What AutoStop:BusyGpuPercent and AUTOSTOP_BUSY_GPU_PERCENT allow.</summary>
    public const string GpuPercentAllowed = "a whole percentage from 1 to 100 (GPU utilization at or above it keeps the instance), or off";

    /// <summary>What AutoStop:BusyProcesses and AUTOSTOP_BUSY_PROCESSES allow: only names the probe reports.</summary>
    public static string ProcessNamesAllowed =>
        "a comma-separated list, without spaces or repeats, of names the probe reports (" + string.Join(", ", Policy.ProbeVocabulary.BusyProcessNames) + "), or off";

    /// <summary>TCP ports, comma-separated, 1..16 of them, each 1..65535 in plain digits without a leading zero; or "off" (null).</summary>
    public static bool TryParseOptionalPorts(string raw, out IReadOnlySet<int>? ports)
    {
        ports = null;
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return true;
        var parts = raw.Split(',');
        if (parts.Length is < 1 or > 16) return false;
        var set = new SortedSet<int>();
        foreach (var part in parts)
        {
            // "08888" is refused: another reader may take a leading zero for octal.
            if (part.Length is < 1 or > 5 || part[0] == '0' || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port > 65535 || !set.Add(port)) return false;
        }
        ports = set;
        return true;
    }

    /// <summary>A whole percentage 1..100, or "off" (null).</summary>
    public static bool TryParseOptionalPercent(string raw, out int? percent)
    {
        percent = null;
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return true;
        if (!TryParseMinutes(raw, 1, 100, out var parsed)) return false;
        percent = parsed;
        return true;
    }

    /// <summary>Names from the probe's allow-list (exact case), comma-separated, no repeats; or "off" (null).</summary>
    public static bool TryParseOptionalProcessNames(string raw, out IReadOnlyList<string>? names)
    {
        names = null;
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase)) return true;
        var parts = raw.Split(',');
        var list = new List<string>();
        foreach (var part in parts)
        {
            if (!Policy.ProbeVocabulary.BusyProcessNames.Contains(part, StringComparer.Ordinal) || list.Contains(part, StringComparer.Ordinal)) return false;
            list.Add(part);
        }
        names = list;
        return true;
    }

    /// <summary>
    /// An ISO-8601 (RFC 3339 profile) time that names its offset, in exactly these forms:
    /// <c>YYYY-MM-DDTHH:MM[:SS[.f{1,7}]](Z|+HH:MM|-HH:MM)</c>, upper-case T and Z, nothing before or after.
    /// A bare local time is ambiguous and refused; so are the looser forms DateTimeOffset.TryParse accepts
    /// ("2026-11/23T08:00:00Z", "2026-11-23 T 18:00 Z", "+0100" offsets): a value another reader may take differently is refused.
    /// </summary>
    public static bool TryParseTime(string raw, out DateTimeOffset time)
    {
        time = default;
        var m = IsoTime().Match(raw);
        if (!m.Success) return false;
        int Part(string name) => int.Parse(m.Groups[name].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        var offset = TimeSpan.Zero;
        if (m.Groups["oh"].Success)
        {
            var minutes = Part("oh") * 60 + Part("om");
            if (Part("om") > 59 || minutes > 14 * 60) return false; // DateTimeOffset's range, and no "+05:75"
            offset = TimeSpan.FromMinutes(m.Groups["sign"].Value == "-" ? -minutes : minutes);
        }
        var year = Part("y");
        var month = Part("mo");
        var day = Part("d");
        var hour = Part("h");
        var minute = Part("mi");
        var second = m.Groups["s"].Success ? Part("s") : 0;
        // Calendar limits (no 24:00, no leap second 60, no 2026-02-30): DateTime refuses them.
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return false;
        var ticks = 0L;
        if (m.Groups["f"].Success) ticks = long.Parse(m.Groups["f"].Value.PadRight(7, '0'), NumberStyles.None, CultureInfo.InvariantCulture);
        try
        {
            time = new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(ticks).ToUniversalTime();
        }
        catch (ArgumentOutOfRangeException) // e.g. 0001-01-01T00:00+01:00 is before DateTimeOffset.MinValue in UTC
        {
            return false;
        }
        return true;
    }

    /// <summary>Time as AutoStop writes it into tags and logs: UTC, second precision, trailing Z.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static bool IsValidTagKey(string key) =>
        key.Length is >= 1 and <= 100
        && !key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase)
        && key.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '+' or '-' or '=' or '.' or '_' or '/' or '@');

    /// <summary>Leading or trailing white space (what string.Trim would remove).</summary>
    public static bool IsPadded(string value) => value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]));

    // [0-9], not \d (which matches every Unicode digit); \z, not $ (which also matches before a final \n).
    [GeneratedRegex(@"^[0-9]{1,3}(\.[0-9]{1,6})?\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainDecimal();

    [GeneratedRegex(@"^(?<y>[0-9]{4})-(?<mo>[0-9]{2})-(?<d>[0-9]{2})T(?<h>[0-9]{2}):(?<mi>[0-9]{2})(:(?<s>[0-9]{2})(\.(?<f>[0-9]{1,7}))?)?(Z|(?<sign>[+-])(?<oh>[0-9]{2}):(?<om>[0-9]{2}))\z",
        RegexOptions.CultureInvariant)]
    private static partial Regex IsoTime();
}
