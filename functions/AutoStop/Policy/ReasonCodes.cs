namespace AutoStop.Policy;

/// <summary>
/// Every reason a decision can carry. These strings are a contract: the README documents them
/// and the saved Logs Insights queries filter on them.
/// </summary>
public static class ReasonCodes
{
    // stop / hibernate / would-stop
    public const string IdleThresholdReached = "idle-threshold-reached";
    public const string DryRun = "dry-run";

    // keep: observed, and something says it is in use (or may soon be)
    public const string ActiveSessions = "active-sessions";
    public const string KeepAlive = "keep-alive";
    public const string BusyLoad = "busy-load";
    public const string MultiplexerSessions = "multiplexer-sessions";
    public const string Snoozed = "snoozed";
    public const string BootGrace = "boot-grace";
    public const string IdleBelowThreshold = "idle-below-threshold";
    public const string SystemBusy = "system-busy"; // maintenance at work: package manager, cloud-init, another SSM command
    public const string ActivePorts = "active-ports";       // inbound connections to a KEY:ActivePorts port (Jupyter, code-server, RDP, DCV)
    public const string BusyGpu = "busy-gpu";               // GPU utilization at or above KEY:BusyGpuPercent
    public const string BusyProcesses = "busy-processes";   // a KEY:BusyProcesses process runs

    // skip: not decided, never stopped
    public const string NotRunning = "not-running";
    public const string NotOptedIn = "not-opted-in";
    public const string InvalidTag = "invalid-tag";
    public const string AutoScalingGroup = "auto-scaling-group";
    public const string SpotInstance = "spot-instance";
    public const string InstanceStoreRoot = "instance-store-root";
    public const string NotSsmManaged = "not-ssm-managed";
    public const string UnsupportedPlatform = "unsupported-platform";
    public const string ProbeFailed = "probe-failed";
    public const string ProbeTimedOut = "probe-timed-out";
    public const string ProbeUndeliverable = "probe-undeliverable";
    public const string ProbeInvalidOutput = "probe-invalid-output";
    public const string Deadline = "deadline";
    public const string StopFailed = "stop-failed";
    public const string TagLimit = "tag-limit";                 // cannot hold AutoStop's state tags (EC2: 50 per resource)
    public const string AccessDenied = "access-denied";         // IAM refused an action naming this instance
    public const string PolicyError = "policy-error";           // unexpected error deciding it
    public const string NoSessionHistory = "no-session-history"; // Session Manager history unreadable: an idle stop is not safe
    public const string StaleObservation = "stale-observation"; // the look is older than AUTOSTOP_MAX_OBSERVATION_AGE_SECONDS
    public const string TagWriteFailed = "tag-write-failed";    // StoppedAt could not be written before the stop
    public const string SignalUnknown = "signal-unknown";       // a signal this instance's tags rely on could not be read this tick

    public static readonly IReadOnlyList<string> All =
    [
        IdleThresholdReached, DryRun, ActiveSessions, KeepAlive, BusyLoad, MultiplexerSessions, Snoozed, BootGrace,
        IdleBelowThreshold, NotRunning, NotOptedIn, InvalidTag, AutoScalingGroup, SpotInstance, InstanceStoreRoot,
        NotSsmManaged, UnsupportedPlatform, ProbeFailed, ProbeTimedOut, ProbeUndeliverable, ProbeInvalidOutput, Deadline, StopFailed,
        SystemBusy, TagLimit, AccessDenied, PolicyError, NoSessionHistory, StaleObservation, TagWriteFailed,
        ActivePorts, BusyGpu, BusyProcesses, SignalUnknown,
    ];
}
