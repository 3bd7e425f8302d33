using AutoStop.Aws;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;

namespace AutoStop.Reporting;

/// <summary>Everything the decision line says about one instance: the policy's decision plus what acting on it did.</summary>
/// <param name="ObservedAt">When the probe looked (wall clock), for the stop's observation age.</param>
/// <param name="ProbeWarning">What the probe wrote on stderr, if anything (reported, not a failure).</param>
/// <param name="ObservationAgeMs">For a stop: how old the look was when StopInstances was sent.</param>
/// <param name="LastSsmSessionEnd">End of the instance's last Session Manager session, when SSM listed one.</param>
/// <param name="Warned">For a decision with a stop notice: true when SSM took the notice for the instance, false when it
/// could not be sent (an error line says why); null when there was none to send.</param>
public sealed record DecisionRecord(
    InstanceRecord Instance,
    Decision Decision,
    ProbeOutcome? Probe,
    bool DryRun,
    string? Fallback = null,
    AwsFailure? ActionError = null,
    IReadOnlyList<string>? TagsWritten = null,
    IReadOnlyList<string>? TagsRemoved = null,
    DateTimeOffset? ObservedAt = null,
    string? ProbeWarning = null,
    long? ObservationAgeMs = null,
    DateTimeOffset? LastSsmSessionEnd = null,
    bool? Warned = null);
