namespace AutoStop.Aws;

/// <summary>
/// AWS validates and authorizes every resource a batched request names, and refuses the whole request for one bad one
/// (CreateTags/DeleteTags, StopInstances, SendCommand, DescribeSpotInstanceRequests, DescribeInstanceInformation by id;
/// ../shared/aws-notes.md, "All-or-nothing batches"). So one bad item must not fail its neighbours: a batch refused for an
/// item-level reason is split in halves, and the halves again, until every good item went through and every bad item
/// stands alone with its own error. Errors that are about the call, not an item (throttling, 5xx, credentials, the
/// deadline) are not split: they stand for the whole batch. A batch of n with k bad items costs at most 2k·log2(n)
/// extra calls, never more than 2n; each is counted in <see cref="ApiCallLog.RecordIsolation"/> (the tick line's isolationCalls).
/// </summary>
internal static class BatchIsolation
{
    /// <summary>The outcome of an isolated batch: each part AWS accepted, with its result, and each item it refused.</summary>
    public sealed record Result<T>(IReadOnlyList<(IReadOnlyList<string> Items, T Value)> Accepted, IReadOnlyDictionary<string, AwsFailure> Refused);

    public static async Task<Result<T>> RunAsync<T>(IReadOnlyList<string> items, string operation, ApiCallLog calls,
        Func<IReadOnlyList<string>, Task<(T? Value, AwsFailure? Failure)>> call)
    {
        var accepted = new List<(IReadOnlyList<string>, T)>();
        var refused = new Dictionary<string, AwsFailure>(StringComparer.Ordinal);
        if (items.Count > 0) await TryAsync(items, isolating: false);
        return new Result<T>(accepted, refused);

        async Task TryAsync(IReadOnlyList<string> part, bool isolating)
        {
            if (isolating) calls.RecordIsolation(operation);
            var (value, failure) = await call(part);
            if (failure is null)
            {
                accepted.Add((part, value!));
                return;
            }
            if (part.Count == 1 || AwsErrors.IsCallWide(failure))
            {
                foreach (var item in part) refused[item] = failure;
                return;
            }
            var half = part.Count / 2;
            await TryAsync(part.Take(half).ToList(), isolating: true);
            await TryAsync(part.Skip(half).ToList(), isolating: true);
        }
    }

    /// <summary>For calls with nothing to return but success: the items refused, each with its own failure.</summary>
    public static async Task<IReadOnlyDictionary<string, AwsFailure>> RunAsync(IReadOnlyList<string> items, string operation, ApiCallLog calls,
        Func<IReadOnlyList<string>, Task<AwsFailure?>> call)
    {
        var result = await RunAsync<bool>(items, operation, calls, async part => (true, await call(part)));
        return result.Refused;
    }
}
