using System.Text;
using AutoStop.Hosting.Lambda;

namespace AutoStop.Deploy.Tests;

/// <summary>What a payload may be: an object (or nothing); anything else is an invocation error naming what is allowed.</summary>
public class ScheduledEventParserTests
{
    private static TickTrigger? Parse(string payload, out string error) => ScheduledEventParser.TryParse(Encoding.UTF8.GetBytes(payload), out error);

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
}
