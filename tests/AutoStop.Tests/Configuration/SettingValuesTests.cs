using AutoStop.Configuration;

namespace AutoStop.Tests.Configuration;

/// <summary>The value grammar shared by tags and variables: exactly the documented forms, nothing a looser parser would add.</summary>
public class SettingValuesTests
{
    [Theory]
    [InlineData("2026-11-23T08:00Z", "2026-11-23T08:00:00Z")]
    [InlineData("2026-11-23T08:00:05Z", "2026-11-23T08:00:05Z")]
    [InlineData("2026-11-23T08:00:05.5Z", "2026-11-23T08:00:05.5Z")]
    [InlineData("2026-11-23T08:00:05.1234567Z", "2026-11-23T08:00:05.1234567Z")]
    [InlineData("2026-11-23T09:00+01:00", "2026-11-23T08:00:00Z")]
    [InlineData("2026-11-23T03:30:00-04:30", "2026-11-23T08:00:00Z")]
    [InlineData("2026-11-23T08:00:00-00:00", "2026-11-23T08:00:00Z")]
    [InlineData("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z")]
    [InlineData("2026-11-23T22:00:00+14:00", "2026-11-23T08:00:00Z")]
    public void TheDocumentedFormsAreAccepted(string text, string utc)
    {
        Assert.True(SettingValues.TryParseTime(text, out var time), text);
        Assert.Equal(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), time);
        Assert.Equal(TimeSpan.Zero, time.Offset);
    }

    [Theory]
    [InlineData("2026-11/23T08:00:00Z")]         // another separator: DateTimeOffset.TryParse took it
    [InlineData("2026-11-23 T 18:00 Z")]         // spaces inside: DateTimeOffset.TryParse took it
    [InlineData("2026-11-23 18:00:00Z")]         // space instead of T
    [InlineData("2026-11-23t18:00:00Z")]         // lower-case t
    [InlineData("2026-11-23T18:00:00z")]         // lower-case z
    [InlineData(" 2026-11-23T18:00:00Z")]        // padded
    [InlineData("2026-11-23T18:00:00Z ")]
    [InlineData("2026-11-23T18:00:00Z\n")]       // $ would match before a final newline; \z does not
    [InlineData("2026-11-23T18:00:00")]          // no zone: local time is ambiguous
    [InlineData("2026-11-23")]                   // no time
    [InlineData("2026-11-23T18Z")]               // no minutes
    [InlineData("2026-11-23T18:00:00+0100")]     // offset without colon
    [InlineData("2026-11-23T18:00:00+01")]       // offset without minutes
    [InlineData("2026-11-23T18:00:00+15:00")]    // beyond ±14:00
    [InlineData("2026-11-23T18:00:00+01:60")]
    [InlineData("2026-11-23T18:00:00.Z")]        // point without digits
    [InlineData("2026-11-23T18:00:00.12345678Z")] // 8 fraction digits
    [InlineData("2026-11-23T18:00.5Z")]          // fraction without seconds
    [InlineData("2026-02-30T18:00:00Z")]         // no such day
    [InlineData("2026-13-01T18:00:00Z")]
    [InlineData("2026-11-23T24:00:00Z")]
    [InlineData("2026-11-23T23:60:00Z")]
    [InlineData("2026-11-23T23:59:60Z")]         // leap second
    [InlineData("26-11-23T18:00:00Z")]
    [InlineData("+2026-11-23T18:00:00Z")]
    [InlineData("２０２６-11-23T18:00:00Z")]      // full-width digits (\d would match them)
    [InlineData("0001-01-01T00:00:00+01:00")]    // before DateTimeOffset's range in UTC
    [InlineData("")]
    [InlineData("yesterday")]
    public void NearMissesAreRefused(string text)
    {
        Assert.False(SettingValues.TryParseTime(text, out _), text);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("-NaN")]
    [InlineData("+nan")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("infinity")]
    [InlineData("∞")]
    [InlineData("1e-1")]
    [InlineData("0x10")]
    [InlineData("+0.5")]
    [InlineData("-0.5")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("0,5")]
    [InlineData("1,000")]
    [InlineData(" 0.5")]
    [InlineData("0.5 ")]
    [InlineData("٠.٥")]  // Arabic-Indic digits
    [InlineData("0.001")]
    [InlineData("64.5")]
    [InlineData("")]
    public void BusyLoadRefusesAnythingButAPlainDecimalInRange(string text)
    {
        Assert.False(SettingValues.TryParseOptionalLoad(text, out _), text);
    }

    [Theory]
    [InlineData("0.01", 0.01)]
    [InlineData("0.8", 0.8)]
    [InlineData("1", 1.0)]
    [InlineData("64", 64.0)]
    [InlineData("64.000000", 64.0)]
    [InlineData("off", null)]
    [InlineData("OFF", null)]
    public void BusyLoadAcceptsPlainDecimalsAndOff(string text, double? expected)
    {
        Assert.True(SettingValues.TryParseOptionalLoad(text, out var load), text);
        Assert.Equal(expected, load);
    }
}
