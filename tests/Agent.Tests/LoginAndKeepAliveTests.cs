using System.Diagnostics;
using System.Text.Json;
using AutoStop.TestSupport;

namespace AutoStop.Agent.Tests;

/// <summary>The last login and logout (from the log formats instances have) and the keep-alive marker and its helper.</summary>
public class LoginAndKeepAliveTests
{
    [Theory]
    [InlineData("auth-debian-rfc3339.log", 180)]   // Debian/Ubuntu rsyslog, high-precision timestamps; a closed session
    [InlineData("secure-rhel-syslog.log", 180)]    // RHEL /var/log/secure, year-less syslog timestamps
    [InlineData("auth-sshd-session.log", 300)]     // OpenSSH 9.8+ logs as sshd-session
    public void TheLastSuccessfulLoginIsFound(string log, long age)
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = ProbeRunner.Fixture(log);
        var (report, line) = probe.Run();
        Assert.True(age == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
    }

    [Theory]
    [InlineData("auth-debian-rfc3339.log", 125L)]            // pam_unix(sshd:session): session closed for user bob
    [InlineData("auth-sshd-session.log", 150L)]              // OpenSSH 9.8+: sshd-session's Disconnected / session closed
    [InlineData("auth-logout-disconnected.log", 785L)]       // "Disconnected from user alice"; newer [preauth] disconnects, sudo's and cron's closed sessions are not SSH logouts
    [InlineData("secure-rhel-syslog.log", null)]             // logins only
    [InlineData("auth-no-login.log", null)]                  // a guesser's "Connection closed by invalid user" is no logout
    public void TheLastSshLogoutIsFound(string log, long? age)
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = ProbeRunner.Fixture(log);
        var (report, line) = probe.Run();
        var value = report.GetProperty("lastLogoutAgeSeconds");
        if (age is null) Assert.True(value.ValueKind == JsonValueKind.Null, line);
        else Assert.True(age == value.GetInt64(), line);
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void ALogoutAfterMegabytesOfGuessesIsFoundWithItsLogin()
    {
        using var probe = new ProbeRunner();
        var log = Path.Combine(probe.Work, "auth.log");
        using (var writer = new StreamWriter(log))
        {
            writer.WriteLine("Nov 22 17:00:00 host sshd[7001]: Accepted password for bob from 198.51.100.2 port 2 ssh2");
            const string guess = "Nov 22 17:30:00 host sshd[2401]: Disconnected from invalid user root 203.0.113.9 port 40000 [preauth]";
            for (long written = 0; written < 3_000_000; written += guess.Length + 1) writer.WriteLine(guess);
            writer.WriteLine("Nov 22 17:31:05 host sshd[7001]: pam_unix(sshd:session): session closed for user bob");
            for (long written = 0; written < 3_000_000; written += guess.Length + 1) writer.WriteLine(guess);
        }
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = log;
        var (report, line) = probe.Run();
        Assert.True(120 == report.GetProperty("lastLogoutAgeSeconds").GetInt64(), line);
        Assert.True(33 * 60 + 5 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
    }

    [Fact]
    public void TheJournalGivesTheLastLogout()
    {
        // Fixtures/journal-logout.txt, newest first: alice's session closed at Now - 119.7 s (Disconnected from user,
        // then pam_unix's session closed); the newer line is a [preauth] disconnect.
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        probe.Environment["AUTOSTOP_PROBE_JOURNAL"] = ProbeRunner.Fixture("journal-logout.txt");
        var (report, line) = probe.Run();
        Assert.True(120 == report.GetProperty("lastLogoutAgeSeconds").GetInt64(), line);
        Assert.True(240 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
    }

    [Fact]
    public void AJournalWithALoginButNoLogoutLeavesTheLogoutToWtmp()
    {
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        probe.Environment["AUTOSTOP_PROBE_JOURNAL"] = ProbeRunner.Fixture("journal-short-unix.txt");   // login 240 s ago, no logout
        probe.Environment["AUTOSTOP_PROBE_WTMP"] = Wtmp(probe, (7, "alice", "pts/0", ProbeRunner.Now - 3600), (8, "", "pts/0", ProbeRunner.Now - 1500));
        var (report, line) = probe.Run();
        Assert.True(240 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
        Assert.True(1500 == report.GetProperty("lastLogoutAgeSeconds").GetInt64(), line);
    }

    [Fact]
    public void WtmpGivesTheLatestLogoutEvenOfAnOlderLogin()
    {
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        // carol logged in first and out last; dave came and went in between; erin is still logged in.
        probe.Environment["AUTOSTOP_PROBE_WTMP"] = Wtmp(probe,
            (7, "carol", "pts/2", ProbeRunner.Now - 9000),
            (7, "dave", "pts/3", ProbeRunner.Now - 5000), (8, "", "pts/3", ProbeRunner.Now - 4000),
            (8, "", "pts/2", ProbeRunner.Now - 1000),
            (7, "erin", "pts/4", ProbeRunner.Now - 300));
        var (report, line) = probe.Run();
        Assert.True(1000 == report.GetProperty("lastLogoutAgeSeconds").GetInt64(), line);
        Assert.True(300 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
    }

    [Fact]
    public void AYearLessStampFromTheFutureIsLastYears()
    {
        using var probe = new ProbeRunner();
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = ProbeRunner.Fixture("auth-year-boundary.log");
        probe.Environment["AUTOSTOP_PROBE_NOW"] = DateTimeOffset.Parse("2027-01-01T00:05:00Z").ToUnixTimeSeconds().ToString();
        var (report, line) = probe.Run();
        Assert.True(600 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
    }

    [Fact]
    public void ALoginAfterMegabytesOfGuessesIsFoundInTheLogsTail()
    {
        using var probe = new ProbeRunner();
        var log = Path.Combine(probe.Work, "auth.log");
        using (var writer = new StreamWriter(log))
        {
            // Larger than the 8 MB window the probe reads: an old login at the start, then a guesser's flood, then a login.
            writer.WriteLine("Nov 22 09:00:00 host sshd[100]: Accepted publickey for old from 198.51.100.1 port 1 ssh2");
            const string guess = "Nov 22 17:30:00 host sshd[2401]: Failed password for root from 203.0.113.9 port 40000 ssh2";
            for (long written = 0; written < 9_000_000; written += guess.Length + 1) writer.WriteLine(guess);
            writer.WriteLine("Nov 22 17:31:05 host sshd[7001]: Accepted password for bob from 198.51.100.2 port 2 ssh2");
            writer.WriteLine(guess);
        }
        probe.Environment["AUTOSTOP_PROBE_AUTH_LOG"] = log;
        var (report, line) = probe.Run();
        Assert.True(120 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void TheJournalGivesTheLastLogin()
    {
        // Fixtures/journal-short-unix.txt: what `journalctl -r -o short-unix _COMM=sshd _COMM=sshd-session` prints,
        // newest first; the newest Accepted line is alice's at Now - 239.6 s.
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        probe.Environment["AUTOSTOP_PROBE_JOURNAL"] = ProbeRunner.Fixture("journal-short-unix.txt");
        var (report, line) = probe.Run();
        Assert.True(240 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void WtmpGivesTheLastLoginThroughLast()
    {
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        probe.Environment["AUTOSTOP_PROBE_WTMP"] = Wtmp(probe,
            (7, "bob", "pts/1", ProbeRunner.Now - 7200), (8, "", "pts/1", ProbeRunner.Now - 7000),
            (2, "reboot", "~", ProbeRunner.Now - 5000),
            (7, "alice", "pts/0", ProbeRunner.Now - 600));
        var (report, line) = probe.Run();
        Assert.True(600 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
        Assert.True(7000 == report.GetProperty("lastLogoutAgeSeconds").GetInt64(), line);   // bob's; alice is still logged in
    }

    [Fact]
    public void WithNoLoginInTheJournalWtmpIsRead()
    {
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        probe.Environment["AUTOSTOP_PROBE_JOURNAL"] = ProbeRunner.Fixture("journal-no-login.txt");
        probe.Environment["AUTOSTOP_PROBE_WTMP"] = Wtmp(probe, (7, "carol", "pts/2", ProbeRunner.Now - 1800));
        var (report, line) = probe.Run();
        Assert.True(1800 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
    }

    [Fact]
    public void AJournalWithOnlyFailuresAndAnEmptyWtmpGiveNoLogin()
    {
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        probe.Environment["AUTOSTOP_PROBE_JOURNAL"] = ProbeRunner.Fixture("journal-no-login.txt");
        probe.Environment["AUTOSTOP_PROBE_WTMP"] = Wtmp(probe);
        var (report, line) = probe.Run();
        Assert.True(report.GetProperty("lastLoginAgeSeconds").ValueKind == JsonValueKind.Null, line);
        Assert.True(report.GetProperty("lastLogoutAgeSeconds").ValueKind == JsonValueKind.Null, line);
    }

    [Fact]
    public void TerminalsOfTmuxMoshAndEtInWtmpAreNotSshLoginsOrLogouts()
    {
        using var probe = new ProbeRunner();
        probe.Environment.Remove("AUTOSTOP_PROBE_AUTH_LOG");
        // libutempter's entries for a tmux pane, a mosh session and an etterminal, newer than alice's SSH session.
        probe.Environment["AUTOSTOP_PROBE_WTMP"] = Wtmp(probe, [
            (7, "alice", "pts/0", ProbeRunner.Now - 3600, "198.51.100.7"), (8, "", "pts/0", ProbeRunner.Now - 3000, ""),
            (7, "alice", "pts/1", ProbeRunner.Now - 900, "tmux(4242).%0"), (8, "", "pts/1", ProbeRunner.Now - 800, ""),
            (7, "alice", "pts/2", ProbeRunner.Now - 700, "198.51.100.7 via mosh [5151]"), (8, "", "pts/2", ProbeRunner.Now - 600, ""),
            (7, "alice", "pts/3", ProbeRunner.Now - 500, "etterminal [6161]"), (8, "", "pts/3", ProbeRunner.Now - 400, ""),
        ]);
        var (report, line) = probe.Run();
        Assert.True(3600 == report.GetProperty("lastLoginAgeSeconds").GetInt64(), line);
        Assert.True(3000 == report.GetProperty("lastLogoutAgeSeconds").GetInt64(), line);
    }

    /// <summary>A binary wtmp file (glibc struct utmp on Linux x86_64/arm64, 384 bytes a record) for `last -f`.</summary>
    private static string Wtmp(ProbeRunner probe, params (short Type, string User, string Line, long Time)[] records) =>
        Wtmp(probe, records.Select(r => (r.Type, r.User, r.Line, r.Time, r.Type == 7 ? "198.51.100.7" : "")).ToArray());

    private static string Wtmp(ProbeRunner probe, (short Type, string User, string Line, long Time, string Host)[] records)
    {
        var path = Path.Combine(probe.Work, "wtmp");
        using var stream = File.Create(path);
        var pid = 4000;
        foreach (var (type, user, line, time, host) in records)
        {
            var record = new byte[384];
            BitConverter.GetBytes(type).CopyTo(record, 0);           // ut_type: 2 boot, 7 user process, 8 dead
            BitConverter.GetBytes(pid++).CopyTo(record, 4);          // ut_pid
            System.Text.Encoding.ASCII.GetBytes(line).CopyTo(record, 8);          // ut_line[32]
            System.Text.Encoding.ASCII.GetBytes(line.Length > 4 ? line[^4..] : line).CopyTo(record, 40); // ut_id[4]
            System.Text.Encoding.ASCII.GetBytes(user).CopyTo(record, 44);         // ut_user[32]
            System.Text.Encoding.ASCII.GetBytes(host).CopyTo(record, 76);        // ut_host[256]
            BitConverter.GetBytes((int)time).CopyTo(record, 340);    // ut_tv.tv_sec (int32 on these ABIs)
            stream.Write(record);
        }
        return path;
    }

    [Fact]
    public void FailedAndInvalidLoginsAreNotLogins()
    {
        using var probe = new ProbeRunner();
        var (report, _) = probe.Run(); // auth-no-login.log: only an invalid user
        Assert.Equal(JsonValueKind.Null, report.GetProperty("lastLoginAgeSeconds").ValueKind);
    }

    [Theory]
    [InlineData("1795372385", 3600L)]                   // epoch seconds
    [InlineData("2026-11-22T18:33:05Z\n", 3600L)]       // ISO-8601
    [InlineData("1795368000", null)]                    // expired
    public void KeepAliveMarker(string content, long? seconds)
    {
        using var probe = new ProbeRunner();
        File.WriteAllText(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"], content);
        var (report, _) = probe.Run();
        var value = report.GetProperty("keepAliveSeconds");
        if (seconds is null) Assert.Equal(JsonValueKind.Null, value.ValueKind);
        else Assert.Equal(seconds, value.GetInt64());
    }

    [Theory]
    [InlineData("2026-11-22T18:33:05\n")]        // no zone: the marker holds UTC, whatever the instance's zone
    [InlineData("2026-11-22 18:33:05")]
    [InlineData("2026-11-22T19:33:05+01:00")]    // an explicit offset is honoured
    public void AnIsoMarkerWithoutAZoneIsUtc(string content)
    {
        using var probe = new ProbeRunner();
        probe.Environment["TZ"] = "Asia/Tokyo";      // UTC+9: read as local time, the marker would be 9 h off
        File.WriteAllText(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"], content);
        var (report, line) = probe.Run();
        Assert.True(3600 == report.GetProperty("keepAliveSeconds").GetInt64(), line);
        Assert.Equal(0, report.GetProperty("errors").GetArrayLength());
    }

    [Fact]
    public void AMarkerYearsAwayIsCappedAtThirtyDaysAndReported()
    {
        using var probe = new ProbeRunner();
        File.WriteAllText(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"], "2036-01-01T00:00:00Z");
        var (report, line) = probe.Run();
        Assert.True(30 * 86400 == report.GetProperty("keepAliveSeconds").GetInt64(), line);
        Assert.Contains(report.GetProperty("errors").EnumerateArray(), e => e.GetString()!.Contains("capped at 30 days"));
    }

    [Theory]
    [InlineData("tomorrow")]              // date -d would take it; it is not a marker
    [InlineData("")]                      // date -d "" is today's midnight: an empty marker must not pass silently
    [InlineData("  \n")]
    [InlineData("99999999999999999999")]  // beyond bash arithmetic
    [InlineData("2026-13-45T99:00:00Z")]
    public void AMarkerThatIsNotATimeIsAnError(string content)
    {
        using var probe = new ProbeRunner();
        File.WriteAllText(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"], content);
        var (report, line) = probe.Run();
        Assert.Equal(JsonValueKind.Null, report.GetProperty("keepAliveSeconds").ValueKind);
        Assert.True(report.GetProperty("errors").EnumerateArray().Any(e => e.GetString()!.Contains("not a time")), line);
    }

    [Fact]
    public void AnUnreadableMarkerIsAnErrorNotAKeepAlive()
    {
        using var probe = new ProbeRunner();
        File.WriteAllText(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"], "tomorrow-ish");
        var (report, _) = probe.Run();
        Assert.Equal(JsonValueKind.Null, report.GetProperty("keepAliveSeconds").ValueKind);
        Assert.Contains(report.GetProperty("errors").EnumerateArray(), e => e.GetString()!.Contains("tomorrow-ish"));
    }

    [Theory]
    [InlineData("2h", 7200)]
    [InlineData("90m", 5400)]
    [InlineData("1h30m", 5400)]
    [InlineData("1d", 86400)]
    public void TheHelperWritesWhatTheProbeReads(string argument, long seconds)
    {
        using var probe = new ProbeRunner();
        var (code, _, stderr) = Helper(probe, argument);
        Assert.True(code == 0, stderr);
        var (report, _) = probe.Run();
        Assert.Equal(seconds, report.GetProperty("keepAliveSeconds").GetInt64());

        Assert.Equal(0, Helper(probe, "off").Code);
        Assert.Equal(JsonValueKind.Null, probe.Run().Report.GetProperty("keepAliveSeconds").ValueKind);
    }

    [Theory]
    [InlineData("2x")]
    [InlineData("0m")]
    [InlineData("40d")]
    [InlineData("2020-01-01T00:00:00Z")]
    public void TheHelperRefusesBadValuesByName(string argument)
    {
        using var probe = new ProbeRunner();
        var (code, _, stderr) = Helper(probe, argument);
        Assert.Equal(2, code);
        Assert.Contains($"'{argument}'", stderr);
        Assert.False(File.Exists(probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"]));
    }

    private static (int Code, string Stdout, string Stderr) Helper(ProbeRunner probe, string argument)
    {
        var start = new ProcessStartInfo("bash", [RepoPaths.Of("agent", "autostop-keepalive"), argument])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["AUTOSTOP_KEEPALIVE_FILE"] = probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"];
        start.Environment["AUTOSTOP_PROBE_NOW"] = ProbeRunner.Now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit(10_000);
        return (process.ExitCode, stdout, stderr);
    }
}
