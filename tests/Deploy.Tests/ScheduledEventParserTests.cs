using System.Text;
using AutoStop.Hosting.Lambda;

namespace AutoStop.Deploy.Tests;

/// <summary>What a payload may be: an object (or nothing); anything else is an invocation error naming what is allowed.</summary>
public class ScheduledEventParserTests
{
    /// <summary>The clock the payloads below are close to.</summary>
    private static readonly DateTimeOffset Clock = new(2026, 11, 23, 10, 6, 0, TimeSpan.Zero);

    private static TickTrigger? Parse(string payload, out string error, TimeSpan? maxSkew = null) =>
        ScheduledEventParser.TryParse(Encoding.UTF8.GetBytes(payload), Clock, maxSkew ?? TimeSpan.FromMinutes(15), out error);

    [Theory]
    [InlineData("null", "not null")]
    [InlineData(" [1,2]", "not an array")]
    [InlineData("\"tick\"", "not a string")]
    [InlineData("42", "not a number")]
    [InlineData("true", "not a boolean")]
    public void NonObjectJsonIsRejectedNamingWhatIsAllowed(string payload, string says)
    {
        Assert.Null(Parse(payload, out var error));
        Assert.Contains("must be a JSON object, " + says, error);
        Assert.Contains("Allowed: an empty payload, {},", error);
    }

    [Fact]
    public void AnotherEventBridgeEventIsNotATick()
    {
        Assert.Null(Parse("""{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","time":"2026-11-23T10:05:00Z","detail":{}}""", out var error));
        Assert.Contains("\"EC2 Instance State-change Notification\" event, not a tick", error);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData(" {} ", null)]
    [InlineData("""{"time":"2026-11-23T10:05:00Z"}""", "2026-11-23T10:05:00Z")]
    [InlineData("""{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-23T10:10:00Z","region":"us-east-1","resources":[],"detail":{}}""", "2026-11-23T10:10:00Z")]
    public void TheDocumentedShapesAreAccepted(string payload, string? time)
    {
        var trigger = Parse(payload, out var error);
        Assert.NotNull(trigger);
        Assert.Equal("", error);
        Assert.Equal(time is null ? null : DateTimeOffset.Parse(time), trigger.Now);
        Assert.False(trigger.ForceDryRun);
    }

    [Theory]
    [InlineData("2099-01-01T00:00:00Z", "ahead of")]
    [InlineData("2026-11-23T10:21:01Z", "ahead of")]
    [InlineData("2026-11-23T09:50:59Z", "behind")]
    [InlineData("1999-01-01T00:00:00Z", "behind")]
    public void ATimeFarFromTheClockIsRefusedNamingTheValueAndTheWindow(string time, string direction)
    {
        Assert.Null(Parse($$"""{"time":"{{time}}"}""", out var error));
        Assert.Contains($"'{time}'", error);
        Assert.Contains($"{direction} the clock (2026-11-23T10:06:00Z)", error);
        Assert.Contains("at most 15 min either way", error);
    }

    [Theory]
    [InlineData("2026-11-23T10:21:00Z")] // exactly the window: allowed
    [InlineData("2026-11-23T09:51:00Z")]
    [InlineData("2026-11-23T11:20:00+01:00")]
    public void ATimeWithinTheWindowIsAccepted(string time)
    {
        Assert.NotNull(Parse($$"""{"time":"{{time}}"}""", out var error));
        Assert.Equal("", error);
    }

    [Fact]
    public void TheClassicEnvelopeIsCheckedToo()
    {
        Assert.Null(Parse("""{"detail-type":"Scheduled Event","source":"aws.events","time":"2099-01-01T00:00:00Z","detail":{}}""", out var error));
        Assert.Contains("'2099-01-01T00:00:00Z'", error);
    }

    [Fact]
    public void WithoutALimitAnyValidTimeIsAccepted()
    {
        var trigger = ScheduledEventParser.TryParse("""{"time":"2099-01-01T00:00:00Z"}"""u8, Clock, null, out var error);
        Assert.Equal(new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), trigger?.Now);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData("2026-11/23T10:05:00Z")]
    [InlineData("2026-11-23 T 10:05 Z")]
    [InlineData("2026-11-23T10:05:00")]
    public void ALooseTimeIsRefusedNamingTheDocumentedForms(string time)
    {
        Assert.Null(Parse($$"""{"time":"{{time}}"}""", out var error));
        Assert.Contains($"'{time}'", error);
        Assert.Contains("YYYY-MM-DDTHH:MM", error);
    }
}
