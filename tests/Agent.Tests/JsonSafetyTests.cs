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
}
