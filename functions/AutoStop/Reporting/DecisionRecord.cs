using AutoStop.Aws;
using AutoStop.Inventory;
using AutoStop.Policy;
using AutoStop.Probing;

namespace AutoStop.Reporting;

/// <summary>Everything the decision line says about one instance: the policy's decision plus what acting on it did.</summary>
public sealed record DecisionRecord(
    InstanceRecord Instance,
    Decision Decision,
    ProbeOutcome? Probe,
    bool DryRun,
    string? Fallback = null,
    AwsFailure? ActionError = null,
    IReadOnlyList<string>? TagsWritten = null,
    IReadOnlyList<string>? TagsRemoved = null);
