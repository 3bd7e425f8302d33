using AutoStop.Configuration;
using AutoStop.Inventory;

namespace AutoStop.Policy;

/// <summary>
/// The checks that need no probe: is this instance ours to decide at all? Pure: tags and EC2 facts in,
/// settings or a skip decision out. Instances screened out are not sent a probe.
/// </summary>
public static class InstanceScreen
{
    /// <summary>EC2 allows 50 user tags per resource; tags whose key starts with aws: do not count
    /// (AWS docs, "Tag your Amazon EC2 resources", tag restrictions).</summary>
    public const int Ec2TagLimit = 50;

    public sealed record Result(InstanceSettings? Settings, Decision? Skip);

    public static Result Screen(InstanceRecord instance, AutoStopConfig config)
    {
        var threshold = config.IdleMinutes * 60L;
        if (!instance.IsRunning)
            return Skipped(ReasonCodes.NotRunning, $"The instance is {instance.State}, not running.", threshold);

        var optedIn = OptInTag.Read(instance.Tags, config, out var optIn);
        if (optedIn == OptIn.Missing)
            return Skipped(ReasonCodes.NotOptedIn, $"The instance has no {config.TagKey} tag.", threshold);
        // Exactly what the role's IAM policy allows: StringEqualsIgnoreCase "true" ignores case, not spaces. A padded
        // value looks opted in to a person but AWS refuses SendCommand, CreateTags and StopInstances naming the instance
        // (failing the whole call for the instances batched with it), so it is a bad tag, not "not opted in".
        if (optedIn != OptIn.OptedIn)
        {
            if (optedIn == OptIn.Padded)
                return Skipped(ReasonCodes.InvalidTag,
                    $"Skipped: tag {config.TagKey}='{optIn}' is not allowed: exactly true (any case) without spaces around it; " +
                    "the role's IAM policy compares it with StringEqualsIgnoreCase, which ignores case but not spaces, so AWS would refuse to probe, tag or stop this instance.",
                    threshold);
            return Skipped(ReasonCodes.NotOptedIn, $"Tag {config.TagKey}='{optIn}' is not true, so the instance has not opted in.", threshold);
        }

        if (instance.AutoScalingGroup is { } group)
            return Skipped(ReasonCodes.AutoScalingGroup, $"The instance belongs to Auto Scaling group '{group}', which would replace it if stopped.", threshold);
        if (instance.Lifecycle == "spot" && instance.SpotRequestType != "persistent")
            return Skipped(ReasonCodes.SpotInstance,
                instance.SpotRequestType is null ? "A Spot instance whose request type is unknown; a one-time Spot instance cannot be stopped." : "A one-time Spot instance cannot be stopped (only terminated).", threshold);
        if (instance.RootDeviceType == "instance-store")
            return Skipped(ReasonCodes.InstanceStoreRoot, "An instance-store-backed instance cannot be stopped (only terminated).", threshold);

        if (TagRoomProblem(instance, config) is { } full)
            return Skipped(ReasonCodes.TagLimit, full, threshold);

        var (settings, problems) = InstanceSettingsReader.Read(instance.Tags, config);
        if (settings is null)
            return Skipped(ReasonCodes.InvalidTag, "Skipped: " + string.Join("; ", problems.Select(p => p.Describe())) + ".", threshold);
        return new Result(settings, null);
    }

    /// <summary>
    /// An instance must be able to hold every state tag (IdleSince, StoppedAt, StopReason): writing one it lacks past EC2's limit fails CreateTags with
    /// TagLimitExceeded for every instance named in the same call, and an instance stopped without StoppedAt would not be
    /// recognised as AutoStop's when it runs again. Null when there is room.
    /// </summary>
    internal static string? TagRoomProblem(InstanceRecord instance, AutoStopConfig config)
    {
        var counted = instance.Tags.Keys.Count(k => !k.StartsWith("aws:", StringComparison.OrdinalIgnoreCase));
        var missing = InstanceSettingsReader.StateNames.Select(n => config.TagPrefix + n).Where(k => !instance.Tags.ContainsKey(k)).ToList();
        var excess = counted + missing.Count - Ec2TagLimit;
        if (excess <= 0) return null;
        return $"The instance has {counted} tags (aws: tags not counted) and lacks {JoinAnd(missing)}: EC2 allows {Ec2TagLimit} tags per resource, " +
            $"so AutoStop could not record its idle state or a stop. Remove {excess} tag{(excess == 1 ? "" : "s")} to let AutoStop manage it.";
    }

    private static string JoinAnd(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Join("", items) : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];

    private static Result Skipped(string reason, string message, long threshold) => new(null, Decision.Skip(reason, message, threshold));
}
