using System.Diagnostics;
using System.Globalization;

namespace AutoStop.Lab.Running;

public enum FunctionBuild { Jit, Aot }

/// <summary>The function did not build: the lab has nothing to run.</summary>
public sealed class FunctionBuildException(string message) : Exception(message);

/// <summary>
/// The real AutoStop function, started the way Lambda starts a custom runtime: AWS_LAMBDA_RUNTIME_API pointing at the
/// lab, AWS_ENDPOINT_URL pointing at the lab's EC2 and SSM, configuration from the scenario. Its stdout is the log stream.
/// </summary>
public sealed class FunctionProcess : IAsyncDisposable
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Stopwatch _sinceStart;

    public DateTimeOffset StartedAt { get; }
    public string Path { get; }

    private FunctionProcess(Process process, string path, DateTimeOffset startedAt, Stopwatch sinceStart)
    {
        _process = process;
        Path = path;
        StartedAt = startedAt;
        _sinceStart = sinceStart;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) StandardError.Add(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public List<string> StandardError { get; } = [];
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;
    public Task Exited => _process.WaitForExitAsync();
    public TimeSpan Elapsed => _sinceStart.Elapsed;

    /// <summary>Lines printed so far (a copy).</summary>
    public List<string> Lines() { lock (_lines) return [.. _lines]; }

    public int LineCount { get { lock (_lines) return _lines.Count; } }

    /// <summary>Peak resident memory of the function so far (VmHWM), in KiB; null once it has exited.</summary>
    public long? PeakRssKb()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>Builds the function (incremental) unless told not to, and returns the bootstrap's path.</summary>
    public static async Task<string> BuildAsync(FunctionBuild build, bool skipBuild, TextWriter progress, CancellationToken cancellationToken)
    {
        var output = build == FunctionBuild.Aot
            ? LabPaths.Of("functions", "AutoStop", "bin", "lab-aot")
            : LabPaths.Of("functions", "AutoStop", "bin", "Release", "net10.0");
        var binary = System.IO.Path.Combine(output, "bootstrap");
        if (skipBuild && File.Exists(binary)) return binary;
        await BuildLock.WaitAsync(cancellationToken);
        try
        {
            string[] args = build == FunctionBuild.Aot
                ? ["publish", LabPaths.FunctionProject, "-c", "Release", "-r", "linux-x64", "-o", output, "-nologo", "-v", "q"]
                : ["build", LabPaths.FunctionProject, "-c", "Release", "-nologo", "-v", "q"];
            progress.WriteLine($"lab: building the function ({(build == FunctionBuild.Aot ? "Native AOT publish" : "dotnet build")})...");
            var start = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_NOLOGO"] = "1";
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
                throw new FunctionBuildException($"building the function failed (dotnet {string.Join(' ', args)}, exit code {process.ExitCode}):\n{await stdout}{await stderr}");
            return binary;
        }
        finally { BuildLock.Release(); }
    }

    /// <summary>Starts `true` once, redirected as the function is, and waits for it. A process's first Process.Start pays
    /// for .NET's own process machinery (7 to 19 ms measured here, later ones 0.3 to 4 ms); done before the function
    /// starts, coldStartMs does not count it, whether or not BuildAsync (which starts dotnet) ran first.</summary>
    public static async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("true") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start true");
        await process.WaitForExitAsync(cancellationToken);
    }

    public static FunctionProcess Start(string binary, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = System.IO.Path.GetTempPath(),
        };
        // Nothing from the caller's AWS set-up may leak in: the function must talk to the lab only.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("AUTOSTOP_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var clock = Stopwatch.StartNew();
        var startedAt = DateTimeOffset.UtcNow;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {binary}");
        return new FunctionProcess(process, binary, startedAt, clock);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
