namespace AutoStop.Agent.Tests;

/// <summary>
/// Remote shells other than sshd (mosh, Eternal Terminal) and maintenance at work (package managers, cloud-init,
/// another SSM command), from fixture process tables. tests/checks/agent-real-remote-shell.sh and agent-real-busy.sh
/// do the same with real processes.
/// </summary>
public class RemoteShellAndBusyTests
{
    private static string[] Strings(System.Text.Json.JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    [Fact]
    public void MoshAndEternalTerminalSessionsAreServersHoldingAPty()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture("ubuntu2404-mosh-et.ps");

        var (report, line) = probe.Run();

        // dev's mosh (shell on pts/3), carol's mosh waiting for its client (child on pts/5), erin's etterminal (pts/6);
        // not etserver (no pty child), not the etterminal whose child shares ubuntu's SSH terminal.
        Assert.True(3 == report.GetProperty("remoteShellSessions").GetInt32(), line);
        Assert.Equal(["mosh-server", "etterminal"], Strings(report.GetProperty("remoteShellKinds")));
        Assert.Equal(["carol", "dev", "erin", "ubuntu"], Strings(report.GetProperty("users")).Order(StringComparer.Ordinal));
        Assert.Equal(1, report.GetProperty("sshSessions").GetInt32());
    }

    [Fact]
    public void ARemoteShellPtyIsATerminalForIdleTime()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture("ubuntu2404-mosh-et.ps");
        probe.Tty("pts/0", 7200);   // the SSH terminal
        probe.Tty("pts/3", 45);     // dev typing in mosh
        probe.Tty("pts/5", 900);
        probe.Tty("pts/6", 3000);

        var (report, line) = probe.Run();

        Assert.True(45 == report.GetProperty("minTtyIdleSeconds").GetInt64(), line);
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void AForgottenMoshPtyAgesLikeAnSshTerminal()
    {
        using var probe = new ProbeRunner();
        // Only the mosh sessions: their ptys are the only terminals, so their idle time is the minimum.
        var table = Path.Combine(probe.Work, "mosh.ps");
        File.WriteAllLines(table, File.ReadAllLines(ProbeRunner.Fixture("ubuntu2404-mosh-et.ps")).Where(l => !l.StartsWith('#') && (l.Contains("mosh-server") || l.Contains(" pts/3 ") || l.Contains("/sbin/init"))));
        probe.Environment["AUTOSTOP_PROBE_PS"] = table;
        probe.Tty("pts/3", 5 * 3600);
        probe.Tty("pts/5", 6 * 3600);

        var (report, line) = probe.Run();

        Assert.True(2 == report.GetProperty("remoteShellSessions").GetInt32(), line);
        Assert.True(5 * 3600 == report.GetProperty("minTtyIdleSeconds").GetInt64(), line);
        Assert.Equal(0, report.GetProperty("sshSessions").GetInt32());
    }

    [Fact]
    public void NoRemoteShellGivesZeroAndNoKinds()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture("debian12-openssh92-tmux.ps");
        var (report, _) = probe.Run();
        Assert.Equal(0, report.GetProperty("remoteShellSessions").GetInt32());
        Assert.Equal(0, report.GetProperty("remoteShellKinds").GetArrayLength());
        Assert.Equal(0, report.GetProperty("systemBusy").GetArrayLength());
    }

    [Fact]
    public void PatchManagerAtWorkIsSystemBusyButTheProbesOwnCommandIsNot()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture("al2023-patch-baseline.ps");
        probe.Environment["AUTOSTOP_PROBE_SELF_PID"] = "6102";

        var (report, line) = probe.Run();

        // In process-table order, one item per kind; worker 6000 runs this probe; unattended-upgrade-shutdown,
        // dnf-automatic and "python3 -c" are not package managers at work.
        Assert.Equal(["cloud-init (pid 700)", "ssm-document-worker: another SSM command (pid 5000)", "dnf (pid 5060)", "rpm (pid 5070)"],
            Strings(report.GetProperty("systemBusy")));
        Assert.DoesNotContain("6000", line);
    }

    [Theory]
    [InlineData("6102", new string[0])]                                                          // the probe under its own worker
    [InlineData("6050", new string[0])]                                                          // any pid in that ancestry
    [InlineData("4242", new[] { "ssm-document-worker: another SSM command (pid 6000)" })]       // not its ancestor: another command
    public void OnlyAWorkerThatIsNotTheProbesAncestorCounts(string self, string[] busy)
    {
        using var probe = new ProbeRunner();
        var table = Path.Combine(probe.Work, "own.ps");
        File.WriteAllLines(table, File.ReadAllLines(ProbeRunner.Fixture("al2023-patch-baseline.ps"))
            .Where(l => !l.StartsWith('#') && System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s*(1|1200|1210|6000|6050|6102|6103)\s")));
        probe.Environment["AUTOSTOP_PROBE_PS"] = table;
        probe.Environment["AUTOSTOP_PROBE_SELF_PID"] = self;

        var (report, line) = probe.Run();

        Assert.True(busy.SequenceEqual(Strings(report.GetProperty("systemBusy"))), line);
    }

    [Theory]
    [InlineData("apt-get install -y build-essential", "apt-get")]
    [InlineData("/usr/bin/apt full-upgrade", "apt")]
    [InlineData("aptitude safe-upgrade", "aptitude")]
    [InlineData("/usr/bin/dpkg --status-fd 67 --configure --pending", "dpkg")]
    [InlineData("/usr/bin/python3 /usr/bin/unattended-upgrade --mode=autoupdate", "unattended-upgrade")]
    [InlineData("/usr/bin/python3 /usr/bin/unattended-upgrades", "unattended-upgrades")]
    [InlineData("/usr/bin/python /usr/bin/yum -y update", "yum")]                       // Amazon Linux 2: python 2
    [InlineData("/usr/libexec/platform-python /usr/bin/yum -y update", "yum")]           // RHEL 8: yum is dnf under platform-python
    [InlineData("/usr/bin/python3 -Es /usr/bin/dnf makecache", "dnf")]
    [InlineData("dnf5 upgrade", "dnf5")]
    [InlineData("rpm -ivh x.rpm", "rpm")]
    [InlineData("zypper --non-interactive patch", "zypper")]
    [InlineData("/usr/bin/python3.9 /usr/bin/cloud-init init --local", "cloud-init")]
    public void EachPackageManagerIsSeenByName(string args, string name)
    {
        using var probe = new ProbeRunner();
        File.WriteAllLines(probe.Environment["AUTOSTOP_PROBE_PS"], ["    1     0 ?        root /sbin/init", $" 4194303     1 ?        root {args}"]);
        var (report, line) = probe.Run();
        Assert.True(new[] { $"{name} (pid 4194303)" }.SequenceEqual(Strings(report.GetProperty("systemBusy"))), line);
    }

    [Theory]
    [InlineData("/usr/share/unattended-upgrades/unattended-upgrade-shutdown --wait-for-signal")]
    [InlineData("/usr/lib/packagekit/packagekitd")]
    [InlineData("dpkg-query -W")]
    [InlineData("vim /etc/apt/sources.list")]
    [InlineData("/usr/bin/python3 -m http.server")]
    [InlineData("/usr/bin/ssm-session-worker alice-0123456789abcdef0 i-0123456789abcdef0")]
    public void LookAlikesAreNotBusy(string args)
    {
        using var probe = new ProbeRunner();
        File.WriteAllLines(probe.Environment["AUTOSTOP_PROBE_PS"], ["    1     0 ?        root /sbin/init", $"  900     1 ?        root {args}"]);
        var (report, line) = probe.Run();
        Assert.True(report.GetProperty("systemBusy").GetArrayLength() == 0, line);
    }

    [Fact]
    public void AtMostEightBusyItems()
    {
        using var probe = new ProbeRunner();
        var names = new[] { "apt", "apt-get", "aptitude", "dpkg", "unattended-upgrade", "unattended-upgrades", "yum", "dnf", "dnf5", "rpm", "zypper", "cloud-init", "ssm-document-worker" };
        File.WriteAllLines(probe.Environment["AUTOSTOP_PROBE_PS"], names.Select((n, i) => $" {4194000 + i}     1 ?        root {n}").Prepend("    1     0 ?        root /sbin/init"));
        var (report, line) = probe.Run();
        Assert.True(names.Take(8).Select((n, i) => $"{n} (pid {4194000 + i})").SequenceEqual(Strings(report.GetProperty("systemBusy"))), line);
    }
}
