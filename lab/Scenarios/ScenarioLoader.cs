using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Lab.Scenarios;

/// <summary>Reads a scenario file (YAML, or JSON, which is YAML too). Every error names the file and the path to the bad field.</summary>
public static partial class ScenarioLoader
{
    public static Scenario Load(string file)
    {
        if (!File.Exists(file)) throw new ScenarioException($"{file}: no such scenario file");
        try { return Parse(File.ReadAllText(file)); }
        catch (ScenarioException e) { throw new ScenarioException($"{file}: {e.Message}"); }
    }

    public static Scenario Parse(string text)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e) { throw new ScenarioException($"line {e.Start.Line}, column {e.Start.Column}: not valid YAML or JSON: {e.Message}"); }
        catch (InvalidOperationException e) { throw new ScenarioException($"not valid YAML or JSON ({e.Message})"); }
        if (stream.Documents.Count != 1) throw new ScenarioException("expected exactly one document");
        var root = new ScenarioNode(stream.Documents[0].RootNode, "");
        root.OnlyKeys("name", "start", "tickMinutes", "duration", "seed", "functionTimeoutSeconds", "clockScale", "config", "ssm", "apiFaults", "rateLimits", "instances");

        var start = root["start"].Time(DateTimeOffset.UnixEpoch);
        var scenario = new Scenario(
            Name: root["name"].String("scenario"),
            Start: start,
            TickPeriod: TimeSpan.FromMinutes(root["tickMinutes"].Int(5, 1, 60)),
            Duration: root["duration"].Duration(),
            Seed: root["seed"].Int(1, 0, int.MaxValue),
            FunctionTimeoutSeconds: root["functionTimeoutSeconds"].Int(120, 10, 900),
            Config: ReadConfig(root["config"]),
            SsmDelivery: ReadLatency(root["ssm"]["deliveryMs"], new LatencyRange(2, 10)),
            SsmExecution: ReadLatency(root["ssm"]["executionMs"], new LatencyRange(5, 30)),
            ApiFaults: root["apiFaults"].Items().Select(ReadApiFault).ToList(),
            RateLimits: root["rateLimits"].Items().Select(ReadRateLimit).ToList(),
            Instances: root["instances"].Items().Select(n => ReadInstance(n, start)).ToList())
        {
            DocumentVersions = root["ssm"]["documentVersions"].Int(1, 1, 1000),
            ClockScale = root["clockScale"].Double(1, 0, 100_000),
        };
        root["ssm"].OnlyKeys("deliveryMs", "executionMs", "documentVersions");
        if (scenario.Duration <= TimeSpan.Zero) throw root["duration"].Error("must be longer than zero");
        if (scenario.Instances.Count == 0) throw root["instances"].Error("at least one instance is required");
        var ids = scenario.Instances.Where(i => i.Id is not null).GroupBy(i => i.Id).FirstOrDefault(g => g.Count() > 1);
        if (ids is not null) throw new ScenarioException($"instances: id '{ids.Key}' is used twice");
        return scenario;
    }

    private static Dictionary<string, string> ReadConfig(ScenarioNode node)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in node.Entries())
        {
            if (!key.StartsWith("AUTOSTOP_", StringComparison.Ordinal))
                throw value.Error("only AUTOSTOP_* variables can be set here (the lab sets the AWS ones)");
            config[key] = value.String();
        }
        return config;
    }

    private static LatencyRange ReadLatency(ScenarioNode node, LatencyRange fallback)
    {
        if (node.IsMissing) return fallback;
        node.OnlyKeys("min", "max");
        var min = node["min"].Int(fallback.MinMs, 0, 600_000);
        var max = node["max"].Int(Math.Max(min, fallback.MaxMs), 0, 600_000);
        if (max < min) throw node["max"].Error($"'{max}' is not allowed: at least min ({min})");
        return new LatencyRange(min, max);
    }

    private static ApiFault ReadApiFault(ScenarioNode node)
    {
        node.OnlyKeys("operation", "throttleRate", "errorRate", "latencyMs");
        return new ApiFault(ReadOperation(node["operation"]), node["throttleRate"].Double(0, 0, 1), node["errorRate"].Double(0, 0, 1),
            ReadLatency(node["latencyMs"], LatencyRange.Zero));
    }

    private static RateLimit ReadRateLimit(ScenarioNode node)
    {
        node.OnlyKeys("operation", "perSecond", "burst");
        var perSecond = node["perSecond"].Double(double.NaN, 0.01, 100_000);
        if (double.IsNaN(perSecond)) throw node["perSecond"].Error("is required (calls per second)");
        return new RateLimit(ReadOperation(node["operation"]), perSecond, node["burst"].Int((int)Math.Ceiling(perSecond), 1, 100_000));
    }

    private static string ReadOperation(ScenarioNode node)
    {
        var text = node.String();
        if (text != "*" && !OperationPattern().IsMatch(text))
            throw node.Error($"'{text}' is not allowed: an operation such as EC2:DescribeInstances or SSM:SendCommand, or *");
        return text;
    }

    private static readonly string[] InstanceKeys =
    [
        "id", "name", "count", "tags", "state", "launchTime", "managed", "ping", "platform", "hibernation", "rootDevice",
        "lifecycle", "spotType", "cpus", "probe", "autoStart", "sessions", "keepAlive", "load", "faults",
        "iam", "extraTags", "spotRequestDeleted", "busy", "inbound", "gpu", "processes",
        "address", "startSeconds", "agentOnlineSeconds",
    ];

    /// <summary>EC2 allows 50 tags a resource (ec2 CreateTags doc; TagLimitExceeded beyond).</summary>
    public const int TagLimit = 50;

    private static InstanceSpec ReadInstance(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys(InstanceKeys);
        var id = node["id"].OptionalString();
        if (id is not null && !InstanceIdPattern().IsMatch(id))
            throw node["id"].Error($"'{id}' is not allowed: an EC2 instance id, i- followed by 8 or 17 lowercase hex digits");
        var count = node["count"].Int(1, 1, 100_000);
        if (id is not null && count > 1) throw node["count"].Error("an instance with an id cannot have count > 1");
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in node["tags"].Entries()) tags[key] = value.String("");
        if (!tags.ContainsKey("Name") && node["name"].OptionalString() is { } nameTag) tags["Name"] = nameTag;
        // extraTags: N: N more tags (extra-01=x ...), to bring an instance to EC2's 50-tag limit.
        var extra = node["extraTags"].Int(0, 0, TagLimit);
        for (var n = 1; n <= extra; n++) tags[$"extra-{n:00}"] = "x";
        if (tags.Count > TagLimit)
            throw node["extraTags"].Error($"the instance would carry {tags.Count} tags ({tags.Count - extra} in tags plus extraTags {extra}); EC2 allows at most {TagLimit}");
        var lifecycle = node["lifecycle"].Enum<string?>(null, ("on-demand", null), ("spot", "spot"));
        var spotRequestDeleted = node["spotRequestDeleted"].Bool(false);
        if (spotRequestDeleted && lifecycle != "spot") throw node["spotRequestDeleted"].Error("only a Spot instance (lifecycle: spot) has a Spot request to delete");

        return new InstanceSpec(
            Id: id,
            Name: node["name"].String(id ?? "instance"),
            Count: count,
            Tags: tags,
            State: node["state"].Enum("running", ("running", "running"), ("stopped", "stopped")),
            LaunchTime: node["launchTime"].IsMissing ? null : node["launchTime"].Time(start),
            Managed: node["managed"].Bool(true),
            PingStatus: node["ping"].Enum("Online", ("Online", "Online"), ("ConnectionLost", "ConnectionLost"), ("Inactive", "Inactive")),
            Platform: node["platform"].Enum("Linux", ("Linux", "Linux"), ("Windows", "Windows"), ("MacOS", "MacOS")),
            Hibernation: node["hibernation"].Bool(false),
            RootDevice: node["rootDevice"].Enum("ebs", ("ebs", "ebs"), ("instance-store", "instance-store")),
            Lifecycle: lifecycle,
            SpotType: node["spotType"].Enum<string?>(null, ("one-time", "one-time"), ("persistent", "persistent")),
            Cpus: node["cpus"].Int(2, 1, 448),
            Probe: node["probe"].Enum(ProbeMode.Synth, ("synth", ProbeMode.Synth), ("local", ProbeMode.Local)),
            AutoStart: node["autoStart"].Bool(true),
            Sessions: node["sessions"].Items().Select(s => ReadSession(s, start)).ToList(),
            KeepAlive: node["keepAlive"].Items().Select(k => ReadWindow(k, start, "until")).ToList(),
            Load: node["load"].Items().Select(l => ReadLoad(l, start)).ToList(),
            Faults: node["faults"].Items().Select(f => ReadFault(f, start)).ToList())
        {
            Iam = ReadIam(node["iam"]),
            Busy = node["busy"].Items().Select(b => ReadBusy(b, start)).ToList(),
            Inbound = node["inbound"].Items().Select(i => ReadInbound(i, start)).ToList(),
            Gpu = node["gpu"].Items().Select(g => ReadGpu(g, start)).ToList(),
            Processes = node["processes"].Items().Select(p => ReadProcess(p, start)).ToList(),
            SpotRequestDeleted = spotRequestDeleted,
            Address = ReadAddress(node["address"]),
            StartDuration = TimeSpan.FromSeconds(node["startSeconds"].Double(30, 0, 3600)),
            AgentOnlineAfter = TimeSpan.FromSeconds(node["agentOnlineSeconds"].Double(0, 0, 3600)),
        };
    }

    /// <summary>iam: deny (every action AutoStop takes on the instance), allow (the default), or { deny: [actions] }.</summary>
    private static IamSpec ReadIam(ScenarioNode node)
    {
        if (node.IsMissing) return IamSpec.AllowAll;
        if (node.IsScalar)
            return node.Enum(IamSpec.AllowAll, ("allow", IamSpec.AllowAll), ("deny", IamSpec.DenyAll));
        node.OnlyKeys("deny");
        var denied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in node["deny"].Items())
        {
            var action = item.String();
            if (!IamSpec.Actions.Contains(action)) throw item.Error($"'{action}' is not one of {string.Join(", ", IamSpec.Actions)}");
            denied.Add(action);
        }
        return new IamSpec(denied);
    }

    /// <summary>An IPv4 address in dotted form (EC2's PrivateIpAddress/PublicIpAddress are IPv4 strings).</summary>
    private static string? ReadAddress(ScenarioNode node)
    {
        var text = node.OptionalString();
        if (text is null) return null;
        if (!System.Net.IPAddress.TryParse(text, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || ip.ToString() != text)
            throw node.Error($"'{text}' is not allowed: an IPv4 address such as 127.0.0.1");
        return text;
    }

    private static SessionSpec ReadSession(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys("kind", "user", "tty", "from", "to", "idleAfter", "port", "count");
        var kind = node["kind"].Enum(SessionKind.Ssh, ("ssh", SessionKind.Ssh), ("ssm", SessionKind.Ssm), ("tmux", SessionKind.Tmux), ("preauth", SessionKind.Preauth),
            ("mosh", SessionKind.Mosh), ("et", SessionKind.Et), ("port", SessionKind.Port));
        var from = node["from"].Time(start);
        var to = node["to"].Time(start);
        if (to <= from) throw node["to"].Error($"'{node["to"].OptionalString()}' is not allowed: must be after from");
        // kind port: a person in a browser (Jupyter on 8888, code-server, RDP): established inbound connections to a
        // local port from a remote peer, no shell, no terminal, no login the probe could read.
        if (kind != SessionKind.Port)
        {
            var kindName = node["kind"].OptionalString() ?? "ssh";
            if (!node["port"].IsMissing) throw node["port"].Error($"is not allowed for kind {kindName}: only a port session (kind: port) has a port");
            if (!node["count"].IsMissing) throw node["count"].Error($"is not allowed for kind {kindName}: only a port session (kind: port) has a connection count");
        }
        var port = node["port"].Int(0, 1, 65535);
        var connections = node["count"].Int(1, 1, 99_999);
        if (kind == SessionKind.Port)
        {
            if (port == 0) throw node["port"].Error("is required for kind port: the local TCP port (1 to 65535) the person's browser or client is connected to, e.g. 8888 for Jupyter");
            if (node["tty"].Bool(false)) throw node["tty"].Error("'true' is not allowed: a port session has no terminal");
            if (!node["idleAfter"].IsMissing) throw node["idleAfter"].Error("is not allowed for kind port: only a terminal goes idle");
        }
        return new SessionSpec(kind, node["user"].String(kind == SessionKind.Ssm ? "ssm-user" : "ec2-user"),
            node["tty"].Bool(kind is SessionKind.Ssh or SessionKind.Ssm or SessionKind.Mosh or SessionKind.Et), from, to,
            node["idleAfter"].IsMissing ? null : node["idleAfter"].Duration())
        { Port = port, Connections = connections };
    }

    private static BusySpec ReadBusy(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys("kind", "from", "to");
        var kind = node["kind"].Enum((BusyKind)(-1), ("patch", BusyKind.Patch), ("apt", BusyKind.Apt), ("yum", BusyKind.Yum),
            ("cloud-init", BusyKind.CloudInit), ("ssm-command", BusyKind.SsmCommand));
        if ((int)kind == -1) throw node["kind"].Error("is required: patch, apt, yum, cloud-init or ssm-command");
        var from = node["from"].Time(start);
        var to = node["to"].Time(start);
        if (to <= from) throw node["to"].Error($"'{node["to"].OptionalString()}' is not allowed: must be after from");
        return new BusySpec(kind, from, to);
    }

    /// <summary>inbound: { port, count (default 1), peer: remote | loopback (default remote), from, to }.</summary>
    private static InboundSpec ReadInbound(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys("port", "count", "peer", "from", "to");
        var port = node["port"].Int(0, 1, 65535);
        if (port == 0) throw node["port"].Error("is required: the local TCP port (1 to 65535) the connections go to");
        var (from, to) = (node["from"].Time(start), node["to"].Time(start));
        if (to <= from) throw node["to"].Error($"'{node["to"].OptionalString()}' is not allowed: must be after from");
        return new InboundSpec(port, node["count"].Int(1, 1, 99_999), node["peer"].Enum(false, ("remote", false), ("loopback", true)), from, to);
    }

    /// <summary>gpu: { percent: 0..100, from, to } or { hang: true, from, to } (nvidia-smi stuck past its 2 s).</summary>
    private static GpuSpec ReadGpu(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys("percent", "hang", "from", "to");
        var hang = node["hang"].Bool(false);
        var percent = node["percent"].Int(-1, 0, 100);
        if (hang == (percent >= 0)) throw node.Error("needs exactly one of percent (0 to 100) or hang: true");
        var (from, to) = (node["from"].Time(start), node["to"].Time(start));
        if (to <= from) throw node["to"].Error($"'{node["to"].OptionalString()}' is not allowed: must be after from");
        return new GpuSpec(Math.Max(percent, 0), hang, from, to);
    }

    /// <summary>processes: { name: one of the probe's busy allow-list, from, to }.</summary>
    private static ProcessSpec ReadProcess(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys("name", "from", "to");
        var name = node["name"].String();
        if (!AutoStop.Policy.ProbeVocabulary.BusyProcessNames.Contains(name, StringComparer.Ordinal))
            throw node["name"].Error($"'{name}' is not allowed: one of the names the probe reports ({string.Join(", ", AutoStop.Policy.ProbeVocabulary.BusyProcessNames)})");
        var (from, to) = (node["from"].Time(start), node["to"].Time(start));
        if (to <= from) throw node["to"].Error($"'{node["to"].OptionalString()}' is not allowed: must be after from");
        return new ProcessSpec(name, from, to);
    }

    private static TimeWindow ReadWindow(ScenarioNode node, DateTimeOffset start, string endKey)
    {
        node.OnlyKeys("from", endKey);
        var from = node["from"].Time(start, start);
        var to = node[endKey].Time(start);
        if (to <= from) throw node[endKey].Error("must be after from");
        return new TimeWindow(from, to);
    }

    private static LoadSpec ReadLoad(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys("from", "to", "value");
        return new LoadSpec(node["from"].Time(start), node["to"].Time(start), node["value"].Double(double.NaN, 0, 10_000) is var v && double.IsNaN(v)
            ? throw node["value"].Error("is required (a load average)") : v);
    }

    private static InstanceFault ReadFault(ScenarioNode node, DateTimeOffset start)
    {
        node.OnlyKeys("kind", "from", "to", "code", "message");
        var kind = node["kind"].Enum((FaultKind)(-1),
            ("probe-timeout", FaultKind.ProbeTimeout), ("delivery-timeout", FaultKind.DeliveryTimeout), ("probe-hang", FaultKind.ProbeHang), ("undeliverable", FaultKind.Undeliverable),
            ("probe-failed", FaultKind.ProbeFailed), ("garbage", FaultKind.Garbage), ("truncated", FaultKind.Truncated),
            ("agent-missing", FaultKind.AgentMissing), ("stop-error", FaultKind.StopError), ("deregistered", FaultKind.Deregistered),
            ("agent-stderr", FaultKind.AgentStderr));
        if ((int)kind == -1) throw node["kind"].Error("is required: probe-timeout, delivery-timeout, probe-hang, undeliverable, probe-failed, garbage, truncated, agent-missing, stop-error, deregistered or agent-stderr");
        var message = node["message"].OptionalString();
        if (message is not null && kind != FaultKind.AgentStderr) throw node["message"].Error("only an agent-stderr fault takes a message");
        var code = node["code"].OptionalString();
        if (kind == FaultKind.StopError && code is null) code = "OperationNotPermitted";
        if (kind == FaultKind.StopError && !Api.Ec2StopErrors.Codes.Contains(code))
            throw node["code"].Error($"'{code}' is not one of {string.Join(", ", Api.Ec2StopErrors.Codes)}");
        if (kind == FaultKind.AgentStderr) message ??= DefaultStderrWarning;
        return new InstanceFault(kind, node["from"].Time(start, DateTimeOffset.MinValue), node["to"].Time(start, DateTimeOffset.MaxValue), code, message);
    }

    /// <summary>What a probe that works prints on stderr on many images: bash's locale warning (the agent passes on a
    /// LANG the image has no locale for). Exit 0; the agent still appends it under its ERROR line.</summary>
    public const string DefaultStderrWarning = "/bin/bash: warning: setlocale: LC_ALL: cannot change locale (en_US.UTF-8)\n";

    [GeneratedRegex("^(EC2|SSM):[A-Z][A-Za-z]+$")]
    private static partial Regex OperationPattern();

    [GeneratedRegex("^i-([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex InstanceIdPattern();
}
