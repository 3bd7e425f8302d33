using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace AutoStop.Aws;

/// <summary>
/// Sends the stop notice document (agent/stop-notice.sh) to instances, 50 per SendCommand, isolated. Fire and forget:
/// the notice only writes a line to terminals, so its result is not polled (a tick spends no listing calls on it);
/// "warned" means SSM accepted the command for the instance.
/// </summary>
public sealed class SsmStopNotices(IAmazonSimpleSystemsManagement ssm, ApiCallLog calls) : IStopNotices
{
    /// <summary>SSM's smallest TimeoutSeconds (botocore ssm SendCommand: TimeoutSeconds min 30); the script takes seconds.</summary>
    private const int TimeoutSeconds = 30;

    public async Task<IReadOnlyDictionary<string, AwsFailure>> SendAsync(IReadOnlyList<string> instanceIds, NoticeRequest request, CancellationToken cancellationToken)
    {
        var refused = new Dictionary<string, AwsFailure>(StringComparer.Ordinal);
        foreach (var batch in instanceIds.Chunk(SsmCommands.MaxInstancesPerCommand))
        {
            var result = await SsmCommands.SendIsolatedAsync(ssm, calls, batch, part => new SendCommandRequest
            {
                DocumentName = request.DocumentName,
                DocumentVersion = request.DocumentVersion,
                InstanceIds = [.. part],
                // The document's own allowedPatterns check these again (agent/stop-notice.sh too).
                Parameters = new Dictionary<string, List<string>>
                {
                    ["StopAt"] = [Configuration.SettingValues.FormatTime(request.StopAt)],
                    ["Action"] = [request.Hibernate ? "hibernate" : "stop"],
                },
                TimeoutSeconds = TimeoutSeconds,
                MaxConcurrency = SsmCommands.MaxInstancesPerCommand.ToString(System.Globalization.CultureInfo.InvariantCulture),
                MaxErrors = "100%",
                Comment = SsmCommands.Comment(request.Comment),
            }, cancellationToken);
            foreach (var (id, failure) in result.Refused) refused[id] = failure;
        }
        return refused;
    }
}
