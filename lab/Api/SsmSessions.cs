using System.Globalization;
using System.Text.Json.Nodes;
using AutoStop.Lab.Fleet;

namespace AutoStop.Lab.Api;

/// <summary>
/// SSM DescribeSessions (botocore ssm/2014-11-06): State Active | History (required); Filters (SessionFilterList, 1..6 of
/// { key, value }, lower-case member names) with keys InvokedAfter (sessions that started at or after the time),
/// InvokedBefore (started before it), Target (an instance id), Owner, Status, SessionId (AccessType: Standard is the only
/// kind the lab has); MaxResults 1..200; NextToken. Errors: InvalidFilterKey, InvalidNextToken. Each Session has
/// SessionId, Target, Status (Connected while active, Terminated in history), StartDate, EndDate (history only),
/// DocumentName, Owner, AccessType. "Terminated sessions from the past 30 days" only. Newest first (an order the lab
/// chose; the API documents none).
/// </summary>
public sealed partial class SsmEndpoint
{
    /// <summary>Sessions in a page when MaxResults is not given (the lab's choice; the model sets no default).</summary>
    public const int DefaultSessionPage = 20;

    private static readonly string[] SessionFilterKeys = ["InvokedAfter", "InvokedBefore", "Target", "Owner", "Status", "SessionId", "AccessType"];

    private JsonObject DescribeSessions(JsonObject request)
    {
        var now = fleet.Clock.Now;
        var state = request["State"]?.GetValue<string>()
            ?? throw new SsmError("ValidationException", "1 validation error detected: Value null at 'state' failed to satisfy constraint: Member must not be null");
        if (state is not ("Active" or "History"))
            throw new SsmError("ValidationException", $"1 validation error detected: Value '{state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [Active, History]");
        var active = state == "Active";
        IEnumerable<ManagerSession> sessions = SessionHistory.At(fleet, now)
            .Where(s => s.IsActive == active && (active || s.EndDate >= now - TimeSpan.FromDays(30)));

        var filters = request["Filters"]?.AsArray() ?? [];
        if (request["Filters"] is not null && filters.Count is 0 or > 6)
            throw new SsmError("ValidationException", $"1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length between 1 and 6");
        foreach (var filter in filters)
        {
            var key = filter?["key"]?.GetValue<string>() ?? "";
            var value = filter?["value"]?.GetValue<string>() ?? "";
            if (!SessionFilterKeys.Contains(key))
                throw new SsmError("InvalidFilterKey", $"The filter key '{key}' is not valid: InvokedAfter, InvokedBefore, Target, Owner, Status, SessionId or AccessType.");
            if (value.Length is 0 or > 400)
                throw new SsmError("ValidationException", "1 validation error detected: Value at 'filters.member.value' failed to satisfy constraint: Member must have length between 1 and 400");
            sessions = key switch
            {
                "InvokedAfter" => sessions.Where(s => s.StartDate >= FilterTime(key, value)),
                "InvokedBefore" => sessions.Where(s => s.StartDate < FilterTime(key, value)),
                "Target" => sessions.Where(s => s.Target == value),
                "Owner" => sessions.Where(s => s.Owner == value),
                "Status" => sessions.Where(s => Status(s) == value),
                "SessionId" => sessions.Where(s => s.SessionId == value),
                _ => sessions.Where(_ => value == "Standard"),
            };
        }
        var max = MaxResults(request, 1, 200, DefaultSessionPage);
        var (page, next) = Page(sessions.OrderByDescending(s => s.StartDate).ThenBy(s => s.SessionId, StringComparer.Ordinal).ToList(), request, max);
        var response = new JsonObject
        {
            ["Sessions"] = new JsonArray(page.Select(s =>
            {
                var json = new JsonObject
                {
                    ["SessionId"] = s.SessionId,
                    ["Target"] = s.Target,
                    ["Status"] = Status(s),
                    ["StartDate"] = Epoch(s.StartDate),
                    ["DocumentName"] = "SSM-SessionManagerRunShell",
                    ["Owner"] = s.Owner,
                    ["AccessType"] = "Standard",
                };
                if (s.EndDate is { } end) json["EndDate"] = Epoch(end);
                return (JsonNode)json;
            }).ToArray()),
        };
        if (next is not null) response["NextToken"] = next;
        return response;
    }

    private static string Status(ManagerSession s) => s.IsActive ? "Connected" : "Terminated";

    /// <summary>InvokedAfter/InvokedBefore take a timestamp such as 2024-08-29T00:00:00Z (SessionFilter.value doc).</summary>
    private static DateTimeOffset FilterTime(string key, string value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : throw new SsmError("ValidationException", $"The {key} filter value '{value}' is not a time: use ISO-8601, e.g. 2024-08-29T00:00:00Z");
}
