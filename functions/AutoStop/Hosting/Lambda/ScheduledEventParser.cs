using System.Text.Json;
using System.Text.Json.Serialization;
using AutoStop.Configuration;

namespace AutoStop.Hosting.Lambda;

/// <summary>
/// The invocation payloads AutoStop accepts. Every one may carry "time" (the tick's now) and "dryRun" (only true counts):
/// - EventBridge Scheduler with the template's Input: {"time":"&lt;aws.scheduler.scheduled-time&gt;"};
/// - the classic EventBridge rule envelope: {"detail-type":"Scheduled Event","time":"2026-11-23T10:05:00Z",...};
/// - an empty object or empty payload (a hand invocation): the clock's time.
/// </summary>
public sealed record ScheduledEvent(
    [property: JsonPropertyName("time")] string? Time,
    [property: JsonPropertyName("detail-type")] string? DetailType,
    [property: JsonPropertyName("dryRun")] bool? DryRun);

/// <summary>What a payload asks for: the tick's time (null: use the clock) and whether to force dry run.
/// "dryRun":false is ignored (DryRunOffIgnored): a payload can make a tick safer, never turn off the deployment's dry run.</summary>
public sealed record TickTrigger(DateTimeOffset? Now, bool ForceDryRun = false, bool DryRunOffIgnored = false);

[JsonSerializable(typeof(ScheduledEvent))]
[JsonSourceGenerationOptions(AllowTrailingCommas = false, ReadCommentHandling = JsonCommentHandling.Disallow)]
internal sealed partial class ScheduledEventJsonContext : JsonSerializerContext;

public static class ScheduledEventParser
{
    private const string Allowed = "Allowed: an empty payload, {}, {\"time\":\"2026-11-23T10:05:00Z\"} (EventBridge Scheduler), " +
        "or an EventBridge \"Scheduled Event\"; each may add \"dryRun\":true.";

    /// <summary>
    /// Parses the payload; returns null and a message naming what is wrong when it is not one of the accepted shapes,
    /// or when its time is further than <paramref name="maxSkew"/> from <paramref name="clockNow"/> either way
    /// (null: not checked, AUTOSTOP_EVENT_MAX_SKEW_MINUTES=off). The payload's time becomes the policy's now: a far-future
    /// one (2099-01-01) would make every idle instance idle past its threshold at once, a far-past one would write an old
    /// IdleSince; neither comes from a real schedule, which delivers within a minute or drops the event.
    /// </summary>
    public static TickTrigger? TryParse(ReadOnlySpan<byte> payload, DateTimeOffset clockNow, TimeSpan? maxSkew, out string error)
    {
        error = "";
        if (payload.Trim(" \t\r\n"u8).IsEmpty) return new TickTrigger(null);
        ScheduledEvent? parsed;
        try
        {
            // null, an array, a string or a number is a mistake, not a "run now" (the deserializer would take null as that).
            var reader = new Utf8JsonReader(payload);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                error = $"The invocation payload must be a JSON object, not {Describe(reader.TokenType)}. {Allowed}";
                return null;
            }
            parsed = JsonSerializer.Deserialize(payload, ScheduledEventJsonContext.Default.ScheduledEvent)!;
        }
        catch (JsonException e)
        {
            error = $"The invocation payload is not a JSON object AutoStop accepts ({e.Message}). {Allowed}";
            return null;
        }
        // Another EventBridge event (e.g. a rule matching EC2 state changes) is not a tick.
        if (parsed.DetailType is not null && parsed.DetailType != "Scheduled Event")
        {
            error = $"The invocation payload is an EventBridge \"{parsed.DetailType}\" event, not a tick. {Allowed}";
            return null;
        }
        if (parsed.Time is null) return new TickTrigger(null, parsed.DryRun == true, parsed.DryRun == false);
        if (!SettingValues.TryParseTime(parsed.Time, out var now))
        {
            error = $"The invocation payload's time '{parsed.Time}' is not allowed: use an ISO-8601 time: {SettingValues.TimeForms}.";
            return null;
        }
        if (maxSkew is { } limit && (now - clockNow).Duration() > limit)
        {
            var ahead = now > clockNow;
            error = $"The invocation payload's time '{parsed.Time}' is {Span((now - clockNow).Duration())} {(ahead ? "ahead of" : "behind")} the clock " +
                $"({SettingValues.FormatTime(clockNow)}); at most {Span(limit)} either way is allowed (AUTOSTOP_EVENT_MAX_SKEW_MINUTES: auto is the larger of " +
                "15 minutes and two schedule periods; off for a virtual clock). Nothing was done: a time that far off would decide every instance's idle time wrongly.";
            return null;
        }
        return new TickTrigger(now, parsed.DryRun == true, parsed.DryRun == false);
    }

    private static string Span(TimeSpan span)
    {
        var minutes = (long)Math.Ceiling(span.TotalMinutes);
        return minutes < 120 ? $"{minutes} min" : minutes < 2880 ? $"{minutes / 60} h {minutes % 60} min" : $"{minutes / 1440} days";
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Null => "null",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => token.ToString(),
    };
}
