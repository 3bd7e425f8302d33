using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;

namespace AutoStop.Aws;

/// <summary>
/// Builds the EC2 and SSM clients. Credentials, region and endpoints come from the standard SDK chain, including
/// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_SSM, which the SDK honours itself (the lab, moto and
/// LocalStack are reached exactly like AWS).
/// Retries: the SDK's standard mode backs off with jitter when EC2 or SSM throttle; AWS_RETRY_MODE=adaptive switches to
/// adaptive mode (see the measurement below).
/// </summary>
public static class AwsClientFactory
{
    /// <summary>Retries per call before the error reaches the tick (which retries throttling a few more times, spaced out).</summary>
    public const int MaxErrorRetry = 6;

    /// <summary>With a <paramref name="pace"/>, every attempt of the client's calls goes through it (<see cref="ThrottleGate"/>).</summary>
    public static IAmazonEC2 CreateEc2(string? region, int maxErrorRetry = MaxErrorRetry, ThrottleGate? pace = null)
    {
        if (pace is null) return new AmazonEC2Client(Configure(new AmazonEC2Config(), region, maxErrorRetry));
        return new GatedEc2Client(Configure(new GatedEc2Client.GatedConfig(pace), region, maxErrorRetry));
    }

    public static IAmazonSimpleSystemsManagement CreateSsm(string? region, int maxErrorRetry = MaxErrorRetry, ThrottleGate? pace = null)
    {
        if (pace is null) return new AmazonSimpleSystemsManagementClient(Configure(new AmazonSimpleSystemsManagementConfig(), region, maxErrorRetry));
        return new GatedSsmClient(Configure(new GatedSsmClient.GatedConfig(pace), region, maxErrorRetry));
    }

    private static T Configure<T>(T config, string? region, int maxErrorRetry) where T : ClientConfig
    {
        // Standard retry (exponential backoff with jitter, retry quota) unless the standard AWS_RETRY_MODE variable
        // says adaptive. Measured in the lab (bench/RESULTS.md): when throttling does not follow this caller's own rate
        // (other callers share the account's limits), adaptive mode's client-side rate limiter keeps backing off and a
        // 1,000-instance tick did not finish in 150 s, against ~10 s in standard mode; under rate limits alone it was
        // slower too. The tick limits its own concurrency instead (SsmProbeRunner).
        config.RetryMode = Environment.GetEnvironmentVariable("AWS_RETRY_MODE")?.ToLowerInvariant() switch
        {
            "adaptive" => RequestRetryMode.Adaptive,
            _ => RequestRetryMode.Standard,
        };
        config.MaxErrorRetry = maxErrorRetry;
        config.Timeout = TimeSpan.FromSeconds(20);
        if (!string.IsNullOrWhiteSpace(region)) config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        return config;
    }
}
