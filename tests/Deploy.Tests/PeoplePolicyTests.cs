using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>The people's managed policy allows exactly what the `autostop` command needs: look at instances and their SSM
/// agents, start opted-in instances, and write or remove only the snooze tag on them.</summary>
public class PeoplePolicyTests
{
    private static readonly List<JsonElement> Statements = Template.PeopleStatements();
    private const string Instances = "arn:aws:ec2:us-east-1:123456789012:instance/*";

    private static List<string> Values(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => element.EnumerateArray().SelectMany(Values).ToList(),
        JsonValueKind.String => [element.GetString()!],
        _ => [element.GetRawText()],
    };

    [Fact]
    public void EveryStatementHasExactlyTheExpectedActionsResourcesAndConditions()
    {
        var expected = new Dictionary<string, (string[] Actions, string Resource, string? Conditions)>
        {
            ["SeeInstancesAndAgents"] = (["ec2:DescribeInstances", "ssm:DescribeInstanceInformation"], "*", null),
            ["StartOptedInInstances"] = (["ec2:StartInstances"], Instances, """{"StringEqualsIgnoreCase":{"aws:ResourceTag/AutoStop":"true"}}"""),
            ["SnoozeOptedInInstances"] = (["ec2:CreateTags", "ec2:DeleteTags"], Instances,
                """{"StringEqualsIgnoreCase":{"aws:ResourceTag/AutoStop":"true"},"ForAllValues:StringEquals":{"aws:TagKeys":"AutoStop:SnoozeUntil"},"Null":{"aws:TagKeys":"false"}}"""),
        };
        Assert.Equal(expected.Keys.Order(), Statements.Select(s => s.GetProperty("Sid").GetString()!).Order());
        foreach (var s in Statements)
        {
            var (actions, resource, conditions) = expected[s.GetProperty("Sid").GetString()!];
            Assert.Equal("Allow", s.GetProperty("Effect").GetString());
            Assert.Equal(actions.Order(), Values(s.GetProperty("Action")).Order());
            Assert.Equal([resource], Values(s.GetProperty("Resource")));
            Assert.False(s.TryGetProperty("NotAction", out _));
            Assert.False(s.TryGetProperty("NotResource", out _));
            if (conditions is null) Assert.False(s.TryGetProperty("Condition", out _));
            else Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(conditions), System.Text.Json.Nodes.JsonNode.Parse(s.GetProperty("Condition").GetRawText())),
                $"{s.GetProperty("Sid").GetString()}: {s.GetProperty("Condition").GetRawText()}");
        }
    }

    [Fact]
    public void ThePolicyAllowsNoStopAndNoOtherTag()
    {
        var actions = Statements.SelectMany(s => Values(s.GetProperty("Action"))).ToList();
        Assert.DoesNotContain("ec2:StopInstances", actions);
        Assert.All(actions, a => Assert.DoesNotContain("*", a));
        var tagKeys = Statements.Where(s => s.TryGetProperty("Condition", out var c) && c.TryGetProperty("ForAllValues:StringEquals", out _))
            .Select(s => s.GetProperty("Condition").GetProperty("ForAllValues:StringEquals").GetProperty("aws:TagKeys").GetString()).ToList();
        Assert.Equal(["AutoStop:SnoozeUntil"], tagKeys); // an exact key, not a pattern: IdleSince and StoppedAt stay AutoStop's
    }

    [Fact]
    public void TheTagKeyParameterFlowsIntoEveryCondition()
    {
        var text = Template.Properties("PeoplePolicy")["PolicyDocument"]["Fn::Sub"][0].ToString();
        Assert.Equal(2, Regex.Matches(text, @"aws:ResourceTag/\$\{TagKey\}").Count);
        Assert.Contains("\"${TagKey}:SnoozeUntil\"", text);
        Assert.DoesNotContain("AutoStop", text);
    }

    [Fact]
    public void ItsArnIsAnOutput()
    {
        Assert.Equal("AWS::IAM::ManagedPolicy", Template.Resource("PeoplePolicy")["Type"].ToString());
        Assert.Equal("PeoplePolicy", Template.Root["Outputs"]["PeoplePolicyArn"]["Value"]["Ref"].ToString()); // Ref of a managed policy is its ARN
    }

    /// <summary>The EC2 and SSM actions the policy allows are exactly the requests the `autostop` command builds
    /// (found as `new XxxRequest` in cli/, the service by the file's SDK model namespace): nothing the command never
    /// uses is granted, and nothing it calls would be refused.</summary>
    [Fact]
    public void TheActionsAreExactlyTheCallsTheCommandMakes()
    {
        var called = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(AutoStop.TestSupport.RepoPaths.Of("cli"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            var text = File.ReadAllText(file);
            foreach (Match m in Regex.Matches(text, @"\bnew ([A-Z][A-Za-z]+)Request\b"))
            {
                var ec2 = text.Contains("using Amazon.EC2.Model;");
                var ssm = text.Contains("using Amazon.SimpleSystemsManagement.Model;");
                // A file using both models: the request type's own namespace decides (DescribeInstanceInformation is SSM's).
                called.Add((ssm && (!ec2 || m.Groups[1].Value == "DescribeInstanceInformation") ? "ssm:" : "ec2:") + m.Groups[1].Value);
            }
        }
        Assert.Contains("ec2:StartInstances", called); // the scan found the command's calls at all
        var granted = Statements.SelectMany(s => Values(s.GetProperty("Action"))).ToHashSet();
        Assert.Equal(called.ToList(), granted.Order(StringComparer.Ordinal).ToList());
    }
}
