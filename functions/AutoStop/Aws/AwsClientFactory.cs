using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;

namespace AutoStop.Aws;

/// <summary>
/// Builds the EC2 and SSM clients. Credentials, region and endpoints come from the standard SDK chain, including
/// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_SSM, which the SDK honours itself (the lab, moto and
/// LocalStack are reached exactly like AWS).
/// Adaptive retry: the SDK slows itself down when EC2 or SSM throttle, instead of failing the tick.
/// </summary>
public static class AwsClientFactory
{
    /// <summary>Retries per call; adaptive mode also rate-limits the client after throttling errors.</summary>
    public const int MaxErrorRetry = 6;

    public static IAmazonEC2 CreateEc2(string? region, int maxErrorRetry = MaxErrorRetry) =>
        new AmazonEC2Client(Configure(new AmazonEC2Config(), region, maxErrorRetry));

    public static IAmazonSimpleSystemsManagement CreateSsm(string? region, int maxErrorRetry = MaxErrorRetry) =>
        new AmazonSimpleSystemsManagementClient(Configure(new AmazonSimpleSystemsManagementConfig(), region, maxErrorRetry));

    private static T Configure<T>(T config, string? region, int maxErrorRetry) where T : ClientConfig
    {
        config.RetryMode = RequestRetryMode.Adaptive;
        config.MaxErrorRetry = maxErrorRetry;
        config.Timeout = TimeSpan.FromSeconds(20);
        if (!string.IsNullOrWhiteSpace(region)) config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        return config;
    }
}
