using System.Globalization;
using System.Text.Json.Nodes;
using AutoStop.Lab.Fleet;

namespace AutoStop.Lab.Running;

/// <summary>The demo's readable timeline: one row per instance per tick, from the function's own decision lines.</summary>
public sealed class DemoTimeline(TextWriter output)
{
    private readonly Dictionary<string, string> _lastRow = new(StringComparer.Ordinal);

    private bool _headerShown;

    public void Header()
    {
        _headerShown = true;
        output.WriteLine($"{"time",-6} {"instance",-14} {"state",-8} {"ssh",3} {"ssm",3} {"idle",6}  {"decision",-10} {"reason",-22} why");
        output.WriteLine(new string('-', 110));
    }

    /// <summary>Prints the rows that changed since the last tick (an unchanged keep is not news).</summary>
    public void Tick(TickRecord tick, LabFleet fleet)
    {
        if (!_headerShown) Header();
        var time = tick.Time.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture);
        foreach (var decision in RunSummary.Events(tick.Lines, "decision"))
        {
            var id = decision["instanceId"]?.GetValue<string>() ?? "?";
            var name = decision["name"]?.GetValue<string>() ?? id;
            var sessions = decision["sessions"] as JsonObject;
            var idle = decision["idleSeconds"]?.GetValue<long>() is { } s ? $"{s / 60}m" : "-";
            var action = decision["action"]?.GetValue<string>() ?? "?";
            var reason = decision["reason"]?.GetValue<string>() ?? "?";
            var state = decision["state"]?.GetValue<string>() ?? fleet.Find(id)?.State ?? "?";
            var row = $"{Trim(name, 14),-14} {state,-8} {Count(sessions, "ssh"),3} {Count(sessions, "ssm"),3} {idle,6}  {action,-10} {reason,-22} {decision["message"]?.GetValue<string>()}";
            var key = $"{action}/{reason}/{Count(sessions, "ssh")}/{Count(sessions, "ssm")}";
            if (_lastRow.GetValueOrDefault(id) == key && reason != "idle-below-threshold") continue;
            _lastRow[id] = key;
            output.WriteLine($"{time,-6} {row}");
        }
        if (!tick.Succeeded) output.WriteLine($"{time,-6} (the invocation failed: {tick.ErrorType}: {tick.Body})");
    }

    public void Summary(JsonObject summary)
    {
        var fleet = summary["fleet"]!.AsObject();
        var function = summary["function"]!.AsObject();
        output.WriteLine();
        output.WriteLine("Summary");
        output.WriteLine($"  ticks run:              {summary["ticks"]!["count"]} (every {summary["tickMinutes"]} virtual minutes, {summary["wallSeconds"]} s of real time)");
        output.WriteLine($"  stops:                  {fleet["stops"]}");
        output.WriteLine($"  sessions interrupted:   {fleet["sessionsInterrupted"]}   (a stop while someone was connected; must be 0)");
        output.WriteLine($"  idle minutes not saved: {fleet["idleMinutesNotSaved"]} (opted-in instances idle past their threshold: the schedule's granularity, or not observable)");
        output.WriteLine($"  probe failures:         {fleet["probeFailures"]} (never stopped: not observed)");
        output.WriteLine($"  function cold start:    {function["coldStartMs"]} ms to its first Runtime API request, peak RSS {function["peakRssKb"]} KiB");
        foreach (var instance in summary["instances"]!.AsArray())
            output.WriteLine($"  {instance!["name"],-14} final state {instance["finalState"],-8} stops {instance["stops"]!.AsArray().Count}  " +
                (instance["optedIn"]!.GetValue<bool>() ? $"idle minutes not saved {instance["idleMinutesNotSaved"]}" : "not opted in"));
    }

    private static string Count(JsonObject? sessions, string kind) => sessions?[kind]?.ToJsonString() is { } v && v != "null" ? v : "-";

    private static string Trim(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
