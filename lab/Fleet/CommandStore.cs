namespace AutoStop.Lab.Fleet;

/// <summary>One instance's run of a command, as SSM reports it over real time: Pending until delivered, InProgress
/// until done, then its final status. A hung probe never finishes.</summary>
public sealed class LabInvocation(string instanceId, string instanceName, DateTimeOffset deliveredAt, DateTimeOffset? doneAt)
{
    public string InstanceId { get; } = instanceId;
    public string InstanceName { get; } = instanceName;
    public string FinalStatus { get; set; } = "Success";
    public string FinalDetails { get; set; } = "Success";
    public int ResponseCode { get; set; }
    public string Output { get; set; } = "";
    public string Error { get; set; } = "";
    /// <summary>Set when the output is produced asynchronously (probe: local); the invocation is InProgress until then.</summary>
    public Task? Producing { get; set; }

    /// <summary>The plugin's Output as the SSM agent joins and cuts it (AgentOutput: stdout, the ERROR line and stderr, 2,500 at most).</summary>
    public string CombinedOutput => AgentOutput.Join(Output, Error);

    public (string Status, string Details) StatusAt(DateTimeOffset realNow)
    {
        if (realNow < deliveredAt) return ("Pending", "Pending");
        if (doneAt is null || realNow < doneAt || Producing is { IsCompleted: false }) return ("InProgress", "In Progress"); // details as SSM spells them
        return (FinalStatus, FinalDetails);
    }
}

public sealed record LabCommand(string CommandId, string DocumentName, string Comment, DateTimeOffset RequestedAt, int TimeoutSeconds,
    IReadOnlyList<LabInvocation> Invocations)
{
    /// <summary>The DocumentVersion the command was sent with ($DEFAULT when none was given).</summary>
    public string DocumentVersion { get; init; } = "$DEFAULT";
}

/// <summary>Every command sent, by id (thread-safe: SendCommand batches arrive concurrently).</summary>
public sealed class CommandStore
{
    private readonly Dictionary<string, LabCommand> _commands = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private long _next;

    public string NewCommandId()
    {
        var n = Interlocked.Increment(ref _next);
        return $"{Guid.NewGuid().ToString()[..24]}{n:x12}";
    }

    public void Add(LabCommand command) { lock (_gate) _commands[command.CommandId] = command; }

    public LabCommand? Find(string commandId) { lock (_gate) return _commands.GetValueOrDefault(commandId); }

    public IReadOnlyList<LabCommand> All() { lock (_gate) return _commands.Values.OrderBy(c => c.RequestedAt).ToList(); }
}
