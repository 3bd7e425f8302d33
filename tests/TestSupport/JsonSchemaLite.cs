using System.Text.Json;

namespace AutoStop.TestSupport;

/// <summary>
/// A validator for the subset of JSON Schema that agent/schema.json uses (type, const, required,
/// additionalProperties:false, properties, items, minimum, minLength, maxLength, maxItems).
/// No validator package is available here; tests use this to hold the probe, the parser and the lab to one schema.
/// </summary>
public sealed class JsonSchemaLite(JsonElement schema)
{
    public static JsonSchemaLite Load(string path) => new(JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone());

    public JsonElement Schema => schema;

    /// <summary>Returns the violations (empty when valid).</summary>
    public IReadOnlyList<string> Validate(string json)
    {
        var errors = new List<string>();
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { return ["not JSON: " + e.Message]; }
        using (document) Check(schema, document.RootElement, "$", errors);
        return errors;
    }

    private static void Check(JsonElement rule, JsonElement value, string path, List<string> errors)
    {
        if (rule.TryGetProperty("type", out var type) && !TypeMatches(type, value))
        {
            errors.Add($"{path}: expected {type.GetRawText()}, got {value.ValueKind}");
            return;
        }
        if (rule.TryGetProperty("const", out var constant) && constant.GetRawText() != value.GetRawText())
            errors.Add($"{path}: must be {constant.GetRawText()}");
        if (value.ValueKind == JsonValueKind.Number && rule.TryGetProperty("minimum", out var minimum) && value.GetDouble() < minimum.GetDouble())
            errors.Add($"{path}: below minimum {minimum.GetRawText()}");
        if (value.ValueKind == JsonValueKind.Number && rule.TryGetProperty("maximum", out var maximum) && value.GetDouble() > maximum.GetDouble())
            errors.Add($"{path}: above maximum {maximum.GetRawText()}");
        if (rule.TryGetProperty("enum", out var choices) && !choices.EnumerateArray().Any(c => c.GetRawText() == value.GetRawText()))
            errors.Add($"{path}: not one of {choices.GetRawText()}");
        if (value.ValueKind == JsonValueKind.String)
        {
            var length = value.GetString()!.Length;
            if (rule.TryGetProperty("minLength", out var minLength) && length < minLength.GetInt32()) errors.Add($"{path}: shorter than {minLength}");
            if (rule.TryGetProperty("maxLength", out var maxLength) && length > maxLength.GetInt32()) errors.Add($"{path}: longer than {maxLength}");
        }
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (rule.TryGetProperty("maxItems", out var maxItems) && value.GetArrayLength() > maxItems.GetInt32()) errors.Add($"{path}: more than {maxItems} items");
            if (rule.TryGetProperty("items", out var items))
            {
                var i = 0;
                foreach (var item in value.EnumerateArray()) Check(items, item, $"{path}[{i++}]", errors);
            }
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            if (rule.TryGetProperty("required", out var required))
                foreach (var name in required.EnumerateArray())
                    if (!value.TryGetProperty(name.GetString()!, out _)) errors.Add($"{path}: missing '{name.GetString()}'");
            var properties = rule.TryGetProperty("properties", out var p) ? p : default;
            if (rule.TryGetProperty("maxProperties", out var maxProperties) && value.EnumerateObject().Count() > maxProperties.GetInt32())
                errors.Add($"{path}: more than {maxProperties} properties");
            foreach (var property in value.EnumerateObject())
            {
                if (rule.TryGetProperty("propertyNames", out var names) && names.TryGetProperty("pattern", out var pattern)
                    && !System.Text.RegularExpressions.Regex.IsMatch(property.Name, pattern.GetString()!))
                    errors.Add($"{path}: property name '{property.Name}' does not match {pattern.GetString()}");
                if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(property.Name, out var sub))
                    Check(sub, property.Value, $"{path}.{property.Name}", errors);
                else if (rule.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False)
                    errors.Add($"{path}: unexpected property '{property.Name}'");
                else if (additional.ValueKind == JsonValueKind.Object)
                    Check(additional, property.Value, $"{path}.{property.Name}", errors);
            }
        }
    }

    private static bool TypeMatches(JsonElement type, JsonElement value)
    {
        if (type.ValueKind == JsonValueKind.Array) return type.EnumerateArray().Any(t => TypeMatches(t, value));
        return type.GetString() switch
        {
            "object" => value.ValueKind == JsonValueKind.Object,
            "array" => value.ValueKind == JsonValueKind.Array,
            "string" => value.ValueKind == JsonValueKind.String,
            "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            "number" => value.ValueKind == JsonValueKind.Number,
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "null" => value.ValueKind == JsonValueKind.Null,
            _ => false,
        };
    }
}
