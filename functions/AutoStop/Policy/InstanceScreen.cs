using AutoStop.Configuration;
using AutoStop.Inventory;

namespace AutoStop.Policy;

/// <summary>
/// The checks that need no probe: is this instance ours to decide at all? Pure: tags and EC2 facts in,
/// settings or a skip decision out. Instances screened out are not sent a probe.
/// </summary>
public static class InstanceScreen
{
    public sealed record Result(InstanceSettings? Settings, Decision? Skip);

    public static Result Screen(InstanceRecord instance, AutoStopConfig config)
    {
        var threshold = config.IdleMinutes * 60L;
        if (!instance.IsRunning)
            return Skipped(ReasonCodes.NotRunning, $"The instance is {instance.State}, not running.", threshold);

        instance.Tags.TryGetValue(config.TagKey, out var optIn);
        if (optIn is null || !optIn.Trim().Equals("true", StringComparison.OrdinalIgnoreCase))
            return Skipped(ReasonCodes.NotOptedIn,
                optIn is null ? $"The instance has no {config.TagKey} tag." : $"Tag {config.TagKey}='{optIn}' is not true, so the instance has not opted in.", threshold);

        if (instance.AutoScalingGroup is { } group)
            return Skipped(ReasonCodes.AutoScalingGroup, $"The instance belongs to Auto Scaling group '{group}', which would replace it if stopped.", threshold);
        if (instance.Lifecycle == "spot" && instance.SpotRequestType != "persistent")
            return Skipped(ReasonCodes.SpotInstance,
                instance.SpotRequestType is null ? "A Spot instance whose request type is unknown; a one-time Spot instance cannot be stopped." : "A one-time Spot instance cannot be stopped (only terminated).", threshold);
        if (instance.RootDeviceType == "instance-store")
            return Skipped(ReasonCodes.InstanceStoreRoot, "An instance-store-backed instance cannot be stopped (only terminated).", threshold);

        var (settings, problems) = InstanceSettingsReader.Read(instance.Tags, config);
        if (settings is null)
            return Skipped(ReasonCodes.InvalidTag, "Skipped: " + string.Join("; ", problems.Select(p => p.Describe())) + ".", threshold);
        return new Result(settings, null);
    }

    private static Result Skipped(string reason, string message, long threshold) => new(null, Decision.Skip(reason, message, threshold));
}
