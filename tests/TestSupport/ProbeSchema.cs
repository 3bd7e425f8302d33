using System.Text.Json;
using Json.Schema;

namespace AutoStop.TestSupport;

/// <summary>
/// agent/schema.json, validated by a full JSON Schema (2020-12) implementation (JsonSchema.Net), so the probe, the
/// controller's parser and the lab are held to the schema itself, not to a hand-written subset of it.
/// </summary>
public sealed class ProbeSchema
{
    private readonly JsonSchema _schema;

    private ProbeSchema(string text)
    {
        _schema = JsonSchema.FromText(text);
        Schema = JsonDocument.Parse(text).RootElement.Clone();
    }

    // JsonSchema.Net registers a schema's $id process-wide and refuses a second registration: one instance per file.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<ProbeSchema>> Loaded = new(StringComparer.Ordinal);

    public static ProbeSchema Load(string path) =>
        Loaded.GetOrAdd(Path.GetFullPath(path), full => new Lazy<ProbeSchema>(() => new ProbeSchema(File.ReadAllText(full)))).Value;

    /// <summary>The schema document itself (its properties, required list, ...).</summary>
    public JsonElement Schema { get; }

    /// <summary>Returns the violations, each with where it is (empty when valid).</summary>
    public IReadOnlyList<string> Validate(string json)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { return ["not JSON: " + e.Message]; }
        using (document)
        {
            var result = _schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (result.IsValid) return [];
            var errors = (result.Details ?? []).Append(result)
                .SelectMany(d => (d.Errors ?? new Dictionary<string, string>()).Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))
                .Distinct().ToList();
            return errors.Count > 0 ? errors : ["not valid against agent/schema.json"];
        }
    }
}
