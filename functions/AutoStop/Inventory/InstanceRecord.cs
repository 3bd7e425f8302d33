namespace AutoStop.Inventory;

/// <summary>What EC2 says about one tagged instance: the facts the policy needs, nothing else.</summary>
/// <param name="State">EC2 state name: pending, running, stopping, stopped, shutting-down, terminated.</param>
/// <param name="LaunchTime">For EBS-backed instances, the last start.</param>
/// <param name="Lifecycle">null for on-demand; "spot", "scheduled" or "capacity-block".</param>
/// <param name="SpotRequestType">For Spot instances: "one-time" or "persistent"; null when unknown.</param>
/// <param name="RootDeviceType">"ebs" or "instance-store".</param>
/// <param name="Tags">Every tag of the instance (EC2 allows at most 50).</param>
public sealed record InstanceRecord(
    string InstanceId,
    string State,
    DateTimeOffset? LaunchTime,
    string? Lifecycle,
    string? SpotRequestType,
    string RootDeviceType,
    bool HibernationConfigured,
    IReadOnlyDictionary<string, string> Tags)
{
    public string? Name => Tags.TryGetValue("Name", out var name) ? name : null;
    public string? AutoScalingGroup => Tags.TryGetValue("aws:autoscaling:groupName", out var group) ? group : null;
    public bool IsRunning => State == "running";
}
