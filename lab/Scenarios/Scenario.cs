namespace AutoStop.Lab.Scenarios;

/// <summary>A lab scenario: a fleet, the people using it over (virtual) time, the faults, and the controller's configuration.</summary>
public sealed record Scenario(
    string Name,
    DateTimeOffset Start,
    TimeSpan TickPeriod,
    TimeSpan Duration,
    int Seed,
    int FunctionTimeoutSeconds,
    IReadOnlyDictionary<string, string> Config,
    LatencyRange SsmDelivery,
    LatencyRange SsmExecution,
    IReadOnlyList<ApiFault> ApiFaults,
    IReadOnlyList<RateLimit> RateLimits,
    IReadOnlyList<InstanceSpec> Instances)
{
    public DateTimeOffset End => Start + Duration;
}

/// <summary>A uniform range of real milliseconds (the lab compresses time: latencies are real, ticks are virtual).</summary>
public sealed record LatencyRange(int MinMs, int MaxMs)
{
    public static readonly LatencyRange Zero = new(0, 0);
    public int Sample(Random random) => MaxMs <= MinMs ? MinMs : random.Next(MinMs, MaxMs + 1);
}

/// <summary>Random faults on one operation ("EC2:StopInstances", "SSM:SendCommand", or "*" for all).</summary>
public sealed record ApiFault(string Operation, double ThrottleRate, double ErrorRate, LatencyRange Latency);

/// <summary>A token bucket per operation, as AWS throttles: calls beyond it get the service's throttling error.</summary>
public sealed record RateLimit(string Operation, double PerSecond, int Burst);

public enum SessionKind { Ssh, Ssm, Tmux, Preauth }

/// <summary>One person's session (or a scanner's pre-auth connection) on an instance, from..to in virtual time.</summary>
/// <param name="IdleAfter">For a terminal: when it stops being typed into (a forgotten terminal); null = in use throughout.</param>
public sealed record SessionSpec(SessionKind Kind, string User, bool Tty, DateTimeOffset From, DateTimeOffset To, TimeSpan? IdleAfter)
{
    public bool IsLiveAt(DateTimeOffset t) => From <= t && t < To;
    /// <summary>What a person would call use: SSH and Session Manager sessions (not multiplexers, not scanners).</summary>
    public bool IsPersonSession => Kind is SessionKind.Ssh or SessionKind.Ssm;
}

public sealed record TimeWindow(DateTimeOffset From, DateTimeOffset To)
{
    public bool Contains(DateTimeOffset t) => From <= t && t < To;
}

/// <summary>A load average over a window (a build running without a session).</summary>
public sealed record LoadSpec(DateTimeOffset From, DateTimeOffset To, double Value);

public enum FaultKind { ProbeTimeout, DeliveryTimeout, ProbeHang, Undeliverable, ProbeFailed, Garbage, Truncated, AgentMissing, StopError }

/// <summary>A fault on one instance over a window; Code is the EC2 error code for stop-error.</summary>
public sealed record InstanceFault(FaultKind Kind, DateTimeOffset From, DateTimeOffset To, string? Code);

public enum ProbeMode { Synth, Local }

public sealed record InstanceSpec(
    string? Id,
    string Name,
    int Count,
    IReadOnlyDictionary<string, string> Tags,
    string State,
    DateTimeOffset? LaunchTime,
    bool Managed,
    string PingStatus,
    string Platform,
    bool Hibernation,
    string RootDevice,
    string? Lifecycle,
    string? SpotType,
    int Cpus,
    ProbeMode Probe,
    bool AutoStart,
    IReadOnlyList<SessionSpec> Sessions,
    IReadOnlyList<TimeWindow> KeepAlive,
    IReadOnlyList<LoadSpec> Load,
    IReadOnlyList<InstanceFault> Faults)
{
    /// <summary>IPv4 address served as PrivateIpAddress (always) and PublicIpAddress (while not stopped); null: none.</summary>
    public string? Address { get; init; }
    /// <summary>How long pending lasts after StartInstances (virtual seconds; real seconds in serve).</summary>
    public TimeSpan StartDuration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long after reaching running the SSM agent reports PingStatus Online.</summary>
    public TimeSpan AgentOnlineAfter { get; init; } = TimeSpan.Zero;
}
