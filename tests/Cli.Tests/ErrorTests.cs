using System.Text.Json;
using AutoStop.TestSupport;

namespace AutoStop.Cli.Tests;

/// <summary>Each error the issue names: a clear message, its own exit code, and nothing done (the lab counts every call).</summary>
public sealed class ErrorTests : IAsyncLifetime
{
    private const string Twin1 = "i-0c00000000000000c", Twin2 = "i-0d00000000000000d", Carol = "i-0e00000000000000e",
        Slow = "i-0f00000000000000f", Deaf = "i-01000000000000001";
    private LabFleetServer _lab = null!;
    private static readonly int ClosedPort = FreePort.Next(); // nothing listens here

    public async Task InitializeAsync() => _lab = await LabFleetServer.StartAsync($$"""
          - { id: {{Twin1}}, name: twin, state: stopped, tags: { AutoStop: "true" } }
          - { id: {{Twin2}}, name: twin, state: stopped }
          - { id: {{Carol}}, name: carol-dev, state: stopped, address: 127.0.0.1, tags: { Team: web, AutoStop: "false" } }
          - { id: {{Slow}}, name: slow-agent, state: stopped, address: 127.0.0.1, startSeconds: 0, agentOnlineSeconds: 3600, tags: { AutoStop: "true" } }
          - { id: {{Deaf}}, name: no-sshd, state: stopped, address: 127.0.0.1, startSeconds: 0, tags: { AutoStop: "true" } }
        """);

    public async Task DisposeAsync() => await _lab.DisposeAsync();

    private void NothingChanged()
    {
        Assert.Equal(0, _lab.Calls("EC2:StartInstances"));
        Assert.Equal(0, _lab.Calls("EC2:CreateTags"));
        Assert.Equal(0, _lab.Calls("EC2:DeleteTags"));
    }

    [Theory]
    [InlineData("start", "nobody-dev")]
    [InlineData("ssh-proxy", "nobody-dev")]
    [InlineData("snooze", "nobody-dev")]
    public async Task AnUnknownNameIsRefused(string command, string name)
    {
        string[] args = command switch { "ssh-proxy" => [command, name, "22"], "snooze" => [command, name, "1h"], _ => [command, name] };
        var (code, stdout, stderr) = await Autostop.RunAsync(_lab.Url, args);
        Assert.Equal(ExitCodes.UnknownInstance, code);
        Assert.Equal("", stdout);
        Assert.Contains("no instance named 'nobody-dev' in us-east-1", stderr);
        NothingChanged();
    }

    [Fact]
    public async Task AnUnknownIdIsRefused()
    {
        var (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "start", "i-0123456789abcdef0");
        Assert.Equal(ExitCodes.UnknownInstance, code);
        Assert.Contains("no instance with id i-0123456789abcdef0 in us-east-1", stderr);
        NothingChanged();
    }

    [Fact]
    public async Task ANameSharedBySeveralInstancesListsThemAndStartsNone()
    {
        var (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "start", "twin");
        Assert.Equal(ExitCodes.AmbiguousName, code);
        Assert.Contains("2 instances in us-east-1 are named 'twin'", stderr);
        Assert.Contains($"{Twin1}  stopped   opted in", stderr);
        Assert.Contains($"{Twin2}  stopped   not opted in", stderr);
        NothingChanged();
        Assert.Equal("stopped", _lab.State(Twin1));
    }

    [Theory]
    [InlineData("start")]
    [InlineData("ssh-proxy")]
    [InlineData("snooze")]
    public async Task AnInstanceThatDidNotOptInIsNeitherWokenNorSnoozed(string command)
    {
        string[] args = command switch { "ssh-proxy" => [command, "carol-dev", "22", "--wake", "always"], "snooze" => [command, "carol-dev", "1h"], _ => [command, "carol-dev", "--wait"] };
        var (code, stdout, stderr) = await Autostop.RunAsync(_lab.Url, args);
        Assert.Equal(ExitCodes.NotOptedIn, code);
        Assert.Equal("", stdout);
        Assert.Contains($"carol-dev ({Carol}) has not opted in to AutoStop (its tag AutoStop is 'false', not true)", stderr);
        Assert.Contains("Nothing was done", stderr);
        NothingChanged();
        Assert.Equal("stopped", _lab.State(Carol));
    }

    [Fact]
    public async Task AnInstanceWhoseAgentNeverComesOnlineTimesOutSayingWhere()
    {
        var (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "start", "slow-agent", "--wait", "--timeout", "3");
        Assert.Equal(ExitCodes.Timeout, code);
        Assert.Contains($"slow-agent ({Slow}) did not come up within 3 s: stuck waiting for its SSM agent to be Online (PingStatus: ConnectionLost)", stderr);
        Assert.Contains("running after", stderr); // the progress got that far
    }

    [Fact]
    public async Task AnInstanceWhoseSshPortNeverAnswersTimesOutSayingWhere()
    {
        var (code, stdout, stderr) = await Autostop.RunAsync(_lab.Url, "ssh-proxy", "--timeout", "3", "no-sshd", ClosedPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ExitCodes.Timeout, code);
        Assert.Equal("", stdout);
        Assert.Contains($"no-sshd ({Deaf}) did not come up within 3 s: stuck waiting for its SSH port 127.0.0.1:{ClosedPort} to answer (connection refused)", stderr);
    }

    [Fact]
    public async Task AnInstanceStillPendingAtTheTimeoutSaysSo()
    {
        await using var lab = await LabFleetServer.StartAsync("""
              - { id: i-02000000000000002, name: slow-boot, state: stopped, address: 127.0.0.1, startSeconds: 600, tags: { AutoStop: "true" } }
            """);
        var (code, _, stderr) = await Autostop.RunAsync(lab.Url, "start", "slow-boot", "--wait", "--timeout", "2");
        Assert.Equal(ExitCodes.Timeout, code);
        Assert.Contains("stuck waiting for EC2 to report it running (EC2 state: pending)", stderr);
        Assert.Contains("It was started and may still come up", stderr);
    }

    [Fact]
    public async Task UsageErrorsExitTwoAndDoNothing()
    {
        var (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "ssh-proxy", "twin");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("autostop:", stderr);
        (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "ssh-proxy", "--wake", "sometimes", "twin", "22");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("sometimes", stderr);
        (code, _, stderr) = await Autostop.RunAsync(_lab.Url, "start", "twin", "--timeout", "0");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--timeout '0' is not allowed: whole seconds from 1 to 3600.", stderr);
        NothingChanged();
    }

    [Fact]
    public async Task AnUnreachableEndpointIsAnAwsError()
    {
        var (code, _, stderr) = await Autostop.RunAsync($"http://127.0.0.1:{ClosedPort}", "ls");
        Assert.Equal(ExitCodes.AwsError, code);
        Assert.Contains("ec2:DescribeInstances failed", stderr);
    }
}
