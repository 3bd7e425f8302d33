using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using AutoStop.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AutoStop.Deploy.Tests;

/// <summary>A local stand-in for the Lambda Runtime API (127.0.0.1, a free port): hands out queued invocations and
/// records what the runtime posts back.</summary>
internal sealed class FakeRuntimeApi : IAsyncDisposable
{
    /// <param name="ReceivedAt">When the post reached the fake: Lambda's view of when the runtime answered.</param>
    public sealed record Posted(string Path, string Body, string? ErrorTypeHeader, DateTimeOffset ReceivedAt);

    private readonly WebApplication _app;
    private readonly Channel<(string Id, string Payload, DateTimeOffset Deadline, string? Trace)> _queue = Channel.CreateUnbounded<(string, string, DateTimeOffset, string?)>();
    public ConcurrentQueue<Posted> Posts { get; } = new();
    public int Port { get; } = FreePort.Next();
    public string Address => $"127.0.0.1:{Port}";
    private readonly SemaphoreSlim _posted = new(0);
    /// <summary>The status the fake answers a post to this path with (recorded either way); 202 unless a test says.</summary>
    public Func<string, int> StatusFor { get; set; } = _ => 202;

    /// <summary>When set, /next answers this status at once instead of handing out an invocation.</summary>
    public int? NextStatus { get; set; }

    private int _nextRequests;
    /// <summary>How many GET /next requests have arrived.</summary>
    public int NextRequests => Volatile.Read(ref _nextRequests);

    public FakeRuntimeApi()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, Port));
        _app = builder.Build();
        _app.MapGet("/2018-06-01/runtime/invocation/next", async (HttpContext context) =>
        {
            Interlocked.Increment(ref _nextRequests);
            if (NextStatus is { } status)
            {
                context.Response.StatusCode = status;
                return;
            }
            var (id, payload, deadline, trace) = await _queue.Reader.ReadAsync(context.RequestAborted);
            context.Response.Headers["Lambda-Runtime-Aws-Request-Id"] = id;
            context.Response.Headers["Lambda-Runtime-Deadline-Ms"] = deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = "arn:aws:lambda:us-east-1:123456789012:function:autostop";
            if (trace is not null) context.Response.Headers["Lambda-Runtime-Trace-Id"] = trace;
            await context.Response.WriteAsync(payload);
        });
        _app.MapPost("/2018-06-01/{**path}", async (HttpContext context, string path) =>
        {
            var receivedAt = DateTimeOffset.UtcNow;
            using var reader = new StreamReader(context.Request.Body);
            Posts.Enqueue(new Posted(path, await reader.ReadToEndAsync(), context.Request.Headers["Lambda-Runtime-Function-Error-Type"].FirstOrDefault(), receivedAt));
            _posted.Release();
            context.Response.StatusCode = StatusFor(path);
        });
        _app.StartAsync().GetAwaiter().GetResult();
    }

    public void Enqueue(string id, string payload, DateTimeOffset deadline, string? trace = null) => _queue.Writer.TryWrite((id, payload, deadline, trace));

    /// <summary>Waits (bounded) for the next thing the runtime posts.</summary>
    public async Task<Posted> NextPostAsync(TimeSpan? timeout = null)
    {
        Assert.True(await _posted.WaitAsync(timeout ?? TimeSpan.FromSeconds(20)), "nothing was posted to the Runtime API");
        Assert.True(Posts.TryDequeue(out var posted));
        return posted!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
