using System.Text;
using System.Text.Json;

namespace AutoStop.Lab.Tests;

/// <summary>SSM DescribeSessions, as botocore shapes it, over the scenario's Session Manager sessions (the lab served in
/// real time from 08:00, so "now" is a few seconds past it).</summary>
public sealed class SessionManagerCliTests : IAsyncLifetime
{
    private const string A = "i-0a00000000000000a", B = "i-0b00000000000000b", C = "i-0c00000000000000c", Crowd = "i-0d00000000000000d";

    private static string Scenario()
    {
        var yaml = new StringBuilder("""
            start: 2026-11-23T08:00:00Z
            duration: 4h
            instances:
              - id: i-0a00000000000000a
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: ssm, user: alice, from: "2026-11-23T06:00:00Z", to: "2026-11-23T06:30:00Z" }
                  - { kind: ssm, user: bob, from: "2026-11-23T07:00:00Z", to: "2026-11-23T10:00:00Z" }
                  - { kind: ssm, user: carol, from: "2026-11-23T09:00:00Z", to: "2026-11-23T09:30:00Z" }
                  - { kind: ssh, user: sam, from: "2026-11-23T06:00:00Z", to: "2026-11-23T06:10:00Z" }
              - id: i-0b00000000000000b
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: ssm, user: dave, from: "2026-11-23T07:30:00Z", to: "2026-11-23T07:45:00Z" }
                  - { kind: ssm, user: erin, from: "2026-10-01T07:30:00Z", to: "2026-10-01T07:45:00Z" }
              - id: i-0c00000000000000c
                tags: { AutoStop: "true" }
                sessions:
                  - { kind: ssm, user: frank, from: "2026-11-23T07:50:00Z", to: "2026-11-23T12:00:00Z" }
              - id: i-0d00000000000000d
                tags: { AutoStop: "true" }
                sessions:

            """);
        for (var n = 0; n < 25; n++) yaml.Append($"      - {{ kind: ssm, user: u{n}, from: \"2026-11-22T{n % 24:00}:00:00Z\", to: \"2026-11-22T{n % 24:00}:{n + 10}:00Z\" }}\n");
        return yaml.ToString();
    }

    private LabCli _lab = null!;

    public async Task InitializeAsync() => _lab = await LabCli.StartAsync(Scenario());

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    private async Task<List<JsonElement>> Sessions(params string[] args) =>
        (await _lab.Aws(["ssm", "describe-sessions", .. args])).GetProperty("Sessions").EnumerateArray().ToList();

    private static string User(JsonElement session) => session.GetProperty("SessionId").GetString()!.Split('-')[0];

    private static DateTimeOffset Time(JsonElement session, string field) => CliTime.Of(session.GetProperty(field));

    [Fact]
    public async Task HistoryHoldsEndedSessionsOfTheLastThirtyDaysWithStartAndEndDates()
    {
        var history = await Sessions("--state", "History", "--filters", $"key=Target,value={A}");
        var alice = Assert.Single(history);
        Assert.Equal("alice", User(alice));
        Assert.Equal(A, alice.GetProperty("Target").GetString());
        Assert.Equal("Terminated", alice.GetProperty("Status").GetString());
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture), Time(alice, "StartDate"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T06:30:00Z", System.Globalization.CultureInfo.InvariantCulture), Time(alice, "EndDate"));
        Assert.Equal("arn:aws:iam::123456789012:user/alice", alice.GetProperty("Owner").GetString());
        Assert.Equal("SSM-SessionManagerRunShell", alice.GetProperty("DocumentName").GetString());
        // dave's ended this morning; erin's is older than 30 days; SSH sessions are not Session Manager's.
        Assert.Equal(["dave"], (await Sessions("--state", "History", "--filters", $"key=Target,value={B}")).Select(User));
    }

    [Fact]
    public async Task ActiveHoldsLiveSessionsWithoutAnEndDate()
    {
        var active = await Sessions("--state", "Active");
        Assert.Equal(["bob", "frank"], active.Select(User).Order());
        Assert.All(active, s => Assert.Equal("Connected", s.GetProperty("Status").GetString()));
        Assert.All(active, s => Assert.False(s.TryGetProperty("EndDate", out _)));
        Assert.DoesNotContain("carol", active.Select(User)); // not begun yet
    }

    [Fact]
    public async Task FiltersNarrowByStartTimeTargetOwnerAndStatus()
    {
        Assert.Equal(["dave"], (await Sessions("--state", "History", "--filters", "key=InvokedAfter,value=2026-11-23T07:00:00Z")).Select(User));
        Assert.Equal(["alice"], (await Sessions("--state", "History", "--filters", "key=InvokedAfter,value=2026-11-23T00:00:00Z", "key=InvokedBefore,value=2026-11-23T07:00:00Z")).Select(User));
        Assert.Equal(["dave"], (await Sessions("--state", "History", "--filters", "key=Owner,value=arn:aws:iam::123456789012:user/dave")).Select(User));
        Assert.Equal(27, (await Sessions("--state", "History", "--filters", "key=Status,value=Terminated")).Count);
        Assert.Empty(await Sessions("--state", "History", "--filters", "key=Status,value=Connected"));
        var error = await _lab.Fails("InvalidFilterKey", "ssm", "describe-sessions", "--state", "History", "--filters", "key=InstanceId,value=x");
        Assert.Contains("InstanceId", error);
        await _lab.Fails("ValidationException", "ssm", "describe-sessions", "--state", "History", "--filters", "key=InvokedAfter,value=yesterday");
    }

    [Fact]
    public async Task PagesHoldAtMostMaxResultsAndNextTokenLeadsOn()
    {
        var first = await _lab.Aws("ssm", "describe-sessions", "--state", "History", "--max-results", "10", "--no-paginate");
        Assert.Equal(10, first.GetProperty("Sessions").GetArrayLength());
        var token = first.GetProperty("NextToken").GetString()!;
        var second = await _lab.Aws("ssm", "describe-sessions", "--state", "History", "--max-results", "200", "--next-token", token, "--no-paginate");
        Assert.Equal(17, second.GetProperty("Sessions").GetArrayLength());
        Assert.False(second.TryGetProperty("NextToken", out _));
        // Newest first, no session twice across the pages.
        var all = first.GetProperty("Sessions").EnumerateArray().Concat(second.GetProperty("Sessions").EnumerateArray()).ToList();
        Assert.Equal(27, all.Select(s => s.GetProperty("SessionId").GetString()).Distinct().Count());
        Assert.Equal(all.Select(s => Time(s, "StartDate")).OrderDescending(), all.Select(s => Time(s, "StartDate")));
        await _lab.Fails("ValidationException", "ssm", "describe-sessions", "--state", "History", "--max-results", "201", "--no-paginate");
        await _lab.Fails("InvalidNextToken", "ssm", "describe-sessions", "--state", "History", "--next-token", "bogus", "--no-paginate");
    }

    [Fact]
    public async Task AStopEndsALiveSessionAndMovesItToHistory()
    {
        var before = DateTimeOffset.UtcNow;
        await _lab.Aws("ec2", "stop-instances", "--instance-ids", C);
        Assert.Empty(await Sessions("--state", "Active", "--filters", $"key=Target,value={C}"));
        var frank = Assert.Single(await Sessions("--state", "History", "--filters", $"key=Target,value={C}"));
        // The lab's clock follows real time from 08:00 in serve: the stop happened seconds after 08:00.
        var end = Time(frank, "EndDate");
        Assert.InRange(end, DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture) + (DateTimeOffset.UtcNow - before) + TimeSpan.FromMinutes(5));
    }
}
