namespace AutoStop.Cli;

/// <summary>The command's exit codes (README, "The autostop command"). Every non-zero exit did nothing, except where a
/// message says what was done (a start that timed out leaves the instance starting).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The SSH connection could not be made or broke (ssh-proxy only), after the instance was up.</summary>
    public const int ConnectionFailed = 1;
    /// <summary>Bad arguments or configuration, e.g. a snooze value the function would reject.</summary>
    public const int Usage = 2;
    /// <summary>AWS could not be reached or answered with an error other than the ones below.</summary>
    public const int AwsError = 3;
    /// <summary>No instance has this id or Name tag.</summary>
    public const int UnknownInstance = 4;
    /// <summary>Several instances carry this Name tag (they are listed).</summary>
    public const int AmbiguousName = 5;
    /// <summary>The instance has not opted in to AutoStop, so the command does not start or snooze it.</summary>
    public const int NotOptedIn = 6;
    /// <summary>IAM refused an action (named in the message).</summary>
    public const int PermissionDenied = 7;
    /// <summary>The instance did not come up within the timeout (the message says where it got stuck).</summary>
    public const int Timeout = 8;
    /// <summary>ssh-proxy did not wake the instance: the reconnect guard, or --wake never.</summary>
    public const int WakeRefused = 9;
}

/// <summary>A failure that ends the command with a message for a person and an exit code; nothing more is done.</summary>
public sealed class CliFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
