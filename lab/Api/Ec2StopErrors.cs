namespace AutoStop.Lab.Api;

/// <summary>
/// The errors a scenario's stop-error fault can make StopInstances answer, each with the HTTP status and message EC2
/// gives for it, so the function sees what it would see in AWS.
/// </summary>
public static class Ec2StopErrors
{
    public static readonly IReadOnlyList<string> Codes =
    [
        "OperationNotPermitted", "IncorrectInstanceState", "UnsupportedOperation", "UnsupportedHibernationConfiguration",
        "UnauthorizedOperation", "InvalidInstanceID.NotFound", "RequestLimitExceeded", "InternalError",
    ];

    public static (int Status, string Message) For(string code, string instanceId) => code switch
    {
        "OperationNotPermitted" => (400, $"The instance '{instanceId}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again."),
        "IncorrectInstanceState" => (400, $"The instance '{instanceId}' is not in a state from which it can be stopped."),
        "UnsupportedOperation" => (400, $"The instance '{instanceId}' does not have an 'ebs' root device type and cannot be stopped."),
        // As EC2 answers StopInstances with Hibernate=true for an instance launched without hibernation
        // (aws-solutions/instance-scheduler-on-aws#510), which names the instance after the last colon.
        "UnsupportedHibernationConfiguration" => (400, $"The instance can't be hibernated because it was not configured at launch for hibernation: {instanceId}"),
        "UnauthorizedOperation" => (403, $"You are not authorized to perform this operation. {LabIam.Refusal("ec2:StopInstances", instanceId, true)}."),
        "InvalidInstanceID.NotFound" => (400, $"The instance ID '{instanceId}' does not exist"),
        "RequestLimitExceeded" => (503, "Request limit exceeded."),
        "InternalError" => (500, "An internal error has occurred."),
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "not a stop error the lab knows"),
    };
}
