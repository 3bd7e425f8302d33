using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AutoStop.Lab.Api;
using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Tests;

/// <summary>The lab clock moves during a tick (real time x clockScale) and a probe describes the virtual moment it ran.</summary>
public sealed class VirtualClockTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task TheClockRunsScaledDuringATickStandsStillBetweenAndNeverGoesBack()
    {
        var clock = new LabClock(Start, followsRealTime: false, scale: 600);
        Assert.Equal(Start, clock.Now); // before the first tick: still
        clock.Set(Start);
        await Task.Delay(200);
        var running = clock.Now;
        Assert.InRange(running - Start, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(600)); // 0.2 s real x 600, with scheduling slack
        clock.Pause();
        var paused = clock.Now;
        await Task.Delay(100);
        Assert.Equal(paused, clock.Now);
        // A tick scheduled before where the clock already is starts from where it is.
        clock.Set(Start + TimeSpan.FromSeconds(1));
        Assert.True(clock.Now >= paused);
        var frozen = new LabClock(Start, followsRealTime: false, scale: 0);
        frozen.Set(Start + TimeSpan.FromMinutes(5));
        await Task.Delay(50);
        Assert.Equal(Start + TimeSpan.FromMinutes(5), frozen.Now);
    }

    [Fact]
    public async Task AProbeDescribesTheInstanceWhenItRunsNotWhenTheCommandWasSent()
    {
        var scenario = ScenarioLoader.Parse("""
            start: 2026-11-23T08:00:00Z
            duration: 1h
            clockScale: 20
            ssm: { deliveryMs: { min: 0, max: 0 }, executionMs: { min: 3000, max: 3000 } }
            instances:
              - { id: i-0a00000000000000a, tags: { AutoStop: "true" }, sessions: [ { kind: ssh, user: late, from: "+40s", to: "+1h" } ] }
            """);
        Assert.Equal(20, scenario.ClockScale);
        var fleet = new LabFleet(scenario, new LabClock(scenario.Start, followsRealTime: false, scenario.ClockScale));
        await using var server = await LabServer.StartAsync(fleet);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };

        fleet.Clock.Set(Start); // a tick begins: 20 virtual seconds per real second from here (2 real s of slack on a loaded machine)
        var sent = await Ssm(http, "SendCommand", """{"DocumentName":"AutoStop-SessionProbe","InstanceIds":["i-0a00000000000000a"]}""");
        Assert.True(fleet.Clock.Now < Start + TimeSpan.FromSeconds(40), "the command must be sent before the person arrives");
        var commandId = sent.GetProperty("Command").GetProperty("CommandId").GetString()!;

        JsonElement plugin = default;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            await Task.Delay(100);
            plugin = (await Ssm(http, "ListCommandInvocations", $$"""{"CommandId":"{{commandId}}","Details":true}"""))
                .GetProperty("CommandInvocations")[0].GetProperty("CommandPlugins")[0];
            if (plugin.GetProperty("Status").GetString() == "Success") break;
        }
        Assert.Equal("Success", plugin.GetProperty("Status").GetString());
        var report = JsonDocument.Parse(plugin.GetProperty("Output").GetString()!).RootElement;
        // The probe ran about a virtual minute after the command: the person who arrived at +40 s is there.
        Assert.Equal(1, report.GetProperty("sshSessions").GetInt32());
        Assert.InRange(report.GetProperty("lastLoginAgeSeconds").GetInt64(), 5, 40);
        var observed = fleet.Commands.All().Single().Invocations.Single().ObservedAt!.Value;
        Assert.InRange(observed - Start, TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(80));
    }

    private static async Task<JsonElement> Ssm(HttpClient http, string operation, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.Add("X-Amz-Target", "AmazonSSM." + operation);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{operation}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
