using AutoStop.Configuration;
using AutoStop.Tests.Policy;

namespace AutoStop.Tests.Configuration;

/// <summary>The variables of CONTRACT section 5 and the stricter number grammar: a bad value names the variable, the value and what is allowed.</summary>
public class NewConfigTests
{
    private static AutoStopConfig Read(params (string, string)[] env) => Build.Config(env);

    private static void AssertRefused(string name, string value, string allowed)
    {
        var e = Assert.Throws<ConfigException>(() => Read((name, value)));
        var problem = Assert.Single(e.Problems);
        Assert.Contains(name, problem);
        Assert.Contains($"'{value}'", problem);
        Assert.Contains(allowed, problem);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData("-NaN")]
    [InlineData("Infinity")]
    [InlineData("-infinity")]
    [InlineData("1e1")]
    public void BusyLoadVariableRefusesNaNInfinityAndExponents(string value) =>
        AssertRefused("AUTOSTOP_BUSY_LOAD_PER_CPU", value, "plain decimal number from 0.01 to 64");

    [Fact]
    public void ThePlainDecimalStillWorks() => Assert.Equal(0.75, Read(("AUTOSTOP_BUSY_LOAD_PER_CPU", "0.75")).BusyLoadPerCpu);

    [Theory]
    [InlineData("4")]
    [InlineData("121")]
    [InlineData("600")]
    public void ProbeTimeoutIs5To120(string value) => AssertRefused("AUTOSTOP_PROBE_TIMEOUT_SECONDS", value, "5 to 120");

    [Theory]
    [InlineData("5", 5)]
    [InlineData("120", 120)]
    public void ProbeTimeoutBoundsAreAccepted(string value, int seconds) =>
        Assert.Equal(seconds, Read(("AUTOSTOP_PROBE_TIMEOUT_SECONDS", value)).ProbeTimeoutSeconds);

    [Fact]
    public void NewDefaults()
    {
        var c = Read();
        Assert.Null(c.ProbeDocumentVersion);
        Assert.Equal(10, c.MaxObservationAgeSeconds);
        Assert.Equal(EventSkewSetting.Auto, c.EventMaxSkewSetting);
        Assert.Equal(TimeSpan.FromMinutes(15), c.EventMaxSkew); // max(15, 2 x 5)
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("42", "42")]
    [InlineData("$DEFAULT", "$DEFAULT")]
    [InlineData("$LATEST", "$LATEST")]
    public void ProbeDocumentVersionTakesWhatSendCommandTakes(string value, string expected) =>
        Assert.Equal(expected, Read(("AUTOSTOP_PROBE_DOCUMENT_VERSION", value)).ProbeDocumentVersion);

    [Theory]
    [InlineData("0")]
    [InlineData("01")]
    [InlineData("-1")]
    [InlineData("1.0")]
    [InlineData("$latest")]
    [InlineData("LATEST")]
    [InlineData("$DEFAULT2")]
    [InlineData("v3")]
    public void ProbeDocumentVersionRefusesAnythingElse(string value) =>
        AssertRefused("AUTOSTOP_PROBE_DOCUMENT_VERSION", value, "a version number (1, 2, ...), $DEFAULT or $LATEST");

    [Theory]
    [InlineData("1", 1)]
    [InlineData("60", 60)]
    public void MaxObservationAgeIs1To60(string value, int seconds) =>
        Assert.Equal(seconds, Read(("AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS", value)).MaxObservationAgeSeconds);

    [Theory]
    [InlineData("0")]
    [InlineData("61")]
    [InlineData("ten")]
    public void MaxObservationAgeOutOfRangeIsRefused(string value) => AssertRefused("AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS", value, "1 to 60");

    [Theory]
    [InlineData(new string[0], 15)]                                                                   // auto, 5-minute schedule: the floor
    [InlineData(new[] { "AUTOSTOP_SCHEDULE_MINUTES", "10" }, 20)]                                     // auto: two periods
    [InlineData(new[] { "AUTOSTOP_SCHEDULE_MINUTES", "60", "AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "AUTO" }, 120)]
    [InlineData(new[] { "AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "3" }, 3)]                                 // minutes, taken as given
    [InlineData(new[] { "AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "10080" }, 10080)]
    [InlineData(new[] { "AUTOSTOP_EVENT_MAX_SKEW_MINUTES", "off" }, null)]
    public void EventMaxSkewResolves(string[] env, int? minutes)
    {
        var pairs = Enumerable.Range(0, env.Length / 2).Select(i => (env[2 * i], env[2 * i + 1])).ToArray();
        Assert.Equal(minutes is null ? null : TimeSpan.FromMinutes(minutes.Value), Read(pairs).EventMaxSkew);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("10081")]
    [InlineData("-5")]
    [InlineData("never")]
    [InlineData("1.5")]
    public void EventMaxSkewRefusesOtherValues(string value) =>
        AssertRefused("AUTOSTOP_EVENT_MAX_SKEW_MINUTES", value, "auto, whole minutes from 1 to 10080, or off");

    [Fact]
    public void TheNewVariablesAreDocumented()
    {
        var names = AutoStopConfig.Variables.Select(v => v.Name).ToList();
        Assert.Contains("AUTOSTOP_PROBE_DOCUMENT_VERSION", names);
        Assert.Contains("AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS", names);
        Assert.Contains("AUTOSTOP_EVENT_MAX_SKEW_MINUTES", names);
        Assert.Contains("5 to 120", AutoStopConfig.Variables.Single(v => v.Name == "AUTOSTOP_PROBE_TIMEOUT_SECONDS").Meaning);
    }

    [Fact]
    public void TheNoticeDocumentIsOffByDefaultAndTakesANameOrOff()
    {
        Assert.Null(Read().NoticeDocument);
        Assert.Null(Read(("AUTOSTOP_NOTICE_DOCUMENT", "OFF")).NoticeDocument);
        var on = Read(("AUTOSTOP_NOTICE_DOCUMENT", "AutoStop-prod-notice-0123456789ab"), ("AUTOSTOP_NOTICE_DOCUMENT_VERSION", "1"));
        Assert.Equal("AutoStop-prod-notice-0123456789ab", on.NoticeDocument);
        Assert.Equal("1", on.NoticeDocumentVersion);
        AssertRefused("AUTOSTOP_NOTICE_DOCUMENT", "no spaces please", "or off");
        AssertRefused("AUTOSTOP_NOTICE_DOCUMENT_VERSION", "latest", "$DEFAULT or $LATEST");
    }
}
