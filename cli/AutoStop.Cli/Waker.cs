using System.Diagnostics;
using System.Net.Sockets;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using AutoStop.Configuration;

namespace AutoStop.Cli;

/// <summary>Which address to connect to: the public IPv4 when there is one, else the private one (auto), or one of them.</summary>
public enum AddressChoice { Auto, Public, Private }

/// <summary>
/// Starts an instance and waits, in order, until EC2 says running, its SSM agent is Online (skipped for an instance SSM has
/// never registered), and its SSH port accepts a TCP connection; progress goes to stderr as one line. Every wait is bounded
/// by the deadline; on timeout the failure says which step it was stuck at and what it last saw.
/// </summary>
public sealed class Waker(IAmazonEC2 ec2, IAmazonSimpleSystemsManagement ssm, InstanceDirectory directory, AutoStopConfig config, PersonClock clock, TextWriter stderr)
{
    /// <summary>Between polls. EC2 and SSM describe calls are cheap reads; 500 ms keeps what the command adds to the
    /// instance's own start under a second (bench/wake) at about 2 calls a second while waiting.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>One TCP connect attempt to the SSH port may take this long before the next poll.</summary>
    public static readonly TimeSpan ConnectAttempt = TimeSpan.FromSeconds(2);

    private readonly Stopwatch _watch = new();

    /// <summary>Starts <paramref name="instance"/> when stopped (waiting out stopping first) and, when <paramref name="wait"/>,
    /// waits until it is up. Returns the instance as last described (its new address, once running).</summary>
    public async Task<PersonInstance> StartAsync(PersonInstance instance, bool wait, int sshPort, AddressChoice address, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _watch.Restart();
        var deadline = timeout;
        stderr.Write(Intro(instance));
        stderr.Flush();
        var current = instance;
        try
        {
            if (current.State == "stopping")
            {
                Progress("stopping first...");
                current = await PollAsync(current, i => i.State != "stopping", deadline, "EC2 to finish stopping it", cancellationToken);
            }
            if (current.State == "stopped")
            {
                Progress("starting...");
                await AwsGuard.CallAsync("ec2:StartInstances", current.Label,
                    () => ec2.StartInstancesAsync(new StartInstancesRequest { InstanceIds = [current.Id] }, cancellationToken));
            }
            else if (current.State is not ("pending" or "running"))
                throw new CliFailure(ExitCodes.AwsError, $"{current.Label} is {current.State} and cannot be started.");
            if (!wait) { stderr.WriteLine(); return current; }

            current = await PollAsync(current, i => i.State == "running", deadline, "EC2 to report it running", cancellationToken);
            Progress($"running after {Seconds()},");
            await WaitForAgentAsync(current, deadline, cancellationToken);
            if (sshPort == 0)
                Progress("SSH port not checked (--port 0)");
            else if (address == AddressChoice.Auto && current.PublicIp is null && current.PrivateIp is null)
                Progress("no IPv4 address, so no SSH port to check (Session Manager: README)");
            else
            {
                await WaitForPortAsync(current, Address(current, address), sshPort, deadline, cancellationToken);
                Progress($"sshd after {Seconds()}");
            }
            stderr.WriteLine();
            stderr.Flush();
            return current;
        }
        catch (CliFailure)
        {
            stderr.WriteLine();
            throw;
        }
    }

    private string Intro(PersonInstance i)
    {
        var stoppedAt = i.StoppedAt(config);
        var idleSince = i.IdleSince(config);
        var why = stoppedAt is { } s
            ? $"{i.Label} was stopped by AutoStop at {clock.Format(s)}" +
              (idleSince is { } since && since <= s ? $" after {(int)(s - since).TotalMinutes} idle minutes" : "")
            : $"{i.Label} is {i.State}" + (i.State == "stopped" ? " (not stopped by AutoStop)" : "");
        return why + ";";
    }

    private void Progress(string text)
    {
        stderr.Write(" " + text);
        stderr.Flush();
    }

    private string Seconds() => $"{(int)Math.Round(_watch.Elapsed.TotalSeconds)} s";

    private async Task<PersonInstance> PollAsync(PersonInstance instance, Func<PersonInstance, bool> done, TimeSpan deadline, string step, CancellationToken cancellationToken)
    {
        var current = instance;
        while (true) // bounded by the deadline
        {
            current = await directory.RefreshAsync(current.Id, cancellationToken);
            if (done(current)) return current;
            if (current.State is "terminated" or "shutting-down")
                throw new CliFailure(ExitCodes.AwsError, $"{current.Label} is {current.State}: it will not come up.");
            await DelayOrTimeoutAsync(deadline, $"waiting for {step} (EC2 state: {current.State})", current, cancellationToken);
        }
    }

    private async Task WaitForAgentAsync(PersonInstance instance, TimeSpan deadline, CancellationToken cancellationToken)
    {
        string? last = null;
        while (true) // bounded by the deadline
        {
            var info = await AwsGuard.CallAsync("ssm:DescribeInstanceInformation", instance.Label,
                () => ssm.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
                {
                    Filters = [new InstanceInformationStringFilter { Key = "InstanceIds", Values = [instance.Id] }],
                }, cancellationToken));
            var entry = (info.InstanceInformationList ?? []).FirstOrDefault(e => e.InstanceId == instance.Id);
            if (entry is null)
            {
                // Never registered with SSM (no agent, no instance profile): there is no agent to wait for. AutoStop itself
                // only stops instances it could probe through SSM, so this is a manual opt-in without the agent.
                Progress("not managed by SSM (no agent to wait for),");
                return;
            }
            last = entry.PingStatus?.Value;
            if (last == "Online")
            {
                Progress($"SSM agent online after {Seconds()},");
                return;
            }
            await DelayOrTimeoutAsync(deadline, $"waiting for its SSM agent to be Online (PingStatus: {last ?? "none"})", instance, cancellationToken);
        }
    }

    private async Task WaitForPortAsync(PersonInstance instance, string address, int port, TimeSpan deadline, CancellationToken cancellationToken)
    {
        string last = "no answer yet";
        while (true) // bounded by the deadline
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(ConnectAttempt);
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(address, port, attempt.Token);
                return;
            }
            catch (SocketException e) { last = e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : e.Message; }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { last = $"no answer within {ConnectAttempt.TotalSeconds:0} s"; }
            await DelayOrTimeoutAsync(deadline, $"waiting for its SSH port {address}:{port} to answer ({last})", instance, cancellationToken);
        }
    }

    private async Task DelayOrTimeoutAsync(TimeSpan deadline, string where, PersonInstance instance, CancellationToken cancellationToken)
    {
        if (_watch.Elapsed + PollInterval > deadline)
            throw new CliFailure(ExitCodes.Timeout,
                $"{instance.Label} did not come up within {deadline.TotalSeconds:0} s: stuck {where}. " +
                (instance.State is "pending" or "running" ? "It was started and may still come up; `autostop start " + (instance.Name ?? instance.Id) + " --wait` waits again." : ""));
        await Task.Delay(PollInterval, cancellationToken);
    }

    /// <summary>The address to connect to; a CliFailure when the chosen kind is missing.</summary>
    public static string Address(PersonInstance instance, AddressChoice choice) => choice switch
    {
        AddressChoice.Public => instance.PublicIp ?? throw new CliFailure(ExitCodes.ConnectionFailed,
            $"{instance.Label} has no public IPv4 address; use --address private (from inside its network) or Session Manager (README)."),
        AddressChoice.Private => instance.PrivateIp ?? throw new CliFailure(ExitCodes.ConnectionFailed, $"{instance.Label} has no private IPv4 address."),
        _ => instance.PublicIp ?? instance.PrivateIp ?? throw new CliFailure(ExitCodes.ConnectionFailed,
            $"{instance.Label} has no IPv4 address; use Session Manager (README: ProxyCommand with aws ssm start-session)."),
    };
}
