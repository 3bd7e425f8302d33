using System.Diagnostics;

namespace AutoStop.Lab.Fleet;

/// <summary>
/// For instances marked `probe: local`: runs one of the real agent scripts on this machine as SSM would run its
/// document (agent/session-probe.sh for the probe, agent/stop-notice.sh with the command's StopAt and Action for the
/// notice), so a person can ssh into localhost and watch the controller keep that instance alive, or be warned.
/// <paramref name="environment"/> is added to the script's environment: the scripts' test seams (their headers).
/// </summary>
public sealed class LocalAgentScript(string scriptPath, IReadOnlyDictionary<string, string>? environment = null)
{
    public string ScriptPath => scriptPath;

    public async Task RunInto(LabInvocation invocation, params string[] arguments)
    {
        if (!File.Exists(scriptPath))
        {
            (invocation.FinalStatus, invocation.FinalDetails, invocation.ResponseCode) = ("Failed", "Failed", 127);
            invocation.Error = $"{scriptPath}: No such file or directory\n";
            return;
        }
        var start = new ProcessStartInfo("bash", [scriptPath, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            (invocation.FinalStatus, invocation.FinalDetails, invocation.ResponseCode) = ("TimedOut", "Execution Timed Out", -1);
            return;
        }
        invocation.Output = await stdout;
        invocation.Error = await stderr;
        invocation.ProducedAt = DateTimeOffset.UtcNow;
        invocation.ResponseCode = process.ExitCode;
        if (process.ExitCode != 0) (invocation.FinalStatus, invocation.FinalDetails) = ("Failed", "Failed");
    }
}
