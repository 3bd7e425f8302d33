using System.Diagnostics;
using System.Net.Http;

namespace AutoStop.TestSupport;

/// <summary>
/// A real moto_server on 127.0.0.1: the one tests/run.sh started (AUTOSTOP_TEST_MOTO_URL), or one started here on a
/// free port when a test project is run on its own. Tests share it and keep apart by using their own tag keys.
/// </summary>
public sealed class MotoServer : IDisposable
{
    private readonly Process? _process;

    public string Url { get; }

    public MotoServer()
    {
        var given = Environment.GetEnvironmentVariable("AUTOSTOP_TEST_MOTO_URL");
        if (!string.IsNullOrEmpty(given)) { Url = given; return; }

        var port = FreePort.Next();
        Url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start moto_server (is moto installed?)");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        for (var attempt = 0; attempt < 150; attempt++)
        {
            try { http.GetAsync(Url + "/moto-api/").GetAwaiter().GetResult(); return; }
            catch (Exception) when (attempt < 149) { Thread.Sleep(100); }
        }
        throw new InvalidOperationException($"moto_server did not answer on {Url} within 15 s");
    }

    public void Dispose()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.Dispose();
    }
}
