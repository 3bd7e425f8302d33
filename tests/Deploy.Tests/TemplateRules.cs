using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>Evaluates the template's Rules assertions for given parameter values, the way CloudFormation does before
/// creating anything (the rule functions used here: Fn::Or, Fn::And, Fn::Not, Fn::Equals, Fn::Contains, Ref).</summary>
internal static class TemplateRules
{
    /// <summary>The AssertDescription of every assertion that fails; parameters not given take their defaults.</summary>
    public static List<string> Failures(IReadOnlyDictionary<string, string> parameters)
    {
        var defaults = ((YamlMappingNode)Template.Root["Parameters"]).Children
            .Where(p => ((YamlMappingNode)p.Value).Children.ContainsKey("Default"))
            .ToDictionary(p => p.Key.ToString(), p => p.Value["Default"].ToString());
        string ValueOf(string name) => parameters.TryGetValue(name, out var v) ? v : defaults[name];

        var failures = new List<string>();
        foreach (var rule in ((YamlMappingNode)Template.Root["Rules"]).Children.Select(r => (YamlMappingNode)r.Value))
        {
            if (rule.Children.ContainsKey("RuleCondition") && !Truth(rule["RuleCondition"], ValueOf)) continue;
            foreach (var assertion in ((YamlSequenceNode)rule["Assertions"]).Children.Cast<YamlMappingNode>())
                if (!Truth(assertion["Assert"], ValueOf)) failures.Add(assertion["AssertDescription"].ToString());
        }
        return failures;
    }

    private static bool Truth(YamlNode node, Func<string, string> valueOf)
    {
        var (function, arguments) = Single(node);
        var list = arguments as YamlSequenceNode;
        return function switch
        {
            "Fn::Or" => list!.Children.Any(c => Truth(c, valueOf)),
            "Fn::And" => list!.Children.All(c => Truth(c, valueOf)),
            "Fn::Not" => !Truth(list!.Children.Single(), valueOf),
            "Fn::Equals" => Value(list!.Children[0], valueOf) == Value(list.Children[1], valueOf),
            "Fn::Contains" => ((YamlSequenceNode)list!.Children[0]).Children.Select(c => Value(c, valueOf)).Contains(Value(list.Children[1], valueOf)),
            _ => throw new NotSupportedException($"rule function {function} is not evaluated by this test"),
        };
    }

    private static string Value(YamlNode node, Func<string, string> valueOf) => node switch
    {
        YamlScalarNode scalar => scalar.Value ?? "",
        YamlMappingNode { Children.Count: 1 } map when map.Children.ContainsKey("Ref") => valueOf(map["Ref"].ToString()),
        _ => throw new NotSupportedException($"rule value {node} is not evaluated by this test"),
    };

    private static (string Function, YamlNode Arguments) Single(YamlNode node)
    {
        var map = (YamlMappingNode)node;
        var only = map.Children.Single();
        return (only.Key.ToString(), only.Value);
    }
}
