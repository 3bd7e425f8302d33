using AutoStop.Aws;

namespace AutoStop.Tests.Aws;

/// <summary>
/// AWS refuses a whole batch for one bad item (../shared/aws-notes.md, "All-or-nothing batches"); the isolation must let
/// every good item through, pin each failure on its own item, and spend a bounded number of extra calls. The fake below
/// refuses a batch exactly as AWS does: as a whole, when any item in it is bad. (moto does not: it tags unknown ids.)
/// </summary>
public class BatchIsolationTests
{
    private static Func<IReadOnlyList<string>, Task<AwsFailure?>> AwsLike(ISet<string> bad, List<IReadOnlyList<string>> calls, string code = "TagLimitExceeded") =>
        part =>
        {
            calls.Add(part);
            var refused = part.FirstOrDefault(bad.Contains);
            return Task.FromResult(refused is null ? null : new AwsFailure("EC2:CreateTags", code, $"'{refused}' is refused"));
        };

    private static List<string> Ids(int n) => Enumerable.Range(0, n).Select(i => $"i-{i:000}").ToList();

    [Theory]
    [InlineData(1, 0)]
    [InlineData(20, 7)]
    [InlineData(50, 49)]
    [InlineData(1000, 500)]
    public async Task OneBadItemFailsOnlyItselfAndCostsAtMostTwiceLog2NExtraCalls(int n, int badIndex)
    {
        var ids = Ids(n);
        var calls = new List<IReadOnlyList<string>>();
        var ledger = new ApiCallLog();

        var refused = await BatchIsolation.RunAsync(ids, "EC2:CreateTags", ledger, AwsLike(new HashSet<string> { ids[badIndex] }, calls));

        Assert.Equal([ids[badIndex]], refused.Keys);
        Assert.Equal("TagLimitExceeded", refused[ids[badIndex]].Code);
        // Every good item went through in some accepted call.
        var accepted = calls.Where(c => !c.Contains(ids[badIndex])).SelectMany(c => c).ToHashSet();
        Assert.Equal(n - 1, accepted.Count);
        Assert.True(ledger.IsolationTotal <= 2 * Math.Ceiling(Math.Log2(Math.Max(n, 2))), $"{ledger.IsolationTotal} extra calls for n={n}");
        Assert.Equal(calls.Count - 1, ledger.IsolationTotal);
    }

    [Fact]
    public async Task ManyBadItemsNeverCostMoreThanTwoCallsPerItem()
    {
        var ids = Ids(64);
        var bad = ids.Where((_, i) => i % 3 == 0).ToHashSet();
        var calls = new List<IReadOnlyList<string>>();
        var ledger = new ApiCallLog();

        var refused = await BatchIsolation.RunAsync(ids, "EC2:CreateTags", ledger, AwsLike(bad, calls));

        Assert.Equal(bad.Order(), refused.Keys.Order());
        Assert.True(calls.Count <= 2 * ids.Count);
    }

    [Theory]
    [InlineData("RequestLimitExceeded")]
    [InlineData("InternalError")]
    [InlineData("HTTP503")]
    [InlineData("DeadlineReached")]
    public async Task ErrorsAboutTheCallAreNotSplitIntoMoreCalls(string code)
    {
        var ids = Ids(50);
        var calls = new List<IReadOnlyList<string>>();
        var ledger = new ApiCallLog();

        var refused = await BatchIsolation.RunAsync(ids, "EC2:CreateTags", ledger, AwsLike(ids.ToHashSet(), calls, code));

        Assert.Single(calls);
        Assert.Equal(50, refused.Count);
        Assert.Equal(0, ledger.IsolationTotal);
    }
}
