using AutoStop.Hosting.Lambda;

namespace AutoStop.Hosting;

/// <summary>Chooses the host: the Lambda Runtime API loop when AWS_LAMBDA_RUNTIME_API is set, else the CLI.</summary>
public static class EntryPoint
{
    public static async Task<int> RunAsync(string[] args)
    {
        var runtimeApi = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API");
        if (!string.IsNullOrEmpty(runtimeApi))
        {
            // Nothing here that the first request to the Runtime API does not need (bench/coldstart measures it): no
            // Ctrl-C handler (Lambda never sends SIGINT; it freezes or kills the process) and no Console.Out/Error yet,
            // since either sets up the console's signal handling (a thread, a pipe, handlers) at start. They are opened
            // on the first line printed: the first tick's, or an init error's.
            using var client = new RuntimeApiClient(runtimeApi);
            var host = new LambdaHost(client, Environment.GetEnvironmentVariable,
                config => Composition.CreateTickHandler(config, region: null, () => Console.Out), TimeProvider.System,
                new DeferredWriter(() => Console.Error));
            return await host.RunAsync(CancellationToken.None);
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        var stdout = Console.Out;
        return await Cli.RunAsync(args, Environment.GetEnvironmentVariable,
            (config, region) => Composition.CreateTickHandler(config, region, () => stdout), stdout, Console.Error, TimeProvider.System, stop.Token);
    }
}
