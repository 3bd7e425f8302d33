using AutoStop.Policy;
using static AutoStop.Tests.Policy.Build;

namespace AutoStop.Tests.Policy;

/// <summary>Tags as AWS reads them: values compared exactly (no trimming), keys case-sensitive, at most 50 tags per resource.</summary>
public class TagScreenTests
{
    private static InstanceScreen.Result Screen(params (string Key, string Value)[] tags) => InstanceScreen.Screen(Instance(tags: tags), Config());

    private static Decision Skip(params (string Key, string Value)[] tags) => Assert.IsType<Decision>(Screen(tags).Skip);

    [Theory]
    [InlineData("true")]
    [InlineData("TRUE")]
    [InlineData("True")]
    [InlineData("tRuE")]
    public void OptInIsTrueInAnyCase(string value) => Assert.NotNull(Screen(("AutoStop", value)).Settings);

    [Theory]
    [InlineData(" true")]
    [InlineData("true ")]
    [InlineData(" TRUE ")]
    [InlineData("\ttrue")]
    [InlineData("true\n")]
    public void APaddedOptInIsAnInvalidTagNamingTheValueAndWhatIamAllows(string value)
    {
        var skip = Skip(("AutoStop", value));
        Assert.Equal(ReasonCodes.InvalidTag, skip.Reason);
        Assert.Contains($"AutoStop='{value}'", skip.Message);                 // quoted, so the spaces show
        Assert.Contains("exactly true (any case) without spaces", skip.Message);
        Assert.Contains("StringEqualsIgnoreCase", skip.Message);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("yes")]
    [InlineData("")]
    [InlineData("truee")]
    [InlineData("t rue")]
    public void AnyOtherOptInValueIsNotOptedIn(string value) => Assert.Equal(ReasonCodes.NotOptedIn, Skip(("AutoStop", value)).Reason);

    [Theory]
    [InlineData("AutoStop:IdleMinutes", " 30", "whole minutes from 5 to 10080")]
    [InlineData("AutoStop:IdleMinutes", "30 ", "whole minutes from 5 to 10080")]
    [InlineData("AutoStop:Action", " hibernate", "stop or hibernate")]
    [InlineData("AutoStop:SnoozeUntil", "2099-01-01T00:00:00Z ", "ISO-8601")]
    [InlineData("AutoStop:IgnoreIdleTerminalsAfter", "off ", "or off")]
    [InlineData("AutoStop:BusyLoadPerCpu", " 0.5", "0.01 to 64")]
    [InlineData("AutoStop:CountMultiplexers", "true ", "true or false")]
    [InlineData("AutoStop:IdleSince", " 2026-11-23T09:00:00Z", "written by AutoStop")]
    [InlineData("AutoStop:StoppedAt", "2026-11-23T09:00:00Z\t", "written by AutoStop")]
    public void APaddedSettingValueIsRefusedNotTrimmed(string key, string value, string allowed)
    {
        var skip = Skip((key, value));
        Assert.Equal(ReasonCodes.InvalidTag, skip.Reason);
        Assert.Contains($"{key}='{value}'", skip.Message);
        Assert.Contains(allowed, skip.Message);
        Assert.Contains("without spaces around it", skip.Message);
        Assert.Contains("does not trim", skip.Message);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("-nan")]
    [InlineData("Infinity")]
    [InlineData("1e-1")]
    public void BusyLoadTagRefusesNaNAndInfinityNamingTheValue(string value)
    {
        var skip = Skip(("AutoStop:BusyLoadPerCpu", value));
        Assert.Equal(ReasonCodes.InvalidTag, skip.Reason);
        Assert.Contains($"AutoStop:BusyLoadPerCpu='{value}'", skip.Message);
        Assert.Contains("plain decimal number from 0.01 to 64", skip.Message);
    }

    [Theory]
    [InlineData("autostop:IdleMinutes", "30", "AutoStop:IdleMinutes")]
    [InlineData("autostop:idleminutes", "30", "AutoStop:IdleMinutes")]
    [InlineData("AUTOSTOP:Action", "stop", "AutoStop:Action")]
    [InlineData("AutoStop:idleminutes", "30", "AutoStop:IdleMinutes")]
    [InlineData("AutoStop:ACTION", "stop", "AutoStop:Action")]
    public void ASettingKeyDifferingOnlyByCaseIsAnInvalidTagNamingTheExpectedKey(string key, string value, string expected)
    {
        var skip = Skip((key, value));
        Assert.Equal(ReasonCodes.InvalidTag, skip.Reason);
        Assert.Contains($"tag key '{key}'", skip.Message);
        Assert.Contains($"exactly {expected}", skip.Message);
        Assert.Contains("case-sensitive", skip.Message);
    }

    [Fact]
    public void ACaseVariantPrefixWithAnUnknownNameListsTheKnownKeys()
    {
        var skip = Skip(("autostop:Whatever", "1"));
        Assert.Equal(ReasonCodes.InvalidTag, skip.Reason);
        Assert.Contains("tag key 'autostop:Whatever'", skip.Message);
        Assert.Contains("AutoStop:IdleMinutes, AutoStop:Action", skip.Message);
    }

    [Fact]
    public void TheOptInKeyInAnotherCaseIsAnInvalidTagSayingItIsNeverListedAlone()
    {
        var skip = Skip(("autostop", "true"));
        Assert.Equal(ReasonCodes.InvalidTag, skip.Reason);
        Assert.Contains("tag key 'autostop'", skip.Message);
        Assert.Contains("AutoStop reads only AutoStop", skip.Message);
        Assert.Contains("not even listed", skip.Message);
    }

    [Fact]
    public void KeysThatOnlyStartLikeTheOptInKeyAreNotOurs()
    {
        Assert.NotNull(Screen(("AutoStopper", "x"), ("autostopped", "yes"), ("Owner", "autostop:team")).Settings);
    }

    [Fact]
    public void AnUnknownSettingNameIsAKeyProblemListingTheKnownOnes()
    {
        var skip = Skip(("AutoStop:IdleMinute", "30"));
        Assert.Contains("tag key 'AutoStop:IdleMinute'", skip.Message);
        Assert.Contains("a known setting tag: AutoStop:IdleMinutes", skip.Message);
    }

    [Theory]
    [InlineData("AutoStop:IdleSince", "yesterday")]
    [InlineData("AutoStop:IdleSince", "2026-11/23T08:00:00Z")]
    [InlineData("AutoStop:StoppedAt", "2026-11-23 T 18:00 Z")]
    [InlineData("AutoStop:StoppedAt", "2026-11-23T18:00:00")]
    public void AStoredTimeThatIsNotAValidTimeIsAnInvalidTag(string key, string value)
    {
        var skip = Skip((key, value));
        Assert.Equal(ReasonCodes.InvalidTag, skip.Reason);
        Assert.Contains($"{key}='{value}'", skip.Message);
    }

    [Fact]
    public void AllProblemsAreNamedTogether()
    {
        var skip = Skip(("autostop:IdleMinutes", "30"), ("AutoStop:Action", " stop"));
        Assert.Contains("autostop:IdleMinutes", skip.Message);
        Assert.Contains("AutoStop:Action=' stop'", skip.Message);
    }

    private static (string, string)[] Filler(int count) => Enumerable.Range(0, count).Select(i => ($"extra{i:00}", "x")).ToArray();

    [Fact]
    public void AnInstanceWithoutRoomForEveryStateTagIsSkippedAsTagLimit()
    {
        // AutoStop + Name + 46 = 48 tags; it lacks IdleSince, StoppedAt and StopReason: 51 > 50.
        var skip = Skip(Filler(46));
        Assert.Equal(ReasonCodes.TagLimit, skip.Reason);
        Assert.Equal(DecisionAction.Skip, skip.Action);
        Assert.Contains("has 48 tags", skip.Message);
        Assert.Contains("50 tags per resource", skip.Message);
        Assert.Contains("AutoStop:IdleSince, AutoStop:StoppedAt and AutoStop:StopReason", skip.Message);
        Assert.Contains("Remove 1 tag ", skip.Message);
    }

    [Fact]
    public void RoomForExactlyTheMissingStateTagsIsEnough()
    {
        Assert.NotNull(Screen(Filler(45)).Settings);                                                   // 47 + 3 = 50
        Assert.NotNull(Screen([.. Filler(45), ("AutoStop:IdleSince", Time(Now.AddMinutes(-5)))]).Settings); // 48 + StoppedAt, StopReason = 50
        var full = Skip([.. Filler(48), ("AutoStop:IdleSince", Time(Now.AddMinutes(-5)))]);                  // 51 + 2 = 53
        Assert.Equal(ReasonCodes.TagLimit, full.Reason);
        Assert.Contains("lacks AutoStop:StoppedAt and AutoStop:StopReason:", full.Message);
        Assert.Contains("Remove 3 tags", full.Message);
    }

    [Fact]
    public void AwsTagsDoNotCountTowardTheLimit()
    {
        Assert.NotNull(Screen([.. Filler(45), ("aws:cloudformation:stack-name", "dev"), ("aws:ec2launchtemplate:id", "lt-1")]).Settings);
    }

    [Fact]
    public void ThereIsOneEditForTheLeadsNewReasonCodes()
    {
        Assert.Equal("tag-limit", ReasonCodes.TagLimit);
        foreach (var code in new[] { "tag-limit", "system-busy", "access-denied", "policy-error", "no-session-history", "stale-observation", "tag-write-failed" })
            Assert.Contains(code, ReasonCodes.All);
        Assert.Equal(ReasonCodes.All.Count, ReasonCodes.All.Distinct().Count());
    }
}
