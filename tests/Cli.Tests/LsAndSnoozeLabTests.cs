using System.Text.Json;
using AutoStop.Configuration;
using AutoStop.Policy;

namespace AutoStop.Cli.Tests;

/// <summary>`autostop ls` and `autostop snooze` against the lab's EC2 (botocore's wire shapes).</summary>
public sealed class LsAndSnoozeLabTests : IAsyncLifetime
{
    private const string Alice = "i-0a00000000000000a", Bob = "i-0b00000000000000b", Dan = "i-0d00000000000000d", Eve = "i-0e00000000000000e",
        Pat = "i-0f00000000000000f", Out = "i-01000000000000001";
    private LabFleetServer _lab = null!;

    public async Task InitializeAsync() => _lab = await LabFleetServer.StartAsync($$"""
          - { id: {{Alice}}, name: alice-dev, state: stopped, tags: { AutoStop: "true", "AutoStop:IdleSince": "{{LabFleetServer.Ago(100)}}", "AutoStop:StoppedAt": "{{LabFleetServer.Ago(70)}}" } }
          - { id: {{Bob}}, name: bob-dev, tags: { AutoStop: "TRUE", "AutoStop:IdleMinutes": "30", "AutoStop:IdleSince": "{{LabFleetServer.Ago(9)}}" } }
          - { id: {{Dan}}, name: dan-dev, tags: { AutoStop: "true", "AutoStop:SnoozeUntil": "2099-01-01T18:00:00Z" } }
          - { id: {{Eve}}, name: eve-dev, tags: { AutoStop: "true", "AutoStop:IdleMinute": "30" } }
          - { id: {{Pat}}, name: pat-dev, tags: { AutoStop: " true" } }
          - { id: {{Out}}, name: out-dev, tags: { AutoStop: "false" } }
          - { id: i-02000000000000002, name: untagged }
        """);

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    private async Task<Dictionary<string, JsonElement>> LsJson()
    {
        var (code, stdout, stderr) = await Autostop.RunAsync(_lab.Url, "ls", "--json");
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("instanceId").GetString()!, e => e.Clone());
    }

    [Fact]
    public async Task LsListsTheOptedInInstancesWithPlainWordsStatus()
    {
        var rows = await LsJson();
        Assert.Equal([Alice, Bob, Dan, Eve, Pat], rows.Keys.Order());                 // not out-dev (false), not untagged
        Assert.StartsWith("stopped by AutoStop at ", rows[Alice].GetProperty("status").GetString());
        Assert.EndsWith(" after 30 idle minutes", rows[Alice].GetProperty("status").GetString());
        Assert.Equal(30, rows[Bob].GetProperty("thresholdMinutes").GetInt32());
        Assert.Matches(@"^idle 9 min of 30: stops at the first tick after \d\d:\d\d$", rows[Bob].GetProperty("status").GetString());
        Assert.StartsWith("snoozed until 2099-01-01 18:00", rows[Dan].GetProperty("status").GetString());
        Assert.Equal("2099-01-01T18:00:00Z", rows[Dan].GetProperty("snoozeUntil").GetString());
        // The function's own messages for tags it would skip.
        Assert.Contains("AutoStop skips it: tag key 'AutoStop:IdleMinute' is not one AutoStop reads", rows[Eve].GetProperty("status").GetString());
        Assert.Contains("AutoStop skips it: tag AutoStop=' true' is not allowed", rows[Pat].GetProperty("status").GetString());
        Assert.False(rows[Pat].GetProperty("optedIn").GetBoolean());
        Assert.Equal(15, rows[Dan].GetProperty("thresholdMinutes").GetInt32());        // the default (AUTOSTOP_IDLE_MINUTES)
    }

    [Fact]
    public async Task LsPrintsATableWithTheSameRows()
    {
        var (code, stdout, _) = await Autostop.RunAsync(_lab.Url, "ls");
        Assert.Equal(0, code);
        foreach (var column in new[] { "NAME", "ID", "STATE", "IDLE SINCE", "THRESHOLD", "SNOOZE", "STOPPED BY AUTOSTOP", "STATUS" }) Assert.Contains(column, stdout);
        var alice = Assert.Single(stdout.Split('\n'), l => l.Contains(Alice));
        Assert.Contains("alice-dev", alice);
        Assert.Contains("stopped by AutoStop at", alice);
        Assert.DoesNotContain(stdout.Split('\n'), l => l.Contains("out-dev"));
    }

    [Fact]
    public async Task SnoozeWritesTheTagTheFunctionReadsAndOffRemovesIt()
    {
        var (code, stdout, stderr) = await Autostop.RunAsync(_lab.Url, "snooze", "bob-dev", "2h");
        Assert.True(code == 0, stderr);
        var written = _lab.Tag(Bob, "AutoStop:SnoozeUntil");
        Assert.NotNull(written);
        Assert.True(SettingValues.TryParseTime(written, out var until));
        Assert.InRange((until - DateTimeOffset.UtcNow).TotalMinutes, 118, 121);
        Assert.Contains("snoozed until", stdout);
        Assert.StartsWith("snoozed until", (await LsJson())[Bob].GetProperty("status").GetString());

        (code, stdout, stderr) = await Autostop.RunAsync(_lab.Url, "snooze", Bob, "--off");
        Assert.True(code == 0, stderr);
        Assert.Null(_lab.Tag(Bob, "AutoStop:SnoozeUntil"));
        Assert.Contains("snooze removed", stdout);
    }

    [Fact]
    public async Task SnoozeTakesTheFunctionsTimeFormsAsGiven()
    {
        var (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "snooze", "alice-dev", "2099-11-23T19:00+01:00");
        Assert.True(code == 0, stderr);
        Assert.Equal("2099-11-23T19:00+01:00", _lab.Tag(Alice, "AutoStop:SnoozeUntil"));
    }

    [Theory]
    [InlineData("2026-11-23 18:00")]
    [InlineData("tomorrow")]
    [InlineData("2026-11-23T18:00:00")]
    [InlineData(" 2099-11-23T18:00Z")]
    public async Task SnoozeRefusesWhatTheFunctionWouldRejectWithTheFunctionsMessage(string value)
    {
        var (code, stdout, stderr) = await Autostop.RunAsync(_lab.Url, "snooze", "bob-dev", value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", stdout);
        // The very message the function logs for this tag value (InstanceSettingsReader), not a second wording.
        var (_, problems) = InstanceSettingsReader.Read(new Dictionary<string, string> { ["AutoStop:SnoozeUntil"] = value }, new AutoStopConfig());
        Assert.Contains("autostop: " + Assert.Single(problems).Describe(), stderr);
        Assert.Contains("Nothing was written", stderr);
        Assert.Equal(0, _lab.Calls("EC2:CreateTags"));
        Assert.Equal(0, _lab.Calls("EC2:DescribeInstances")); // refused before any call
    }

    [Theory]
    [InlineData("2020-01-01T00:00Z", "is in the past")]
    [InlineData("366d", "a duration from 1 minute to 365 days")]
    [InlineData("0m", "a duration from 1 minute to 365 days")]
    [InlineData("25:00", "a local time HH:MM from 00:00 to 23:59")]
    public async Task SnoozeRefusesPastAndOutOfRangeValues(string value, string expected)
    {
        var (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "snooze", "bob-dev", value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"snooze '{value}' is not allowed", stderr);
        Assert.Contains(expected, stderr);
        Assert.Equal(0, _lab.Calls("EC2:CreateTags"));
    }

    [Fact]
    public async Task SnoozeNeedsATimeOrOff()
    {
        var (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "snooze", "bob-dev");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("snooze needs a time or --off", stderr);
        (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "snooze", "bob-dev", "2h", "--off");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal(0, _lab.Calls("EC2:CreateTags") + _lab.Calls("EC2:DeleteTags"));
    }
}
