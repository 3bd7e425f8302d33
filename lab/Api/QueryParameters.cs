using Microsoft.Extensions.Primitives;

namespace AutoStop.Lab.Api;

/// <summary>The EC2 Query protocol's flattened parameters (InstanceId.1, Filter.1.Value.2, Tag.1.Key ...).</summary>
internal sealed class QueryParameters(IReadOnlyDictionary<string, StringValues> values)
{
    public string? this[string name] => values.TryGetValue(name, out var v) ? v.ToString() : null;

    /// <summary>Name.1, Name.2, ... until the first gap.</summary>
    public List<string> List(string name)
    {
        var list = new List<string>();
        for (var i = 1; this[$"{name}.{i}"] is { } value; i++) list.Add(value);
        return list;
    }

    /// <summary>Filter.N.Name with its Filter.N.Value.M values.</summary>
    public List<(string Name, List<string> Values)> Filters()
    {
        var filters = new List<(string, List<string>)>();
        for (var i = 1; this[$"Filter.{i}.Name"] is { } name; i++) filters.Add((name, List($"Filter.{i}.Value")));
        return filters;
    }

    /// <summary>Tag.N.Key with its optional Tag.N.Value.</summary>
    public List<(string Key, string? Value)> Tags()
    {
        var tags = new List<(string, string?)>();
        for (var i = 1; this[$"Tag.{i}.Key"] is { } key; i++) tags.Add((key, this[$"Tag.{i}.Value"]));
        return tags;
    }
}
