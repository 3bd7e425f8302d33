using System.Text;
using System.Text.Json;

namespace AutoStop.Agent.Tests;

/// <summary>
/// Whatever bytes reach the probe (a keep-alive marker anyone with root wrote, a user name, a file name), its one
/// line stays valid JSON, valid against agent/schema.json (ProbeRunner.Run asserts both): control bytes and bytes
/// that are not ASCII (so also invalid UTF-8) are replaced, never copied into the line.
/// </summary>
public class JsonSafetyTests
{
    [Fact]
    public void AMarkerWithControlBytesAndInvalidUtf8IsAnErrorInValidJson()
    {
        using var probe = new ProbeRunner();
        // NUL, SOH, ESC (a terminal escape), DEL, a lone UTF-8 continuation byte, 0xff, a quote and a backslash.
        File.WriteAllBytes(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"],
            [0x00, 0x01, 0x1b, (byte)'[', (byte)'3', (byte)'1', (byte)'m', 0x7f, 0x80, 0xff, (byte)'"', (byte)'\\', (byte)'x', 0x0b, 0x0c]);

        var (report, line) = probe.Run();

        Assert.Equal(JsonValueKind.Null, report.GetProperty("keepAliveSeconds").ValueKind);
        var error = Assert.Single(report.GetProperty("errors").EnumerateArray()).GetString()!;
        Assert.Contains("keep-alive marker", error);
        Assert.Contains("[31m", error);
        Assert.Contains("\"\\x", error);                       // quote and backslash survive, escaped
        Assert.DoesNotContain(error, c => c < 0x20 || c >= 0x7f); // nothing else but printable ASCII
        Assert.DoesNotContain(line, c => c < 0x20 || c >= 0x7f);
    }

    [Fact]
    public void UserNamesWithOddBytesAreReplaced()
    {
        using var probe = new ProbeRunner();
        byte[] odd = [0x01, 0xe9, 0xff];
        var table = new MemoryStream();
        foreach (var part in new[]
        {
            Encoding.ASCII.GetBytes("    1     0 ?      root /sbin/init\n  100     1 ?      root sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\n"),
            Encoding.ASCII.GetBytes("  200   100 ?      root sshd: b"), odd, Encoding.ASCII.GetBytes("ob [priv]\n"),
            Encoding.ASCII.GetBytes("  210   200 ?      b"), odd, Encoding.ASCII.GetBytes("ob sshd: b"), odd, Encoding.ASCII.GetBytes("ob@notty\n"),
            Encoding.ASCII.GetBytes("  300   100 ?      root sshd: q\"u\\o\u007fte@pts/3\n"),
        }) table.Write(part);
        File.WriteAllBytes(probe.Environment["AUTOSTOP_PROBE_PS"], table.ToArray());

        var (report, line) = probe.Run();

        Assert.True(2 == report.GetProperty("sshSessions").GetInt32(), line);
        var users = report.GetProperty("users").EnumerateArray().Select(u => u.GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["b???ob", "q?u?o?te"], users);
        Assert.DoesNotContain(line, c => c < 0x20 || c >= 0x7f);
    }

    [Fact]
    public void AFileNameWithControlAndNonAsciiCharactersIsReplacedInItsError()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = Path.Combine(probe.Work, "no\u0007such\u001b\u00e9.log");

        var (report, line) = probe.Run();

        var error = Assert.Single(report.GetProperty("errors").EnumerateArray()).GetString()!;
        Assert.EndsWith("no?such???.log", error);   // BEL, ESC, and both bytes of UTF-8 "é"
        Assert.Equal(Encoding.ASCII.GetByteCount(line), Encoding.UTF8.GetByteCount(line));
    }

    [Fact]
    public void GarbageInProcFilesIsAnErrorNotANumberInTheLine()
    {
        using var probe = new ProbeRunner();
        var proc = probe.Environment["AUTOSTOP_PROBE_PROC"];
        File.WriteAllText(Path.Combine(proc, "loadavg"), "0.5,\"x\" 0.40 0.30 1/200 12345\n");
        File.WriteAllText(Path.Combine(proc, "uptime"), "abc 1.0\n");

        var (report, line) = probe.Run();

        Assert.Equal(0, report.GetProperty("load1").GetDouble());
        Assert.Equal(0, report.GetProperty("uptimeSeconds").GetInt64());
        var errors = report.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("loadavg"));
        Assert.Contains(errors, e => e.Contains("uptime"));
    }

    [Fact]
    public void TheWorstCaseLineFitsIn2000Characters()
    {
        // Everything at its maximum at once: more than 16 users with long names full of characters JSON must escape,
        // three remote-shell kinds, all thirteen maintenance kinds with 7-digit pids (Linux's pid_max is 4194304),
        // and far more than 8 errors, each naming a path of quotes and backslashes (escaping doubles its length).
        using var probe = new ProbeRunner();
        var odd = string.Concat(Enumerable.Repeat("\"\\\\", 50));   // "\\ x50: 150 characters that each need escaping
        var table = new List<string> { "    1     0 ?        root /sbin/init", "  100     1 ?        root sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups" };
        for (var i = 0; i < 20; i++)
            table.Add($" {1000 + i}   100 ?        root sshd: {i:00}\"q\\{new string('x', 40)}@pts/{i}");
        foreach (var (server, i) in new[] { "mosh-server", "etterminal", "etserver" }.Select((s, i) => (s, i)))
        {
            table.Add($" {3000 + 2 * i}     1 ?        user{i}-{new string('y', 40)} {server} new");
            table.Add($" {3001 + 2 * i}  {3000 + 2 * i} pts/{100 + i}  user{i}-{new string('y', 40)} -bash");
        }
        string[] busy = ["apt", "apt-get", "aptitude", "dpkg", "unattended-upgrade", "unattended-upgrades", "yum", "dnf", "dnf5", "rpm", "zypper", "cloud-init", "ssm-document-worker"];
        table.AddRange(busy.Select((n, i) => $" {4194290 + i}     1 ?        root {n}"));
        // Every allow-listed busy process (all 16 names, so busyProcesses is at its longest).
        string[] builds = ["make", "cmake", "ninja", "bazel", "cargo", "rustc", "go", "gcc", "clang", "javac", "gradle", "npm", "docker build", "rsync", "rclone", "ffmpeg"];
        table.AddRange(builds.Select((n, i) => $" {4194100 + i}     1 ?        root {n}"));
        File.WriteAllLines(probe.Environment["AUTOSTOP_PROBE_PS"], table);
        // Inbound connections at their longest: 8 five-digit ports with 10,000 connections each (five-digit counts, as
        // the probe caps them at 99999), and a ninth port whose connections go to inboundConnectionsOther.
        var net = Path.Combine(probe.Work, "p" + odd, "net");
        Directory.CreateDirectory(net);
        var tcp = new System.Text.StringBuilder(ProbeRunner.TcpHeader + "\n");
        var sl = 0;
        for (var port = 60000; port < 60009; port++)
        {
            tcp.Append($"{sl++}: 00000000:{port:X4} 00000000:0000 0A 0 0 0 0 0 1\n");
            for (var c = 0; c < (port < 60008 ? 10_000 : 3); c++)
                tcp.Append($"{sl++}: 0500000A:{port:X4} {(c << 8) + 0x0A:X8}:{1024 + c % 60000:X4} 01 0 0 0 0 0 1\n");
        }
        File.WriteAllText(Path.Combine(net, "tcp"), tcp.ToString());
        probe.Environment["AUTOSTOP_PROBE_DEV"] = Path.Combine(probe.Work, odd);      // no such directory: every tty is an error
        probe.Environment["AUTOSTOP_PROBE_PROC"] = Path.Combine(probe.Work, "p" + odd); // cpuinfo, uptime, loadavg: errors
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = Path.Combine(probe.Work, "a" + odd);
        File.WriteAllText(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"], odd);

        var (report, line) = probe.Run();   // one line, valid JSON, valid against agent/schema.json, <= 2,000 characters

        Assert.True(line.Length is > 1900 and <= ProbeRunner.LineMax, $"{line.Length} characters: {line}");
        Assert.Equal(20, report.GetProperty("sshSessions").GetInt32());
        Assert.Equal(16, report.GetProperty("users").GetArrayLength());
        Assert.All(report.GetProperty("users").EnumerateArray(), u => Assert.Matches("^[A-Za-z0-9._?-]{1,32}$", u.GetString()!));
        Assert.Equal(3, report.GetProperty("remoteShellSessions").GetInt32());
        Assert.Equal(["mosh-server", "etterminal", "etserver"], report.GetProperty("remoteShellKinds").EnumerateArray().Select(k => k.GetString()!));
        Assert.Equal(busy.Take(8).Select((n, i) => $"{n} (pid {4194290 + i})"), report.GetProperty("systemBusy").EnumerateArray().Select(b => b.GetString()!));
        Assert.Equal(16, report.GetProperty("busyProcesses").GetArrayLength());
        Assert.Equal(Enumerable.Range(60000, 8).Select(p => p.ToString()), report.GetProperty("inboundConnections").EnumerateObject().Select(p => p.Name).Order());
        Assert.All(report.GetProperty("inboundConnections").EnumerateObject(), p => Assert.Equal(10_000, p.Value.GetInt32()));
        Assert.Equal(3, report.GetProperty("inboundConnectionsOther").GetInt32());
        Assert.Equal("absent", report.GetProperty("gpuStatus").GetString());   // null + absent is longer than 100 + ok
        // Everything but errors, every field at its maximum (inboundConnectionsOther here has 1 digit of at most 6,
        // counts 5 of at most 5): 1,504 measured; under 1,550 leaves errors at least 446 characters, as the header says.
        var withoutErrors = line[..line.IndexOf("\"errors\":[", StringComparison.Ordinal)].Length + 5;
        Assert.True(withoutErrors <= 1550, $"{withoutErrors} characters before the errors");
        var errors = report.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.InRange(errors.Count, 1, 8);
        Assert.StartsWith("cannot count CPUs in " + probe.Work, errors[0]);   // the first errors are kept, the last one cut to fit
        Assert.All(errors, e => Assert.InRange(e.Length, 1, 160));
        Assert.Contains("\\\"", line);                                      // quotes really were escaped inside the kept errors
    }

    [Fact]
    public void ErrorsThatFitAreKeptWhole()
    {
        using var probe = new ProbeRunner();
        var odd = string.Concat(Enumerable.Repeat("\"\\", 20));
        probe.Environment["AUTOSTOP_PROBE_PROC"] = Path.Combine(probe.Work, odd);

        var (report, line) = probe.Run();

        var errors = report.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["cannot count CPUs in " + Path.Combine(probe.Work, odd) + "/cpuinfo", "cannot read " + Path.Combine(probe.Work, odd) + "/net/tcp",
            "cannot read " + Path.Combine(probe.Work, odd) + "/uptime", "cannot read " + Path.Combine(probe.Work, odd) + "/loadavg"], errors);
        Assert.True(line.Length < ProbeRunner.LineMax, line);
    }
}
