namespace AutoStop.Policy;

/// <summary>
/// Words the probe and the controller share. The probe reports which of a fixed allow-list of process names run
/// (agent/session-probe.sh BUSY_NAMES, in the same order; a test compares the two), and AutoStop:BusyProcesses may
/// only name those: a name the probe never reports would never keep anything, so it is refused, not ignored.
/// Why a list in the probe and not a document parameter: see the probe's header (a tag's text would run as root).
/// </summary>
public static class ProbeVocabulary
{
    public static readonly IReadOnlyList<string> BusyProcessNames =
        ["make", "cmake", "ninja", "bazel", "cargo", "rustc", "go", "gcc", "clang", "javac", "gradle", "npm", "docker-build", "rsync", "rclone", "ffmpeg"];
}
