namespace AutoStop.Policy;

/// <summary>keep: observed and left running. stop/hibernate: act. would-stop: dry run. skip: not decided, never stopped.</summary>
public enum DecisionAction { Keep, Stop, Hibernate, WouldStop, Skip }

public static class DecisionActionNames
{
    public static string ToLogName(this DecisionAction action) => action switch
    {
        DecisionAction.Keep => "keep",
        DecisionAction.Stop => "stop",
        DecisionAction.Hibernate => "hibernate",
        DecisionAction.WouldStop => "would-stop",
        DecisionAction.Skip => "skip",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };
}

/// <summary>
/// The idle state AutoStop keeps on the instance as tags. Only transitions are written,
/// so a steady fleet costs no tag calls.
/// </summary>
/// <param name="SetIdleSince">Write KEY:IdleSince with this time (the instance just became idle).</param>
/// <param name="ClearIdleSince">Remove KEY:IdleSince (the instance is in use again, or was restarted).</param>
/// <param name="ClearStoppedAt">Remove KEY:StoppedAt (an instance AutoStop stopped is running again).</param>
public sealed record IdleStateChange(DateTimeOffset? SetIdleSince = null, bool ClearIdleSince = false, bool ClearStoppedAt = false)
{
    public static readonly IdleStateChange None = new();
    public bool IsNone => SetIdleSince is null && !ClearIdleSince && !ClearStoppedAt;
}

/// <summary>The policy's answer for one instance: what to do, why (a code and a sentence), and the idle state to store.</summary>
public sealed record Decision(
    DecisionAction Action,
    string Reason,
    string Message,
    long? IdleSeconds,
    long ThresholdSeconds,
    IdleStateChange StateChange)
{
    /// <summary>When the action is not quite what the settings asked for, why (e.g. "hibernation-not-configured").</summary>
    public string? Fallback { get; init; }

    public bool StopsInstance => Action is DecisionAction.Stop or DecisionAction.Hibernate;

    /// <summary>For an instance AutoStop stopped that runs again: its LaunchTime minus StoppedAt (null otherwise).</summary>
    public long? RestartedAfterSeconds { get; init; }

    /// <summary>Started again within <see cref="IdlePolicy.QuickRestartWindow"/> of AutoStop's stop: the stop was probably unwelcome.</summary>
    public bool QuickRestart => RestartedAfterSeconds is { } s && s <= (long)IdlePolicy.QuickRestartWindow.TotalSeconds;

    /// <summary>For an instance due to stop at the next tick while someone is on it in a way the policy ignores: the notice
    /// to write to those terminals now (null otherwise).</summary>
    public StopNotice? Notice { get; init; }

    /// <summary>For a stop: KEY:StopReason's value (short; what a person needs later: what, how long idle since when, threshold).</summary>
    public string? StopReasonText { get; init; }

    public static Decision Skip(string reason, string message, long thresholdSeconds, IdleStateChange? change = null) =>
        new(DecisionAction.Skip, reason, message, null, thresholdSeconds, change ?? IdleStateChange.None);
}

/// <summary>
/// A warning one tick ahead: the instance will be stopped (or hibernated) at <paramref name="StopAt"/> unless someone
/// uses it, and people are still on it in ways the policy does not count (<paramref name="Audience"/>, e.g. "2 terminals
/// idle past IgnoreIdleTerminalsAfter"), so they are told where they are, with the command that keeps it up.
/// </summary>
public sealed record StopNotice(DateTimeOffset StopAt, bool Hibernate, string Audience);
