using System.Diagnostics;

namespace AutoStop.Lab.Fleet;

/// <summary>
/// For instances marked `probe: local`: runs the real agent/session-probe.sh on this machine, so a person can ssh
/// into localhost and watch the controller keep that instance alive.
/// </summary>
public sealed class LocalProbe(string scriptPath)
{
    public async Task RunInto(LabInvocation invocation)
    {
        if (!File.Exists(scriptPath))
        {
            (invocation.FinalStatus, invocation.FinalDetails, invocation.ResponseCode) = ("Failed", "Failed", 127);
            invocation.Error = $"{scriptPath}: No such file or directory\n";
            return;
        }
        var start = new ProcessStartInfo("bash", [scriptPath]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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
