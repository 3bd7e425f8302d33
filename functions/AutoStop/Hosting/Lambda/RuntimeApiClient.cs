using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace AutoStop.Hosting.Lambda;

/// <summary>
/// Client for the Lambda Runtime API (http://$AWS_LAMBDA_RUNTIME_API/2018-06-01), the documented calls only: next
/// invocation, response, invocation error, init error. Error bodies use the documented shape
/// {"errorMessage","errorType","stackTrace"} and the Lambda-Runtime-Function-Error-Type header.
///
/// Plain HTTP/1.1 over a blocking socket, one connection a call (Connection: close), on the caller's thread. Why not
/// HttpClient: its first request starts the thread pool, the socket engine's epoll thread and a timer thread and hands
/// the work between them, and all of that came before the first GET /next; on a busy machine each hand-off waits for a
/// core (bench/coldstart/RESULTS.md). The Runtime API is on the sandbox's loopback: a new connection costs little and
/// no pooled one can go stale while Lambda freezes the process. No proxy is ever used (an HTTP_PROXY a user set is
/// for the function's AWS calls).
/// </summary>
public sealed class RuntimeApiClient : IRuntimeApi, IDisposable
{
    private const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";
    private readonly string _authority;
    private readonly EndPoint _endPoint;

    public RuntimeApiClient(string runtimeApiAddress)
    {
        _authority = runtimeApiAddress;
        _endPoint = ParseEndPoint(runtimeApiAddress);
    }

    /// <summary>host:port, IPv4, [IPv6] or a name (Lambda gives 127.0.0.1:9001).</summary>
    internal static EndPoint ParseEndPoint(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"AWS_LAMBDA_RUNTIME_API='{address}' is not host:port.", nameof(address));
        var host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':')) throw new ArgumentException($"AWS_LAMBDA_RUNTIME_API='{address}': an IPv6 address needs brackets.", nameof(address));
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }

    /// <summary>Blocks (as long as it takes) until Lambda hands out an invocation; <paramref name="cancellationToken"/>
    /// aborts the wait.</summary>
    public Task<Invocation> NextAsync(CancellationToken cancellationToken)
    {
        try { return Task.FromResult(Next(cancellationToken)); }
        catch (Exception e) { return Task.FromException<Invocation>(e); }
    }

    private Invocation Next(CancellationToken cancellationToken)
    {
        const string path = "runtime/invocation/next";
        var response = Send("GET", path, null, null, cancellationToken);
        EnsureSuccess(response, path);
        var requestId = response.Header("Lambda-Runtime-Aws-Request-Id")
            ?? throw new InvalidOperationException("The Runtime API answered /next without a Lambda-Runtime-Aws-Request-Id header.");
        var deadline = long.TryParse(response.Header("Lambda-Runtime-Deadline-Ms"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw new InvalidOperationException("The Runtime API answered /next without a valid Lambda-Runtime-Deadline-Ms header.");
        return new Invocation(requestId, deadline, response.Header("Lambda-Runtime-Invoked-Function-Arn"), response.Header("Lambda-Runtime-Trace-Id"), response.Body);
    }

    public Task RespondAsync(string requestId, string responseJson, CancellationToken cancellationToken) =>
        PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/response", responseJson, null, cancellationToken);

    public Task ReportInvocationErrorAsync(string requestId, string errorType, string errorMessage, CancellationToken cancellationToken) =>
        PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/error", ErrorBody(errorType, errorMessage), errorType, cancellationToken);

    public Task ReportInitErrorAsync(string errorType, string errorMessage, CancellationToken cancellationToken) =>
        PostAsync("runtime/init/error", ErrorBody(errorType, errorMessage), errorType, cancellationToken);

    private Task PostAsync(string path, string json, string? errorType, CancellationToken cancellationToken)
    {
        try
        {
            EnsureSuccess(Send("POST", path, json, errorType, cancellationToken), path);
            return Task.CompletedTask;
        }
        catch (Exception e) { return Task.FromException(e); }
    }

    private Http11Response Send(string method, string path, string? json, string? errorType, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var request = Request(method, _authority, path, json is null ? null : Encoding.UTF8.GetBytes(json), errorType);
        using var socket = _endPoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp); // a name: either family
        // Closing the socket is what ends a blocked connect, send or receive.
        using var abort = cancellationToken.Register(static s => ((Socket)s!).Dispose(), socket);
        try
        {
            socket.NoDelay = true;
            socket.Connect(_endPoint);
            for (var sent = 0; sent < request.Length;) sent += socket.Send(request, sent, request.Length - sent, SocketFlags.None);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            return Http11.ReadResponse(stream);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is SocketException or ObjectDisposedException or IOException)
        {
            throw new OperationCanceledException("The Runtime API call was cancelled.", e, cancellationToken);
        }
    }

    /// <summary>The request's bytes: request line, headers, body. <paramref name="path"/> is relative to /2018-06-01/ and
    /// already escaped; header values are this class's own constants and the address, so no CR or LF can get in.</summary>
    internal static byte[] Request(string method, string authority, string path, byte[]? body, string? errorType)
    {
        var head = new StringBuilder(256)
            .Append(method).Append(" /2018-06-01/").Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(authority).Append("\r\n")
            .Append("Connection: close\r\n");
        if (body is not null)
            head.Append("Content-Type: application/json\r\nContent-Length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        if (errorType is not null) head.Append(ErrorTypeHeader).Append(": ").Append(errorType).Append("\r\n");
        head.Append("\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        if (body is null) return headBytes;
        var request = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(request, 0);
        body.CopyTo(request, headBytes.Length);
        return request;
    }

    private static void EnsureSuccess(Http11Response response, string path)
    {
        if (response.StatusCode == (int)HttpStatusCode.InternalServerError)
            throw new RuntimeApiExitException($"The Runtime API answered 500 to {path}: the runtime exits, as the API requires.");
        if (response.StatusCode is < 200 or > 299)
            throw new HttpRequestException($"The Runtime API answered {response.StatusCode} ({response.ReasonPhrase}) to {path}.", null, (HttpStatusCode)response.StatusCode);
    }

    internal static string ErrorBody(string errorType, string errorMessage)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("errorMessage", errorMessage);
            json.WriteString("errorType", errorType);
            json.WriteStartArray("stackTrace");
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Nothing is held between calls.</summary>
    public void Dispose() { }
}
