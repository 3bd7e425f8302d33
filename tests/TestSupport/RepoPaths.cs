namespace AutoStop.TestSupport;

/// <summary>Finds files of this repository from a test's output folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "serverless.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("serverless.sln not found above " + AppContext.BaseDirectory);
    }
}
