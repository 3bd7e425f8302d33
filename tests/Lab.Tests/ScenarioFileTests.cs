using AutoStop.Lab.Fleet;
using AutoStop.Lab.Scenarios;
using AutoStop.TestSupport;

namespace AutoStop.Lab.Tests;

/// <summary>Scenario files: bad ones are refused with the path to the bad field; the shipped ones load; synthesized probe output follows the agent's schema.</summary>
public class ScenarioFileTests
{
    private const string Valid = """
        start: 2026-11-23T08:00:00Z
        duration: 1h
        instances:
          - name: a
            tags: { AutoStop: "true" }
            sessions: [ { kind: ssh, user: alice, from: "+0m", to: "+30m" } ]
        """;

    [Theory]
    [InlineData("kind: ssh", "kind: sssh", "instances[0].sessions[0].kind: 'sssh' is not one of ssh, ssm, tmux, preauth, mosh, et, port")]
    [InlineData("kind: ssh", "kind: port", "instances[0].sessions[0].port: is required for kind port: the local TCP port (1 to 65535)")]
    [InlineData("kind: ssh", "kind: port, port: 70000", "instances[0].sessions[0].port: '70000' is not allowed: a whole number from 1 to 65535")]
    [InlineData("kind: ssh", "kind: port, port: jupyter", "instances[0].sessions[0].port: 'jupyter' is not allowed: a whole number from 1 to 65535")]
    [InlineData("kind: ssh", "kind: port, port: 8888, count: 0", "instances[0].sessions[0].count: '0' is not allowed: a whole number from 1 to 99999")]
    [InlineData("kind: ssh", "kind: port, port: 8888, tty: true", "instances[0].sessions[0].tty: 'true' is not allowed: a port session has no terminal")]
    [InlineData("kind: ssh", "kind: port, port: 8888, idleAfter: 5m", "instances[0].sessions[0].idleAfter: is not allowed for kind port")]
    [InlineData("kind: ssh", "kind: ssh, port: 8888", "instances[0].sessions[0].port: is not allowed for kind ssh: only a port session (kind: port) has a port")]
    [InlineData("kind: ssh", "kind: mosh, count: 2", "instances[0].sessions[0].count: is not allowed for kind mosh")]
    [InlineData("  - name: a", "  - name: a\n    busy: [ { kind: reboot, from: \"+0m\", to: \"+5m\" } ]", "instances[0].busy[0].kind: 'reboot' is not one of patch, apt, yum, cloud-init, ssm-command")]
    [InlineData("duration: 1h", "duration: 1h\nclockScale: -1", "clockScale: '-1' is not allowed: a number from 0 to 100000")]
    [InlineData("to: \"+30m\"", "to: \"+30x\"", "instances[0].sessions[0].to: '+30x' is not a time")]
    [InlineData("duration: 1h", "duration: soon", "duration: 'soon' is not a duration")]
    [InlineData("  - name: a", "  - name: a\n    hibernate: true", "instances[0].hibernate: unknown field; allowed here:")]
    [InlineData("start: 2026-11-23T08:00:00Z", "start: 2026-11-23T08:00:00", "start: '2026-11-23T08:00:00' is not a time")]
    [InlineData("to: \"+30m\"", "to: \"-5m\"", "instances[0].sessions[0].to: '-5m' is not a time")]
    [InlineData("  - name: a", "  - name: a\n    faults: [ { kind: stop-error, code: Nope } ]", "instances[0].faults[0].code: 'Nope' is not one of OperationNotPermitted, IncorrectInstanceState")]
    [InlineData("  - name: a", "  - name: a\n    iam: { deny: [ ec2:TerminateInstances ] }", "instances[0].iam.deny[0]: 'ec2:TerminateInstances' is not one of ssm:SendCommand, ec2:StopInstances")]
    [InlineData("  - name: a", "  - name: a\n    iam: maybe", "instances[0].iam: 'maybe' is not one of allow, deny")]
    [InlineData("  - name: a", "  - name: a\n    extraTags: 49", "instances[0].extraTags: the instance would carry 51 tags (2 in tags plus extraTags 49); EC2 allows at most 50")]
    [InlineData("  - name: a", "  - name: a\n    spotRequestDeleted: true", "instances[0].spotRequestDeleted: only a Spot instance (lifecycle: spot)")]
    [InlineData("  - name: a", "  - name: a\n    faults: [ { kind: garbage, message: hi } ]", "instances[0].faults[0].message: only an agent-stderr fault takes a message")]
    [InlineData("duration: 1h", "duration: 1h\nssm: { documentVersions: 0 }", "ssm.documentVersions: '0' is not allowed: a whole number from 1 to 1000")]
    public void BadFieldsAreNamedWithTheirPath(string find, string replace, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(Valid.Replace(find, replace)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ASessionThatEndsBeforeItBeginsIsRefused()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(Valid.Replace("to: \"+30m\"", "to: \"+0m\"")));
        Assert.Contains("instances[0].sessions[0].to", e.Message);
        Assert.Contains("must be after from", e.Message);
    }

    [Fact]
    public void InvalidYamlNamesTheLine()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse("start: 2026-11-23T08:00:00Z\ninstances:\n  - name: a\n tags: b\n"));
        Assert.Contains("line", e.Message);
    }

    [Fact]
    public void JsonScenariosWorkToo()
    {
        var scenario = ScenarioLoader.Parse("""{"start":"2026-11-23T08:00:00Z","duration":"2h","instances":[{"name":"a","count":3,"tags":{"AutoStop":"true"}}]}""");
        Assert.Equal(TimeSpan.FromHours(2), scenario.Duration);
        Assert.Equal(3, new LabFleet(scenario, new LabClock(scenario.Start, false)).Instances.Count);
    }

    [Fact]
    public void EveryShippedScenarioLoads()
    {
        var files = Directory.GetFiles(RepoPaths.Of("lab", "scenarios"), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var file in files) ScenarioLoader.Load(file);
    }

    [Fact]
    public void SynthesizedProbeOutputFollowsTheAgentSchema()
    {
        var scenario = ScenarioLoader.Parse("""
            start: 2026-11-23T08:00:00Z
            duration: 1h
            instances:
              - name: busy
                cpus: 4
                sessions:
                  - { kind: ssh, user: root, tty: true, from: "+0m", to: "+1h", idleAfter: 10m }
                  - { kind: ssh, user: carol, tty: false, from: "+5m", to: "+1h" }
                  - { kind: ssm, user: dave, tty: false, from: "+0m", to: "+1h" }
                  - { kind: tmux, user: root, from: "+0m", to: "+1h" }
                  - { kind: preauth, user: x, from: "+0m", to: "+1h" }
                keepAlive: [ { from: "+0m", until: "+2h" } ]
                load: [ { from: "+0m", to: "+1h", value: 2.5 } ]
            """);
        var fleet = new LabFleet(scenario, new LabClock(scenario.Start, false));
        var line = ProbeSynthesizer.Build(fleet.Instances[0], scenario.Start + TimeSpan.FromMinutes(30)).TrimEnd('\n');

        Assert.Empty(ProbeSchema.Load(RepoPaths.Of("agent", "schema.json")).Validate(line));
        var report = System.Text.Json.JsonDocument.Parse(line).RootElement;
        Assert.Equal(2, report.GetProperty("sshSessions").GetInt32());
        Assert.Equal(1, report.GetProperty("sshNoTtySessions").GetInt32());
        Assert.Equal(1, report.GetProperty("ssmSessions").GetInt32());
        Assert.Equal(1, report.GetProperty("multiplexerSessions").GetInt32());
        Assert.Equal(1, report.GetProperty("preauthConnections").GetInt32());
        Assert.Equal(20 * 60, report.GetProperty("minTtyIdleSeconds").GetInt64());
        Assert.Equal(90 * 60, report.GetProperty("keepAliveSeconds").GetInt64());
        Assert.Equal(25 * 60, report.GetProperty("lastLoginAgeSeconds").GetInt64());
        Assert.Equal(["carol", "dave", "root"], report.GetProperty("users").EnumerateArray().Select(u => u.GetString()));
    }

    [Fact]
    public void APortSessionIsSynthesizedAsInboundConnectionsFromARemotePeerAndNothingElse()
    {
        var scenario = ScenarioLoader.Parse("""
            start: 2026-11-23T08:00:00Z
            duration: 1h
            instances:
              - name: notebook
                sessions:
                  - { kind: port, user: ana, port: 8888, count: 2, from: "+0m", to: "+40m" }
                  - { kind: port, user: ben, port: 8443, from: "+20m", to: "+2h" }
                inbound:
                  - { port: 8888, from: "+0m", to: "+1h" }
                  - { port: 8888, peer: loopback, count: 5, from: "+0m", to: "+1h" }
            """);
        var instance = new LabFleet(scenario, new LabClock(scenario.Start, false)).Instances[0];
        var session = instance.Spec.Sessions[0];
        Assert.Equal((SessionKind.Port, 8888, 2, false), (session.Kind, session.Port, session.Connections, session.Tty));
        Assert.True(session.IsPersonSession);   // the lab starts the instance for its person and counts it when a stop cuts it

        var line = ProbeSynthesizer.Build(instance, scenario.Start + TimeSpan.FromMinutes(30)).TrimEnd('\n');
        Assert.Empty(ProbeSchema.Load(RepoPaths.Of("agent", "schema.json")).Validate(line));
        var report = System.Text.Json.JsonDocument.Parse(line).RootElement;
        // ana's 2 connections plus the inbound window's 1 on 8888 (the loopback 5 never count), ben's 1 on 8443.
        Assert.Equal(3, report.GetProperty("inboundConnections").GetProperty("8888").GetInt32());
        Assert.Equal(1, report.GetProperty("inboundConnections").GetProperty("8443").GetInt32());
        // A browser is no shell: no SSH, Session Manager or remote-shell session, no user, no login, no terminal.
        Assert.Equal(0, report.GetProperty("sshSessions").GetInt32());
        Assert.Equal(0, report.GetProperty("ssmSessions").GetInt32());
        Assert.Equal(0, report.GetProperty("remoteShellSessions").GetInt32());
        Assert.Empty(report.GetProperty("users").EnumerateArray());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, report.GetProperty("lastLoginAgeSeconds").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, report.GetProperty("minTtyIdleSeconds").ValueKind);

        var later = System.Text.Json.JsonDocument.Parse(ProbeSynthesizer.Build(instance, scenario.Start + TimeSpan.FromMinutes(45))).RootElement;
        Assert.Equal(1, later.GetProperty("inboundConnections").GetProperty("8888").GetInt32());   // ana left at +40m
    }

    [Fact]
    public void SynthesizedProbeReportsRemoteShellsLogoutsAndMaintenance()
    {
        var scenario = ScenarioLoader.Parse("""
            start: 2026-11-23T08:00:00Z
            duration: 1h
            instances:
              - name: remote
                sessions:
                  - { kind: ssh, user: sam, tty: true, from: "+0m", to: "+10m" }
                  - { kind: mosh, user: mia, from: "+5m", to: "+2h", idleAfter: 10m }
                  - { kind: et, user: eli, from: "+20m", to: "+2h", idleAfter: 2m }
                busy:
                  - { kind: patch, from: "+25m", to: "+40m" }
                  - { kind: cloud-init, from: "+0m", to: "+3m" }
            """);
        var fleet = new LabFleet(scenario, new LabClock(scenario.Start, false));
        var line = ProbeSynthesizer.Build(fleet.Instances[0], scenario.Start + TimeSpan.FromMinutes(30)).TrimEnd('\n');

        Assert.Empty(ProbeSchema.Load(RepoPaths.Of("agent", "schema.json")).Validate(line));
        var report = System.Text.Json.JsonDocument.Parse(line).RootElement;
        Assert.Equal(0, report.GetProperty("sshSessions").GetInt32());
        Assert.Equal(2, report.GetProperty("remoteShellSessions").GetInt32());
        Assert.Equal(["mosh-server", "etterminal"], report.GetProperty("remoteShellKinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(["eli", "mia"], report.GetProperty("users").EnumerateArray().Select(u => u.GetString()));
        // Terminal idle covers the remote-shell ptys: eli idle since +22m, mia since +15m.
        Assert.Equal(8 * 60, report.GetProperty("minTtyIdleSeconds").GetInt64());
        // sam's SSH session closed at +10m; the SSH logins that bootstrapped mosh (+5m) and et (+20m) closed 2 s in.
        Assert.Equal(10 * 60 - 2, report.GetProperty("lastLogoutAgeSeconds").GetInt64());
        Assert.Equal(10 * 60, report.GetProperty("lastLoginAgeSeconds").GetInt64());
        Assert.Equal(["ssm-document-worker: another SSM command (pid 800)", "dnf (pid 805)"],
            report.GetProperty("systemBusy").EnumerateArray().Select(b => b.GetString()));

        var before = System.Text.Json.JsonDocument.Parse(ProbeSynthesizer.Build(fleet.Instances[0], scenario.Start + TimeSpan.FromMinutes(1))).RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.Null, before.GetProperty("lastLogoutAgeSeconds").ValueKind); // nobody has logged out yet
        Assert.Equal(["cloud-init (pid 837)"], before.GetProperty("systemBusy").EnumerateArray().Select(b => b.GetString()));
    }
}
