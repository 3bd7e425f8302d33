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

    /// <summary>The opt-in tag key the function is configured with (AUTOSTOP_TAG_KEY), which the lab's IAM mirrors.</summary>
    public string TagKey => Config.GetValueOrDefault("AUTOSTOP_TAG_KEY") ?? "AutoStop";

    /// <summary>Versions 1..N of the probe document exist (ssm.documentVersions); SendCommand's DocumentVersion must name one.</summary>
    public int DocumentVersions { get; init; } = 1;

    /// <summary>Virtual seconds per real second while a tick runs (clockScale; 1 by default, 0 freezes the clock in a tick).</summary>
    public double ClockScale { get; init; } = 1;
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

public enum SessionKind { Ssh, Ssm, Tmux, Preauth, Mosh, Et, Port }

/// <summary>One person's session (or a scanner's pre-auth connection) on an instance, from..to in virtual time.</summary>
/// <param name="IdleAfter">For a terminal: when it stops being typed into (a forgotten terminal); null = in use throughout.</param>
public sealed record SessionSpec(SessionKind Kind, string User, bool Tty, DateTimeOffset From, DateTimeOffset To, TimeSpan? IdleAfter)
{
    public bool IsLiveAt(DateTimeOffset t) => From <= t && t < To;
    /// <summary>What a person would call use: SSH, Session Manager, mosh and Eternal Terminal sessions, and a person in a
    /// browser on a web or remote-desktop port (kind port: Jupyter, code-server, RDP); not multiplexers, not scanners.</summary>
    public bool IsPersonSession => Kind is SessionKind.Ssh or SessionKind.Ssm or SessionKind.Mosh or SessionKind.Et or SessionKind.Port;

    /// <summary>kind port: the local TCP port the person's browser or client holds established connections to, from a
    /// remote peer (the probe's inboundConnections); 0 for every other kind.</summary>
    public int Port { get; init; }

    /// <summary>kind port: how many established connections the person holds (a Jupyter tab: its HTTP and kernel websockets).</summary>
    public int Connections { get; init; } = 1;
    /// <summary>mosh-server and etserver sessions: a remote-shell server other than sshd holding a pty (CONTRACT section 1).</summary>
    public bool IsRemoteShell => Kind is SessionKind.Mosh or SessionKind.Et;

    /// <summary>mosh and et start through an SSH login that closes once their server runs (mosh(1): "mosh ... logs in
    /// via ssh", then the SSH connection is closed; Eternal Terminal authenticates over ssh the same way): the SSH login
    /// at From, its logout <see cref="BootstrapLogin"/> later. A plain SSH session logs in at From and out at To.</summary>
    public static readonly TimeSpan BootstrapLogin = TimeSpan.FromSeconds(2);

    /// <summary>When the SSH login behind this session closed (null: no SSH login, or not closed yet at any time).</summary>
    public DateTimeOffset? SshLogout => Kind switch
    {
        SessionKind.Ssh => To,
        SessionKind.Mosh or SessionKind.Et => From + (BootstrapLogin < To - From ? BootstrapLogin : To - From),
        _ => null,
    };

    public bool HasSshLogin => Kind is SessionKind.Ssh or SessionKind.Mosh or SessionKind.Et;
}

public sealed record TimeWindow(DateTimeOffset From, DateTimeOffset To)
{
    public bool Contains(DateTimeOffset t) => From <= t && t < To;
}

public enum BusyKind { Patch, Apt, Yum, CloudInit, SsmCommand }

/// <summary>Maintenance at work on the instance over [From, To): what the probe reports as systemBusy.</summary>
public sealed record BusySpec(BusyKind Kind, DateTimeOffset From, DateTimeOffset To)
{
    public bool IsLiveAt(DateTimeOffset t) => From <= t && t < To;

    public string Name => Kind switch
    {
        BusyKind.Patch => "patch", BusyKind.Apt => "apt", BusyKind.Yum => "yum", BusyKind.CloudInit => "cloud-init", _ => "ssm-command",
    };
}

/// <summary>Established inbound TCP connections over [From, To) to a local port the instance listens on (issue 13's
/// ActivePorts): Count connections from a remote peer, or from loopback (an SSH tunnel, Session Manager port forwarding),
/// which the probe sees but never counts.</summary>
public sealed record InboundSpec(int Port, int Count, bool Loopback, DateTimeOffset From, DateTimeOffset To)
{
    public bool IsLiveAt(DateTimeOffset t) => From <= t && t < To;
}

/// <summary>GPU utilization over [From, To) (the instance has nvidia-smi); Hang: nvidia-smi gives no answer within 2 s then.</summary>
public sealed record GpuSpec(int Percent, bool Hang, DateTimeOffset From, DateTimeOffset To)
{
    public bool IsLiveAt(DateTimeOffset t) => From <= t && t < To;
}

/// <summary>A process of the probe's busy allow-list (make, cargo, docker-build, ...) running over [From, To).</summary>
public sealed record ProcessSpec(string Name, DateTimeOffset From, DateTimeOffset To)
{
    public bool IsLiveAt(DateTimeOffset t) => From <= t && t < To;
}

/// <summary>A load average over a window (a build running without a session).</summary>
public sealed record LoadSpec(DateTimeOffset From, DateTimeOffset To, double Value);

public enum FaultKind { ProbeTimeout, DeliveryTimeout, ProbeHang, Undeliverable, ProbeFailed, Garbage, Truncated, AgentMissing, StopError, Deregistered, AgentStderr }

/// <summary>A fault on one instance over a window; Code is the EC2 error code for stop-error, Message the stderr text of agent-stderr.</summary>
public sealed record InstanceFault(FaultKind Kind, DateTimeOffset From, DateTimeOffset To, string? Code, string? Message = null);

/// <summary>
/// What IAM refuses on one instance beyond the template's policy (which the lab always applies: see LabIam).
/// DeniedActions holds IAM action names (ec2:StopInstances, ec2:CreateTags, ec2:DeleteTags, ssm:SendCommand).
/// </summary>
public sealed record IamSpec(IReadOnlySet<string> DeniedActions)
{
    public static readonly IReadOnlyList<string> Actions = ["ssm:SendCommand", "ec2:StopInstances", "ec2:CreateTags", "ec2:DeleteTags"];
    public static readonly IamSpec AllowAll = new(new HashSet<string>(StringComparer.Ordinal));
    public static readonly IamSpec DenyAll = new(new HashSet<string>(Actions, StringComparer.Ordinal));
}

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
    public IamSpec Iam { get; init; } = IamSpec.AllowAll;

    /// <summary>busy: maintenance windows (Patch Manager, package managers, cloud-init, another SSM command).</summary>
    public IReadOnlyList<BusySpec> Busy { get; init; } = [];

    /// <summary>inbound: connections to listening ports (the probe's inboundConnections).</summary>
    public IReadOnlyList<InboundSpec> Inbound { get; init; } = [];

    /// <summary>gpu: utilization windows; any gpu key means the instance has nvidia-smi (0% outside the windows).</summary>
    public IReadOnlyList<GpuSpec> Gpu { get; init; } = [];

    /// <summary>processes: allow-listed processes running (the probe's busyProcesses).</summary>
    public IReadOnlyList<ProcessSpec> Processes { get; init; } = [];

    /// <summary>The instance's Spot request was cancelled and deleted (EC2 deletes them four hours after cancellation).</summary>
    public bool SpotRequestDeleted { get; init; }

    /// <summary>IPv4 address served as PrivateIpAddress (always) and PublicIpAddress (while not stopped); null: none.</summary>
    public string? Address { get; init; }
    /// <summary>How long pending lasts after StartInstances (virtual seconds; real seconds in serve).</summary>
    public TimeSpan StartDuration { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long after reaching running the SSM agent reports PingStatus Online.</summary>
    public TimeSpan AgentOnlineAfter { get; init; } = TimeSpan.Zero;
}
