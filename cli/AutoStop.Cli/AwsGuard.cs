using Amazon.Runtime;

namespace AutoStop.Cli;

/// <summary>
/// Runs one AWS call and turns its failure into a <see cref="CliFailure"/> that names the IAM action, so a person
/// knows which permission is missing (EC2 answers UnauthorizedOperation, SSM AccessDeniedException).
/// </summary>
public static class AwsGuard
{
    public const string PolicyHint =
        "The AutoStop people's policy (the stack's PeoplePolicyArn output) allows ec2:DescribeInstances, ssm:DescribeInstanceInformation, " +
        "and ec2:StartInstances, ec2:CreateTags/DeleteTags of the snooze tag on opted-in instances.";

    /// <param name="special">Turns an error the caller expects (e.g. InvalidInstanceID.NotFound) into its own failure; null: the usual mapping.</param>
    public static async Task<T> CallAsync<T>(string action, string? target, Func<Task<T>> call, Func<AmazonServiceException, CliFailure?>? special = null)
    {
        try { return await call(); }
        catch (AmazonServiceException e) when (special?.Invoke(e) is { } failure)
        {
            throw failure;
        }
        catch (AmazonServiceException e) when (e.ErrorCode is "UnauthorizedOperation" or "AccessDeniedException" or "AccessDenied")
        {
            throw new CliFailure(ExitCodes.PermissionDenied,
                $"missing permission: IAM refused {action}{(target is null ? "" : " on " + target)} ({e.ErrorCode}: {FirstLine(e.Message)}). {PolicyHint} Nothing was changed.");
        }
        catch (AmazonServiceException e)
        {
            throw new CliFailure(ExitCodes.AwsError, $"{action} failed: {(string.IsNullOrEmpty(e.ErrorCode) ? "HTTP " + (int)e.StatusCode : e.ErrorCode)}: {FirstLine(e.Message)}");
        }
        catch (AmazonClientException e)
        {
            throw new CliFailure(ExitCodes.AwsError, $"{action} failed: {FirstLine(e.Message)}{(e.InnerException is { } inner ? $" ({FirstLine(inner.Message)})" : "")}. " +
                "Credentials and region come from the AWS SDK chain (AWS_PROFILE, AWS_REGION, ~/.aws/config).");
        }
        catch (HttpRequestException e)
        {
            throw new CliFailure(ExitCodes.AwsError, $"{action} failed: AWS could not be reached: {FirstLine(e.Message)}");
        }
        catch (TaskCanceledException e)
        {
            throw new CliFailure(ExitCodes.AwsError, $"{action} failed: no answer in time ({FirstLine(e.Message)})");
        }
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length > 400 ? line[..400] + "..." : line;
    }
}
