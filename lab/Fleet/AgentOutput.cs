using System.Text;

namespace AutoStop.Lab.Fleet;

/// <summary>
/// A plugin's Output as the SSM agent builds it before sending its reply: amazon-ssm-agent
/// agent/framework/processor/executer/iohandler/iohandler.go, TruncateOutput(stdout, stderr, MaximumPluginOutputSize)
/// with MaximumPluginOutputSize = 2500. stdout, then (only when stderr is not empty, whatever the exit code)
/// "\n----------ERROR-------\n" and stderr. When stdout + stderr do not fit in 2,500 minus the ERROR title (strictly
/// less than), the agent cuts: both halves when both are over half, else the longer one, and marks each cut part with
/// "\n---Output truncated---" or "\n---Error truncated----". Sizes are Go string lengths, i.e. UTF-8 bytes.
/// (DefaultIOHandler.String also drops stderr on exit code 168, contracts.ExitWithSuccess, which the probe never uses.)
/// </summary>
public static class AgentOutput
{
    public const int MaximumPluginOutputSize = 2500;
    public const string ErrorTitle = "\n----------ERROR-------\n";
    public const string OutputTruncated = "\n---Output truncated---";
    public const string ErrorTruncated = "\n---Error truncated----";

    public static string Join(string stdout, string stderr, int capacity = MaximumPluginOutputSize)
    {
        var output = Encoding.UTF8.GetBytes(stdout);
        var error = Encoding.UTF8.GetBytes(stderr);
        var title = error.Length > 0 ? ErrorTitle : "";
        var available = capacity - title.Length;

        if (output.Length + error.Length < available) return stdout + title + stderr;
        if (output.Length > available / 2 && error.Length > available / 2)
        {
            var size = available - ErrorTruncated.Length - OutputTruncated.Length;
            return Cut(output, size / 2) + OutputTruncated + title + Cut(error, size / 2) + ErrorTruncated;
        }
        if (output.Length <= available / 2)
            return stdout + title + Cut(error, available - ErrorTruncated.Length - output.Length) + ErrorTruncated;
        return Cut(output, available - OutputTruncated.Length - error.Length) + OutputTruncated + title + stderr;
    }

    /// <summary>The first <paramref name="length"/> bytes, as Go's s[:n] (a split character becomes U+FFFD when encoded to JSON).</summary>
    private static string Cut(byte[] text, int length) => Encoding.UTF8.GetString(text, 0, Math.Clamp(length, 0, text.Length));
}
