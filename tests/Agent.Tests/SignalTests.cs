using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace AutoStop.Agent.Tests;

/// <summary>
/// The opt-in signals of probe 1.4.0 (issue 13): inbound connections per local port from /proc/net/tcp and tcp6, the
/// highest GPU utilization from nvidia-smi (a fake one on PATH), and the allow-listed busy processes.
/// </summary>
public class SignalTests
{
    // Lines as Linux prints them (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c get_tcp6_sock): address words in
    // host byte order (little-endian), port in hex, st 0A = LISTEN, 01 = ESTABLISHED.
    private static string V4(int sl, string local, string remote, string state) =>
        $"{sl,4}: {local} {remote} {state} 00000000:00000000 00:00000000 00000000  1000        0 {1000 + sl} 1 0000000000000000 20 4 30 10 -1";

    private static string V6(int sl, string local, string remote, string state) =>
        $"{sl,4}: {local} {remote} {state} 00000000:00000000 00:00000000 00000000  1000        0 {2000 + sl} 1 0000000000000000 20 4 30 10 -1";

    private const string Any4 = "00000000", Lo4 = "0100007F", Host4 = "0500000A" /* 10.0.0.5 */, Peer4 = "0700000A" /* 10.0.0.7 */;
    private const string Any6 = "00000000000000000000000000000000", Lo6 = "00000000000000000000000001000000";
    private const string Mapped = "0000000000000000FFFF0000";                // ::ffff: then the IPv4 word
    private const string Global6 = "B80D0120000000000000000001000000";      // 2001:db8::1
    private const string Peer6 = "B80D0120000000000000000009000000";        // 2001:db8::9

    private static Dictionary<string, int> Ports(JsonElement report) =>
        report.GetProperty("inboundConnections").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());

    [Fact]
    public void EstablishedInboundConnectionsAreCountedPerListeningPortFromBothFiles()
    {
        using var probe = new ProbeRunner();
        probe.Net("tcp",
        [
            V4(0, $"{Any4}:22B8", $"{Any4}:0000", "0A"),             // listening on 8888 (IPv4)
            V4(1, $"{Host4}:22B8", $"{Peer4}:D431", "01"),            // 10.0.0.7 -> 8888: counts
            V4(2, $"{Host4}:22B8", $"{Peer4}:D432", "01"),            // a second one: counts
            V4(3, $"{Lo4}:22B8", $"{Lo4}:D433", "01"),                // 127.0.0.1 -> 8888 (an SSH tunnel): never counts
            V4(4, $"{Lo4}:22B8", "0200007F:D434", "01"),              // 127.0.0.2 is loopback too
            V4(5, $"{Host4}:C350", $"{Peer4}:01BB", "01"),            // outbound from 50000 to 443: nobody listens on 50000
            V4(6, $"{Host4}:0016", $"{Peer4}:D435", "06"),            // TIME_WAIT on 22 (not listening here either): not established
            V4(7, $"{Any4}:0016", $"{Any4}:0000", "0A"),              // listening on 22, nobody connected: not listed
        ]);
        probe.Net("tcp6",
        [
            V6(0, $"{Any6}:0D3D", $"{Any6}:0000", "0A"),              // listening on 3389 (IPv6, dual stack)
            V6(1, $"{Mapped}{Host4}:0D3D", $"{Mapped}{Peer4}:D436", "01"),   // v4-mapped 10.0.0.7 -> 3389: counts
            V6(2, $"{Mapped}{Lo4}:0D3D", $"{Mapped}{Lo4}:D437", "01"),       // v4-mapped 127.0.0.1: never counts
            V6(3, $"{Global6}:0D3D", $"{Peer6}:D438", "01"),                 // 2001:db8::9 -> 3389: counts
            V6(4, $"{Lo6}:0D3D", $"{Lo6}:D439", "01"),                       // ::1: never counts
            V6(5, $"{Global6}:20FB", $"{Peer6}:D43A", "0A"),                 // listening on 8443, nobody connected
            V6(6, $"{Global6}:20FB", $"{Peer6}:D43B", "02"),                 // SYN_SENT: not established
        ]);

        var (report, line) = probe.Run();

        Assert.Equal(new Dictionary<string, int> { ["8888"] = 2, ["3389"] = 2 }, Ports(report));
        Assert.True(0 == report.GetProperty("inboundConnectionsOther").GetInt32(), line);
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void TheEightBusiestPortsAreListedAndTheRestSummed()
    {
        using var probe = new ProbeRunner();
        var lines = new List<string>();
        var sl = 0;
        for (var port = 9000; port < 9012; port++)
        {
            var hex = port.ToString("X4");
            lines.Add(V4(sl++, $"{Any4}:{hex}", $"{Any4}:0000", "0A"));
            // Port 9000+i gets i+1 connections: 9011 the most; 9000..9003 (1+2+3+4 = 10 connections) are left out.
            for (var c = 0; c <= port - 9000; c++) lines.Add(V4(sl++, $"{Host4}:{hex}", $"{Peer4}:{(40000 + sl):X4}", "01"));
        }
        probe.Net("tcp", lines);

        var (report, line) = probe.Run();

        var ports = Ports(report);
        Assert.True(8 == ports.Count, line);
        Assert.Equal(Enumerable.Range(9004, 8).Select(p => p.ToString()).Order(), ports.Keys.Order());
        Assert.Equal(12, ports["9011"]);
        Assert.Equal(["9011", "9010", "9009"], ports.Keys.Take(3));   // busiest first
        Assert.Equal(10, report.GetProperty("inboundConnectionsOther").GetInt32());
    }

    [Fact]
    public void NoTcpFileMeansUnknownNotZero()
    {
        using var probe = new ProbeRunner();
        File.Delete(Path.Combine(probe.Environment["AUTOSTOP_PROBE_PROC"], "net", "tcp"));
        File.Delete(Path.Combine(probe.Environment["AUTOSTOP_PROBE_PROC"], "net", "tcp6"));

        var (report, _) = probe.Run();

        Assert.Equal(JsonValueKind.Null, report.GetProperty("inboundConnections").ValueKind);
        Assert.Equal(JsonValueKind.Null, report.GetProperty("inboundConnectionsOther").ValueKind);
        Assert.Contains(report.GetProperty("errors").EnumerateArray(), e => e.GetString()!.EndsWith("/net/tcp"));
    }

    [Fact]
    public void NoTcp6FileIsIPv6TurnedOffNotAnError()
    {
        using var probe = new ProbeRunner();
        File.Delete(Path.Combine(probe.Environment["AUTOSTOP_PROBE_PROC"], "net", "tcp6"));
        probe.Net("tcp", [V4(0, $"{Any4}:0016", $"{Any4}:0000", "0A"), V4(1, $"{Host4}:0016", $"{Peer4}:D431", "01")]);

        var (report, _) = probe.Run();

        Assert.Equal(new Dictionary<string, int> { ["22"] = 1 }, Ports(report));
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    /// <summary>The live kernel's /proc/net/tcp (and tcp6): a real listener on loopback and a real client connected to
    /// it. The probe sees the established pair in the same file (the test reads it too) and counts nothing for that
    /// port, because the peer is on loopback.</summary>
    [Fact]
    public void ARealLoopbackConnectionToARealListenerIsSeenButNotCounted()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        using var accepted = listener.AcceptTcpClient();

        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PROC"] = "/proc";   // the real one: uptime, loadavg, cpuinfo, net/tcp
        // The kernel really lists the connection as established, on loopback, to the listening port.
        var hex = port.ToString("X4");
        var established = File.ReadAllLines("/proc/net/tcp").Where(l => l.Contains($":{hex} ") && l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3] == "01").ToList();
        Assert.Contains(established, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == $"0100007F:{hex}");

        var (report, line) = probe.Run();

        Assert.NotEqual(JsonValueKind.Null, report.GetProperty("inboundConnections").ValueKind);
        Assert.False(Ports(report).ContainsKey(port.ToString()), line);
    }

    // --- GPU: a fake nvidia-smi first on PATH ---------------------------------------------------------------------

    private static void FakeNvidiaSmi(ProbeRunner probe, string body)
    {
        var bin = Path.Combine(probe.Work, "bin");
        Directory.CreateDirectory(bin);
        var path = Path.Combine(bin, "nvidia-smi");
        // It must be asked exactly what the probe means to ask, or it says so (and fails).
        File.WriteAllText(path, "#!/bin/sh\n[ \"$*\" = '--query-gpu=utilization.gpu --format=csv,noheader,nounits' ] || { echo \"unexpected: $*\" >&2; exit 9; }\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        probe.Environment["PATH"] = bin + ":" + System.Environment.GetEnvironmentVariable("PATH");
    }

    [Fact]
    public void ABusyGpuReportsItsHighestUtilization()
    {
        using var probe = new ProbeRunner();
        FakeNvidiaSmi(probe, "printf '3\\n97\\n41\\n'");   // three GPUs

        var (report, line) = probe.Run();

        Assert.True(97 == report.GetProperty("gpuUtilizationPercent").GetInt32(), line);
        Assert.Equal("ok", report.GetProperty("gpuStatus").GetString());
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void AnIdleGpuReportsZero()
    {
        using var probe = new ProbeRunner();
        FakeNvidiaSmi(probe, "echo 0");

        var (report, _) = probe.Run();

        Assert.Equal(0, report.GetProperty("gpuUtilizationPercent").GetInt32());
        Assert.Equal("ok", report.GetProperty("gpuStatus").GetString());
    }

    [Fact]
    public void AHangingNvidiaSmiIsCutAfterTwoSecondsAndReportsUnknown()
    {
        using var probe = new ProbeRunner();
        var marker = Path.Combine(probe.Work, "still-running");
        // It prints nothing and hangs (a child sleeping, as a stuck driver call would): timeout must kill the whole group.
        FakeNvidiaSmi(probe, $"sleep 30; touch '{marker}'");

        var watch = Stopwatch.StartNew();
        var (report, line) = probe.Run();
        watch.Stop();

        Assert.InRange(watch.Elapsed.TotalSeconds, 1.9, 5);
        Assert.Equal(JsonValueKind.Null, report.GetProperty("gpuUtilizationPercent").ValueKind);
        Assert.Equal("failed", report.GetProperty("gpuStatus").GetString());
        Assert.Contains("nvidia-smi gave no answer within 2 s", report.GetProperty("errors").EnumerateArray().Select(e => e.GetString()), StringComparer.Ordinal);
        Thread.Sleep(300);
        Assert.False(File.Exists(marker), line);
    }

    [Fact]
    public void AFailingNvidiaSmiIsUnknownWithItsExitStatus()
    {
        using var probe = new ProbeRunner();
        FakeNvidiaSmi(probe, "echo 'NVIDIA-SMI has failed because it couldn'\\''t communicate with the NVIDIA driver.'; exit 9");

        var (report, _) = probe.Run();

        Assert.Equal(JsonValueKind.Null, report.GetProperty("gpuUtilizationPercent").ValueKind);
        Assert.Equal("failed", report.GetProperty("gpuStatus").GetString());
        Assert.Contains("nvidia-smi failed (exit 9)", report.GetProperty("errors").EnumerateArray().Select(e => e.GetString()), StringComparer.Ordinal);
    }

    [Fact]
    public void WithoutNvidiaSmiTheGpuIsAbsentAndNull()
    {
        using var probe = new ProbeRunner();
        probe.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";   // the test machine has no GPU tools
        Assert.DoesNotContain("/usr/sbin:/usr/bin:/sbin:/bin".Split(':'), d => File.Exists(Path.Combine(d, "nvidia-smi")));

        var (report, _) = probe.Run();

        Assert.Equal(JsonValueKind.Null, report.GetProperty("gpuUtilizationPercent").ValueKind);
        Assert.Equal("absent", report.GetProperty("gpuStatus").GetString());
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    // --- busy processes ---------------------------------------------------------------------------------------------

    [Fact]
    public void AllowListedProcessesAreReportedByNameInListOrder()
    {
        using var probe = new ProbeRunner();
        File.WriteAllLines(probe.Environment["AUTOSTOP_PROBE_PS"],
        [
            "    1     0 ?        root /sbin/init",
            "  200     1 pts/0    dev  rsync -a /data/ backup:/data/",
            "  201     1 pts/0    dev  /usr/bin/gmake -j8",                       // gmake is make
            "  202   201 pts/0    dev  /usr/libexec/gcc/x86_64-linux-gnu/12/cc1plus -quiet x.cc",  // cc1plus is gcc
            "  203     1 pts/1    dev  /bin/sh ./gradlew build",                  // a script run by sh: gradlew is gradle
            "  204     1 pts/1    dev  docker buildx build -t x .",               // docker-build
            "  205     1 pts/1    dev  docker ps",                                // not a build
            "  206     1 pts/1    dev  node /usr/bin/npm ci",                     // node runs npm
            "  207     1 ?        dev  makefile-viewer",                          // not make
            "  208     1 ?        dev  /usr/bin/python3 -u train.py",             // not on the list
        ]);

        var (report, line) = probe.Run();

        Assert.True(report.GetProperty("busyProcesses").EnumerateArray().Select(e => e.GetString()).SequenceEqual(
            ["make", "gcc", "gradle", "npm", "docker-build", "rsync"]), line);
    }

    [Fact]
    public void TheAllowListIsTheControllersVocabulary()
    {
        // AutoStop.Policy.ProbeVocabulary.BusyProcessNames and the probe's BUSY_NAMES are one list: a tag naming a
        // process the probe never reports would never keep anything.
        var script = File.ReadAllText(ProbeRunner.Script);
        var names = System.Text.RegularExpressions.Regex.Match(script, "(?m)^BUSY_NAMES=\"([^\"]*)\"$").Groups[1].Value.Split(' ');
        var vocabulary = File.ReadAllText(Path.Combine(AutoStop.TestSupport.RepoPaths.Of("functions", "AutoStop", "Policy", "ProbeVocabulary.cs")));
        var listed = System.Text.RegularExpressions.Regex.Match(vocabulary, "BusyProcessNames\\s*=\\s*\\[([^\\]]*)\\]").Groups[1].Value
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim('"')).ToArray();
        Assert.Equal(names, listed);
        Assert.InRange(names.Length, 1, 16);
        Assert.All(names, n => Assert.Matches("^[a-z0-9-]{1,12}$", n));
    }
}
