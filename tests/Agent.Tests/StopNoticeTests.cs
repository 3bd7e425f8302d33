using System.Diagnostics;
using System.Text.Json;
using AutoStop.TestSupport;

namespace AutoStop.Agent.Tests;

/// <summary>agent/stop-notice.sh through its test seam (its header): which arguments it takes, the line it writes to a
/// real terminal, and its report. The delivery through SSM, tmux included, is tests/Lab.Tests StopNoticeDeliveryTests.</summary>
public sealed class StopNoticeTests
{
    private static readonly string Script = RepoPaths.Of("agent", "stop-notice.sh");

    /// <summary>2026-11-23T18:00:30Z.</summary>
    private const long Now = 1795456830;

    [Theory]
    [InlineData(new string[0], "usage")]
    [InlineData(new[] { "2026-11-23T18:05:00Z" }, "usage")]
    [InlineData(new[] { "2026-11-23T18:05:00Z", "stop", "extra" }, "usage")]
    [InlineData(new[] { "2026-11-23T18:05:00+00:00", "stop" }, "STOP_AT")]
    [InlineData(new[] { "2026-11-23T18:05:00Z\n", "stop" }, "STOP_AT")]
    [InlineData(new[] { "2026-11-23T18:05:00Z'; reboot; '", "stop" }, "STOP_AT")]
    [InlineData(new[] { "$(reboot)", "stop" }, "STOP_AT")]
    [InlineData(new[] { "2026-02-30T10:00:00Z", "stop" }, "not a valid date")]
    [InlineData(new[] { "2026-11-23T25:00:00Z", "stop" }, "not a valid date")]
    [InlineData(new[] { "2026-11-23T18:05:00Z", "Stop" }, "ACTION")]
    [InlineData(new[] { "2026-11-23T18:05:00Z", "terminate" }, "ACTION")]
    [InlineData(new[] { "2026-11-23T18:05:00Z", "" }, "ACTION")]
    public void BadArgumentsExit2WithAMessageAndWriteNothing(string[] arguments, string expected)
    {
        using var terminal = new Pty();
        var (exit, stdout, stderr) = Run(arguments, terminal.Path);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith("stop-notice: ", stderr);
        Assert.Contains(expected, stderr);
        Assert.Equal("", terminal.Read(TimeSpan.FromMilliseconds(300)));
    }

    [Theory]
    [InlineData("stop", "stopped")]
    [InlineData("hibernate", "hibernated")]
    public void ARealTerminalGetsTheLineAndTheReportCountsIt(string action, string verb)
    {
        using var terminal = new Pty();
        var keepalive = Path.Combine(Path.GetTempPath(), $"autostop-keepalive-{Guid.NewGuid():N}");
        File.WriteAllText(keepalive, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keepalive, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var (exit, stdout, stderr) = Run(["2026-11-23T18:05:00Z", action], terminal.Path, ("AUTOSTOP_NOTICE_KEEPALIVE", keepalive));
            Assert.True(exit == 0, stderr);
            Assert.Equal("", stderr);
            var line = $"AutoStop: this machine will be {verb} at 18:05 UTC (in about 5 min) because nobody has used it for a while. To keep it up: autostop-keepalive 2h";
            var received = terminal.Read(TimeSpan.FromSeconds(5), line);
            Assert.Contains(line, received);
            // On a line of its own whatever the terminal was showing (\r\n around it; the tty's onlcr may add a \r).
            Assert.StartsWith("\r", received);
            Assert.EndsWith("\n", received);
            Assert.DoesNotContain("\n", received.Trim('\r', '\n'));

            using var report = JsonDocument.Parse(stdout);
            Assert.Equal("1.0.0", report.RootElement.GetProperty("noticeVersion").GetString());
            Assert.Equal(1, report.RootElement.GetProperty("terminals").GetInt32());
            Assert.Equal(0, report.RootElement.GetProperty("tmuxClients").GetInt32());
            Assert.Equal(0, report.RootElement.GetProperty("errors").GetArrayLength());
        }
        finally
        {
            File.Delete(keepalive);
        }
    }

    [Fact]
    public void WithoutTheKeepAliveHelperTheLineGivesTheCommandThatWritesItsMarker()
    {
        using var terminal = new Pty();
        var (exit, _, stderr) = Run(["2026-11-23T18:05:00Z", "stop"], terminal.Path, ("AUTOSTOP_NOTICE_KEEPALIVE", "/nonexistent/autostop-keepalive"));
        Assert.True(exit == 0, stderr);
        var fallback = "To keep it up: sudo sh -c 'mkdir -p /run/autostop && date -Is -d +2hours >/run/autostop/keepalive-until'";
        var received = terminal.Read(TimeSpan.FromSeconds(5), fallback);
        Assert.Contains(fallback, received);
        // No % or #: tmux's display-message would expand them.
        Assert.DoesNotContain("%", received);
        Assert.DoesNotContain("#", received);
    }

    [Fact]
    public void TheMarkerTheFallbackWritesIsOneTheProbeReadsAsTwoHoursAhead()
    {
        // What `date -Is -d +2hours` writes, read by the probe through its keep-alive seam.
        var marker = Path.Combine(Path.GetTempPath(), $"autostop-marker-{Guid.NewGuid():N}");
        try
        {
            var date = Process.Start(new ProcessStartInfo("bash", ["-c", "date -Is -d +2hours >\"$1\"", "_", marker]) { UseShellExecute = false })!;
            Assert.True(date.WaitForExit(5000));
            using var probe = new ProbeRunner();
            probe.Environment["AUTOSTOP_PROBE_KEEPALIVE"] = marker;
            probe.Environment["AUTOSTOP_PROBE_NOW"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (report, _) = probe.Run();
            Assert.InRange(report.GetProperty("keepAliveSeconds").GetInt32(), 7190, 7200);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Theory]
    [InlineData("2026-11-23T18:00:31Z", 1)]   // under a minute away: "about 1 min", never 0
    [InlineData("2026-11-23T17:59:00Z", 1)]   // already due (a late notice): still 1
    [InlineData("2026-11-23T19:00:30Z", 60)]
    [InlineData("2026-11-24T00:00:00Z", 360)]
    public void TheMinutesAreRoundedUpAndNeverZero(string stopAt, int minutes)
    {
        using var terminal = new Pty();
        var (exit, _, stderr) = Run([stopAt, "stop"], terminal.Path);
        Assert.True(exit == 0, stderr);
        Assert.Contains($"at {stopAt[11..16]} UTC (in about {minutes} min)", terminal.Read(TimeSpan.FromSeconds(5), " min)"));
    }

    [Fact]
    public void WhatIsNotATerminalIsNeverWrittenAndIsReported()
    {
        using var terminal = new Pty();
        var file = Path.Combine(Path.GetTempPath(), $"autostop-not-a-tty-{Guid.NewGuid():N}");
        File.WriteAllText(file, "");
        try
        {
            var (exit, stdout, stderr) = Run(["2026-11-23T18:05:00Z", "stop"], $"/dev/null {file} /dev/pts/999999 {terminal.Path} \"quoted\\path\"");
            Assert.True(exit == 0, stderr);
            Assert.Equal("", File.ReadAllText(file));
            using var report = JsonDocument.Parse(stdout);
            Assert.Equal(1, report.RootElement.GetProperty("terminals").GetInt32());
            var errors = report.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Equal(4, errors.Count);
            Assert.Contains("/dev/null is not a terminal", errors);
            Assert.Contains("/dev/pts/999999 is not a terminal", errors);
            // Reduced to a safe alphabet: whatever a path holds, the line stays JSON.
            Assert.Contains("?quoted?path? is not a terminal", errors);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AtMost64TerminalsAndAtMost8ErrorsAndAStuckTerminalCostsOneSecond()
    {
        using var stuck = new Pty();
        // A terminal whose output is stopped (as by Ctrl-S: tcflow TCOOFF) blocks every write to it until restarted.
        var stopped = Process.Start(new ProcessStartInfo("python3", ["-c", "import os,sys,termios,time;fd=os.open(sys.argv[1],os.O_RDWR|os.O_NOCTTY);termios.tcflow(fd,termios.TCOOFF);sys.stdout.write('ok\\n');sys.stdout.flush();time.sleep(20)", stuck.Path])
        {
            RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        try
        {
            Assert.Equal("ok", stopped.StandardOutput.ReadLine());
            var paths = Enumerable.Range(0, 70).Select(i => $"/dev/null{i}").Prepend(stuck.Path);
            var clock = Stopwatch.StartNew();
            var (exit, stdout, stderr) = Run(["2026-11-23T18:05:00Z", "stop"], string.Join(' ', paths));
            Assert.True(exit == 0, stderr);
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 5);
            using var report = JsonDocument.Parse(stdout);
            Assert.Equal(0, report.RootElement.GetProperty("terminals").GetInt32());
            var errors = report.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Equal(8, errors.Count);
            Assert.Equal("7 terminals over the limit of 64 not written to", errors[0]);
            Assert.StartsWith($"{stuck.Path} could not be written (exit 124)", errors[1]);
        }
        finally
        {
            stopped.Kill();
            stopped.WaitForExit();
        }
    }

    /// <summary>Runs the script with <paramref name="ttys"/> as its terminals, no tmux sockets and the clock at <see cref="Now"/>.</summary>
    private static (int Exit, string Stdout, string Stderr) Run(string[] arguments, string ttys, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("bash", [Script, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["AUTOSTOP_NOTICE_TTYS"] = ttys;
        start.Environment["AUTOSTOP_NOTICE_TMUX_DIR"] = "/nonexistent";
        start.Environment["AUTOSTOP_NOTICE_NOW"] = Now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(15_000), "the notice did not finish in 15 s");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
