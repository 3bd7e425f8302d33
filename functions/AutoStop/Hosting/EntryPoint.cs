namespace AutoStop.Hosting;

/// <summary>Chooses the host: the Lambda Runtime API loop when AWS_LAMBDA_RUNTIME_API is set, else the CLI.</summary>
public static class EntryPoint
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("not yet wired");
        return Task.FromResult(1);
    }
}
