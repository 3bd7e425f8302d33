using System.Text.Json;

namespace AutoStop.Deploy.Tests;

/// <summary>The function's role can stop, tag, probe and warn only opted-in instances, and run no command but the probe
/// and the stop notice.</summary>
public class IamTests
{
    private static readonly List<JsonElement> Statements = Template.RoleStatements();
    private const string Instances = "arn:aws:ec2:us-east-1:123456789012:instance/*";
    /// <summary>The one document the role may send: the one the template creates (a name ending in its hash).</summary>
    private static readonly string ProbeDocumentArn = "arn:aws:ssm:us-east-1:123456789012:document/" + Template.ProbeDocumentName();
    private static readonly string NoticeDocumentArn = "arn:aws:ssm:us-east-1:123456789012:document/" + Template.NoticeDocumentName();

    private static List<string> Values(JsonElement element) =>
        element.ValueKind switch
        {
            JsonValueKind.Array => element.EnumerateArray().SelectMany(Values).ToList(),
            JsonValueKind.String => [element.GetString()!],
            _ => [element.GetRawText()], // an intrinsic function, e.g. Fn::GetAtt of the log group
        };

    private static List<JsonElement> Allowing(string action) =>
        Statements.Where(s => s.GetProperty("Effect").GetString() == "Allow" && Values(s.GetProperty("Action")).Contains(action)).ToList();

    [Fact]
    public void NoWildcardActionAnywhere()
    {
        var actions = Statements.SelectMany(s => Values(s.GetProperty("Action"))).ToList();
        Assert.NotEmpty(actions);
        Assert.All(actions, a => Assert.DoesNotContain("*", a));
        Assert.DoesNotContain(Statements, s => s.TryGetProperty("NotAction", out _));
        Assert.All(Statements, s => Assert.Equal("Allow", s.GetProperty("Effect").GetString()));
    }

    [Fact]
    public void OnlyActionsWithoutResourceLevelSupportGetAStarResource()
    {
        var starred = Statements.Where(s => Values(s.GetProperty("Resource")).Contains("*")).SelectMany(s => Values(s.GetProperty("Action"))).Order().ToList();
        Assert.Equal(["ec2:DescribeInstances", "ec2:DescribeSpotInstanceRequests", "ssm:DescribeInstanceInformation", "ssm:DescribeSessions", "ssm:ListCommandInvocations"], starred);
    }

    [Theory]
    [InlineData("ec2:StopInstances", "aws:ResourceTag/AutoStop")]
    [InlineData("ec2:CreateTags", "aws:ResourceTag/AutoStop")]
    [InlineData("ec2:DeleteTags", "aws:ResourceTag/AutoStop")]
    public void MutatingEc2ActionsNeedTheOptInTag(string action, string conditionKey)
    {
        var statements = Allowing(action);
        Assert.NotEmpty(statements);
        Assert.All(statements, s =>
        {
            Assert.Equal([Instances], Values(s.GetProperty("Resource")));
            Assert.Equal("true", s.GetProperty("Condition").GetProperty("StringEqualsIgnoreCase").GetProperty(conditionKey).GetString());
        });
    }

    [Theory]
    [InlineData("ec2:CreateTags")]
    [InlineData("ec2:DeleteTags")]
    public void TagWritesAreLimitedToAutoStopKeys(string action)
    {
        Assert.All(Allowing(action), s =>
        {
            var condition = s.GetProperty("Condition");
            Assert.Equal("AutoStop:*", condition.GetProperty("ForAllValues:StringLike").GetProperty("aws:TagKeys").GetString());
            // ForAllValues is true for a request with no keys at all: require keys to be present.
            Assert.Equal("false", condition.GetProperty("Null").GetProperty("aws:TagKeys").GetString());
        });
    }

    [Fact]
    public void SendCommandOnlyWithTheProbeAndNoticeDocumentsAndOnlyToOptedInInstances()
    {
        var statements = Allowing("ssm:SendCommand");
        Assert.Equal(3, statements.Count);
        Assert.All(statements, s => Assert.Equal(["ssm:SendCommand"], Values(s.GetProperty("Action"))));

        // One statement per document, each naming exactly one document ARN, no wildcard.
        var documents = statements.Where(s => Values(s.GetProperty("Resource")).Any(r => r.Contains(":document/"))).ToList();
        Assert.Equal([[ProbeDocumentArn], [NoticeDocumentArn]], documents.Select(d => Values(d.GetProperty("Resource"))).ToList());
        Assert.All(documents, d => Assert.False(d.TryGetProperty("Condition", out _)));

        var instances = Assert.Single(statements, s => Values(s.GetProperty("Resource")).Contains(Instances));
        Assert.Equal("true", instances.GetProperty("Condition").GetProperty("StringEqualsIgnoreCase").GetProperty("ssm:resourceTag/AutoStop").GetString());
        Assert.DoesNotContain(statements, s => Values(s.GetProperty("Resource")).Contains("*"));
    }

    [Fact]
    public void EveryStatementHasExactlyTheExpectedActionsAndResources()
    {
        var expected = new Dictionary<string, (string[] Actions, string[] Resources, bool Conditioned)>
        {
            ["ListInstancesAndSsmRegistration"] = (["ec2:DescribeInstances", "ec2:DescribeSpotInstanceRequests", "ssm:DescribeInstanceInformation"], ["*"], false),
            ["ReadProbeResults"] = (["ssm:ListCommandInvocations"], ["*"], false),
            ["ReadSessionManagerHistory"] = (["ssm:DescribeSessions"], ["*"], false),
            ["WriteDecisionLog"] = (["logs:CreateLogStream", "logs:PutLogEvents"], ["""{"Fn::GetAtt":["DecisionLogGroup","Arn"]}"""], false),
            ["StopOptedInInstances"] = (["ec2:StopInstances"], [Instances], true),
            ["TagIdleStateOnOptedInInstances"] = (["ec2:CreateTags", "ec2:DeleteTags"], [Instances], true),
            ["SendOnlyTheProbeDocument"] = (["ssm:SendCommand"], [ProbeDocumentArn], false),
            ["SendOnlyTheNoticeDocument"] = (["ssm:SendCommand"], [NoticeDocumentArn], false),
            ["SendOnlyToOptedInInstances"] = (["ssm:SendCommand"], [Instances], true),
        };
        Assert.Equal(expected.Keys.Order(), Statements.Select(s => s.GetProperty("Sid").GetString()!).Order());
        foreach (var statement in Statements)
        {
            var (actions, resources, conditioned) = expected[statement.GetProperty("Sid").GetString()!];
            Assert.Equal(actions.Order(), Values(statement.GetProperty("Action")).Order());
            Assert.Equal(resources, Values(statement.GetProperty("Resource")));
            Assert.False(statement.TryGetProperty("NotResource", out _));
            Assert.Equal(conditioned, statement.TryGetProperty("Condition", out _));
        }
    }

    /// <summary>Every action the role allows, across all statements: nothing more (GetCommandInvocation was granted and
    /// never called), nothing less.</summary>
    [Fact]
    public void TheRoleAllowsExactlyTheseActions()
    {
        var actions = Statements.SelectMany(s => Values(s.GetProperty("Action"))).Distinct().Order().ToList();
        Assert.Equal(
        [
            "ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeInstances", "ec2:DescribeSpotInstanceRequests", "ec2:StopInstances",
            "logs:CreateLogStream", "logs:PutLogEvents",
            "ssm:DescribeInstanceInformation", "ssm:DescribeSessions", "ssm:ListCommandInvocations", "ssm:SendCommand",
        ], actions);
    }

    /// <summary>The EC2 and SSM actions the role allows are exactly the requests the function's code builds: a grant the
    /// code never uses is removed, and a call the code makes without a grant would fail in AWS (never in the lab, which
    /// has no IAM for the function). Requests are found as `new XxxRequest` in functions/AutoStop/Aws, the service by
    /// the file's SDK model namespace.</summary>
    [Fact]
    public void TheEc2AndSsmActionsAreExactlyTheCallsTheFunctionMakes()
    {
        var called = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(AutoStop.TestSupport.RepoPaths.Of("functions", "AutoStop"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            var text = File.ReadAllText(file);
            var ec2 = text.Contains("using Amazon.EC2.Model;");
            var ssm = text.Contains("using Amazon.SimpleSystemsManagement.Model;");
            if (!ec2 && !ssm) continue;
            Assert.False(ec2 && ssm, $"{file} builds both EC2 and SSM requests; this test cannot tell which service a request is for");
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"\bnew ([A-Z][A-Za-z]+)Request\b"))
                called.Add((ec2 ? "ec2:" : "ssm:") + m.Groups[1].Value);
        }
        Assert.Contains("ec2:StopInstances", called); // the scan found the adapters at all
        var granted = Statements.SelectMany(s => Values(s.GetProperty("Action"))).Where(a => a.StartsWith("ec2:") || a.StartsWith("ssm:")).ToHashSet();
        Assert.Equal(called.ToList(), granted.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void TheTagKeyParameterFlowsIntoEveryCondition()
    {
        var policy = ((YamlDotNet.RepresentationModel.YamlSequenceNode)Template.Properties("FunctionRole")["Policies"]).Children
            .Cast<YamlDotNet.RepresentationModel.YamlMappingNode>().Single(p => p["PolicyName"].ToString() == "autostop-act-on-opted-in-instances");
        var text = policy["PolicyDocument"]["Fn::Sub"][0].ToString();
        Assert.Equal(3, text.Split("/${TagKey}").Length - 1);         // aws:ResourceTag on stop and on tags, ssm:resourceTag on send
        Assert.Contains("\"${TagKey}:*\"", text);
        Assert.DoesNotContain("AutoStop", text);                      // no hard-coded key
    }

    [Fact]
    public void TheFunctionUsesThisRoleAndCannotOverlapItself()
    {
        var function = Template.Properties("AutoStopFunction");
        Assert.Equal("FunctionRole", ((YamlDotNet.RepresentationModel.YamlSequenceNode)function["Role"]["Fn::GetAtt"])[0].ToString());
        // Reserved concurrency 1 unless the ReservedConcurrency parameter says none (then the property is absent).
        Assert.Equal("1", Template.Root["Parameters"]["ReservedConcurrency"]["Default"].ToString());
        var reserved = (YamlDotNet.RepresentationModel.YamlSequenceNode)function["ReservedConcurrentExecutions"]["Fn::If"];
        Assert.Equal("HasReservedConcurrency", reserved[0].ToString());
        Assert.Equal("1", reserved[1].ToString());
        Assert.Equal("AWS::NoValue", reserved[2]["Ref"].ToString());
        var condition = (YamlDotNet.RepresentationModel.YamlSequenceNode)Template.Root["Conditions"]["HasReservedConcurrency"]["Fn::Equals"];
        Assert.Equal("ReservedConcurrency", condition[0]["Ref"].ToString());
        Assert.Equal("1", condition[1].ToString());
        Assert.Equal("provided.al2023", function["Runtime"].ToString());
        Assert.False(function.Children.ContainsKey("Policies"));
    }
}
