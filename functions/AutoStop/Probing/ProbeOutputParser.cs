using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace AutoStop.Probing;

/// <summary>What parsing one plugin Output gave: the report (null when invalid), why not (Error, "" when valid), and the
/// probe's stderr, trimmed and bounded (Warning, null when there was none), which is worth logging either way.</summary>
public sealed record ProbeParse(ProbeReport? Report, string Error, string? Warning)
{
    [MemberNotNullWhen(true, nameof(Report))]
    public bool IsValid => Report is not null;
}

/// <summary>
/// A plugin Output as amazon-ssm-agent builds it (TruncateOutput): stdout, then, only when stderr is non-empty (on exit 0
/// too), "\n----------ERROR-------\n" and stderr; the whole cut to MaximumPluginOutputSize, a cut part ending in
/// "\n---Output truncated---" or "\n---Error truncated----". The size depends on the agent's version: 2,400 in older
/// agents (agent/contracts/plugin.go), 2,500 in current ones (agent/framework/processor/executer/iohandler/iohandler.go,
/// which the lab follows). The smaller one is used here: the probe's line is at most 2,000 characters, so neither can cut it.
/// </summary>
public sealed record AgentOutput(string Stdout, string? Stderr)
{
    /// <summary>The smaller MaximumPluginOutputSize of the agent versions in use (see above); anything near it was cut.</summary>
    public const int Limit = 2400;
    public const string ErrorTitle = "\n----------ERROR-------\n";
    public const string OutputTruncatedMarker = "\n---Output truncated---";
    public const string ErrorTruncatedMarker = "\n---Error truncated----";

    /// <summary>True when the agent cut stdout: it ends with the agent's marker, or (marker or not) it is as long as
    /// the agent lets a cut stdout be, which a probe line (at most 2,000 characters) never is.</summary>
    public bool StdoutTruncated =>
        Stdout.EndsWith(OutputTruncatedMarker, StringComparison.Ordinal) || Stdout.Length >= Limit - OutputTruncatedMarker.Length;

    /// <summary>Splits at the first error title. The probe's stdout is one line of JSON, whose strings cannot hold a raw
    /// newline, so the title cannot come from it. Output that starts with the title's text without its leading newline
    /// (stdout empty, the Output trimmed on the way) is split there too.</summary>
    public static AgentOutput Split(string output)
    {
        var at = output.IndexOf(ErrorTitle, StringComparison.Ordinal);
        if (at >= 0) return new AgentOutput(output[..at], output[(at + ErrorTitle.Length)..]);
        var bare = ErrorTitle[1..];
        if (output.StartsWith(bare, StringComparison.Ordinal)) return new AgentOutput("", output[bare.Length..]);
        if (output == bare.TrimEnd('\n')) return new AgentOutput("", "");
        return new AgentOutput(output, null);
    }

    /// <summary>stderr as one bounded line for a log field, or null when it says nothing.</summary>
    public string? Warning(int maxLength = 300)
    {
        if (string.IsNullOrWhiteSpace(Stderr)) return null;
        var line = string.Join(' ', Stderr.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length > maxLength ? line[..maxLength] + "…" : line;
    }
}

/// <summary>
/// Validates probe output against agent/schema.json by hand (JsonDocument only, so it stays AOT-safe): the stdout part
/// of the agent's Output is exactly one line holding one JSON object of major version 1, every required field once,
/// right types and ranges. Fields it does not know are ignored (a newer minor probe adds some); a field twice is refused.
/// Any deviation is a reason, never a guess.
/// </summary>
public static class ProbeOutputParser
{
    /// <summary>Fields of schema version 1.0: each must be present.</summary>
    public static readonly IReadOnlySet<string> RequiredFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "v", "agent", "sshSessions", "sshNoTtySessions", "ssmSessions", "users", "lastLoginAgeSeconds", "minTtyIdleSeconds",
        "keepAliveSeconds", "uptimeSeconds", "load1", "cpuCount", "multiplexerSessions", "preauthConnections", "errors",
    };

    /// <summary>Fields added in later minor versions (CONTRACT section 1): read when present, defaults when absent.</summary>
    public static readonly IReadOnlySet<string> OptionalFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "remoteShellSessions", "remoteShellKinds", "lastLogoutAgeSeconds", "systemBusy",
        "inboundConnections", "inboundConnectionsOther", "gpuUtilizationPercent", "gpuStatus", "busyProcesses",
    };

    public static IReadOnlySet<string> KnownFields { get; } = RequiredFields.Union(OptionalFields).ToHashSet(StringComparer.Ordinal);

    /// <summary>Parses a plugin Output (stdout plus the agent's stderr section). Never throws.</summary>
    public static ProbeParse Parse(string? pluginOutput)
    {
        if (string.IsNullOrWhiteSpace(pluginOutput)) return new ProbeParse(null, "the probe printed nothing", null);
        var parts = AgentOutput.Split(pluginOutput);
        var warning = parts.Warning();
        var report = ParseStdout(parts, out var error);
        return new ProbeParse(report, report is null ? error : "", warning);
    }

    /// <summary>Parses a plugin Output; on failure returns null and a reason naming what was wrong. Drops the stderr warning:
    /// use <see cref="Parse"/> to log it.</summary>
    public static ProbeReport? TryParse(string? pluginOutput, out string error)
    {
        var parsed = Parse(pluginOutput);
        error = parsed.Error;
        return parsed.Report;
    }

    private static ProbeReport? ParseStdout(AgentOutput parts, out string error)
    {
        error = "";
        var stdout = parts.Stdout;
        if (parts.StdoutTruncated)
        {
            error = $"the output reaches the SSM agent's {AgentOutput.Limit}-character cut ({stdout.Length} characters of stdout): truncated";
            return null;
        }
        if (string.IsNullOrWhiteSpace(stdout))
        {
            error = parts.Stderr is null ? "the probe printed nothing" : "the probe printed nothing on stdout (only on stderr)";
            return null;
        }
        var line = stdout.TrimEnd('\n', '\r', ' ', '\t');
        if (line.Contains('\n')) { error = "expected exactly one line of JSON, got several lines"; return null; }
        line = line.TrimStart();
        if (!line.StartsWith('{')) { error = $"expected a JSON object, got text starting '{Excerpt(line)}'"; return null; }

        JsonDocument document;
        try { document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 4 }); }
        catch (JsonException e) { error = $"not valid JSON ({e.Message.Split('.')[0]}): '{Excerpt(line)}'"; return null; }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) { error = "expected a JSON object"; return null; }
            // JsonDocument keeps both copies of a repeated name and TryGetProperty picks one: "sshSessions":1,...,"sshSessions":0
            // would read as idle. Names are compared unescaped, so "ssh\u0053essions" is the same name.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
                if (!seen.Add(property.Name)) { error = $"field '{Excerpt(property.Name)}' appears more than once"; return null; }
            var reader = new FieldReader(root);
            try
            {
                var version = reader.Int("v", 1);
                if (version != 1) throw new FieldException($"field 'v' must be 1 (this controller reads major version 1 of the schema), got {version}");
                var report = new ProbeReport(
                    version,
                    reader.String("agent", 1, 32),
                    reader.Int("sshSessions", 0),
                    reader.Int("sshNoTtySessions", 0),
                    reader.Int("ssmSessions", 0),
                    reader.Strings("users", 16, 1, 32),
                    reader.NullableLong("lastLoginAgeSeconds"),
                    reader.NullableLong("minTtyIdleSeconds"),
                    reader.NullableLong("keepAliveSeconds"),
                    reader.Long("uptimeSeconds"),
                    reader.Number("load1"),
                    reader.Int("cpuCount", 1),
                    reader.Int("multiplexerSessions", 0),
                    reader.Int("preauthConnections", 0),
                    reader.Strings("errors", 8, 0, 160))
                {
                    RemoteShellSessions = reader.Has("remoteShellSessions") ? reader.Int("remoteShellSessions", 0) : 0,
                    RemoteShellKinds = reader.Has("remoteShellKinds") ? reader.Strings("remoteShellKinds", 4, 1, 32, distinct: true) : [],
                    LastLogoutAgeSeconds = reader.Has("lastLogoutAgeSeconds") ? reader.NullableLong("lastLogoutAgeSeconds") : null,
                    SystemBusy = reader.Has("systemBusy") ? reader.Strings("systemBusy", 8, 1, 64) : [],
                    InboundConnections = reader.Has("inboundConnections") ? reader.PortCounts("inboundConnections") : null,
                    InboundConnectionsOther = reader.Has("inboundConnectionsOther") ? reader.NullableInt("inboundConnectionsOther", 0, 999999) : null,
                    GpuUtilizationPercent = reader.Has("gpuUtilizationPercent") ? reader.NullableInt("gpuUtilizationPercent", 0, 100) : null,
                    GpuStatus = reader.Has("gpuStatus") ? reader.OneOf("gpuStatus", "absent", "ok", "failed") : null,
                    BusyProcesses = reader.Has("busyProcesses") ? reader.Strings("busyProcesses", 16, 1, 12, distinct: true) : null,
                };
                // The probe's pairs: both inbound fields known or both unknown; a GPU number exactly when nvidia-smi answered.
                if ((report.InboundConnections is null) != (report.InboundConnectionsOther is null))
                    throw new FieldException("inboundConnections and inboundConnectionsOther must both be null or both be set");
                if (report.GpuStatus is not null && (report.GpuStatus == "ok") != (report.GpuUtilizationPercent is not null))
                    throw new FieldException($"gpuUtilizationPercent must be a number exactly when gpuStatus is ok (gpuStatus {report.GpuStatus})");
                if (report.SshNoTtySessions > report.SshSessions)
                    throw new FieldException($"sshNoTtySessions ({report.SshNoTtySessions}) is more than sshSessions ({report.SshSessions})");
                return report;
            }
            catch (FieldException e) { error = e.Message; return null; }
        }
    }

    private static string Excerpt(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private sealed class FieldException(string message) : Exception(message);

    private readonly struct FieldReader(JsonElement root)
    {
        public bool Has(string name) => root.TryGetProperty(name, out _);

        private JsonElement Get(string name) =>
            root.TryGetProperty(name, out var value) ? value : throw new FieldException($"missing field '{name}'");

        public int Int(string name, int min)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var n)) throw new FieldException($"field '{name}' must be a whole number, got {Show(value)}");
            if (n < min) throw new FieldException($"field '{name}' must be at least {min}, got {n}");
            return n;
        }

        public long Long(string name)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n)) throw new FieldException($"field '{name}' must be a whole number, got {Show(value)}");
            if (n < 0) throw new FieldException($"field '{name}' must be at least 0, got {n}");
            return n;
        }

        public long? NullableLong(string name) => Get(name).ValueKind == JsonValueKind.Null ? null : Long(name);

        public int? NullableInt(string name, int min, int max)
        {
            if (Get(name).ValueKind == JsonValueKind.Null) return null;
            var n = Int(name, min);
            if (n > max) throw new FieldException($"field '{name}' must be at most {max}, got {n}");
            return n;
        }

        public string OneOf(string name, params string[] allowed)
        {
            var s = String(name, 1, 32);
            if (!allowed.Contains(s, StringComparer.Ordinal)) throw new FieldException($"field '{name}' must be one of {string.Join(", ", allowed)}, got '{Excerpt(s)}'");
            return s;
        }

        /// <summary>An object of "port": count (at most 8, ports 1..65535 in plain digits, counts 1..99999), or null. A port
        /// twice is refused like a top-level field twice: JsonDocument would keep both and a lookup would pick one.</summary>
        public IReadOnlyDictionary<int, int>? PortCounts(string name)
        {
            var value = Get(name);
            if (value.ValueKind == JsonValueKind.Null) return null;
            if (value.ValueKind != JsonValueKind.Object) throw new FieldException($"field '{name}' must be an object or null, got {Show(value)}");
            var ports = new Dictionary<int, int>();
            foreach (var property in value.EnumerateObject())
            {
                if (ports.Count == 8) throw new FieldException($"field '{name}' may hold at most 8 ports");
                var key = property.Name;
                var port = key.Length is >= 1 and <= 5 && key[0] != '0' && key.All(char.IsAsciiDigit) ? int.Parse(key, System.Globalization.CultureInfo.InvariantCulture) : 0;
                if (port is < 1 or > 65535)
                    throw new FieldException($"field '{name}' must be keyed by port numbers 1 to 65535, got '{Excerpt(key)}'");
                var count = property.Value;
                if (count.ValueKind != JsonValueKind.Number || !count.TryGetInt32(out var n) || n < 1 || n > 99999)
                    throw new FieldException($"field '{name}' must map each port to a count from 1 to 99999, got {Show(count)} for port {port}");
                if (!ports.TryAdd(port, n)) throw new FieldException($"field '{name}' holds port {port} more than once");
            }
            return ports;
        }

        public double Number(string name)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var n) || !double.IsFinite(n)) throw new FieldException($"field '{name}' must be a number, got {Show(value)}");
            if (n < 0) throw new FieldException($"field '{name}' must be at least 0, got {n}");
            return n;
        }

        public string String(string name, int minLength, int maxLength)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.String) throw new FieldException($"field '{name}' must be a string, got {Show(value)}");
            var s = value.GetString()!;
            if (s.Length < minLength || s.Length > maxLength) throw new FieldException($"field '{name}' must be {minLength} to {maxLength} characters, got {s.Length}");
            return s;
        }

        public IReadOnlyList<string> Strings(string name, int maxItems, int minLength, int maxLength, bool distinct = false)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.Array) throw new FieldException($"field '{name}' must be an array, got {Show(value)}");
            if (value.GetArrayLength() > maxItems) throw new FieldException($"field '{name}' may hold at most {maxItems} items, got {value.GetArrayLength()}");
            var items = new List<string>();
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) throw new FieldException($"field '{name}' must hold strings, got {Show(item)}");
                var s = item.GetString()!;
                if (s.Length < minLength || s.Length > maxLength) throw new FieldException($"items of '{name}' must be {minLength} to {maxLength} characters, got {s.Length}");
                if (distinct && items.Contains(s, StringComparer.Ordinal)) throw new FieldException($"field '{name}' holds '{Excerpt(s)}' more than once");
                items.Add(s);
            }
            return items;
        }

        private static string Show(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.Null => "null",
            JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => value.ValueKind.ToString(),
        };
    }
}
