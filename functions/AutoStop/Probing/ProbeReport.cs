namespace AutoStop.Probing;

/// <summary>One instance's probe output (agent/schema.json, major version 1), already validated.
/// The init-only properties are the fields added in a later minor version: optional when reading (absent: 0, null, empty),
/// so a controller and a probe of different minor versions still understand each other.</summary>
public sealed record ProbeReport(
    int Version,
    string Agent,
    int SshSessions,
    int SshNoTtySessions,
    int SsmSessions,
    IReadOnlyList<string> Users,
    long? LastLoginAgeSeconds,
    long? MinTtyIdleSeconds,
    long? KeepAliveSeconds,
    long UptimeSeconds,
    double Load1,
    int CpuCount,
    int MultiplexerSessions,
    int PreauthConnections,
    IReadOnlyList<string> Errors)
{
    /// <summary>Interactive sessions of remote-shell servers other than sshd (mosh-server, etserver): sessions, like SSH.</summary>
    public int RemoteShellSessions { get; init; }

    /// <summary>Which remote-shell servers were seen, e.g. ["mosh-server","etserver"] (distinct, at most 4).</summary>
    public IReadOnlyList<string> RemoteShellKinds { get; init; } = [];

    /// <summary>Seconds since the last SSH session closed; null when unknown.</summary>
    public long? LastLogoutAgeSeconds { get; init; }

    /// <summary>Maintenance at work now (package manager, cloud-init, another SSM command), e.g. "dnf (pid 812)"; at most 8.</summary>
    public IReadOnlyList<string> SystemBusy { get; init; } = [];

    /// <summary>Established inbound connections from non-loopback peers per listening local port (the 8 busiest); null: unknown
    /// (the probe could not read /proc/net/tcp, or is older than 1.4.0).</summary>
    public IReadOnlyDictionary<int, int>? InboundConnections { get; init; }

    /// <summary>Inbound connections to ports beyond those listed; null exactly when InboundConnections is.</summary>
    public int? InboundConnectionsOther { get; init; }

    /// <summary>The highest GPU utilization (percent); null when there is no nvidia-smi, it failed, or the probe is older.</summary>
    public int? GpuUtilizationPercent { get; init; }

    /// <summary>"absent" (no nvidia-smi), "ok", "failed"; null: the probe is older than 1.4.0 (unknown).</summary>
    public string? GpuStatus { get; init; }

    /// <summary>Which allow-listed process names run now; null: the probe is older than 1.4.0 (unknown).</summary>
    public IReadOnlyList<string>? BusyProcesses { get; init; }
}

/// <summary>How probing one instance went. Anything but <see cref="Ok"/> means "not observed": never stopped.</summary>
public enum ProbeStatus { Ok, NotManaged, UnsupportedPlatform, Undeliverable, TimedOut, Failed, InvalidOutput, NotProbed }

/// <summary>The result of probing one instance: a report when Ok, else the reason in a sentence, and the failed AWS
/// call when that was the cause (the tick logs each distinct one as an error line).</summary>
public sealed record ProbeOutcome(ProbeStatus Status, ProbeReport? Report, string Detail, string? CommandId = null, string? SsmStatus = null,
    AutoStop.Aws.AwsFailure? CallFailure = null)
{
    public static ProbeOutcome Ok(ProbeReport report, string? commandId) => new(ProbeStatus.Ok, report, "probe answered", commandId, "Success");
    public static ProbeOutcome Failure(ProbeStatus status, string detail, string? commandId = null, string? ssmStatus = null) =>
        new(status, null, detail, commandId, ssmStatus);
}
