using AutoStop.Hosting.Lambda;

namespace AutoStop.Hosting;

/// <summary>Chooses the host: the Lambda Runtime API loop when AWS_LAMBDA_RUNTIME_API is set, else the CLI.</summary>
public static class EntryPoint
{
    public static async Task<int> RunAsync(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        var stdout = Console.Out;

        var runtimeApi = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API");
        if (!string.IsNullOrEmpty(runtimeApi))
        {
            using var client = new RuntimeApiClient(runtimeApi);
            var host = new LambdaHost(client, Environment.GetEnvironmentVariable,
                config => Composition.CreateTickHandler(config, region: null, stdout), TimeProvider.System, Console.Error);
            return await host.RunAsync(stop.Token);
        }
        return await Cli.RunAsync(args, Environment.GetEnvironmentVariable,
            (config, region) => Composition.CreateTickHandler(config, region, stdout), stdout, Console.Error, TimeProvider.System, stop.Token);
    }
}
