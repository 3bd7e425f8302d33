using System.Diagnostics;
using AutoStop.TestSupport;

namespace AutoStop.Cli.Tests;

/// <summary>Runs the built `autostop` executable as a child process against an endpoint (the lab or moto), with fake
/// credentials and nothing from this machine's AWS set-up; times shown in UTC.</summary>
internal static class Autostop
{
    /// <summary>The apphost next to this test's output (the referenced project's executable is copied here).</summary>
    public static string Executable { get; } = Path.Combine(AppContext.BaseDirectory, "autostop");

    public static Dictionary<string, string> Environment(string endpoint, string accessKey = "lab", string secretKey = "lab") => new()
    {
        ["AWS_ENDPOINT_URL"] = endpoint,
        ["AWS_ACCESS_KEY_ID"] = accessKey,
        ["AWS_SECRET_ACCESS_KEY"] = secretKey,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_MAX_ATTEMPTS"] = "1",
        ["TZ"] = "UTC",
    };

    public static Task<(int Code, string Stdout, string Stderr)> RunAsync(string endpoint, params string[] args) =>
        RunAsync(Executable, args, Environment(endpoint));

    /// <summary>Runs to the end within <paramref name="timeoutSeconds"/>; on timeout the process tree is killed and the test fails.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, int timeoutSeconds = 90)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("AUTOSTOP_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {timeoutSeconds} s and was killed; stderr: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
