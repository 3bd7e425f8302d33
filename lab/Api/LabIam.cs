using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Api;

/// <summary>
/// The function role's IAM policy as templates/template.yaml writes it, applied to the actions that name instances:
/// ec2:StopInstances, ec2:CreateTags, ec2:DeleteTags and ssm:SendCommand are allowed only on an instance whose opt-in tag
/// (aws:ResourceTag/KEY, ssm:resourceTag/KEY) is StringEqualsIgnoreCase "true". IAM string conditions compare the
/// whole value, ignoring case only, not whitespace: " true" or "true " is refused (IAM User Guide, "String condition
/// operators"). A scenario may refuse more (`iam: deny`, or `iam: { deny: [...] }`: an SCP, a permissions boundary, a
/// Deny statement). Only instances the lab knows are judged; the tags are read at the moment of the request, as IAM does.
/// </summary>
public sealed class LabIam(Scenario scenario)
{
    public const string Account = "123456789012", Region = "us-east-1";

    /// <summary>The principal the function runs as (the template's FunctionRole, assumed by Lambda).</summary>
    public const string Principal = $"arn:aws:sts::{Account}:assumed-role/AutoStop-FunctionRole/AutoStop-lab";

    public static string InstanceArn(string id) => $"arn:aws:ec2:{Region}:{Account}:instance/{id}";

    /// <summary>The first of <paramref name="instances"/> IAM refuses <paramref name="action"/> on, and whether the refusal
    /// is explicit (a scenario's deny) or implicit (the template's tag condition is not met), or null when all are allowed.</summary>
    public (LabInstance Instance, bool Explicit)? FirstRefused(string action, IEnumerable<LabInstance> instances)
    {
        foreach (var i in instances)
        {
            if (i.Spec.Iam.DeniedActions.Contains(action)) return (i, true);
            string? value;
            lock (i.Gate) value = i.Tags.GetValueOrDefault(scenario.TagKey);
            if (!string.Equals(value, "true", StringComparison.OrdinalIgnoreCase)) return (i, false);
        }
        return null;
    }

    /// <summary>
    /// The sentence IAM puts in a refusal, naming principal, action and resource, and why. Form as AWS documents it for
    /// EC2 (re:Post knowledge-center/ec2-not-auth-launch: "User: ... is not authorized to perform: ec2:RunInstances on
    /// resource: ... because no identity-based policy allows the ec2:RunInstances action") and as SSM answers
    /// SendCommand (peterkimzz/aws-ssm-send-command#13: "User: ... is not authorized to perform: ssm:SendCommand on
    /// resource: arn:aws:ec2:...:instance/...").
    /// </summary>
    public static string Refusal(string action, LabInstance instance, bool explicitDeny) => Refusal(action, instance.Id, explicitDeny);

    public static string Refusal(string action, string instanceId, bool explicitDeny) =>
        $"User: {Principal} is not authorized to perform: {action} on resource: {InstanceArn(instanceId)} " +
        (explicitDeny ? "with an explicit deny in an identity-based policy" : $"because no identity-based policy allows the {action} action");
}
