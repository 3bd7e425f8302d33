using System.Text.Json;
using System.Text.RegularExpressions;
using AutoStop.TestSupport;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>A template of templates/, parsed (long-form intrinsics only, so plain YAML), and what CloudFormation
/// would make of it for given parameter values: which resources and outputs its Conditions keep, and the text of an
/// Fn::Sub / Fn::If value (the intrinsic functions these templates use: Fn::Equals, Fn::Not, Fn::And, Fn::Or,
/// Condition, Ref in conditions; Fn::Sub with or without a variable map, Fn::If, Ref in values).</summary>
internal sealed partial class TemplateFile
{
    public static readonly TemplateFile Member = new(RepoPaths.Of("templates", "template.yaml"));
    public static readonly TemplateFile Monitoring = new(RepoPaths.Of("templates", "monitoring-account.yaml"));

    public string Path { get; }
    public YamlMappingNode Root { get; }

    private TemplateFile(string path)
    {
        Path = path;
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        Root = (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public YamlMappingNode Resources => (YamlMappingNode)Root["Resources"];
    public YamlMappingNode Parameters => (YamlMappingNode)Root["Parameters"];
    public YamlMappingNode Resource(string name) => (YamlMappingNode)Resources[name];
    public YamlMappingNode Properties(string name) => (YamlMappingNode)Resource(name)["Properties"];

    public IEnumerable<(string Name, YamlMappingNode Resource)> ResourcesOfType(string type) =>
        Resources.Children.Where(r => r.Value["Type"].ToString() == type).Select(r => (r.Key.ToString(), (YamlMappingNode)r.Value));

    /// <summary>One deployment: the given parameters, the others at their defaults (a parameter without a default must be given).</summary>
    public Deployment Deploy(IReadOnlyDictionary<string, string>? parameters = null) => new(this, parameters ?? new Dictionary<string, string>());

    public sealed class Deployment(TemplateFile template, IReadOnlyDictionary<string, string> given)
    {
        /// <summary>What a Ref or ${Name} of a resource gives, in this test's stack "stack" in us-east-1.</summary>
        private static readonly Dictionary<string, string> ResourceRefs = new()
        {
            ["DecisionLogGroup"] = "/aws/lambda/stack",
            ["AWS::Region"] = "us-east-1",
            ["AWS::StackName"] = "stack",
            ["AWS::AccountId"] = "123456789012",
            ["AWS::Partition"] = "aws",
        };

        public string Parameter(string name) =>
            given.TryGetValue(name, out var value) ? value
            : ((YamlMappingNode)template.Parameters[name]).Children.TryGetValue("Default", out var d) ? d.ToString()
            : throw new InvalidOperationException($"parameter {name} has no default: give it");

        public bool Condition(string name) => Truth(template.Root["Conditions"][name]);

        private bool Kept(YamlMappingNode node) => !node.Children.TryGetValue("Condition", out var c) || Condition(c.ToString());

        public HashSet<string> Resources() =>
            template.Resources.Children.Where(r => Kept((YamlMappingNode)r.Value)).Select(r => r.Key.ToString()).ToHashSet();

        public HashSet<string> Outputs() =>
            ((YamlMappingNode)template.Root["Outputs"]).Children.Where(o => Kept((YamlMappingNode)o.Value)).Select(o => o.Key.ToString()).ToHashSet();

        private bool Truth(YamlNode node)
        {
            var (function, arguments) = Single(node);
            var list = arguments as YamlSequenceNode;
            return function switch
            {
                "Fn::Or" => list!.Children.Any(Truth),
                "Fn::And" => list!.Children.All(Truth),
                "Fn::Not" => !Truth(list!.Children.Single()),
                "Fn::Equals" => Text(list!.Children[0]) == Text(list.Children[1]),
                "Condition" => Condition(arguments.ToString()),
                _ => throw new NotSupportedException($"condition function {function} is not evaluated by this test"),
            };
        }

        /// <summary>The string a value becomes: a scalar, a Ref, an Fn::Sub (its variables first, then parameters,
        /// resources and pseudo parameters) or the branch an Fn::If takes.</summary>
        public string Text(YamlNode node)
        {
            if (node is YamlScalarNode scalar) return scalar.Value ?? "";
            var (function, arguments) = Single(node);
            switch (function)
            {
                case "Ref":
                    return Lookup(arguments.ToString(), new Dictionary<string, string>());
                case "Fn::If":
                {
                    var list = (YamlSequenceNode)arguments;
                    return Text(Condition(list[0].ToString()) ? list[1] : list[2]);
                }
                case "Fn::Sub":
                {
                    var (format, variables) = arguments is YamlSequenceNode seq
                        ? (seq[0].ToString(), ((YamlMappingNode)seq[1]).Children.ToDictionary(v => v.Key.ToString(), v => Text(v.Value)))
                        : (arguments.ToString(), new Dictionary<string, string>());
                    return Placeholder().Replace(format, m => m.Value.StartsWith("${!") ? "${" + m.Groups[1].Value : Lookup(m.Groups[1].Value, variables));
                }
                default:
                    throw new NotSupportedException($"{function} is not evaluated by this test");
            }
        }

        private string Lookup(string name, Dictionary<string, string> variables) =>
            variables.TryGetValue(name, out var v) ? v
            : template.Parameters.Children.ContainsKey(name) ? Parameter(name)
            : ResourceRefs.TryGetValue(name, out var r) ? r
            : throw new InvalidOperationException($"this test does not know what ${{{name}}} is");

        /// <summary>A value that is JSON text (a dashboard body, a rule body), parsed.</summary>
        public JsonElement Json(YamlNode node)
        {
            using var document = JsonDocument.Parse(Text(node));
            return document.RootElement.Clone();
        }

        private static (string Function, YamlNode Arguments) Single(YamlNode node)
        {
            var only = ((YamlMappingNode)node).Children.Single();
            return (only.Key.ToString(), only.Value);
        }
    }

    [GeneratedRegex(@"\$\{!?([A-Za-z0-9:]+)\}")]
    private static partial Regex Placeholder();
}
