using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using AutoStop.TestSupport;

namespace AutoStop.Tests.Aws;

[CollectionDefinition(Name)]
public sealed class MotoCollection : ICollectionFixture<MotoServer>
{
    public const string Name = "moto";
}

/// <summary>SDK clients pointed at the test's moto_server, and helpers to launch instances there.</summary>
internal sealed class MotoFleet(MotoServer moto)
{
    /// <summary>An AMI id moto ships in its default image list.</summary>
    private const string ImageId = "ami-12c6146b";

    public IAmazonEC2 Ec2 { get; } = new AmazonEC2Client(new BasicAWSCredentials("test", "test"), Configure(new AmazonEC2Config(), moto.Url));

    public IAmazonSimpleSystemsManagement Ssm { get; } =
        new AmazonSimpleSystemsManagementClient(new BasicAWSCredentials("test", "test"), Configure(new AmazonSimpleSystemsManagementConfig(), moto.Url));

    /// <summary>A tag key no other test uses, so tests sharing one moto stay apart.</summary>
    public static string UniqueTagKey() => "AutoStopT" + Guid.NewGuid().ToString("N")[..10];

    public async Task<List<string>> LaunchAsync(int count, params (string Key, string Value)[] tags)
    {
        var request = new RunInstancesRequest { ImageId = ImageId, MinCount = count, MaxCount = count, InstanceType = InstanceType.T3Micro };
        if (tags.Length > 0)
            request.TagSpecifications = [new TagSpecification { ResourceType = Amazon.EC2.ResourceType.Instance, Tags = tags.Select(t => new Tag(t.Key, t.Value)).ToList() }];
        var response = await Ec2.RunInstancesAsync(request);
        return response.Reservation.Instances.Select(i => i.InstanceId).ToList();
    }

    public async Task<string> StateOfAsync(string instanceId)
    {
        var response = await Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] });
        return response.Reservations[0].Instances[0].State.Name.Value;
    }

    public async Task<Dictionary<string, string>> TagsOfAsync(string instanceId)
    {
        var response = await Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] });
        return (response.Reservations[0].Instances[0].Tags ?? []).ToDictionary(t => t.Key, t => t.Value);
    }

    private static T Configure<T>(T config, string url) where T : ClientConfig
    {
        config.ServiceURL = url;
        config.AuthenticationRegion = "us-east-1";
        config.MaxErrorRetry = 1; // moto answers some SSM calls with 500: fail fast in tests
        return config;
    }
}
