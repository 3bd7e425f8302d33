using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace AutoStop.Aws;

/// <summary>
/// SendCommand for a batch of instances, isolated: SSM refuses the whole call for one id it will not run on
/// (InvalidInstanceId: the agent lost its registration; AccessDeniedException: IAM's tag condition refuses one instance),
/// so the batch is split until each refused instance stands alone and the others still get the command. Used by the
/// probe and the stop notice, which differ only in the request they build.
/// </summary>
internal static class SsmCommands
{
    /// <summary>SendCommand's InstanceIds limit (botocore ssm SendCommand: InstanceIdList max 50).</summary>
    public const int MaxInstancesPerCommand = 50;

    /// <summary>SendCommand's Comment is at most 100 characters (botocore ssm: Comment max 100).</summary>
    public static string Comment(string text) => text.Length > 100 ? text[..100] : text;

    /// <summary>Sends <paramref name="build"/>'s request for the ids given; each accepted part comes back with its command id.</summary>
    public static Task<BatchIsolation.Result<string>> SendIsolatedAsync(IAmazonSimpleSystemsManagement ssm, ApiCallLog calls,
        IReadOnlyList<string> instanceIds, Func<IReadOnlyList<string>, SendCommandRequest> build, CancellationToken cancellationToken) =>
        BatchIsolation.RunAsync(instanceIds, "SSM:SendCommand", calls, async part =>
        {
            var request = build(part);
            try
            {
                var response = await calls.InvokeAsync("SSM:SendCommand", token => ssm.SendCommandAsync(request, token), cancellationToken);
                return (response.Command.CommandId, (AwsFailure?)null);
            }
            catch (AwsCallException e) { return (null, e.Failure); }
        });
}
