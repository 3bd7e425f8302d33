using System.Diagnostics;
using AutoStop.TestSupport;

namespace AutoStop.Cli.Tests;

/// <summary>
/// A real OpenSSH sshd on 127.0.0.1 (a free port, a throwaway host key, client key and config; as in
/// tests/checks/agent-real-sshd.sh), logging in as the user running the tests with a key. Stopped with the fixture.
/// </summary>
public sealed class LoopbackSshd : IDisposable
{
    private readonly Process _sshd;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("autostop-cli-sshd.").FullName;
    public int Port { get; } = FreePort.Next();
    public string ClientKey => Path.Combine(Directory, "client_key");
    public string User { get; } = System.Environment.UserName;

    public LoopbackSshd()
    {
        if (!File.Exists("/usr/sbin/sshd")) throw new InvalidOperationException("/usr/sbin/sshd is missing: install openssh-server (tests/run.sh does)");
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(Directory, "host_key"));
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ClientKey);
        File.Copy(ClientKey + ".pub", Path.Combine(Directory, "authorized_keys"));
        System.IO.Directory.CreateDirectory("/run/sshd"); // privilege separation directory Debian's sshd insists on
        File.WriteAllText(Path.Combine(Directory, "sshd_config"), $"""
            ListenAddress 127.0.0.1
            Port {Port}
            HostKey {Directory}/host_key
            PidFile {Directory}/sshd.pid
            AuthorizedKeysFile {Directory}/authorized_keys
            StrictModes no
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            UseDNS no

            """);
        _sshd = Process.Start(new ProcessStartInfo("/usr/sbin/sshd", ["-D", "-e", "-f", Path.Combine(Directory, "sshd_config")])
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        _sshd.ErrorDataReceived += (_, _) => { };
        _sshd.OutputDataReceived += (_, _) => { };
        _sshd.BeginErrorReadLine();
        _sshd.BeginOutputReadLine();
        for (var attempt = 0; attempt < 100; attempt++) // up to 10 s for sshd to listen
        {
            try { using var probe = new System.Net.Sockets.TcpClient("127.0.0.1", Port); return; }
            catch (System.Net.Sockets.SocketException) { if (_sshd.HasExited) break; Thread.Sleep(100); }
        }
        throw new InvalidOperationException($"sshd did not listen on 127.0.0.1:{Port} (exited: {_sshd.HasExited})");
    }

    /// <summary>The real OpenSSH client through `autostop ssh-proxy`, as a ~/.ssh/config ProxyCommand would run it.</summary>
    public Task<(int Code, string Stdout, string Stderr)> SshAsync(string labUrl, string host, string command, params string[] proxyOptions)
    {
        var proxy = string.Join(' ', [Autostop.Executable, "ssh-proxy", .. proxyOptions, "%h", "%p"]);
        string[] args =
        [
            "-i", ClientKey, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "BatchMode=yes", "-o", "ProxyCommand=" + proxy, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"{User}@{host}", command,
        ];
        return Autostop.RunAsync("ssh", args, Autostop.Environment(labUrl), timeoutSeconds: 120);
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false })!;
        p.WaitForExit(30_000);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} failed ({p.ExitCode})");
    }

    public void Dispose()
    {
        if (!_sshd.HasExited) _sshd.Kill(entireProcessTree: true);
        _sshd.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
