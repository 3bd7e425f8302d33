using System.Text.Json;
using AutoStop.Lab.Fleet;

namespace AutoStop.Lab.Tests;

/// <summary>
/// AWS validates and authorizes every resource a request names and fails the whole request for one bad one. Pinned
/// through the AWS CLI, independently of the function: each test names one poisoned instance beside good ones and
/// checks both the error and that nothing happened to the good ones.
/// </summary>
public sealed class AllOrNothingCliTests : IAsyncLifetime
{
    private const string Ok = "i-0a00000000000000a", Upper = "i-0b00000000000000b", Padded = "i-0c00000000000000c", Denied = "i-0d00000000000000d",
        Full = "i-0e00000000000000e", Deregistered = "i-0f00000000000000f", Hibernates = "i-01000000000000010", Spot = "i-01100000000000011",
        SpotGone = "i-01200000000000012", Warns = "i-01300000000000013", NoDeleteTags = "i-01400000000000014", Parked = "i-01500000000000015";

    private const string Scenario = """
        start: 2026-11-23T08:00:00Z
        duration: 1h
        ssm: { documentVersions: 3 }
        instances:
          - { id: i-0a00000000000000a, name: ok, tags: { AutoStop: "true", Team: web } }
          - { id: i-0b00000000000000b, name: upper, tags: { AutoStop: "TRUE" } }
          - { id: i-0c00000000000000c, name: padded, tags: { AutoStop: " true" } }
          - { id: i-0d00000000000000d, name: denied, tags: { AutoStop: "true" }, iam: deny }
          - { id: i-0e00000000000000e, name: full, tags: { AutoStop: "true" }, extraTags: 48 }
          - { id: i-0f00000000000000f, name: deregistered, tags: { AutoStop: "true" }, faults: [ { kind: deregistered } ] }
          - { id: i-01000000000000010, name: hibernates, tags: { AutoStop: "true" }, hibernation: true }
          - { id: i-01100000000000011, name: spot, tags: { AutoStop: "true" }, lifecycle: spot, spotType: persistent }
          - { id: i-01200000000000012, name: spot-gone, tags: { AutoStop: "true" }, lifecycle: spot, spotType: persistent, spotRequestDeleted: true }
          - { id: i-01300000000000013, name: warns, tags: { AutoStop: "true" }, faults: [ { kind: agent-stderr, message: "perl: warning: Setting locale failed.\n" } ] }
          - { id: i-01400000000000014, name: no-delete-tags, tags: { AutoStop: "true" }, iam: { deny: [ "ec2:DeleteTags" ] } }
          - { id: i-01500000000000015, name: parked, tags: { AutoStop: "true" }, state: stopped }
        """;

    private LabCli _lab = null!;

    public async Task InitializeAsync() => _lab = await LabCli.StartAsync(Scenario);

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    [Fact]
    public async Task CreateTagsIsRefusedWholeWhenIamRefusesOneInstanceAndAcceptsAnyCaseOfTrue()
    {
        // " true" is not "true" to IAM's StringEqualsIgnoreCase: the padded instance is refused, so the ok one gets nothing.
        var error = await _lab.Fails("UnauthorizedOperation", "ec2", "create-tags", "--resources", Ok, Padded, "--tags", "Key=AutoStop:IdleSince,Value=2026-11-23T08:00:00Z");
        Assert.Contains("You are not authorized to perform this operation.", error);
        Assert.Contains($"ec2:CreateTags on resource: arn:aws:ec2:us-east-1:123456789012:instance/{Padded}", error);
        Assert.DoesNotContain("AutoStop:IdleSince", _lab.Tags(Ok).Keys);

        await _lab.Fails("UnauthorizedOperation", "ec2", "create-tags", "--resources", Ok, Denied, "--tags", "Key=AutoStop:IdleSince,Value=x");
        Assert.DoesNotContain("AutoStop:IdleSince", _lab.Tags(Ok).Keys);

        // "TRUE" is the same as "true" ignoring case: allowed.
        await _lab.Aws("ec2", "create-tags", "--resources", Ok, Upper, "--tags", "Key=AutoStop:IdleSince,Value=x");
        Assert.Equal("x", _lab.Tags(Ok)["AutoStop:IdleSince"]);
        Assert.Equal("x", _lab.Tags(Upper)["AutoStop:IdleSince"]);
    }

    [Fact]
    public async Task DeleteTagsIsRefusedWholeWhenIamRefusesOneInstance()
    {
        await _lab.Aws("ec2", "create-tags", "--resources", Ok, NoDeleteTags, "--tags", "Key=AutoStop:IdleSince,Value=x");
        var error = await _lab.Fails("UnauthorizedOperation", "ec2", "delete-tags", "--resources", Ok, NoDeleteTags, "--tags", "Key=AutoStop:IdleSince");
        Assert.Contains($"ec2:DeleteTags on resource: arn:aws:ec2:us-east-1:123456789012:instance/{NoDeleteTags}", error);
        Assert.Contains("explicit deny", error);
        Assert.Equal("x", _lab.Tags(Ok)["AutoStop:IdleSince"]);
        Assert.Equal("x", _lab.Tags(NoDeleteTags)["AutoStop:IdleSince"]);

        await _lab.Aws("ec2", "delete-tags", "--resources", Ok, "--tags", "Key=AutoStop:IdleSince");
        Assert.DoesNotContain("AutoStop:IdleSince", _lab.Tags(Ok).Keys);
    }

    [Fact]
    public async Task CreateTagsIsRefusedWholeWhenOneInstanceIsAtTheFiftyTagLimit()
    {
        Assert.Equal(50, _lab.Tags(Full).Count); // AutoStop, Name and extraTags: 48
        var error = await _lab.Fails("TagLimitExceeded", "ec2", "create-tags", "--resources", Ok, Full, "--tags", "Key=AutoStop:IdleSince,Value=x");
        Assert.Contains(Full, error);
        Assert.DoesNotContain("AutoStop:IdleSince", _lab.Tags(Ok).Keys);
        // Overwriting a tag it already has adds none: allowed at the limit.
        await _lab.Aws("ec2", "create-tags", "--resources", Full, "--tags", "Key=extra-01,Value=y");
        Assert.Equal("y", _lab.Tags(Full)["extra-01"]);
    }

    [Fact]
    public async Task StopInstancesIsRefusedWholeWhenIamRefusesOneInstance()
    {
        var error = await _lab.Fails("UnauthorizedOperation", "ec2", "stop-instances", "--instance-ids", Ok, Denied);
        Assert.Contains($"ec2:StopInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/{Denied}", error);
        await _lab.Fails("UnauthorizedOperation", "ec2", "stop-instances", "--instance-ids", Padded, Ok);
        Assert.Equal("running", _lab.State(Ok));
        Assert.Equal("running", _lab.State(Padded));
    }

    [Fact]
    public async Task SendCommandNamingOneRefusedInstanceIsAccessDeniedAndSendsNothing()
    {
        var error = await _lab.Fails("AccessDeniedException", "ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", Ok, Padded);
        Assert.Contains($"ssm:SendCommand on resource: arn:aws:ec2:us-east-1:123456789012:instance/{Padded}", error);
        await _lab.Fails("AccessDeniedException", "ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", Denied, Ok);
        Assert.Empty(_lab.Server.Fleet.Commands.All());
        await _lab.Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", Ok, Upper);
        Assert.Single(_lab.Server.Fleet.Commands.All());
    }

    [Fact]
    public async Task SendCommandRefusesADeregisteredInstanceThatDescribeInstanceInformationStillListsOnline()
    {
        var info = await _lab.Aws("ssm", "describe-instance-information", "--filters", $"Key=InstanceIds,Values={Deregistered}");
        Assert.Equal("Online", Assert.Single(info.GetProperty("InstanceInformationList").EnumerateArray()).GetProperty("PingStatus").GetString());
        var error = await _lab.Fails("InvalidInstanceId", "ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", Ok, Deregistered);
        Assert.Contains(Deregistered, error);
        Assert.Empty(_lab.Server.Fleet.Commands.All());
    }

    [Fact]
    public async Task DescribeInstanceInformationByIdRefusesAnIdThatIsNotOwned()
    {
        var error = await _lab.Fails("InvalidInstanceId", "ssm", "describe-instance-information", "--filters", $"Key=InstanceIds,Values={Ok},i-0123456789abcdef0");
        Assert.Contains("i-0123456789abcdef0", error);
        await _lab.Fails("InvalidInstanceId", "ssm", "describe-instance-information", "--filters", $"Key=InstanceIds,Values={Ok},not-an-id");
        var owned = await _lab.Aws("ssm", "describe-instance-information", "--filters", $"Key=InstanceIds,Values={Ok},{Upper}");
        Assert.Equal(2, owned.GetProperty("InstanceInformationList").GetArrayLength());
    }

    [Fact]
    public async Task DescribeInstanceInformationFiltersByTagKeyAndTagValueAndLeavesStoppedInstancesOut()
    {
        var tagged = await Ids("describe-instance-information", "--filters", "Key=tag-key,Values=AutoStop");
        Assert.Contains(Ok, tagged);
        Assert.Contains(Padded, tagged);
        Assert.DoesNotContain(Parked, tagged); // stopped: not returned (botocore DescribeInstanceInformation doc)
        Assert.Equal(11, tagged.Count);
        Assert.Equal([Ok], await Ids("describe-instance-information", "--filters", "Key=tag:Team,Values=web"));
        Assert.Equal([Upper], await Ids("describe-instance-information", "--filters", "Key=tag:AutoStop,Values=TRUE"));
        Assert.Empty(await Ids("describe-instance-information", "--filters", "Key=tag-key,Values=autostop")); // keys are case-sensitive
        // Pages of 50 at most, as the function reads them: MaxResults 5 gives three pages here, and the CLI follows them.
        Assert.Equal(11, (await Ids("describe-instance-information", "--filters", "Key=tag-key,Values=AutoStop", "--page-size", "5")).Count);
    }

    private async Task<List<string>> Ids(params string[] args) =>
        (await _lab.Aws(["ssm", .. args])).GetProperty("InstanceInformationList").EnumerateArray().Select(i => i.GetProperty("InstanceId").GetString()!).ToList();

    [Fact]
    public async Task HibernateIsRefusedWholeWhenOneInstanceIsNotConfiguredForIt()
    {
        var error = await _lab.Fails("UnsupportedHibernationConfiguration", "ec2", "stop-instances", "--hibernate", "--instance-ids", Hibernates, Ok);
        Assert.Contains($"The instance can't be hibernated because it was not configured at launch for hibernation: {Ok}", error);
        Assert.Equal("running", _lab.State(Hibernates));
        var stopped = await _lab.Aws("ec2", "stop-instances", "--hibernate", "--instance-ids", Hibernates);
        Assert.Equal("stopping", stopped.GetProperty("StoppingInstances")[0].GetProperty("CurrentState").GetProperty("Name").GetString());
        Assert.True(_lab.Server.Fleet.Find(Hibernates)!.LastStopHibernated);
    }

    [Fact]
    public async Task DescribeSpotInstanceRequestsNamingOneDeletedRequestFailsWhole()
    {
        var described = await _lab.Aws("ec2", "describe-instances", "--instance-ids", Spot, SpotGone);
        var requests = described.GetProperty("Reservations").EnumerateArray().SelectMany(r => r.GetProperty("Instances").EnumerateArray())
            .ToDictionary(i => i.GetProperty("InstanceId").GetString()!, i => i.GetProperty("SpotInstanceRequestId").GetString()!);
        var error = await _lab.Fails("InvalidSpotInstanceRequestID.NotFound", "ec2", "describe-spot-instance-requests",
            "--spot-instance-request-ids", requests[Spot], requests[SpotGone]);
        Assert.Contains($"The spot instance request ID '{requests[SpotGone]}' does not exist", error);
        var live = await _lab.Aws("ec2", "describe-spot-instance-requests", "--spot-instance-request-ids", requests[Spot]);
        Assert.Equal(Spot, Assert.Single(live.GetProperty("SpotInstanceRequests").EnumerateArray()).GetProperty("InstanceId").GetString());
        // Listed without ids, a deleted request is simply not there.
        var all = await _lab.Aws("ec2", "describe-spot-instance-requests");
        Assert.DoesNotContain(all.GetProperty("SpotInstanceRequests").EnumerateArray(), r => r.GetProperty("InstanceId").GetString() == SpotGone);
    }

    [Fact]
    public async Task AProbeThatWarnsOnStderrSucceedsWithTheWarningUnderTheAgentsErrorLine()
    {
        var sent = await _lab.Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", Warns);
        var commandId = sent.GetProperty("Command").GetProperty("CommandId").GetString()!;
        var plugin = await FinishedPlugin(commandId);
        Assert.Equal("Success", plugin.GetProperty("Status").GetString());
        Assert.Equal(0, plugin.GetProperty("ResponseCode").GetInt32());
        var output = plugin.GetProperty("Output").GetString()!;
        var parts = output.Split(AgentOutput.ErrorTitle);
        Assert.Equal(2, parts.Length);
        Assert.Equal(1, JsonDocument.Parse(parts[0]).RootElement.GetProperty("v").GetInt32());
        Assert.Equal("perl: warning: Setting locale failed.\n", parts[1]);
        var single = await _lab.Aws("ssm", "get-command-invocation", "--command-id", commandId, "--instance-id", Warns);
        Assert.Equal("perl: warning: Setting locale failed.\n", single.GetProperty("StandardErrorContent").GetString());
        Assert.Equal(parts[0], single.GetProperty("StandardOutputContent").GetString());
    }

    [Fact]
    public async Task SendCommandTakesDefaultLatestOrAKnownDocumentVersion()
    {
        foreach (var version in new[] { "$DEFAULT", "$LATEST", "3" })
        {
            var sent = (await _lab.Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--document-version", version, "--instance-ids", Ok)).GetProperty("Command");
            Assert.Equal(version, sent.GetProperty("DocumentVersion").GetString());
            var invocation = (await _lab.Aws("ssm", "list-command-invocations", "--command-id", sent.GetProperty("CommandId").GetString()!)).GetProperty("CommandInvocations")[0];
            Assert.Equal(version, invocation.GetProperty("DocumentVersion").GetString());
        }
        var error = await _lab.Fails("InvalidDocumentVersion", "ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--document-version", "4", "--instance-ids", Ok);
        Assert.Contains("4", error);
        await _lab.Fails("ValidationException", "ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--document-version", "latest", "--instance-ids", Ok);
    }

    /// <summary>The command's only plugin once it has finished; polls a bounded number of times.</summary>
    private async Task<JsonElement> FinishedPlugin(string commandId)
    {
        for (var attempt = 0; attempt < 30; attempt++)
        {
            var invocations = (await _lab.Aws("ssm", "list-command-invocations", "--command-id", commandId, "--details")).GetProperty("CommandInvocations");
            if (invocations.GetArrayLength() == 1 && invocations[0].GetProperty("Status").GetString() is not ("Pending" or "InProgress"))
                return invocations[0].GetProperty("CommandPlugins")[0];
            await Task.Delay(100);
        }
        Assert.Fail($"command {commandId} did not finish");
        return default;
    }
}
