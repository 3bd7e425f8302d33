using System.Net;
using System.Net.Sockets;
using System.Text;
using AutoStop.Hosting.Lambda;

namespace AutoStop.Tests.Hosting;

/// <summary>The Runtime API client's own HTTP/1.1: responses framed every way the protocol allows, read through streams
/// that hand out one byte at a time, broken responses refused; and the client against a raw socket server.</summary>
public sealed class RuntimeApiHttpTests
{
    /// <summary>Returns at most one byte a read: every boundary falls inside a line, a chunk or a CRLF somewhere.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }

    private static Http11Response Read(string wire, bool trickle = true)
    {
        var bytes = Encoding.Latin1.GetBytes(wire);
        using var stream = trickle ? new TrickleStream(bytes) : new MemoryStream(bytes);
        return Http11.ReadResponse(stream);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AContentLengthBodyIsReadExactlyAndHeaderNamesIgnoreCase(bool trickle)
    {
        var response = Read("HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: abc\r\nContent-Length: 5\r\nX-Twice: first\r\nX-Twice: second\r\n\r\nhelloEXTRA", trickle);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("OK", response.ReasonPhrase);
        Assert.Equal("abc", response.Header("Lambda-Runtime-Aws-Request-Id"));
        Assert.Equal("first", response.Header("x-twice"));
        Assert.Equal("hello", Encoding.UTF8.GetString(response.Body));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AChunkedBodyIsDecodedWithExtensionsAndTrailers(bool trickle)
    {
        var response = Read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;name=value\r\n{\"a\"\r\nA\r\n:12345678}\r\n0\r\nX-Trailer: yes\r\n\r\n", trickle);
        Assert.Equal("{\"a\":12345678}", Encoding.UTF8.GetString(response.Body));
    }

    [Fact]
    public void AChunkedBodyLargerThanTheBufferIsWhole()
    {
        var payload = string.Concat(Enumerable.Range(0, 20_000).Select(i => (char)('a' + i % 26)));
        var wire = new StringBuilder("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        foreach (var part in payload.Chunk(3001)) wire.Append($"{part.Length:x}\r\n").Append(part).Append("\r\n");
        wire.Append("0\r\n\r\n");
        Assert.Equal(payload, Encoding.UTF8.GetString(Read(wire.ToString(), trickle: false).Body));
        Assert.Equal(payload, Encoding.UTF8.GetString(Read(wire.ToString(), trickle: true).Body));
    }

    [Fact]
    public void WithoutFramingTheBodyEndsWithTheConnection()
    {
        var body = new string('x', 20_000);
        Assert.Equal(body, Encoding.UTF8.GetString(Read("HTTP/1.1 202 Accepted\r\nConnection: close\r\n\r\n" + body, trickle: false).Body));
    }

    [Fact]
    public void InterimResponsesAreSkippedAndA204HasNoBody()
    {
        var response = Read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n");
        Assert.Equal(204, response.StatusCode);
        Assert.Empty(response.Body);
        Assert.Equal("b", response.Header("X-A"));
    }

    [Fact]
    public void BareLineFeedsAndAnEmptyReasonAreAccepted()
    {
        var response = Read("HTTP/1.1 404\nContent-Length: 2\n\nno");
        Assert.Equal(404, response.StatusCode);
        Assert.Equal("", response.ReasonPhrase);
        Assert.Equal("no", Encoding.UTF8.GetString(response.Body));
    }

    [Theory]
    [InlineData("")] // closed before answering
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n")] // closed inside the headers
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")] // body cut short
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")] // no last chunk
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")] // not a chunk size
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n")] // chunk longer than said
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx")] // a coding this reader does not decode
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nxx\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n")] // over the body limit
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n\r\n")] // not HTTP at all
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n")]
    public void ABrokenResponseIsAnIOException(string wire) => Assert.Throws<IOException>(() => Read(wire));

    [Fact]
    public void RequestsAreWrittenAsTheRuntimeApiExpects()
    {
        Assert.Equal("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: close\r\n\r\n",
            Encoding.ASCII.GetString(RuntimeApiClient.Request("GET", "127.0.0.1:9001", "runtime/invocation/next", null, null)));
        var body = Encoding.UTF8.GetBytes("{\"é\":1}");
        Assert.Equal("POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nConnection: close\r\n" +
            "Content-Type: application/json\r\nContent-Length: 8\r\nLambda-Runtime-Function-Error-Type: AutoStop.InvalidConfiguration\r\n\r\n{\"é\":1}",
            Encoding.UTF8.GetString(RuntimeApiClient.Request("POST", "127.0.0.1:9001", "runtime/init/error", body, "AutoStop.InvalidConfiguration")));
    }

    [Fact]
    public void TheAddressIsHostColonPort()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9001), RuntimeApiClient.ParseEndPoint("127.0.0.1:9001"));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 9001), RuntimeApiClient.ParseEndPoint("[::1]:9001"));
        Assert.Equal(new DnsEndPoint("localhost", 9001), RuntimeApiClient.ParseEndPoint("localhost:9001"));
        foreach (var bad in new[] { "127.0.0.1", "127.0.0.1:", ":9001", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:+1", "::1:9001" })
            Assert.Throws<ArgumentException>(() => RuntimeApiClient.ParseEndPoint(bad));
    }

    /// <summary>A one-shot server on 127.0.0.1 that reads one request and answers with the given bytes.</summary>
    private static async Task<(string Request, T Result)> ExchangeAsync<T>(string answer, Func<RuntimeApiClient, Task<T>> call)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var connection = await listener.AcceptTcpClientAsync();
            var stream = connection.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            // Headers, then as many body bytes as Content-Length says.
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                request.Append(Encoding.UTF8.GetString(buffer, 0, await stream.ReadAsync(buffer)));
            var text = request.ToString();
            var length = text.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.Ordinal)) is { } header ? int.Parse(header[15..]) : 0;
            while (Encoding.UTF8.GetByteCount(text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]) < length)
                text += Encoding.UTF8.GetString(buffer, 0, await stream.ReadAsync(buffer));
            foreach (var b in Encoding.UTF8.GetBytes(answer)) await stream.WriteAsync(new[] { b }); // one byte a segment
            return text;
        });
        var client = new RuntimeApiClient($"127.0.0.1:{port}");
        var result = await call(client);
        return (await server, result);
    }

    [Fact]
    public async Task NextReadsTheInvocationFromAChunkedAnswer()
    {
        var (request, invocation) = await ExchangeAsync(
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8476a536\r\nLambda-Runtime-Deadline-Ms: 1542409706888\r\n" +
            "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:autostop\r\n" +
            "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1\r\n" +
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n15\r\n{\"time\":\"2026-11-23T1\r\nA\r\n0:05:00Z\"}\r\n0\r\n\r\n",
            c => c.NextAsync(CancellationToken.None));

        Assert.StartsWith("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n", request);
        Assert.Equal("8476a536", invocation.RequestId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1542409706888), invocation.Deadline);
        Assert.Equal("arn:aws:lambda:us-east-1:123456789012:function:autostop", invocation.FunctionArn);
        Assert.Equal("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1", invocation.TraceId);
        Assert.Equal("{\"time\":\"2026-11-23T10:05:00Z\"}", Encoding.UTF8.GetString(invocation.Payload));
    }

    [Fact]
    public async Task AnErrorIsPostedWithItsTypeHeaderAndBody()
    {
        var (request, _) = await ExchangeAsync("HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n",
            async c => { await c.ReportInvocationErrorAsync("id/1", "AutoStop.InvalidEvent", "bad \"event\"", CancellationToken.None); return 0; });

        Assert.StartsWith("POST /2018-06-01/runtime/invocation/id%2F1/error HTTP/1.1\r\n", request);
        Assert.Contains("\r\nLambda-Runtime-Function-Error-Type: AutoStop.InvalidEvent\r\n", request);
        Assert.EndsWith("\r\n\r\n{\"errorMessage\":\"bad \\u0022event\\u0022\",\"errorType\":\"AutoStop.InvalidEvent\",\"stackTrace\":[]}", request);
    }

    [Fact]
    public async Task A500IsTheExitSignalAndOtherFailuresAreHttpErrors()
    {
        await Assert.ThrowsAsync<RuntimeApiExitException>(() => ExchangeAsync("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
            c => c.NextAsync(CancellationToken.None)));
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => ExchangeAsync("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n",
            async c => { await c.RespondAsync("r", "{}", CancellationToken.None); return 0; }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.StatusCode);
        Assert.Contains("413 (Payload Too Large)", error.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => ExchangeAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            c => c.NextAsync(CancellationToken.None))); // no request id
    }
}
