using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using AutoStop.TestSupport;

namespace AutoStop.Cli.Tests;

/// <summary>ls and snooze against moto (another implementation of EC2's wire protocol), with a tag key of the test's own
/// so that tests sharing the moto server keep apart.</summary>
public sealed class MotoTests(MotoServer moto) : IClassFixture<MotoServer>
{
    internal static AmazonEC2Client Ec2(string url, string key = "testing", string secret = "testing") =>
        new(new BasicAWSCredentials(key, secret), new AmazonEC2Config { ServiceURL = url, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

    internal static async Task<string> LaunchAsync(AmazonEC2Client ec2, params (string Key, string Value)[] tags)
    {
        var run = await ec2.RunInstancesAsync(new RunInstancesRequest
        {
            ImageId = "ami-12c6146b", MinCount = 1, MaxCount = 1, InstanceType = InstanceType.T3Micro,
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.Instance, Tags = tags.Select(t => new Tag(t.Key, t.Value)).ToList() }],
        });
        return run.Reservation.Instances[0].InstanceId;
    }

    [Fact]
    public async Task LsAndSnoozeWorkAgainstMoto()
    {
        var key = "CliTest" + Guid.NewGuid().ToString("N")[..8];
        using var ec2 = Ec2(moto.Url);
        var name = key.ToLowerInvariant() + "-dev";
        var id = await LaunchAsync(ec2, ("Name", name), (key, "true"), ($"{key}:IdleMinutes", "20"));
        var other = await LaunchAsync(ec2, ("Name", name + "-other"), (key, "false"));
        var env = Autostop.Environment(moto.Url, "testing", "testing");
        env["AUTOSTOP_TAG_KEY"] = key;

        var (code, stdout, stderr) = await Autostop.RunAsync(Autostop.Executable, ["ls", "--json"], env);
        Assert.True(code == 0, stderr);
        var row = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray());
        Assert.Equal(id, row.GetProperty("instanceId").GetString());
        Assert.Equal(name, row.GetProperty("name").GetString());
        Assert.Equal("running", row.GetProperty("state").GetString());
        Assert.Equal(20, row.GetProperty("thresholdMinutes").GetInt32());

        (code, _, stderr) = await Autostop.RunAsync(Autostop.Executable, ["snooze", name, "90m"], env);
        Assert.True(code == 0, stderr);
        var tags = (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [id] })).Reservations[0].Instances[0].Tags;
        var snooze = Assert.Single(tags, t => t.Key == $"{key}:SnoozeUntil").Value;
        Assert.True(AutoStop.Configuration.SettingValues.TryParseTime(snooze, out var until));
        Assert.InRange((until - DateTimeOffset.UtcNow).TotalMinutes, 88, 91);

        (code, stdout, _) = await Autostop.RunAsync(Autostop.Executable, ["ls", "--json"], env);
        Assert.StartsWith("snoozed until", JsonDocument.Parse(stdout).RootElement[0].GetProperty("status").GetString());

        (code, _, stderr) = await Autostop.RunAsync(Autostop.Executable, ["snooze", id, "--off"], env);
        Assert.True(code == 0, stderr);
        tags = (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [id] })).Reservations[0].Instances[0].Tags;
        Assert.DoesNotContain(tags, t => t.Key == $"{key}:SnoozeUntil");

        (code, _, stderr) = await Autostop.RunAsync(Autostop.Executable, ["snooze", name + "-other", "1h"], env);
        Assert.Equal(ExitCodes.NotOptedIn, code);
        var otherTags = (await ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [other] })).Reservations[0].Instances[0].Tags;
        Assert.DoesNotContain(otherTags, t => t.Key.EndsWith(":SnoozeUntil", StringComparison.Ordinal));
    }
}

/// <summary>
/// A missing permission, refused by IAM as moto enforces it: a moto server of this test's own, switched to checking every
/// request against IAM (moto's /moto-api/reset-auth) once a user whose policy lacks ec2:StartInstances and ec2:CreateTags
/// exists. The command names the refused action, exits 7, and the instance is left as it was.
/// </summary>
public sealed class PermissionTests
{
    [Fact]
    public async Task AMissingPermissionIsNamedAndNothingChanges()
    {
        var port = FreePort.Next();
        var url = $"http://127.0.0.1:{port}";
        using var server = Process.Start(new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            for (var attempt = 0; ; attempt++) // up to 15 s for moto to answer
            {
                try { (await http.GetAsync(url + "/moto-api/")).EnsureSuccessStatusCode(); break; }
                catch (Exception) when (attempt < 150) { await Task.Delay(100); }
            }
            using var admin = MotoTests.Ec2(url);
            var id = await MotoTests.LaunchAsync(admin, ("Name", "perm-dev"), ("AutoStop", "true"));
            await admin.StopInstancesAsync(new StopInstancesRequest { InstanceIds = [id] });

            // A person who may only look (the people's policy minus StartInstances and the tag writes).
            await Aws(url, "iam", "create-user", "--user-name", "viewer");
            await Aws(url, "iam", "put-user-policy", "--user-name", "viewer", "--policy-name", "look-only", "--policy-document",
                """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeInstances","ssm:DescribeInstanceInformation"],"Resource":"*"}]}""");
            var keys = JsonDocument.Parse(await Aws(url, "iam", "create-access-key", "--user-name", "viewer")).RootElement.GetProperty("AccessKey");
            var (accessKey, secretKey) = (keys.GetProperty("AccessKeyId").GetString()!, keys.GetProperty("SecretAccessKey").GetString()!);
            (await http.PostAsync(url + "/moto-api/reset-auth", new StringContent("0"))).EnsureSuccessStatusCode(); // from now on IAM decides

            var env = Autostop.Environment(url, accessKey, secretKey);
            var (code, stdout, stderr) = await Autostop.RunAsync(Autostop.Executable, ["start", "perm-dev", "--wait"], env);
            Assert.Equal(ExitCodes.PermissionDenied, code);
            Assert.Contains($"missing permission: IAM refused ec2:StartInstances on perm-dev ({id})", stderr);
            Assert.Contains("PeoplePolicyArn", stderr);
            Assert.Contains("Nothing was changed", stderr);

            (code, _, stderr) = await Autostop.RunAsync(Autostop.Executable, ["snooze", "perm-dev", "1h"], env);
            Assert.Equal(ExitCodes.PermissionDenied, code);
            Assert.Contains($"missing permission: IAM refused ec2:CreateTags on perm-dev ({id})", stderr);

            // What the person may do still works, and shows nothing changed.
            (code, stdout, stderr) = await Autostop.RunAsync(Autostop.Executable, ["ls", "--json"], env);
            Assert.True(code == 0, stderr);
            var row = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray());
            Assert.Equal("stopped", row.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, row.GetProperty("snoozeUntil").ValueKind);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    private static async Task<string> Aws(string url, params string[] args)
    {
        var env = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = "testing", ["AWS_SECRET_ACCESS_KEY"] = "testing", ["AWS_DEFAULT_REGION"] = "us-east-1", ["AWS_PAGER"] = "",
        };
        var (code, stdout, stderr) = await Autostop.RunAsync("aws", ["--endpoint-url", url, "--output", "json", .. args], env);
        Assert.True(code == 0, $"aws {string.Join(' ', args)}: {stderr}");
        return stdout;
    }
}
