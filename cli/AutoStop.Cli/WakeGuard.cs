using AutoStop.Configuration;

namespace AutoStop.Cli;

/// <summary>When ssh-proxy may start a stopped instance: always, never, or auto (the default).</summary>
public enum WakeMode { Auto, Always, Never }

/// <summary>
/// The reconnect-storm guard. An IDE that reconnects in the background (VS Code Remote-SSH retries after the connection
/// drops) would wake an instance AutoStop has just stopped, and the instance would then idle until the next stop, again
/// and again. Default (auto): an instance AutoStop stopped less than <c>RecentMinutes</c> (60) ago is only woken when a
/// person is there to see it, which for a ProxyCommand means ssh's stderr is a terminal (ssh gives the proxy command its
/// own stderr; stdin and stdout are the SSH byte stream, never a terminal). A background client has no terminal on stderr,
/// so it is refused, with the reason on stderr (the IDE's log shows it). Instances stopped by anyone else, or by AutoStop
/// longer ago, are woken.
/// </summary>
public static class WakeGuard
{
    public const int DefaultRecentMinutes = 60;

    /// <summary>Null: wake it. Otherwise the refusal, for stderr.</summary>
    public static string? Refusal(PersonInstance instance, WakeMode mode, int recentMinutes, bool terminalAttached, AutoStopConfig config, PersonClock clock)
    {
        if (mode == WakeMode.Always) return null;
        var name = instance.Name ?? instance.Id;
        if (mode == WakeMode.Never)
            return $"not waking {instance.Label}: it is {instance.State} and --wake never was given. `autostop start {name}` starts it.";
        if (terminalAttached || instance.StoppedAt(config) is not { } stoppedAt) return null;
        var ago = clock.Now - stoppedAt;
        if (ago >= TimeSpan.FromMinutes(recentMinutes)) return null;
        return $"not waking {instance.Label}: AutoStop stopped it at {clock.Format(stoppedAt)} ({PersonClock.Minutes(ago)} ago, less than {recentMinutes} min) " +
            "and no terminal is attached (stderr is not a terminal), so this looks like a background reconnect (an IDE retrying), not a person. " +
            $"Default --wake auto, --recent-minutes {DefaultRecentMinutes}. To wake it: `autostop start {name}`, connect from a terminal, or pass --wake always.";
    }
}
