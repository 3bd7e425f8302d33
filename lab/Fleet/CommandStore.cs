namespace AutoStop.Lab.Fleet;

/// <summary>One instance's run of a command, as SSM reports it over real time: Pending until delivered, InProgress
/// until done, then its final status. A hung probe never finishes. A synthesized probe's output is built lazily, for the
/// virtual moment the probe ran (its execution end, <see cref="ObservedAt"/>), the first time it is read once done.</summary>
public sealed class LabInvocation(string instanceId, string instanceName, DateTimeOffset deliveredAt, DateTimeOffset? doneAt)
{
    private readonly object _gate = new();
    private string _output = "";
    private Func<DateTimeOffset, string>? _synthesize;

    public string InstanceId { get; } = instanceId;
    public string InstanceName { get; } = instanceName;
    /// <summary>Real time the agent received the command (Pending until then).</summary>
    public DateTimeOffset DeliveredAt { get; } = deliveredAt;
    /// <summary>Real time the plugin finishes; null when it never does (probe-hang).</summary>
    public DateTimeOffset? DoneAt { get; } = doneAt;
    /// <summary>Virtual time the probe looked at the instance: the lab clock at <see cref="DoneAt"/>.</summary>
    public DateTimeOffset? ObservedAt { get; init; }
    /// <summary>False when the plugin never started (Undeliverable, Delivery Timed Out): no ResponseStartDateTime then.</summary>
    public bool Started { get; set; } = true;
    public string FinalStatus { get; set; } = "Success";
    public string FinalDetails { get; set; } = "Success";
    public int ResponseCode { get; set; }
    public string Error { get; set; } = "";
    /// <summary>Set when the output is produced asynchronously (probe: local); the invocation is InProgress until then.</summary>
    public Task? Producing { get; set; }
    /// <summary>Real time a local probe's output was complete (it may be later than <see cref="DoneAt"/>).</summary>
    public DateTimeOffset? ProducedAt { get; set; }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                if (_synthesize is { } build && ObservedAt is { } at) { _output = build(at); _synthesize = null; }
                return _output;
            }
        }
        set { lock (_gate) { _output = value; _synthesize = null; } }
    }

    /// <summary>Builds stdout for the virtual moment the probe runs, when it is first read (after it is done).</summary>
    public void SynthesizeAtObservation(Func<DateTimeOffset, string> build) { lock (_gate) _synthesize = build; }

    /// <summary>Real time the plugin stopped running (ResponseFinishDateTime), once it has.</summary>
    public DateTimeOffset? FinishedAt => DoneAt is { } done && ProducedAt is { } produced && produced > done ? produced : DoneAt;

    /// <summary>The plugin's Output as the SSM agent joins and cuts it (AgentOutput: stdout, the ERROR line and stderr, 2,500 at most).</summary>
    public string CombinedOutput => AgentOutput.Join(Output, Error);

    public (string Status, string Details) StatusAt(DateTimeOffset realNow)
    {
        if (realNow < DeliveredAt) return ("Pending", "Pending");
        if (DoneAt is null || realNow < DoneAt || Producing is { IsCompleted: false }) return ("InProgress", "In Progress"); // details as SSM spells them
        return (FinalStatus, FinalDetails);
    }
}

public sealed record LabCommand(string CommandId, string DocumentName, string Comment, DateTimeOffset RequestedAt, int TimeoutSeconds,
    IReadOnlyList<LabInvocation> Invocations)
{
    /// <summary>The DocumentVersion the command was sent with ($DEFAULT when none was given).</summary>
    public string DocumentVersion { get; init; } = "$DEFAULT";

    /// <summary>A stop notice, not a probe: it observes nothing, so the summary's probe rounds and observations leave it out.</summary>
    public bool IsNotice { get; init; }
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
