using System.Globalization;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace AutoStop.Aws;

/// <summary>
/// Session Manager's own record of sessions (SSM DescribeSessions), for the whole account in a few pages per tick: a
/// session that began and ended between two ticks leaves no process for the probe to see, but its EndDate is here, and
/// the idle clock must not start before it. History pages hold up to 200 sessions (botocore ssm-2014-11-06
/// DescribeSessionsRequest.MaxResults 1..200); only sessions started since <c>since</c> are asked for (filter
/// InvokedAfter), which is enough: a longer one was open at an earlier tick, where the probe saw it.
/// </summary>
public sealed class SsmSessionHistory(IAmazonSimpleSystemsManagement ssm, ApiCallLog calls) : ISessionHistory
{
    public const int PageSize = 200;

    /// <summary>A bound on pages per state per tick, so a huge account cannot hold the tick (logged past it).</summary>
    public const int MaxPages = 50;

    public async Task<SessionHistory> RecentAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var ended = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var active = new HashSet<string>(StringComparer.Ordinal);
        var after = since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        foreach (var state in new[] { SessionState.History, SessionState.Active })
        {
            string? nextToken = null;
            var pages = 0;
            do
            {
                var request = new DescribeSessionsRequest
                {
                    State = state,
                    Filters = [new SessionFilter { Key = SessionFilterKey.InvokedAfter, Value = after }],
                    MaxResults = PageSize,
                    NextToken = nextToken,
                };
                var page = await calls.InvokeAsync("SSM:DescribeSessions", token => ssm.DescribeSessionsAsync(request, token), cancellationToken);
                foreach (var session in page.Sessions ?? [])
                {
                    if (string.IsNullOrEmpty(session.Target)) continue;
                    if (state == SessionState.Active) { active.Add(session.Target); continue; }
                    // A history entry without an end is still closing: MaxValue, which the policy reads as "just now".
                    var end = session.EndDate is { } e ? new DateTimeOffset(DateTime.SpecifyKind(e.ToUniversalTime(), DateTimeKind.Utc)) : DateTimeOffset.MaxValue;
                    if (!ended.TryGetValue(session.Target, out var known) || end > known) ended[session.Target] = end;
                }
                nextToken = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
            } while (nextToken is not null && ++pages < MaxPages);
            if (nextToken is not null)
                throw new AwsCallException(new AwsFailure("SSM:DescribeSessions", "TooManySessions",
                    $"more than {MaxPages * PageSize} {state.Value} sessions since {after}; history is incomplete"));
        }
        return new SessionHistory(ended, active);
    }
}
