using System.Text.Json;

namespace AutoStop.Probing;

/// <summary>
/// Validates probe output against agent/schema.json by hand (JsonDocument only, so it stays AOT-safe):
/// exactly one line holding one JSON object, every required field, right types and ranges, nothing else.
/// Any deviation is a reason, never a guess.
/// </summary>
public static class ProbeOutputParser
{
    /// <summary>SSM's ListCommandInvocations keeps only this many characters of output.</summary>
    public const int SsmOutputLimit = 2500;

    private static readonly HashSet<string> Known =
    [
        "v", "agent", "sshSessions", "sshNoTtySessions", "ssmSessions", "users", "lastLoginAgeSeconds", "minTtyIdleSeconds",
        "keepAliveSeconds", "uptimeSeconds", "load1", "cpuCount", "multiplexerSessions", "preauthConnections", "errors",
    ];

    public static IReadOnlySet<string> KnownFields => Known;

    /// <summary>Parses the output; on failure returns null and a reason naming what was wrong.</summary>
    public static ProbeReport? TryParse(string? output, out string error)
    {
        error = "";
        if (string.IsNullOrWhiteSpace(output)) { error = "the probe printed nothing"; return null; }
        if (output.Length >= SsmOutputLimit) { error = $"the output is {output.Length} characters, at SSM's {SsmOutputLimit}-character limit: probably truncated"; return null; }
        var line = output.TrimEnd('\n', '\r', ' ', '\t');
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
            foreach (var property in root.EnumerateObject())
                if (!Known.Contains(property.Name)) { error = $"unexpected field '{Excerpt(property.Name)}'"; return null; }
            var reader = new FieldReader(root);
            try
            {
                var version = reader.Int("v", 1);
                if (version != 1) throw new FieldException("field 'v' must be 1 (this controller reads schema version 1)");
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
                    reader.Strings("errors", 8, 0, 160));
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

        public IReadOnlyList<string> Strings(string name, int maxItems, int minLength, int maxLength)
        {
            var value = Get(name);
            if (value.ValueKind != JsonValueKind.Array) throw new FieldException($"field '{name}' must be an array, got {Show(value)}");
            var items = new List<string>();
            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) throw new FieldException($"field '{name}' must hold strings, got {Show(item)}");
                var s = item.GetString()!;
                if (s.Length < minLength || s.Length > maxLength) throw new FieldException($"items of '{name}' must be {minLength} to {maxLength} characters, got {s.Length}");
                items.Add(s);
            }
            if (items.Count > maxItems) throw new FieldException($"field '{name}' may hold at most {maxItems} items, got {items.Count}");
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
