using System.Diagnostics;

namespace AutoStop.Lab.Tests;

/// <summary>Runs a child process to its end within a time limit; on timeout it is killed (with its children), never left running.</summary>
internal static class ChildProcess
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds} s and was killed");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The AWS CLI against the lab at <paramref name="url"/>, with fake credentials and nothing from this machine's AWS set-up.</summary>
    public static Task<(int Code, string Stdout, string Stderr)> AwsAsync(string url, params string[] args)
    {
        var start = new ProcessStartInfo("aws", ["--endpoint-url", url, "--output", "json", .. args]);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        start.Environment["AWS_ACCESS_KEY_ID"] = "lab";
        start.Environment["AWS_SECRET_ACCESS_KEY"] = "lab";
        start.Environment["AWS_DEFAULT_REGION"] = "us-east-1";
        start.Environment["AWS_MAX_ATTEMPTS"] = "1";
        start.Environment["AWS_PAGER"] = "";
        return RunAsync(start, TimeSpan.FromSeconds(60));
    }
}
