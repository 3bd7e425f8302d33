using AutoStop.Configuration;

namespace AutoStop.Tests.Policy;

public class ConfigTests
{
    private static AutoStopConfig Read(params (string, string)[] env) => Build.Config(env);

    [Fact]
    public void DefaultsMatchTheDocumentedTable()
    {
        var c = Read();
        Assert.Equal("AutoStop", c.TagKey);
        Assert.Equal(15, c.IdleMinutes);
        Assert.Equal(StopAction.Stop, c.Action);
        Assert.False(c.DryRun);
        Assert.Equal("AutoStop-SessionProbe", c.ProbeDocument);
        Assert.Equal(30, c.ProbeTimeoutSeconds);
        Assert.Equal("AutoStop", c.MetricNamespace);
        Assert.False(c.InstanceMetrics); // opt-in: a paid custom metric per instance
        Assert.Null(c.IgnoreIdleTerminalsAfterMinutes);
        Assert.Null(c.BusyLoadPerCpu);
        Assert.False(c.CountMultiplexers);
        foreach (var v in AutoStopConfig.Variables)
            Read((v.Name, v.Default)); // every documented default is itself a valid value
    }

    [Theory]
    [InlineData("AUTOSTOP_IDLE_MINUTES", "4", "5 to 10080")]
    [InlineData("AUTOSTOP_IDLE_MINUTES", "ten", "5 to 10080")]
    [InlineData("AUTOSTOP_ACTION", "terminate", "stop or hibernate")]
    [InlineData("AUTOSTOP_DRY_RUN", "yes", "true or false")]
    [InlineData("AUTOSTOP_TAG_KEY", "aws:stop", "not starting with 'aws:'")]
    [InlineData("AUTOSTOP_PROBE_DOCUMENT", "a b", "SSM document name")]
    [InlineData("AUTOSTOP_PROBE_TIMEOUT_SECONDS", "0", "5 to 120")]
    [InlineData("AUTOSTOP_METRIC_NAMESPACE", "AWS/EC2", "not starting with AWS/")]
    [InlineData("AUTOSTOP_BUSY_LOAD_PER_CPU", "-1", "0.01 to 64")]
    [InlineData("AUTOSTOP_IGNORE_IDLE_TERMINALS_AFTER", "0", "1 to 10080")]
    public void InvalidValueNamesVariableValueAndWhatIsAllowed(string name, string value, string allowed)
    {
        var e = Assert.Throws<ConfigException>(() => Read((name, value)));
        Assert.Contains(name, e.Message);
        Assert.Contains($"'{value}'", e.Message);
        Assert.Contains(allowed, e.Message);
    }

    [Fact]
    public void AllProblemsAreReportedTogether()
    {
        var e = Assert.Throws<ConfigException>(() => Read(("AUTOSTOP_IDLE_MINUTES", "1"), ("AUTOSTOP_ACTION", "x")));
        Assert.Equal(2, e.Problems.Count);
    }
}
