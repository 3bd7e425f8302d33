namespace AutoStop.Lab;

/// <summary>Where the repository's files are: the lab runs the function and the probe from the checkout it lives in.</summary>
public static class LabPaths
{
    public static string Root { get; } = FindRoot();

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string ProbeScript => Of("agent", "session-probe.sh");

    public static string NoticeScript => Of("agent", "stop-notice.sh");

    public static string FunctionProject => Of("functions", "AutoStop", "AutoStop.csproj");

    private static string FindRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "serverless.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("The lab must run inside the AutoStop checkout (serverless.sln not found above the current directory).");
    }
}
