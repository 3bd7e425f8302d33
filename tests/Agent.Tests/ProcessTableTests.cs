namespace AutoStop.Agent.Tests;

/// <summary>
/// Session counts from process tables as they look on the distributions and OpenSSH versions a fleet runs
/// (Fixtures/*.ps, "PID PPID TTY USER ARGS" as `ps -eo pid=,ppid=,tty=,user:32=,args=` prints them).
/// </summary>
public class ProcessTableTests
{
    [Theory]
    // fixture,                    ssh, noTty, ssm, preauth, mux, users
    [InlineData("al2-openssh74.ps", 2, 1, 0, 1, 0, "ec2-user,root")]           // root login has no [priv] process
    [InlineData("al2023-openssh87.ps", 1, 0, 1, 0, 0, "alice,ec2-user")]       // two channels on one connection; an SSM session
    [InlineData("ubuntu2004-openssh82.ps", 3, 2, 0, 1, 0, "ubuntu")]           // terminal, scp, VS Code; a guesser at root
    [InlineData("ubuntu2204-openssh89.ps", 1, 0, 0, 2, 1, "root")]             // scanner ([accepted]), admin at the password prompt, tmux
    [InlineData("ubuntu2404-openssh96.ps", 2, 1, 0, 0, 1, "dev,ubuntu")]       // rsync without a terminal, screen
    [InlineData("debian11-openssh84.ps", 2, 1, 0, 0, 0, "admin")]              // a connection orphaned by an sshd restart still counts
    [InlineData("debian12-openssh92.ps", 1, 0, 0, 1, 0, "astest")]             // real 9.2: multiplexed pts/2,pts/4; password prompt is [priv] too
    [InlineData("debian13-openssh10.ps", 2, 1, 0, 4, 0, "admin,root")]         // 10.0: sshd-session and sshd-auth titles from the source; root has a [priv] monitor too
    [InlineData("rhel8-openssh80.ps", 1, 0, 0, 0, 0, "ec2-user")]              // listener with -o options
    [InlineData("rhel9-openssh87.ps", 1, 0, 2, 0, 0, "bob,carol,root")]        // Session Manager users named from their session ids
    [InlineData("suse15-openssh84.ps", 1, 1, 0, 2, 0, "geeko")]                // sftp; two guessers
    [InlineData("debian12-openssh92-tmux.ps", 1, 0, 0, 0, 3, "alice")]         // real tmux 3.3a server keeps "tmux new ..." argv (parent 1 or systemd --user); the attach client is not a server; screen
    [InlineData("debian12-openssh92-forwarding.ps", 2, 2, 0, 2, 0, "asprb21898,root")] // real 9.2: ssh -N (port forwarding, no channel) is titled by the bare user name
    [InlineData("ubuntu2504-openssh99-forwarding.ps", 3, 2, 0, 2, 0, "dev,root,ubuntu")] // 9.9: "sshd-session: dev" with no channel is a session; "[net]" children are pre-auth
    public void CountsAreExact(string fixture, int ssh, int noTty, int ssm, int preauth, int multiplexers, string users)
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture(fixture);

        var (report, line) = probe.Run();

        Assert.True(ssh == report.GetProperty("sshSessions").GetInt32(), line);
        Assert.True(noTty == report.GetProperty("sshNoTtySessions").GetInt32(), line);
        Assert.True(ssm == report.GetProperty("ssmSessions").GetInt32(), line);
        Assert.True(preauth == report.GetProperty("preauthConnections").GetInt32(), line);
        Assert.True(multiplexers == report.GetProperty("multiplexerSessions").GetInt32(), line);
        Assert.Equal(users, string.Join(",", report.GetProperty("users").EnumerateArray().Select(u => u.GetString()).Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void TerminalIdleIsTheMostRecentlyUsedTerminal()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture("al2023-openssh87.ps"); // ec2-user@pts/0,pts/1
        probe.Tty("pts/0", 3600);
        probe.Tty("pts/1", 125);

        var (report, _) = probe.Run();

        Assert.Equal(125, report.GetProperty("minTtyIdleSeconds").GetInt64());
    }

    [Fact]
    public void NoTerminalMeansNoTerminalIdle()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture("suse15-openssh84.ps"); // sftp only
        var (report, _) = probe.Run();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, report.GetProperty("minTtyIdleSeconds").ValueKind);
    }

    [Fact]
    public void MachineFactsComeFromProc()
    {
        using var probe = new ProbeRunner();
        var (report, _) = probe.Run();
        Assert.Equal(12345, report.GetProperty("uptimeSeconds").GetInt64());
        Assert.Equal(0.52, report.GetProperty("load1").GetDouble());
        Assert.Equal(4, report.GetProperty("cpuCount").GetInt32());
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void WhatCannotBeReadIsReportedAndTheRestStillCounts()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = ProbeRunner.Fixture("al2-openssh74.ps");
        probe.Environment["AUTOSTOP_PROBE_PROC"] = Path.Combine(probe.Work, "no-proc");
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = Path.Combine(probe.Work, "missing.log");

        var (report, _) = probe.Run();

        Assert.Equal(2, report.GetProperty("sshSessions").GetInt32());
        var errors = report.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("uptime"));
        Assert.Contains(errors, e => e.Contains("missing.log"));
        Assert.Equal(1, report.GetProperty("cpuCount").GetInt32());
    }

    [Fact]
    public void WithoutTheProcessTableTheProbeSaysWhyAndFailsSoNothingIsTakenForIdle()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_PS"] = Path.Combine(probe.Work, "no-such-table.ps");

        // Exit 3: SSM reports the command Failed and the controller skips the instance (probe-failed), never
        // reading the zero counts as "nobody is here".
        var (report, _) = probe.Run(expectedExit: 3);

        var errors = report.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("no-such-table.ps"));
    }

    [Fact]
    public void FiveHundredSessionsStayWellUnderSsmsOutputLimit()
    {
        using var probe = new ProbeRunner();
        var table = new List<string> { "    1     0 ? root /sbin/init", "  100     1 ? root sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups" };
        for (var i = 0; i < 500; i++)
        {
            table.Add($"{1000 + 2 * i} 100 ? root sshd: user{i:000}-with-a-long-name-beyond-32-chars [priv]");
            table.Add($"{1001 + 2 * i} {1000 + 2 * i} ? user{i:000}-with-a-long-na+ sshd: user{i:000}-with-a-long-name-beyond-32-chars@notty");
        }
        File.WriteAllLines(probe.Environment["AUTOSTOP_PROBE_PS"] = Path.Combine(probe.Work, "big.ps"), table);

        var (report, line) = probe.Run();

        Assert.Equal(500, report.GetProperty("sshSessions").GetInt32());
        Assert.Equal(16, report.GetProperty("users").GetArrayLength());
        Assert.All(report.GetProperty("users").EnumerateArray(), u => Assert.True(u.GetString()!.Length <= 32));
        Assert.True(line.Length < 1500, $"{line.Length} characters");
    }
}
