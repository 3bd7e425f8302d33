namespace AutoStop.Probing;

/// <summary>One instance's probe output (agent/schema.json, version 1), already validated.</summary>
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
    IReadOnlyList<string> Errors);

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
