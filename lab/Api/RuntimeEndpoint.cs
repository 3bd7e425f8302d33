using System.Globalization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace AutoStop.Lab.Api;

/// <summary>How an invocation ended, as the function reported it through the Runtime API.</summary>
public sealed record InvocationResult(bool Succeeded, string Body, string? ErrorType);

/// <summary>
/// The Lambda Runtime API (2018-06-01) as Lambda serves it to a custom runtime: invocations are queued by the lab's
/// scheduler and handed out on GET /runtime/invocation/next; the function posts a response or an error.
/// </summary>
public sealed class RuntimeEndpoint
{
    private sealed record Pending(string RequestId, byte[] Payload, DateTimeOffset Deadline, TaskCompletionSource<InvocationResult> Done);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly Dictionary<string, Pending> _inFlight = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _initError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<DateTimeOffset> _firstNext = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public const string FunctionArn = "arn:aws:lambda:us-east-1:123456789012:function:AutoStop-lab";

    /// <summary>When the function first asked for work: the end of its cold start.</summary>
    public Task<DateTimeOffset> FirstNext => _firstNext.Task;

    /// <summary>Completes with the message when the function reports an init error.</summary>
    public Task<string> InitError => _initError.Task;

    /// <summary>Queues one invocation and waits for the function's answer.</summary>
    public Task<InvocationResult> InvokeAsync(byte[] payload, TimeSpan timeout)
    {
        var pending = new Pending(Guid.NewGuid().ToString(), payload, DateTimeOffset.UtcNow + timeout,
            new TaskCompletionSource<InvocationResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_inFlight) _inFlight[pending.RequestId] = pending;
        _queue.Writer.TryWrite(pending);
        return pending.Done.Task;
    }

    public async Task HandleAsync(HttpContext context, string path)
    {
        if (context.Request.Method == "GET" && path == "runtime/invocation/next")
        {
            _firstNext.TrySetResult(DateTimeOffset.UtcNow);
            Pending next;
            try { next = await _queue.Reader.ReadAsync(context.RequestAborted); }
            catch (OperationCanceledException) { return; }
            context.Response.Headers["Lambda-Runtime-Aws-Request-Id"] = next.RequestId;
            context.Response.Headers["Lambda-Runtime-Deadline-Ms"] = next.Deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["Lambda-Runtime-Invoked-Function-Arn"] = FunctionArn;
            context.Response.Headers["Lambda-Runtime-Trace-Id"] = $"Root=1-{DateTimeOffset.UtcNow.ToUnixTimeSeconds():x8}-{next.RequestId.Replace("-", "", StringComparison.Ordinal)[..24]};Sampled=0";
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(next.Payload);
            return;
        }
        if (context.Request.Method == "POST" && path == "runtime/init/error")
        {
            _initError.TrySetResult(await ReadBodyAsync(context));
            context.Response.StatusCode = 202;
            return;
        }
        var parts = path.Split('/');
        if (context.Request.Method == "POST" && parts is ["runtime", "invocation", var id, "response" or "error"])
        {
            Pending? pending;
            lock (_inFlight) _inFlight.Remove(id, out pending);
            if (pending is null)
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync("{\"errorMessage\":\"unknown request id\",\"errorType\":\"InvalidRequestID\"}");
                return;
            }
            var body = await ReadBodyAsync(context);
            pending.Done.TrySetResult(parts[3] == "response"
                ? new InvocationResult(true, body, null)
                : new InvocationResult(false, body, context.Request.Headers["Lambda-Runtime-Function-Error-Type"].ToString()));
            context.Response.StatusCode = 202;
            return;
        }
        context.Response.StatusCode = 404;
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return await reader.ReadToEndAsync();
    }
}
