using System.Diagnostics;
using System.Text.Json;
using AutoStop.TestSupport;

namespace AutoStop.Agent.Tests;

/// <summary>
/// Runs agent/session-probe.sh through its test seam (documented in the script's header): a fixture process table,
/// auth log, clock, tty devices, proc files and keep-alive marker instead of the live machine's.
/// </summary>
internal sealed class ProbeRunner : IDisposable
{
    public static readonly string Script = RepoPaths.Of("agent", "session-probe.sh");
    private static readonly ProbeSchema Schema = ProbeSchema.Load(RepoPaths.Of("agent", "schema.json"));

    /// <summary>2026-11-22T17:33:05Z, the fixtures' "now".</summary>
    public const long Now = 1795368785;

    public string Work { get; } = Directory.CreateTempSubdirectory("autostop-probe-").FullName;
    public Dictionary<string, string> Environment { get; } = new();

    public ProbeRunner()
    {
        var proc = Path.Combine(Work, "proc");
        Directory.CreateDirectory(proc);
        File.WriteAllText(Path.Combine(proc, "uptime"), "12345.67 20000.00\n");
        File.WriteAllText(Path.Combine(proc, "loadavg"), "0.52 0.40 0.30 1/200 12345\n");
        File.WriteAllText(Path.Combine(proc, "cpuinfo"), string.Concat(Enumerable.Range(0, 4).Select(i => $"processor\t: {i}\nmodel name\t: x\n\n")));
        // /proc/net/tcp and tcp6 with their header lines only: no connections (Tcp() writes some).
        Directory.CreateDirectory(Path.Combine(proc, "net"));
        File.WriteAllText(Path.Combine(proc, "net", "tcp"), TcpHeader + "\n");
        File.WriteAllText(Path.Combine(proc, "net", "tcp6"), Tcp6Header + "\n");
        Environment["AUTOSTOP_PROBE_PROC"] = proc;
        Environment["AUTOSTOP_PROBE_NOW"] = Now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Environment["AUTOSTOP_PROBE_PS"] = Path.Combine(Work, "empty.ps");
        File.WriteAllText(Environment["AUTOSTOP_PROBE_PS"], "");
        Environment["AUTOSTOP_PROBE_AUTH_LOG"] = Fixture("auth-no-login.log");
        Environment["AUTOSTOP_PROBE_KEEPALIVE"] = Path.Combine(Work, "keepalive-until");
        Environment["AUTOSTOP_PROBE_DEV"] = Path.Combine(Work, "dev");
        Environment["TZ"] = "UTC";
    }

    /// <summary>The header lines Linux prints (net/ipv4/tcp_ipv4.c tcp4_seq_show, net/ipv6/tcp_ipv6.c tcp6_seq_show).</summary>
    public const string TcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
    public const string Tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    /// <summary>Writes this probe's /proc/net/tcp (or tcp6): the header, then the given lines.</summary>
    public void Net(string file, IEnumerable<string> lines) =>
        File.WriteAllLines(Path.Combine(Environment["AUTOSTOP_PROBE_PROC"], "net", file), [file == "tcp" ? TcpHeader : Tcp6Header, .. lines]);

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A tty device whose last keystroke was <paramref name="idleSeconds"/> before Now.</summary>
    public void Tty(string name, long idleSeconds)
    {
        var path = Path.Combine(Work, "dev", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        File.SetLastAccessTimeUtc(path, DateTimeOffset.FromUnixTimeSeconds(Now - idleSeconds).UtcDateTime);
    }

    /// <summary>The probe's line is at most this long whatever it finds (its header says how it keeps to it).</summary>
    public const int LineMax = 2000;

    private static readonly string[] SchemaFields = Schema.Schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Runs the probe; asserts it printed exactly one line, valid against agent/schema.json, holding exactly
    /// the schema's properties (the schema lets consumers ignore unknown fields; the probe prints no others), at most
    /// <see cref="LineMax"/> characters, and exited <paramref name="expectedExit"/> (0: it could observe the instance).</summary>
    public (JsonElement Report, string Line) Run(int expectedExit = 0)
    {
        var start = new ProcessStartInfo("bash", [Script]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in Environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(10_000), "the probe did not finish in 10 s");
        Assert.True(process.ExitCode == expectedExit, $"exit {process.ExitCode} (expected {expectedExit}): {stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got: {stdout}");
        Assert.Empty(Schema.Validate(lines[0]));
        Assert.True(lines[0].Length <= LineMax, $"{lines[0].Length} characters");
        var report = JsonDocument.Parse(lines[0]).RootElement.Clone();
        Assert.Equal(SchemaFields, report.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
        return (report, lines[0]);
    }

    public void Dispose() => Directory.Delete(Work, recursive: true);
}
