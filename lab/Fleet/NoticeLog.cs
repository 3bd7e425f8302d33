namespace AutoStop.Lab.Fleet;

/// <summary>One stop notice the lab delivered: to which instance, at which virtual moment (the agent's receipt), with
/// the command's StopAt and Action, and how many terminals and tmux clients it reached there (a local instance: what the
/// real script reported, null when it printed no line).</summary>
public sealed record DeliveredNotice(string InstanceId, string InstanceName, DateTimeOffset At, string StopAt, string Action, int? Terminals, int? TmuxClients);

/// <summary>Every stop notice delivered (synthesized and local instances alike), in order: summary.json's notices.
/// Thread-safe: SendCommand batches arrive concurrently.</summary>
public sealed class NoticeLog
{
    private readonly List<DeliveredNotice> _notices = [];
    private readonly object _gate = new();

    public void Add(DeliveredNotice notice) { lock (_gate) _notices.Add(notice); }

    public IReadOnlyList<DeliveredNotice> All() { lock (_gate) return _notices.OrderBy(n => n.At).ThenBy(n => n.InstanceId, StringComparer.Ordinal).ToList(); }
}
