namespace AutoStop;

public static class Program
{
    public static Task<int> Main(string[] args) => Hosting.EntryPoint.RunAsync(args);
}
