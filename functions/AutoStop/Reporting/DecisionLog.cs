using System.Globalization;
using System.Text.Json;
using AutoStop.Aws;
using AutoStop.Configuration;
using AutoStop.Policy;
using AutoStop.Probing;

namespace AutoStop.Reporting;

/// <summary>
/// The decision log: one "decision" line per instance, one "tick" line per tick, "error" lines for AWS failures.
/// Field names are a contract (README, saved Logs Insights queries); add fields, never rename them.
/// </summary>
public sealed class DecisionLog(JsonLineSink sink)
{
    public void Decision(DateTimeOffset time, DecisionRecord record)
    {
        var (instance, decision, probe, dryRun) = (record.Instance, record.Decision, record.Probe, record.DryRun);
        var (fallback, actionError, written, removed) = (record.Fallback ?? decision.Fallback, record.ActionError, record.TagsWritten, record.TagsRemoved);
        var report = probe?.Report;
        var message = decision.Message;
        if (report is { PreauthConnections: > 0 } r)
            message += $" {r.PreauthConnections} unauthenticated SSH connection(s) open (never counted as use): port 22 may be reachable from the internet.";
        // Compact by design (log ingestion is most of what AutoStop costs): a field is left out when it says nothing
        // (null, zero, false, empty); queries read a missing count as 0. The sessions object is always there.
        sink.Write(w =>
        {
            w.WriteString("event", "decision");
            w.WriteString("time", SettingValues.FormatTime(time));
            w.WriteString("instanceId", instance.InstanceId);
            if (instance.Name is { } name) w.WriteString("name", name);
            w.WriteString("action", decision.Action.ToLogName());
            w.WriteString("reason", decision.Reason);
            w.WriteString("message", message);
            w.WriteStartObject("sessions");
            if (report is null) { w.WriteNull("ssh"); w.WriteNull("ssm"); w.WriteNull("remoteShell"); }
            else { w.WriteNumber("ssh", report.SshSessions); w.WriteNumber("ssm", report.SsmSessions); w.WriteNumber("remoteShell", report.RemoteShellSessions); }
            w.WriteEndObject();
            if (decision.IdleSeconds is { } idle) w.WriteNumber("idleSeconds", idle);
            w.WriteNumber("thresholdSeconds", decision.ThresholdSeconds);
            if (dryRun) w.WriteBoolean("dryRun", true);
            if (instance.State != "running") w.WriteString("state", instance.State);
            if (probe is not null)
            {
                w.WriteString("probeStatus", ProbeStatusName(probe.Status));
                if (probe.CommandId is { } commandId) w.WriteString("commandId", commandId);
                if (probe.Status != ProbeStatus.Ok) w.WriteString("probeDetail", probe.Detail);
            }
            if (record.ProbeWarning is { } warning) w.WriteString("probeWarning", warning);
            if (record.ObservationAgeMs is { } age) w.WriteNumber("observationAgeMs", age);
            if (record.LastSsmSessionEnd is { } ssmEnd && ssmEnd <= time)
                w.WriteNumber("lastSsmSessionEndAgeSeconds", (long)(time - ssmEnd).TotalSeconds);
            if (report is not null)
            {
                WriteList(w, "users", report.Users);
                WriteIfPositive(w, "sshNoTtySessions", report.SshNoTtySessions);
                WriteIfSet(w, "lastLoginAgeSeconds", report.LastLoginAgeSeconds);
                WriteIfSet(w, "lastLogoutAgeSeconds", report.LastLogoutAgeSeconds);
                WriteIfSet(w, "minTtyIdleSeconds", report.MinTtyIdleSeconds);
                WriteIfSet(w, "keepAliveSeconds", report.KeepAliveSeconds);
                if (report.Load1 >= 0.01)
                {
                    w.WriteNumber("load1", report.Load1);
                    w.WriteNumber("cpuCount", report.CpuCount);
                }
                WriteIfPositive(w, "multiplexerSessions", report.MultiplexerSessions);
                WriteIfPositive(w, "preauthConnections", report.PreauthConnections);
                WriteList(w, "remoteShellKinds", report.RemoteShellKinds);
                WriteList(w, "systemBusy", report.SystemBusy);
                if (report.InboundConnections is { Count: > 0 } inbound)
                {
                    w.WriteStartObject("inboundConnections");
                    foreach (var (port, count) in inbound.OrderBy(p => p.Key)) w.WriteNumber(port.ToString(CultureInfo.InvariantCulture), count);
                    w.WriteEndObject();
                }
                if (report.InboundConnectionsOther is > 0) w.WriteNumber("inboundConnectionsOther", report.InboundConnectionsOther.Value);
                if (report.GpuUtilizationPercent is { } gpu) w.WriteNumber("gpuUtilizationPercent", gpu);
                WriteList(w, "busyProcesses", report.BusyProcesses);
                WriteList(w, "probeErrors", report.Errors);
            }
            if (decision.RestartedAfterSeconds is { } restarted)
            {
                w.WriteNumber("restartedAfterSeconds", restarted);
                if (decision.QuickRestart) w.WriteBoolean("quickRestart", true);
            }
            if (record.Warned is { } warned)
            {
                w.WriteBoolean("warned", warned);
                if (decision.Notice is { } notice) w.WriteString("stopAt", SettingValues.FormatTime(notice.StopAt));
            }
            if (fallback is not null) w.WriteString("fallback", fallback);
            if (actionError is not null)
            {
                w.WriteString("errorCode", actionError.Code);
                if (actionError.RequestId is { } requestId) w.WriteString("requestId", requestId);
            }
            WriteList(w, "tagsWritten", written);
            WriteList(w, "tagsRemoved", removed);
        });
    }

    public void Error(DateTimeOffset time, AwsFailure failure, string? instanceId = null, string? context = null) =>
        sink.Write(w =>
        {
            w.WriteString("event", "error");
            w.WriteString("time", SettingValues.FormatTime(time));
            w.WriteString("operation", failure.Operation);
            w.WriteString("errorCode", failure.Code);
            WriteNullable(w, "requestId", failure.RequestId);
            WriteNullable(w, "instanceId", instanceId);
            w.WriteString("message", context is null ? failure.Message : $"{context}: {failure.Message}");
        });

    public void Tick(TickSummary summary) =>
        sink.Write(w =>
        {
            w.WriteString("event", "tick");
            w.WriteString("time", SettingValues.FormatTime(summary.Time));
            w.WriteNumber("instances", summary.Instances);
            w.WriteNumber("probed", summary.Probed);
            w.WriteNumber("active", summary.Active);
            w.WriteNumber("idle", summary.Idle);
            w.WriteNumber("stopped", summary.Stopped);
            w.WriteNumber("skipped", summary.Skipped);
            w.WriteNumber("failed", summary.Failed);
            w.WriteNumber("wouldStop", summary.WouldStop);
            w.WriteNumber("probeFailures", summary.ProbeFailures);
            w.WriteNumber("unobservable", summary.Unobservable);
            w.WriteNumber("stillStoppedByAutoStop", summary.StillStoppedByAutoStop);
            w.WriteNumber("instanceHoursSaved", summary.InstanceHoursSaved);
            w.WriteNumber("preauthConnections", summary.PreauthConnections);
            w.WriteBoolean("dryRun", summary.DryRun);
            w.WriteBoolean("deadlineReached", summary.DeadlineReached);
            w.WriteBoolean("completed", summary.Completed);
            w.WriteNumber("durationMs", summary.DurationMs);
            w.WriteStartObject("apiCalls");
            foreach (var (operation, count) in summary.ApiCalls) w.WriteNumber(operation, count);
            w.WriteEndObject();
            w.WriteNumber("isolationCalls", summary.IsolationCalls);
            w.WriteNumber("throttledAttempts", summary.ThrottledAttempts);
            w.WriteNumber("quickRestarts", summary.QuickRestarts);
            w.WriteNumber("warned", summary.Warned);
        });

    internal static string ProbeStatusName(ProbeStatus status) => status switch
    {
        ProbeStatus.Ok => "ok",
        ProbeStatus.NotManaged => "not-managed",
        ProbeStatus.UnsupportedPlatform => "unsupported-platform",
        ProbeStatus.Undeliverable => "undeliverable",
        ProbeStatus.TimedOut => "timed-out",
        ProbeStatus.Failed => "failed",
        ProbeStatus.InvalidOutput => "invalid-output",
        ProbeStatus.NotProbed => "not-probed",
        _ => status.ToString(),
    };

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteNumber(name, value.Value);
    }

    private static void WriteIfSet(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
    }

    private static void WriteIfPositive(Utf8JsonWriter w, string name, int value)
    {
        if (value > 0) w.WriteNumber(name, value);
    }

    private static void WriteList(Utf8JsonWriter w, string name, IReadOnlyList<string>? values)
    {
        if (values is not { Count: > 0 }) return;
        w.WriteStartArray(name);
        foreach (var value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }
}
