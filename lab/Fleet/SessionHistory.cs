using System.Security.Cryptography;
using System.Text;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Fleet;

/// <summary>One Session Manager session as the SSM service records it: who, on which instance, from when to when.</summary>
public sealed record ManagerSession(string SessionId, string Target, string Owner, DateTimeOffset StartDate, DateTimeOffset? EndDate)
{
    public bool IsActive => EndDate is null;
}

/// <summary>
/// The scenario's Session Manager (kind: ssm) sessions as SSM's central record has them at virtual now: a session that
/// has begun is Active until its end, then History with StartDate and EndDate. A stop ends it (the agent goes down with
/// the instance), so EndDate is the stop when one came first. A session whose instance was stopped when it began, and
/// not started by its person (autoStart: false), never connected and is not recorded.
/// </summary>
public static class SessionHistory
{
    public static IEnumerable<ManagerSession> At(LabFleet fleet, DateTimeOffset now)
    {
        foreach (var instance in fleet.Instances)
        {
            List<StateChange> timeline;
            lock (instance.Gate) timeline = [.. instance.Timeline];
            var sessions = instance.Spec.Sessions;
            for (var n = 0; n < sessions.Count; n++)
            {
                var s = sessions[n];
                if (s.Kind != SessionKind.Ssm || s.From > now) continue;
                if (StateAt(timeline, s.From) is not ("running" or "pending")) continue;
                var stop = timeline.FirstOrDefault(c => c.State == "stopping" && c.Time > s.From && c.Time < s.To);
                var end = stop is not null && stop.Time < s.To ? stop.Time : s.To;
                yield return new ManagerSession(SessionId(s.User, instance.Id, n), instance.Id, $"arn:aws:iam::123456789012:user/{s.User}", s.From,
                    end <= now ? end : null);
            }
        }
    }

    /// <summary>The state at <paramref name="t"/>; before the run's start, the state it started in.</summary>
    private static string StateAt(List<StateChange> timeline, DateTimeOffset t)
    {
        var state = timeline[0].State;
        foreach (var change in timeline)
        {
            if (change.Time > t) break;
            state = change.State;
        }
        return state;
    }

    /// <summary>Session Manager ids are the user's name and a hex suffix (e.g. alice-07a16060613c408b5).</summary>
    private static string SessionId(string user, string instanceId, int index) =>
        $"{user}-{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{instanceId}/{index}"))).ToLowerInvariant()[..17]}";
}
