using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Lab.Scenarios;

/// <summary>A YAML (or JSON) node with its path in the file, so every error can point at the bad field.</summary>
internal sealed class ScenarioNode(YamlNode? node, string path)
{
    public string Path { get; } = path;
    public bool IsMissing => node is null || node is YamlScalarNode { Value: null or "" or "~" or "null" } s && s.Style == YamlDotNet.Core.ScalarStyle.Plain;

    public ScenarioException Error(string problem) => new($"{Path}: {problem}");

    public bool IsScalar => node is YamlScalarNode;

    private YamlMappingNode Mapping => node as YamlMappingNode ?? throw Error($"expected a mapping (key: value), got {Describe()}");

    public ScenarioNode this[string key]
    {
        get
        {
            if (IsMissing) return new ScenarioNode(null, Join(key));
            var mapping = Mapping;
            foreach (var (k, v) in mapping.Children)
                if (k is YamlScalarNode { Value: { } name } && name == key) return new ScenarioNode(v, Join(key));
            return new ScenarioNode(null, Join(key));
        }
    }

    /// <summary>Fails on keys that are not allowed here: a typo must not be silently ignored.</summary>
    public void OnlyKeys(params string[] allowed)
    {
        if (IsMissing) return;
        foreach (var (k, _) in Mapping.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "?";
            if (!allowed.Contains(name)) throw new ScenarioException($"{Join(name)}: unknown field; allowed here: {string.Join(", ", allowed)}");
        }
    }

    public IEnumerable<ScenarioNode> Items()
    {
        if (IsMissing) yield break;
        if (node is not YamlSequenceNode sequence) throw Error($"expected a list, got {Describe()}");
        for (var i = 0; i < sequence.Children.Count; i++) yield return new ScenarioNode(sequence.Children[i], $"{Path}[{i}]");
    }

    public IEnumerable<(string Key, ScenarioNode Value)> Entries()
    {
        if (IsMissing) yield break;
        foreach (var (k, v) in Mapping.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? throw Error("keys must be plain strings");
            yield return (name, new ScenarioNode(v, Join(name)));
        }
    }

    public string? OptionalString()
    {
        if (IsMissing) return null;
        return node is YamlScalarNode scalar ? scalar.Value : throw Error($"expected a single value, got {Describe()}");
    }

    public string String(string? fallback = null) => OptionalString() ?? fallback ?? throw Error("is required");

    public int Int(int fallback, int min, int max)
    {
        var text = OptionalString();
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw Error($"'{text}' is not allowed: a whole number from {min} to {max}");
        return value;
    }

    public double Double(double fallback, double min, double max)
    {
        var text = OptionalString();
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw Error($"'{text}' is not allowed: a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}");
        return value;
    }

    public bool Bool(bool fallback)
    {
        var text = OptionalString();
        if (text is null) return fallback;
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" => true,
            "false" or "no" => false,
            _ => throw Error($"'{text}' is not allowed: true or false"),
        };
    }

    public T Enum<T>(T fallback, params (string Name, T Value)[] allowed)
    {
        var text = OptionalString();
        if (text is null) return fallback;
        foreach (var (name, value) in allowed)
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase)) return value;
        throw Error($"'{text}' is not one of {string.Join(", ", allowed.Select(a => a.Name))}");
    }

    /// <summary>A duration: "90s", "15m", "2h", "1d", "1h30m", or a bare number of minutes.</summary>
    public TimeSpan Duration(TimeSpan? fallback = null)
    {
        var text = OptionalString();
        if (text is null) return fallback ?? throw Error("is required (a duration such as 15m, 2h, 1d)");
        return ParseDuration(text) ?? throw Error($"'{text}' is not a duration: use e.g. 90s, 15m, 2h, 1d, 1h30m, or a number of minutes");
    }

    /// <summary>A time: ISO-8601 with Z or offset, or an offset from the scenario start such as "+90m" or "+1d2h".</summary>
    public DateTimeOffset Time(DateTimeOffset start, DateTimeOffset? fallback = null)
    {
        var text = OptionalString();
        if (text is null) return fallback ?? throw Error("is required (an ISO-8601 time with Z, or +offset from start such as +2h)");
        if (text.StartsWith('+') && ParseDuration(text[1..]) is { } offset) return start + offset;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) && (text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9))
            return time.ToUniversalTime();
        throw Error($"'{text}' is not a time: use ISO-8601 with Z or an offset (2026-11-23T09:00:00Z), or +offset from start (+2h)");
    }

    internal static TimeSpan? ParseDuration(string text)
    {
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes)) return minutes >= 0 ? TimeSpan.FromMinutes(minutes) : null;
        var total = TimeSpan.Zero;
        var number = "";
        var any = false;
        foreach (var c in text)
        {
            if (char.IsDigit(c) || c == '.') { number += c; continue; }
            if (number.Length == 0 || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return null;
            total += c switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => TimeSpan.MinValue,
            };
            if (total < TimeSpan.Zero) return null;
            number = "";
            any = true;
        }
        return any && number.Length == 0 ? total : null;
    }

    private string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private string Describe() => node switch
    {
        null => "nothing",
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => node.NodeType.ToString(),
    };
}
