using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;
using AutoStop.TestSupport;

namespace AutoStop.Lab.Tests;

/// <summary>
/// The stop notice end to end on this machine, nothing simulated but SSM: a `probe: local` instance, SendCommand of the
/// notice document to the lab (through the AWS CLI), the lab running the real agent/stop-notice.sh, and a real
/// terminal (a pty) and a real tmux server with a real client attached on a pty of its own. The script is pointed at
/// that pty and that tmux socket directory through its test seam (AUTOSTOP_NOTICE_TTYS, AUTOSTOP_NOTICE_TMUX_DIR),
/// so no other terminal of this machine is written to. Needs tmux (tests/run.sh installs it).
/// </summary>
public sealed class StopNoticeDeliveryTests
{
    private const string Line =
        "AutoStop: this machine will be stopped at 18:05 UTC (in about 5 min) because nobody has used it for a while. To keep it up: autostop-keepalive 2h";

    [Fact]
    public async Task TheRealScriptReachesARealTerminalAndARealTmuxClientThroughSendCommand()
    {
        using var terminal = new Pty();
        using var tmuxTerminal = new Pty();
        var sockets = Directory.CreateTempSubdirectory("autostop-tmux-");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(sockets.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var socket = Path.Combine(sockets.FullName, "default");
        Process? client = null;
        try
        {
            // A tmux server with one session, and a client attached to it on its own pty, wide enough for the line.
            await Run("tmux", "-S", socket, "new-session", "-d", "-s", "work", "-x", "250", "-y", "30");
            await Run("bash", "-c", "stty cols 250 rows 30 <\"$1\"", "_", tmuxTerminal.Path);
            // Opened read-write (<>): the tmux server draws through the client's stdin descriptor, which it is handed.
            var attach = new ProcessStartInfo("bash", ["-c", "exec setsid -c tmux -S \"$1\" attach -t work 0<>\"$2\" 1>&0 2>&0", "_", socket, tmuxTerminal.Path])
            {
                UseShellExecute = false,
            };
            attach.Environment["TERM"] = "xterm";
            client = Process.Start(attach)!;
            await Until(async () => (await Run("tmux", "-S", socket, "list-clients", "-F", "#{client_tty}")).Contains(tmuxTerminal.Path), "the tmux client to attach");

            var scenario = ScenarioLoader.Parse("""
                start: 2026-11-23T18:00:00Z
                duration: 1h
                instances:
                  - { id: i-0a00000000000000a, name: this-machine, tags: { AutoStop: "true" }, probe: local }
                """);
            var environment = new Dictionary<string, string>
            {
                ["AUTOSTOP_NOTICE_TTYS"] = terminal.Path,
                ["AUTOSTOP_NOTICE_TMUX_DIR"] = sockets.FullName,
                ["AUTOSTOP_NOTICE_NOW"] = DateTimeOffset.Parse("2026-11-23T18:00:30Z", CultureInfo.InvariantCulture).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                // As if installed in /usr/local/bin: the line names it.
                ["AUTOSTOP_NOTICE_KEEPALIVE"] = RepoPaths.Of("agent", "autostop-keepalive"),
            };
            await using var server = await LabServer.StartAsync(new LabFleet(scenario, new LabClock(scenario.Start, followsRealTime: true)), agentEnvironment: environment);

            var (code, stdout, stderr) = await ChildProcess.AwsAsync(server.Url, "ssm", "send-command", "--document-name", "AutoStop-StopNotice",
                "--instance-ids", "i-0a00000000000000a", "--parameters", """{"StopAt":["2026-11-23T18:05:00Z"],"Action":["stop"]}""");
            Assert.True(code == 0, stderr);
            var commandId = JsonDocument.Parse(stdout).RootElement.GetProperty("Command").GetProperty("CommandId").GetString()!;

            JsonElement plugin = default;
            await Until(async () =>
            {
                var (_, listed, _) = await ChildProcess.AwsAsync(server.Url, "ssm", "list-command-invocations", "--command-id", commandId, "--details");
                var invocations = JsonDocument.Parse(listed).RootElement.GetProperty("CommandInvocations");
                if (invocations.GetArrayLength() != 1 || invocations[0].GetProperty("Status").GetString() is "Pending" or "InProgress") return false;
                plugin = invocations[0].GetProperty("CommandPlugins")[0].Clone();
                return true;
            }, "the notice's invocation to finish");

            Assert.Equal("Success", plugin.GetProperty("Status").GetString());
            Assert.Equal("""{"noticeVersion":"1.0.0","terminals":1,"tmuxClients":1,"errors":[]}""", plugin.GetProperty("Output").GetString()!.TrimEnd('\n'));
            // What a person sees: the line on the terminal, and in the tmux client's status line.
            Assert.Contains(Line, terminal.Read(TimeSpan.FromSeconds(10), Line));
            Assert.Contains(Line, tmuxTerminal.Read(TimeSpan.FromSeconds(10), Line));

            var notice = Assert.Single(server.Fleet.Notices.All());
            Assert.Equal(("i-0a00000000000000a", "2026-11-23T18:05:00Z", "stop", 1, 1), (notice.InstanceId, notice.StopAt, notice.Action, notice.Terminals, notice.TmuxClients));
        }
        finally
        {
            await ChildProcess.RunAsync(new ProcessStartInfo("tmux", ["-S", socket, "kill-server"]), TimeSpan.FromSeconds(10));
            if (client is { HasExited: false })
            {
                client.Kill(entireProcessTree: true);
                await client.WaitForExitAsync();
            }
            client?.Dispose();
            sockets.Delete(recursive: true);
        }
    }

    private static async Task<string> Run(params string[] command)
    {
        var (code, stdout, stderr) = await ChildProcess.RunAsync(new ProcessStartInfo(command[0], command[1..]), TimeSpan.FromSeconds(20));
        Assert.True(code == 0, $"{string.Join(' ', command)} failed ({code}): {stderr}");
        return stdout;
    }

    private static async Task Until(Func<Task<bool>> done, string what)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (await done()) return;
            await Task.Delay(200);
        }
        Assert.Fail($"timed out waiting for {what}");
    }
}
