namespace AutoStop.Cli.Tests;

/// <summary>
/// The issue's end-to-end case: the real OpenSSH client, `autostop ssh-proxy` as its ProxyCommand, the lab's EC2 and SSM,
/// and a real sshd on 127.0.0.1 standing in for the instance (its lab address). Nothing is mocked on the path measured.
/// </summary>
public sealed class SshProxyEndToEndTests(LoopbackSshd sshd) : IClassFixture<LoopbackSshd>
{
    private const string Alice = "i-0a1ce000000000001";

    [Fact]
    public async Task SshToAnInstanceAutoStopStoppedStartsItWaitsConnectsAndASecondRunJustConnects()
    {
        await using var lab = await LabFleetServer.StartAsync($$"""
              - { id: {{Alice}}, name: alice-dev, state: stopped, address: 127.0.0.1, startSeconds: 2, agentOnlineSeconds: 1,
                  tags: { AutoStop: "true", "AutoStop:IdleSince": "{{LabFleetServer.Ago(95)}}", "AutoStop:StoppedAt": "{{LabFleetServer.Ago(80)}}" } }
            """);
        Assert.Equal("stopped", lab.State(Alice));

        var (code, stdout, stderr) = await sshd.SshAsync(lab.Url, "alice-dev", "echo hello from $(whoami) via autostop");

        Assert.True(code == 0, $"ssh exited {code}: {stderr}");
        Assert.Equal($"hello from {sshd.User} via autostop", stdout.Trim());           // the command's output came back over the proxy
        Assert.Equal("running", lab.State(Alice));                                      // started in the lab, running afterwards
        Assert.Equal(1, lab.Calls("EC2:StartInstances"));
        // stderr: why it was stopped (AutoStop's own tags: 15 idle minutes before the stop), then the progress.
        Assert.Matches(@"alice-dev \(i-0a1ce000000000001\) was stopped by AutoStop at \d\d:\d\d after 15 idle minutes; starting\.\.\. " +
                       @"running after \d+ s, SSM agent online after \d+ s, sshd after \d+ s", stderr);
        Assert.True(lab.Calls("SSM:DescribeInstanceInformation") >= 1, "the proxy waited for the SSM agent");

        // Second run: the instance is running: connect without starting anything, and say nothing on stderr.
        var before = lab.Server.Gate.Calls.Where(c => c.Key != "EC2:DescribeInstances").ToDictionary();
        (code, stdout, stderr) = await sshd.SshAsync(lab.Url, "alice-dev", "echo second");
        Assert.True(code == 0, $"ssh exited {code}: {stderr}");
        Assert.Equal("second", stdout.Trim());
        Assert.Equal(1, lab.Calls("EC2:StartInstances"));
        Assert.Equal(before, lab.Server.Gate.Calls.Where(c => c.Key != "EC2:DescribeInstances").ToDictionary()); // only a describe
        Assert.DoesNotContain("starting", stderr);
    }

    [Fact]
    public async Task ABackgroundReconnectRightAfterAnAutoStopStopIsRefusedAndWakeAlwaysOverrides()
    {
        const string bob = "i-0b0b0000000000002";
        await using var lab = await LabFleetServer.StartAsync($$"""
              - { id: {{bob}}, name: bob-dev, state: stopped, address: 127.0.0.1, startSeconds: 1,
                  tags: { AutoStop: "true", "AutoStop:StoppedAt": "{{LabFleetServer.Ago(5)}}" } }
            """);

        // ssh's stderr is a pipe here, as under an IDE: no terminal attached.
        var (code, stdout, stderr) = await sshd.SshAsync(lab.Url, "bob-dev", "echo should-not-run");
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Contains("not waking bob-dev (i-0b0b0000000000002): AutoStop stopped it at", stderr);
        Assert.Contains("less than 60 min", stderr);
        Assert.Contains("--wake always", stderr);
        Assert.Equal(0, lab.Calls("EC2:StartInstances"));
        Assert.Equal("stopped", lab.State(bob));

        (code, stdout, stderr) = await sshd.SshAsync(lab.Url, "bob-dev", "echo woken", "--wake", "always");
        Assert.True(code == 0, $"ssh exited {code}: {stderr}");
        Assert.Equal("woken", stdout.Trim());
        Assert.Equal("running", lab.State(bob));
    }

    [Fact]
    public async Task TheProxyItselfExitsWithTheRefusalCodeAndWritesNothingOnStdout()
    {
        const string bob = "i-0b0b0000000000003";
        await using var lab = await LabFleetServer.StartAsync($$"""
              - { id: {{bob}}, name: bob-dev, state: stopped, address: 127.0.0.1,
                  tags: { AutoStop: "true", "AutoStop:StoppedAt": "{{LabFleetServer.Ago(2)}}" } }
            """);
        var (code, stdout, stderr) = await Autostop.RunAsync(lab.Url, "ssh-proxy", "bob-dev", "22");
        Assert.Equal(ExitCodes.WakeRefused, code);
        Assert.Equal("", stdout);
        Assert.Contains("not waking", stderr);

        (code, stdout, stderr) = await Autostop.RunAsync(lab.Url, "ssh-proxy", "--wake", "never", "bob-dev", "22");
        Assert.Equal(ExitCodes.WakeRefused, code);
        Assert.Contains("--wake never", stderr);
        Assert.Equal("", stdout);
        Assert.Equal(0, lab.Calls("EC2:StartInstances"));
    }
}
