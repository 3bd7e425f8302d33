using System.Text.Json;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Running;
using AutoStop.Lab.Scenarios;
using AutoStop.TestSupport;

namespace AutoStop.Lab.Tests;

/// <summary>The stop notice's document in the lab's SSM (issue 13), through the AWS CLI (botocore's wire shapes): sent
/// with StopAt and Action, refused as SSM refuses bad parameters, recorded for the summary, and kept apart from the
/// probe's commands.</summary>
public sealed class StopNoticeLabTests : IAsyncLifetime
{
    private const string Scenario = """
        start: 2026-11-23T18:00:00Z
        duration: 1h
        instances:
          - { id: i-0a00000000000000a, name: forgotten, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: alice, from: "2026-11-23T16:00:00Z", to: "+2h", idleAfter: 1h }, { kind: tmux, user: alice, from: "2026-11-23T15:00:00Z", to: "+3h" } ] }
          - { id: i-0b00000000000000b, name: empty, tags: { AutoStop: "true" } }
          - { id: i-0c00000000000000c, name: parked, tags: { AutoStop: "true" }, state: stopped }
          - { id: i-0d00000000000000d, name: unreachable, tags: { AutoStop: "true" }, faults: [ { kind: undeliverable } ] }
          - { id: i-0e00000000000000e, name: probe-broken, tags: { AutoStop: "true" }, faults: [ { kind: probe-failed } ] }
        """;

    private const string Notice = "AutoStop-StopNotice";
    private const string Parameters = """{"StopAt":["2026-11-23T18:05:00Z"],"Action":["stop"]}""";

    private LabCli _lab = null!;

    public async Task InitializeAsync() => _lab = await LabCli.StartAsync(Scenario);

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    [Fact]
    public async Task TheNoticeIsDeliveredAndRecordedWithItsParametersAndItsInvocationsListed()
    {
        var sent = (await Aws("ssm", "send-command", "--document-name", Notice, "--instance-ids", "i-0a00000000000000a", "i-0b00000000000000b", "i-0e00000000000000e",
            "--parameters", Parameters, "--comment", "AutoStop notice")).GetProperty("Command");
        Assert.Equal(Notice, sent.GetProperty("DocumentName").GetString());
        Assert.Equal(3, sent.GetProperty("TargetCount").GetInt32());

        var invocations = await InvocationsWhen(sent.GetProperty("CommandId").GetString()!, v => v.GetProperty("Status").GetString() == "Success");
        string Output(string id) => invocations.Single(v => v.GetProperty("InstanceId").GetString() == id).GetProperty("CommandPlugins")[0].GetProperty("Output").GetString()!;
        Assert.All(invocations, v => Assert.Equal(Notice, v.GetProperty("DocumentName").GetString()));
        // The script's line for what the scenario has live there: alice's terminal and her tmux client; nobody on the other.
        Assert.Equal("""{"noticeVersion":"1.0.0","terminals":1,"tmuxClients":1,"errors":[]}""", Output("i-0a00000000000000a").TrimEnd('\n'));
        Assert.Equal("""{"noticeVersion":"1.0.0","terminals":0,"tmuxClients":0,"errors":[]}""", Output("i-0b00000000000000b").TrimEnd('\n'));
        // A broken probe script says nothing about the notice's.
        Assert.StartsWith("{\"noticeVersion\"", Output("i-0e00000000000000e"));

        var notices = _lab.Server.Fleet.Notices.All();
        Assert.Equal(["i-0a00000000000000a", "i-0b00000000000000b", "i-0e00000000000000e"], notices.Select(n => n.InstanceId).Order());
        Assert.All(notices, n => Assert.Equal(("2026-11-23T18:05:00Z", "stop"), (n.StopAt, n.Action)));
        Assert.All(notices, n => Assert.InRange(n.At, _lab.Server.Fleet.Scenario.Start, _lab.Server.Fleet.Clock.Now));
    }

    [Fact]
    public async Task OnlyRunningSsmOnlineInstancesGetItAndAnUndeliverableOneIsNotRecorded()
    {
        var (code, _, stderr) = await Run("ssm", "send-command", "--document-name", Notice, "--instance-ids", "i-0c00000000000000c", "--parameters", Parameters);
        Assert.NotEqual(0, code);
        Assert.Contains("InvalidInstanceId", stderr);

        var sent = (await Aws("ssm", "send-command", "--document-name", Notice, "--instance-ids", "i-0d00000000000000d", "--parameters", Parameters)).GetProperty("Command");
        var invocation = Assert.Single(await InvocationsWhen(sent.GetProperty("CommandId").GetString()!, v => v.GetProperty("Status").GetString() == "Failed"));
        Assert.Equal("Undeliverable", invocation.GetProperty("StatusDetails").GetString());
        Assert.Empty(_lab.Server.Fleet.Notices.All());
    }

    [Theory]
    [InlineData("""{"StopAt":["2026-11-23T18:05:00+00:00"],"Action":["stop"]}""")]          // outside StopAt's allowedPattern
    [InlineData("""{"StopAt":["2026-11-23T18:05:00Z' ; reboot ; '"],"Action":["stop"]}""")]  // what the pattern is there for
    [InlineData("""{"StopAt":["2026-11-23T18:05:00Z\n"],"Action":["stop"]}""")]              // $ is the end, not before a newline
    [InlineData("""{"StopAt":["2026-11-23T18:05:00Z"],"Action":["terminate"]}""")]
    [InlineData("""{"StopAt":["2026-11-23T18:05:00Z"]}""")]                                   // Action is required (no default)
    [InlineData("""{"StopAt":["2026-11-23T18:05:00Z"],"Action":["stop"],"Message":["hi"]}""")] // not a parameter of the document
    [InlineData("""{"StopAt":["2026-11-23T18:05:00Z","2026-11-23T18:10:00Z"],"Action":["stop"]}""")]
    public async Task ParametersOutsideTheDocumentAreInvalidParametersAsSsmSays(string parameters)
    {
        var (code, _, stderr) = await Run("ssm", "send-command", "--document-name", Notice, "--instance-ids", "i-0b00000000000000b", "--parameters", parameters);
        Assert.NotEqual(0, code);
        Assert.Contains("(InvalidParameters)", stderr);
        Assert.Empty(_lab.Server.Fleet.Commands.All());
        Assert.Empty(_lab.Server.Fleet.Notices.All());
    }

    [Fact]
    public async Task TheProbeTakesNoParametersAndOtherDocumentsStayUnknown()
    {
        var (code, _, stderr) = await Run("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", "i-0b00000000000000b", "--parameters", Parameters);
        Assert.NotEqual(0, code);
        Assert.Contains("(InvalidParameters)", stderr);
        (code, _, stderr) = await Run("ssm", "send-command", "--document-name", "AutoStop-StopNotice2", "--instance-ids", "i-0b00000000000000b", "--parameters", Parameters);
        Assert.NotEqual(0, code);
        Assert.Contains("(InvalidDocument)", stderr);
    }

    [Fact]
    public async Task ProbeAndNoticeCommandsStayApart()
    {
        var probe = (await Aws("ssm", "send-command", "--document-name", "AutoStop-SessionProbe", "--instance-ids", "i-0a00000000000000a", "--comment", "AutoStop tick 18:00"))
            .GetProperty("Command").GetProperty("CommandId").GetString()!;
        var notice = (await Aws("ssm", "send-command", "--document-name", Notice, "--instance-ids", "i-0a00000000000000a", "--parameters", Parameters, "--comment", "AutoStop tick 18:00"))
            .GetProperty("Command").GetProperty("CommandId").GetString()!;

        // Polling the probe's command sees the probe's invocation only, with the probe's line.
        var probed = Assert.Single(await InvocationsWhen(probe, v => v.GetProperty("Status").GetString() == "Success"));
        Assert.Contains("\"sshSessions\"", probed.GetProperty("CommandPlugins")[0].GetProperty("Output").GetString());
        Assert.Single(await InvocationsWhen(notice, v => v.GetProperty("Status").GetString() == "Success"));
        // Unfiltered, both are listed, each under its own document.
        var all = (await Aws("ssm", "list-command-invocations", "--instance-id", "i-0a00000000000000a")).GetProperty("CommandInvocations").EnumerateArray()
            .Select(v => v.GetProperty("DocumentName").GetString()).Order().ToList();
        Assert.Equal(["AutoStop-SessionProbe", Notice], all);

        // The summary's probe rounds and observations are the probe's: one invocation in the round, not two.
        var scenario = _lab.Server.Fleet.Scenario;
        var summary = RunSummary.Build(new LabRunResult(scenario, _lab.Server.Fleet, _lab.Server.Gate, FunctionBuild.Jit, [], [], [], null, null, null, false, null, 1));
        var round = Assert.Single(summary["probeRounds"]!.AsArray())!;
        Assert.Equal(1, round["invocations"]!.GetValue<int>());
        var warned = summary["instances"]!.AsArray().Single(i => i!["instanceId"]!.GetValue<string>() == "i-0a00000000000000a")!;
        Assert.Equal(1, warned["notices"]!.GetValue<int>());
        Assert.Equal(1, summary["fleet"]!["notices"]!.GetValue<int>());
        var recorded = Assert.Single(summary["notices"]!.AsArray())!;
        Assert.Equal(("i-0a00000000000000a", "forgotten", "2026-11-23T18:05:00Z", "stop"),
            (recorded["instanceId"]!.GetValue<string>(), recorded["name"]!.GetValue<string>(), recorded["stopAt"]!.GetValue<string>(), recorded["action"]!.GetValue<string>()));
        Assert.Equal(1, recorded["tmuxClients"]!.GetValue<int>());
    }

    [Fact]
    public void TheLabsAllowedPatternsAreTheTemplates()
    {
        var template = File.ReadAllText(RepoPaths.Of("templates", "template.yaml"));
        foreach (var name in SsmEndpoint.NoticeParameters.Keys)
            Assert.Contains($"          {name}:\n            type: String\n", template);
        foreach (var pattern in SsmEndpoint.NoticeParameters.Values)
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(template, System.Text.RegularExpressions.Regex.Escape($"allowedPattern: \"{pattern}\"")));
    }

    private Task<JsonElement> Aws(params string[] args) => _lab.Aws(args);

    private Task<(int Code, string Stdout, string Stderr)> Run(params string[] args) => _lab.Run(args);

    private Task<List<JsonElement>> InvocationsWhen(string commandId, Func<JsonElement, bool> done) => _lab.InvocationsWhen(commandId, done, 50);
}
