using System.Globalization;
using System.Text;
using System.Text.Json;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Fleet;

/// <summary>
/// What agent/session-probe.sh would print on an instance at virtual time <c>now</c>, built from the scenario's
/// sessions, in the agent's schema (agent/schema.json, version 1).
/// </summary>
public static class ProbeSynthesizer
{
    public const string AgentVersion = "lab-1";

    public static string Build(LabInstance instance, DateTimeOffset now)
    {
        var spec = instance.Spec;
        var live = spec.Sessions.Where(s => s.IsLiveAt(now) && s.From >= instance.LaunchTime).ToList();
        var ssh = live.Where(s => s.Kind == SessionKind.Ssh).ToList();
        var ssm = live.Where(s => s.Kind == SessionKind.Ssm).ToList();
        var remote = live.Where(s => s.IsRemoteShell).ToList();
        var terminals = live.Where(s => s.Kind is SessionKind.Ssh or SessionKind.Ssm && s.Tty || s.IsRemoteShell).ToList();
        // The auth log / wtmp outlive a reboot: logins and logouts before the last start still count.
        var lastLogin = spec.Sessions.Where(s => s.HasSshLogin && s.From <= now).Select(s => (DateTimeOffset?)s.From).Max();
        var lastLogout = spec.Sessions.Where(s => s.SshLogout <= now).Select(s => s.SshLogout).Max();
        var keepAlive = spec.KeepAlive.Where(k => k.Contains(now)).Select(k => (DateTimeOffset?)k.To).Max();
        var load = spec.Load.Where(l => l.From <= now && now < l.To).Sum(l => l.Value);

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            // Field order as agent/session-probe.sh prints them (CONTRACT section 1 adds remoteShell*, lastLogout, systemBusy).
            json.WriteStartObject();
            json.WriteNumber("v", 1);
            json.WriteString("agent", AgentVersion);
            json.WriteNumber("sshSessions", ssh.Count);
            json.WriteNumber("sshNoTtySessions", ssh.Count(s => !s.Tty));
            json.WriteNumber("ssmSessions", ssm.Count);
            json.WriteNumber("remoteShellSessions", remote.Count);
            json.WriteStartArray("remoteShellKinds");
            foreach (var kind in remote.Select(RemoteShellKind).Distinct(StringComparer.Ordinal).Take(4)) json.WriteStringValue(kind);
            json.WriteEndArray();
            json.WriteStartArray("users");
            foreach (var user in ssh.Concat(ssm).Concat(remote).Select(s => s.User).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(16)) json.WriteStringValue(user);
            json.WriteEndArray();
            WriteAge("lastLoginAgeSeconds", lastLogin is { } l ? now - l : null);
            WriteAge("lastLogoutAgeSeconds", lastLogout is { } o ? now - o : null);
            WriteAge("minTtyIdleSeconds", terminals.Count == 0 ? null : terminals.Select(t => TerminalIdle(t, now)).Min());
            WriteAge("keepAliveSeconds", keepAlive is { } k ? k - now : null);
            json.WriteNumber("uptimeSeconds", (long)Math.Max(0, (now - instance.LaunchTime).TotalSeconds));
            json.WriteNumber("load1", Math.Round(load, 2));
            json.WriteNumber("cpuCount", spec.Cpus);
            json.WriteNumber("multiplexerSessions", live.Count(s => s.Kind == SessionKind.Tmux));
            json.WriteNumber("preauthConnections", live.Count(s => s.Kind == SessionKind.Preauth));
            json.WriteStartArray("systemBusy");
            foreach (var item in SystemBusy(spec, now)) json.WriteStringValue(item);
            json.WriteEndArray();
            // Probe 1.4.0 (issue 13), as agent/session-probe.sh reports them: inbound connections from remote peers per port
            // (loopback ones are never counted), the 8 busiest listed and the rest summed; the highest GPU utilization
            // when the instance has nvidia-smi (gpu key), null and an error when it hangs; allow-listed processes in list order.
            // A port session (a person in a browser) is its connections from a remote peer, like an inbound: window.
            var inbound = spec.Inbound.Where(i => i.IsLiveAt(now) && !i.Loopback).Select(i => (i.Port, i.Count))
                .Concat(live.Where(s => s.Kind == SessionKind.Port).Select(s => (s.Port, Count: s.Connections))).GroupBy(i => i.Port)
                .Select(g => (Port: g.Key, Count: Math.Min(99_999, g.Sum(i => i.Count)))).OrderByDescending(p => p.Count).ThenBy(p => p.Port).ToList();
            json.WriteStartObject("inboundConnections");
            foreach (var (port, count) in inbound.Take(8)) json.WriteNumber(port.ToString(CultureInfo.InvariantCulture), count);
            json.WriteEndObject();
            json.WriteNumber("inboundConnectionsOther", inbound.Skip(8).Sum(p => p.Count));
            var gpuHang = spec.Gpu.Any(g => g.Hang && g.IsLiveAt(now));
            if (spec.Gpu.Count == 0 || gpuHang) json.WriteNull("gpuUtilizationPercent");
            else json.WriteNumber("gpuUtilizationPercent", spec.Gpu.Where(g => g.IsLiveAt(now)).Select(g => g.Percent).DefaultIfEmpty(0).Max());
            json.WriteString("gpuStatus", spec.Gpu.Count == 0 ? "absent" : gpuHang ? "failed" : "ok");
            json.WriteStartArray("busyProcesses");
            foreach (var name in AutoStop.Policy.ProbeVocabulary.BusyProcessNames.Where(n => spec.Processes.Any(p => p.Name == n && p.IsLiveAt(now)))) json.WriteStringValue(name);
            json.WriteEndArray();
            json.WriteStartArray("errors");
            if (gpuHang) json.WriteStringValue("nvidia-smi gave no answer within 2 s");
            json.WriteEndArray();
            json.WriteEndObject();

            void WriteAge(string name, TimeSpan? age)
            {
                if (age is { } a) json.WriteNumber(name, (long)Math.Max(0, a.TotalSeconds));
                else json.WriteNull(name);
            }
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>The process the probe names a remote-shell session by: mosh's per-session mosh-server, Eternal
    /// Terminal's per-session etterminal (etserver is one daemon without ptys), as agent/session-probe.sh reports them.</summary>
    private static string RemoteShellKind(SessionSpec session) => session.Kind == SessionKind.Mosh ? "mosh-server" : "etterminal";

    /// <summary>
    /// What the probe's systemBusy would hold: one item per program, "NAME (pid N)", at most 8, in the probe's words.
    /// patch is Patch Manager: an ssm-document-worker running AWS-RunPatchBaseline (another SSM command than the probe)
    /// and the package manager it drives (dnf on Amazon Linux 2023); ssm-command is another SSM command alone.
    /// Pids are made up but stable per window.
    /// </summary>
    internal static IEnumerable<string> SystemBusy(InstanceSpec spec, DateTimeOffset now)
    {
        var items = new List<(string Program, string Text)>();
        for (var n = 0; n < spec.Busy.Count; n++)
        {
            var busy = spec.Busy[n];
            if (!busy.IsLiveAt(now)) continue;
            var pid = 800 + 37 * n;
            string Worker(int p) => $"ssm-document-worker: another SSM command (pid {p.ToString(CultureInfo.InvariantCulture)})";
            string Program(string name, int p) => $"{name} (pid {p.ToString(CultureInfo.InvariantCulture)})";
            switch (busy.Kind)
            {
                case BusyKind.Patch: items.Add(("ssm-document-worker", Worker(pid))); items.Add(("dnf", Program("dnf", pid + 5))); break;
                case BusyKind.SsmCommand: items.Add(("ssm-document-worker", Worker(pid))); break;
                case BusyKind.Apt: items.Add(("apt-get", Program("apt-get", pid))); break;
                case BusyKind.Yum: items.Add(("yum", Program("yum", pid))); break;
                default: items.Add(("cloud-init", Program("cloud-init", pid))); break;
            }
        }
        return items.DistinctBy(i => i.Program, StringComparer.Ordinal).Take(8).Select(i => i.Text);
    }

    /// <summary>A terminal is typed into until IdleAfter, then idle (a forgotten terminal).</summary>
    private static TimeSpan TerminalIdle(SessionSpec session, DateTimeOffset now) =>
        session.IdleAfter is { } after && now > session.From + after ? now - (session.From + after) : TimeSpan.Zero;

    /// <summary>Output that is not the agent's line: what a broken instance prints.</summary>
    public static string Garbage(Random random) =>
        random.Next(3) switch
        {
            0 => "bash: /var/lib/amazon/ssm/session-probe: Permission denied\n",
            1 => "{\"v\":1,\"agent\":\"lab-1\",\"sshSessions\":\"two\"}\n",
            _ => "Segmentation fault (core dumped)\n",
        };

    /// <summary>A line longer than SSM keeps: SSM cuts it at 2,500 characters and the controller must reject it.</summary>
    public static string Oversized(LabInstance instance, DateTimeOffset now)
    {
        var line = Build(instance, now).TrimEnd('\n');
        var padding = string.Join(",", Enumerable.Range(0, 200).Select(i => $"\"probe error {i.ToString(CultureInfo.InvariantCulture)} with some detail\""));
        return line.Replace("\"errors\":[]", $"\"errors\":[{padding}]", StringComparison.Ordinal) + "\n";
    }
}
