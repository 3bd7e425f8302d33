using System.Text.Json;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;
using AutoStop.TestSupport;

namespace AutoStop.Lab.Tests;

/// <summary>The AWS CLI (botocore's exact wire shapes) against the lab's EC2 and SSM endpoints.</summary>
public sealed class AwsCliTests : IAsyncLifetime
{
    // "TRUE": IAM (the template's StringEqualsIgnoreCase) lets SendCommand and StopInstances name them, while EC2's
    // tag filter, which is case-sensitive, leaves them out of tag:AutoStop=true.
    private const string Scenario = """
        start: 2026-11-23T08:00:00Z
        duration: 1h
        instances:
          - { id: i-0a00000000000000a, name: alice-dev, tags: { AutoStop: "true", Team: web }, sessions: [ { kind: ssh, user: alice, from: "+0m", to: "+2h" } ] }
          - { id: i-0b00000000000000b, name: build, tags: { AutoStop: "true" } }
          - { id: i-0c00000000000000c, name: no-agent, tags: { AutoStop: "true" }, managed: false }
          - { name: pool, count: 12, tags: { Pool: "yes" } }
          - { id: i-0d00000000000000d, name: parked, tags: { AutoStop: "true" }, state: stopped }
          - { id: i-0e00000000000000e, name: parked-too, tags: { AutoStop: "true" }, state: stopped }
          - { id: i-0f00000000000000f, name: broken, tags: { AutoStop: "TRUE" }, faults: [ { kind: probe-failed } ] }
          - { id: i-01000000000000001, name: chatty, tags: { AutoStop: "TRUE" }, faults: [ { kind: truncated } ] }
          - { id: i-02000000000000002, name: hung, tags: { AutoStop: "TRUE" }, faults: [ { kind: probe-hang } ] }
        """;

    private LabCli _lab = null!;

    public async Task InitializeAsync() => _lab = await LabCli.StartAsync(Scenario);

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    [Fact]
    public async Task DescribeInstancesFiltersByTagAndState()
    {
        var result = await Aws("ec2", "describe-instances", "--filters", "Name=tag:AutoStop,Values=true", "Name=instance-state-name,Values=running");
        var ids = result.GetProperty("Reservations").EnumerateArray()
            .SelectMany(r => r.GetProperty("Instances").EnumerateArray()).Select(i => i.GetProperty("InstanceId").GetString()).Order().ToList();
        Assert.Equal(["i-0a00000000000000a", "i-0b00000000000000b", "i-0c00000000000000c"], ids);
        var alice = result.GetProperty("Reservations")[0].GetProperty("Instances")[0];
        Assert.Equal("running", alice.GetProperty("State").GetProperty("Name").GetString());
        Assert.Contains(alice.GetProperty("Tags").EnumerateArray(), t => t.GetProperty("Key").GetString() == "Team" && t.GetProperty("Value").GetString() == "web");
    }

    [Fact]
    public async Task DescribeInstancesPaginates()
    {
        var result = await Aws("ec2", "describe-instances", "--filters", "Name=tag-key,Values=Pool", "--page-size", "5");
        Assert.Equal(12, result.GetProperty("Reservations").EnumerateArray().Sum(r => r.GetProperty("Instances").GetArrayLength()));
        Assert.Equal(3, _lab.Server.Gate.Calls["EC2:DescribeInstances"]);
    }

    [Fact]
    public async Task StopTagAndUntag()
    {
        var stop = await Aws("ec2", "stop-instances", "--instance-ids", "i-0b00000000000000b");
        var change = stop.GetProperty("StoppingInstances")[0];
        Assert.Equal("stopping", change.GetProperty("CurrentState").GetProperty("Name").GetString());
        Assert.Equal("running", change.GetProperty("PreviousState").GetProperty("Name").GetString());

        await Aws("ec2", "create-tags", "--resources", "i-0b00000000000000b", "--tags", "Key=AutoStop:IdleSince,Value=2026-11-23T08:00:00Z");
        var tagged = await Aws("ec2", "describe-instances", "--instance-ids", "i-0b00000000000000b");
        var tags = tagged.GetProperty("Reservations")[0].GetProperty("Instances")[0].GetProperty("Tags").EnumerateArray().ToList();
        Assert.Contains(tags, t => t.GetProperty("Key").GetString() == "AutoStop:IdleSince");

        await Aws("ec2", "delete-tags", "--resources", "i-0b00000000000000b", "--tags", "Key=AutoStop:IdleSince");
        var untagged = await Aws("ec2", "describe-instances", "--instance-ids", "i-0b00000000000000b");
        Assert.DoesNotContain(untagged.GetProperty("Reservations")[0].GetProperty("Instances")[0].GetProperty("Tags").EnumerateArray(),
            t => t.GetProperty("Key").GetString() == "AutoStop:IdleSince");
    }

    [Fact]
    public async Task CreateTagsOverTheFiftyTagLimitWritesNothing()
    {
        int TagCount(JsonElement described) => described.GetProperty("Reservations")[0].GetProperty("Instances")[0].GetProperty("Tags").GetArrayLength();
        var before = TagCount(await Aws("ec2", "describe-instances", "--instance-ids", "i-0b00000000000000b"));
        var aliceBefore = TagCount(await Aws("ec2", "describe-instances", "--instance-ids", "i-0a00000000000000a"));
        Assert.True(aliceBefore > before, "alice-dev must carry more tags than build for this test");
        // Exactly fills build's 50, one too many for alice-dev, which comes second: build must not keep its share.
        var tags = Enumerable.Range(0, 50 - before).Select(n => $"Key=extra-{n},Value=x").ToArray();
        var (code, _, stderr) = await Run(["ec2", "create-tags", "--resources", "i-0b00000000000000b", "i-0a00000000000000a", "--tags", .. tags]);
        Assert.NotEqual(0, code);
        Assert.Contains("TagLimitExceeded", stderr);
        Assert.Contains("i-0a00000000000000a", stderr);
        Assert.Equal(before, TagCount(await Aws("ec2", "describe-instances", "--instance-ids", "i-0b00000000000000b")));
        Assert.Equal(aliceBefore, TagCount(await Aws("ec2", "describe-instances", "--instance-ids", "i-0a00000000000000a")));

        await Aws(["ec2", "create-tags", "--resources", "i-0b00000000000000b", "--tags", .. tags]);
        Assert.Equal(50, TagCount(await Aws("ec2", "describe-instances", "--instance-ids", "i-0b00000000000000b")));
    }

    [Fact]
    public async Task Ec2ErrorsCarryEc2Codes()
    {
        var (code, _, stderr) = await Run("ec2", "stop-instances", "--instance-ids", "i-0123456789abcdef0");
        Assert.NotEqual(0, code);
        Assert.Contains("InvalidInstanceID.NotFound", stderr);
    }

    [Fact]
    public async Task Ec2RefusesStateChangesFromTheWrongStateAndTakesRepeatsAsDone()
    {
        // Pending (30 s on the real-time clock): EC2 will not stop it yet; starting it again changes nothing.
        Assert.Equal(("stopped", "pending"), Change(await Aws("ec2", "start-instances", "--instance-ids", "i-0d00000000000000d"), "StartingInstances"));
        var (code, _, stderr) = await Run("ec2", "stop-instances", "--instance-ids", "i-0a00000000000000a", "i-0d00000000000000d");
        Assert.NotEqual(0, code);
        Assert.Contains("IncorrectInstanceState", stderr);
        Assert.Contains("The instance 'i-0d00000000000000d' is not in a state from which it can be stopped.", stderr);
        Assert.Equal("running", State(await Aws("ec2", "describe-instances", "--instance-ids", "i-0a00000000000000a"))); // the whole call was refused
        Assert.Equal(("pending", "pending"), Change(await Aws("ec2", "start-instances", "--instance-ids", "i-0d00000000000000d"), "StartingInstances"));

        // Stopping (60 s): EC2 will not start it; stopping it again succeeds and changes nothing. So does stopping a stopped one.
        Assert.Equal(("running", "stopping"), Change(await Aws("ec2", "stop-instances", "--instance-ids", "i-0b00000000000000b"), "StoppingInstances"));
        Assert.Equal(("stopping", "stopping"), Change(await Aws("ec2", "stop-instances", "--instance-ids", "i-0b00000000000000b"), "StoppingInstances"));
        (code, _, stderr) = await Run("ec2", "start-instances", "--instance-ids", "i-0b00000000000000b");
        Assert.NotEqual(0, code);
        Assert.Contains("IncorrectInstanceState", stderr);
        Assert.Contains("The instance 'i-0b00000000000000b' is not in a state from which it can be started.", stderr);
        Assert.Equal(("stopped", "stopped"), Change(await Aws("ec2", "stop-instances", "--instance-ids", "i-0e00000000000000e"), "StoppingInstances"));
    }

    private static (string Previous, string Current) Change(JsonElement result, string list)
    {
        var change = result.GetProperty(list)[0];
        return (change.GetProperty("PreviousState").GetProperty("Name").GetString()!, change.GetProperty("CurrentState").GetProperty("Name").GetString()!);
    }

    private static string State(JsonElement described) =>
        described.GetProperty("Reservations")[0].GetProperty("Instances")[0].GetProperty("State").GetProperty("Name").GetString()!;

    [Fact]
    public async Task SendCommandAndReadTheProbeOutput()
    {
        var sent = await Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", "i-0a00000000000000a", "i-0b00000000000000b");
        var commandId = sent.GetProperty("Command").GetProperty("CommandId").GetString()!;

        JsonElement invocations = default;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            invocations = (await Aws("ssm", "list-command-invocations", "--command-id", commandId, "--details")).GetProperty("CommandInvocations");
            if (invocations.GetArrayLength() == 2 && invocations.EnumerateArray().All(i => i.GetProperty("Status").GetString() == "Success")) break;
            await Task.Delay(100);
        }
        var alice = invocations.EnumerateArray().Single(i => i.GetProperty("InstanceId").GetString() == "i-0a00000000000000a");
        var output = alice.GetProperty("CommandPlugins")[0].GetProperty("Output").GetString()!;
        Assert.Empty(ProbeSchema.Load(RepoPaths.Of("agent", "schema.json")).Validate(output.TrimEnd('\n')));
        var report = JsonDocument.Parse(output).RootElement;
        Assert.Equal(1, report.GetProperty("sshSessions").GetInt32());

        var single = await Aws("ssm", "get-command-invocation", "--command-id", commandId, "--instance-id", "i-0b00000000000000b");
        Assert.Equal("Success", single.GetProperty("Status").GetString());
        Assert.Equal(0, JsonDocument.Parse(single.GetProperty("StandardOutputContent").GetString()!).RootElement.GetProperty("sshSessions").GetInt32());
    }

    [Fact]
    public async Task SendCommandByTagTargetsTheTaggedInstancesAndNobodyWhenNoneMatch()
    {
        var sent = (await Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--targets", "Key=tag:Team,Values=web")).GetProperty("Command");
        Assert.Equal(1, sent.GetProperty("TargetCount").GetInt32());
        Assert.Equal("tag:Team", sent.GetProperty("Targets")[0].GetProperty("Key").GetString());
        var invocations = await InvocationsWhen(sent.GetProperty("CommandId").GetString()!, v => v.GetProperty("Status").GetString() == "Success");
        Assert.Equal("i-0a00000000000000a", Assert.Single(invocations).GetProperty("InstanceId").GetString());

        var none = (await Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--targets", "Key=tag:Team,Values=nobody")).GetProperty("Command");
        Assert.Equal(0, none.GetProperty("TargetCount").GetInt32());
        Assert.Empty((await Aws("ssm", "list-command-invocations", "--command-id", none.GetProperty("CommandId").GetString()!)).GetProperty("CommandInvocations").EnumerateArray());

        var (code, _, stderr) = await Run("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", "i-0a00000000000000a", "--targets", "Key=tag:Team,Values=web");
        Assert.NotEqual(0, code);
        Assert.Contains("ValidationException", stderr);
        Assert.Contains("InstanceIds and Targets", stderr);
    }

    [Fact]
    public async Task CommandOutputIsJoinedCutAndReportedAsSsmDoes()
    {
        var commandId = (await Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe",
            "--instance-ids", "i-0f00000000000000f", "i-01000000000000001", "i-02000000000000002")).GetProperty("Command").GetProperty("CommandId").GetString()!;
        var invocations = await InvocationsWhen(commandId, v => v.GetProperty("InstanceId").GetString() == "i-02000000000000002"
            ? v.GetProperty("Status").GetString() == "InProgress" : v.GetProperty("Status").GetString() is "Success" or "Failed");
        JsonElement Plugin(string id) => invocations.Single(v => v.GetProperty("InstanceId").GetString() == id).GetProperty("CommandPlugins")[0];

        // A failed script: stdout (empty here), then the agent's ERROR line, then stderr.
        var failed = Plugin("i-0f00000000000000f");
        Assert.Equal("Failed", failed.GetProperty("Status").GetString());
        Assert.Equal(127, failed.GetProperty("ResponseCode").GetInt32());
        Assert.StartsWith("\n----------ERROR-------\n", failed.GetProperty("Output").GetString());
        Assert.Contains("command not found", failed.GetProperty("Output").GetString());
        // A long line: the agent cuts the plugin Output to 2,500 characters with its marker; GetCommandInvocation has all of it.
        var cut = Plugin("i-01000000000000001").GetProperty("Output").GetString()!;
        Assert.Equal(SsmEndpoint.ListOutputLimit, cut.Length);
        Assert.EndsWith("\n---Output truncated---", cut);
        var whole = (await Aws("ssm", "get-command-invocation", "--command-id", commandId, "--instance-id", "i-01000000000000001")).GetProperty("StandardOutputContent").GetString()!;
        Assert.True(whole.Length > SsmEndpoint.ListOutputLimit, $"{whole.Length} characters");
        Assert.StartsWith(cut[..^"\n---Output truncated---".Length], whole);
        // Still running: "In Progress", with a space, as SSM spells its details.
        Assert.Equal("In Progress", Plugin("i-02000000000000002").GetProperty("StatusDetails").GetString());
        Assert.Equal("In Progress", invocations.Single(v => v.GetProperty("InstanceId").GetString() == "i-02000000000000002").GetProperty("StatusDetails").GetString());
    }

    [Fact]
    public async Task PluginStartAndFinishTimesAreRealTimeAndOnlyThereOnceTheyHappened()
    {
        var sent = DateTimeOffset.UtcNow;
        var commandId = (await Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe",
            "--instance-ids", "i-0b00000000000000b", "i-02000000000000002")).GetProperty("Command").GetProperty("CommandId").GetString()!;
        var invocations = await InvocationsWhen(commandId, v => v.GetProperty("InstanceId").GetString() == "i-02000000000000002"
            ? v.GetProperty("Status").GetString() == "InProgress" : v.GetProperty("Status").GetString() == "Success");
        var read = DateTimeOffset.UtcNow;
        JsonElement Plugin(string id) => invocations.Single(v => v.GetProperty("InstanceId").GetString() == id).GetProperty("CommandPlugins")[0];
        DateTimeOffset Time(JsonElement plugin, string field) => CliTime.Of(plugin.GetProperty(field));

        var done = Plugin("i-0b00000000000000b");
        var (start, finish) = (Time(done, "ResponseStartDateTime"), Time(done, "ResponseFinishDateTime"));
        // Wall-clock times (not the lab's virtual 08:00): between sending and reading, start before finish.
        // The CLI prints them to the microsecond at most; allow a millisecond either side.
        Assert.InRange(start, sent.AddMilliseconds(-1), finish);
        Assert.InRange(finish, start, read.AddMilliseconds(1));
        // A hung probe has started and not finished.
        var hung = Plugin("i-02000000000000002");
        Assert.InRange(Time(hung, "ResponseStartDateTime"), sent.AddMilliseconds(-1), read.AddMilliseconds(1));
        Assert.False(hung.TryGetProperty("ResponseFinishDateTime", out _));
    }

    [Fact]
    public async Task SsmRefusesUnmanagedInstancesAndUnknownDocuments()
    {
        var info = await Aws("ssm", "describe-instance-information");
        var managed = info.GetProperty("InstanceInformationList").EnumerateArray().Select(i => i.GetProperty("InstanceId").GetString()).ToList();
        Assert.Contains("i-0a00000000000000a", managed);
        Assert.DoesNotContain("i-0c00000000000000c", managed);

        var (code, _, stderr) = await Run("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", "i-0c00000000000000c");
        Assert.NotEqual(0, code);
        Assert.Contains("InvalidInstanceId", stderr);

        (code, _, stderr) = await Run("ssm", "send-command", "--document-name", "AWS-RunPowerShellScript", "--instance-ids", "i-0a00000000000000a");
        Assert.NotEqual(0, code);
        Assert.Contains("InvalidDocument", stderr);
    }

    private Task<JsonElement> Aws(params string[] args) => _lab.Aws(args);

    private Task<(int Code, string Stdout, string Stderr)> Run(params string[] args) => _lab.Run(args);

    private Task<List<JsonElement>> InvocationsWhen(string commandId, Func<JsonElement, bool> done) => _lab.InvocationsWhen(commandId, done, 30);
}
