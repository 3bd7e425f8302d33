using AutoStop.Configuration;
using AutoStop.Inventory;
using AutoStop.Probing;

namespace AutoStop.Tests.Policy;

/// <summary>Small builders for policy inputs, so each test row reads as the situation it describes.</summary>
internal static class Build
{
    public static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    public static InstanceRecord Instance(string id = "i-0000000000000001", string state = "running", DateTimeOffset? launch = null,
        string? lifecycle = null, string? spotType = null, string root = "ebs", params (string Key, string Value)[] tags)
    {
        var all = new Dictionary<string, string> { ["AutoStop"] = "true", ["Name"] = "dev-" + id[^2..] };
        foreach (var (key, value) in tags)
        {
            if (value is null) all.Remove(key); else all[key] = value;
        }
        return new InstanceRecord(id, state, launch ?? Now.AddDays(-1), lifecycle, spotType, root, false, all);
    }

    public static ProbeReport Report(int ssh = 0, int ssm = 0, int noTty = 0, long? loginAge = null, long? ttyIdle = null,
        long? keepAlive = null, double load = 0.0, int cpus = 2, int mux = 0, int preauth = 0, params string[] users) =>
        new(1, "test", ssh, noTty, ssm, users, loginAge, ttyIdle, keepAlive, 86400, load, cpus, mux, preauth, []);

    public static ProbeOutcome Ok(ProbeReport report) => ProbeOutcome.Ok(report, "cmd-1");

    public static AutoStopConfig Config(params (string Name, string Value)[] env)
    {
        var map = env.ToDictionary(e => e.Name, e => e.Value);
        return AutoStopConfig.FromEnvironment(n => map.GetValueOrDefault(n));
    }

    public static string Time(DateTimeOffset t) => SettingValues.FormatTime(t);
}
