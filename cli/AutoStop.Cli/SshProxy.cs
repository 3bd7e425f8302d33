using System.Net.Sockets;

namespace AutoStop.Cli;

/// <summary>
/// The ProxyCommand's byte pump: stdin to the socket and the socket to stdout, nothing else on stdout. When stdin ends
/// (ssh closed its side) the socket's sending half is shut down and the reply is still read to its end; when the server
/// closes, the command ends.
/// </summary>
public static class SshProxy
{
    public static async Task<int> PumpAsync(string address, int port, Stream stdin, Stream stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connect.CancelAfter(TimeSpan.FromSeconds(20));
            await client.ConnectAsync(address, port, connect.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            await stderr.WriteLineAsync($"autostop: could not connect to {address}:{port}: {(e is SocketException s ? s.Message : "no answer within 20 s")}");
            return ExitCodes.ConnectionFailed;
        }
        var network = client.GetStream();
        var up = Task.Run(async () =>
        {
            var buffer = new byte[32 * 1024];
            int read;
            while ((read = await stdin.ReadAsync(buffer, cancellationToken)) > 0) // ends with stdin
                await network.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            client.Client.Shutdown(SocketShutdown.Send);
        }, cancellationToken);
        var down = Task.Run(async () =>
        {
            var buffer = new byte[32 * 1024];
            int read;
            while ((read = await network.ReadAsync(buffer, cancellationToken)) > 0) // ends when the server closes
            {
                await stdout.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await stdout.FlushAsync(cancellationToken);
            }
        }, cancellationToken);
        try
        {
            // Either side closing ends the copy toward it; the command ends once the server has closed (or the pipe to ssh broke).
            var first = await Task.WhenAny(up, down);
            if (first == up && up.IsCompletedSuccessfully) await down;
            else await first;
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // ssh closed the pipe or the connection reset: the session is over either way.
            await stderr.WriteLineAsync($"autostop: connection to {address}:{port} ended: {e.Message}");
            return ExitCodes.ConnectionFailed;
        }
    }
}
