using System.Text.Json;
using System.Text.RegularExpressions;
using AutoStop.TestSupport;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>templates/template.yaml, parsed (it uses long-form intrinsics only, so it is plain YAML).</summary>
internal static partial class Template
{
    public static readonly string Path = RepoPaths.Of("templates", "template.yaml");

    public static YamlMappingNode Root { get; } = Load();

    public static YamlMappingNode Resources => (YamlMappingNode)Root["Resources"];

    public static YamlMappingNode Resource(string name) => (YamlMappingNode)Resources[name];

    public static YamlMappingNode Properties(string name) => (YamlMappingNode)Resource(name)["Properties"];

    /// <summary>The stack name the tests deploy under.</summary>
    public const string StackName = "stack";

    /// <summary>The probe document's name (its Name property, an Fn::Sub) in a stack of the given name.</summary>
    public static string ProbeDocumentName(string stackName = StackName) =>
        Properties("ProbeDocument")["Name"]["Fn::Sub"].ToString().Replace("${AWS::StackName}", stackName);

    /// <summary>The stop notice document's name (NoticeDocument's Name) in a stack of the given name.</summary>
    public static string NoticeDocumentName(string stackName = StackName) =>
        Properties("NoticeDocument")["Name"]["Fn::Sub"].ToString().Replace("${AWS::StackName}", stackName);

    /// <summary>Values the policy's Fn::Sub placeholders take in a deployment with the default parameters.</summary>
    public static readonly Dictionary<string, string> Substitutions = new()
    {
        ["TagKey"] = "AutoStop",
        ["ProbeDocument"] = ProbeDocumentName(), // Ref of an AWS::SSM::Document is its name
        ["NoticeDocument"] = NoticeDocumentName(),
        ["InstanceArns"] = "arn:aws:ec2:us-east-1:123456789012:instance/*",
        ["AWS::Partition"] = "aws",
        ["AWS::Region"] = "us-east-1",
        ["AWS::AccountId"] = "123456789012",
    };

    /// <summary>Every statement of every inline policy of the function's role, as JSON, Fn::Sub resolved.</summary>
    public static List<JsonElement> RoleStatements()
    {
        var statements = new List<JsonElement>();
        foreach (var policy in ((YamlSequenceNode)Properties("FunctionRole")["Policies"]).Children.Cast<YamlMappingNode>())
        {
            var document = policy["PolicyDocument"];
            string json;
            if (document is YamlMappingNode mapping && mapping.Children.ContainsKey("Fn::Sub"))
            {
                var sub = (YamlSequenceNode)mapping["Fn::Sub"];
                json = Resolve(((YamlScalarNode)sub[0]).Value!);
            }
            else json = ToJson(document);
            using var parsed = JsonDocument.Parse(json);
            statements.AddRange(parsed.RootElement.GetProperty("Statement").EnumerateArray().Select(s => s.Clone()));
        }
        return statements;
    }

    /// <summary>Every scalar under a node, one a line: the text of an Fn::Sub with its variable map and Fn::If branches
    /// (e.g. the dashboard body, whose first widget depends on InstanceMetrics), for tests that look for references.</summary>
    public static string AllText(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode seq => string.Join("\n", seq.Children.Select(AllText)),
        YamlMappingNode map => string.Join("\n", map.Children.Select(c => AllText(c.Value))),
        _ => "",
    };

    /// <summary>Every statement of the people's managed policy (PeoplePolicy), as JSON, Fn::Sub resolved.</summary>
    public static List<JsonElement> PeopleStatements()
    {
        var sub = (YamlSequenceNode)Properties("PeoplePolicy")["PolicyDocument"]["Fn::Sub"];
        using var parsed = JsonDocument.Parse(Resolve(((YamlScalarNode)sub[0]).Value!));
        return parsed.RootElement.GetProperty("Statement").EnumerateArray().Select(s => s.Clone()).ToList();
    }

    public static string Resolve(string text) =>
        Placeholder().Replace(text, m => Substitutions.TryGetValue(m.Groups[1].Value, out var v) ? v : throw new InvalidOperationException($"unknown placeholder {m.Value}"));

    /// <summary>A YAML node as JSON (scalars as strings; intrinsic functions kept as objects).</summary>
    public static string ToJson(YamlNode node) => node switch
    {
        YamlScalarNode s => JsonSerializer.Serialize(s.Value),
        YamlSequenceNode seq => "[" + string.Join(",", seq.Children.Select(ToJson)) + "]",
        YamlMappingNode map => "{" + string.Join(",", map.Children.Select(c => JsonSerializer.Serialize(((YamlScalarNode)c.Key).Value) + ":" + ToJson(c.Value))) + "}",
        _ => "null",
    };

    private static YamlMappingNode Load()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    [GeneratedRegex(@"\$\{([A-Za-z:]+)\}")]
    private static partial Regex Placeholder();
}
