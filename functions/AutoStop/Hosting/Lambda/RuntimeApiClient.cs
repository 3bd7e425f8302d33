using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace AutoStop.Hosting.Lambda;

/// <summary>
/// HTTP client for the Lambda Runtime API (base http://$AWS_LAMBDA_RUNTIME_API/2018-06-01), the documented calls only:
/// next invocation, response, invocation error, init error. Error bodies use the documented shape
/// {"errorMessage","errorType","stackTrace"} and the Lambda-Runtime-Function-Error-Type header.
/// </summary>
public sealed class RuntimeApiClient : IRuntimeApi, IDisposable
{
    private const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";
    private readonly HttpClient _http;

    public RuntimeApiClient(string runtimeApiAddress)
    {
        // GET /next blocks until an invocation arrives (possibly after the sandbox was frozen): no client timeout.
        // The Runtime API is local to the sandbox: never through an HTTP_PROXY a user set for the function's AWS calls.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = new Uri($"http://{runtimeApiAddress}/2018-06-01/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public async Task<Invocation> NextAsync(CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync("runtime/invocation/next", cancellationToken);
        EnsureSuccess(response, "runtime/invocation/next");
        var requestId = Header(response, "Lambda-Runtime-Aws-Request-Id")
            ?? throw new InvalidOperationException("The Runtime API answered /next without a Lambda-Runtime-Aws-Request-Id header.");
        var deadline = long.TryParse(Header(response, "Lambda-Runtime-Deadline-Ms"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw new InvalidOperationException("The Runtime API answered /next without a valid Lambda-Runtime-Deadline-Ms header.");
        var payload = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new Invocation(requestId, deadline, Header(response, "Lambda-Runtime-Invoked-Function-Arn"), Header(response, "Lambda-Runtime-Trace-Id"), payload);
    }

    public Task RespondAsync(string requestId, string responseJson, CancellationToken cancellationToken) =>
        PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/response", responseJson, null, cancellationToken);

    public Task ReportInvocationErrorAsync(string requestId, string errorType, string errorMessage, CancellationToken cancellationToken) =>
        PostAsync($"runtime/invocation/{Uri.EscapeDataString(requestId)}/error", ErrorBody(errorType, errorMessage), errorType, cancellationToken);

    public Task ReportInitErrorAsync(string errorType, string errorMessage, CancellationToken cancellationToken) =>
        PostAsync("runtime/init/error", ErrorBody(errorType, errorMessage), errorType, cancellationToken);

    private async Task PostAsync(string path, string json, string? errorType, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (errorType is not null) request.Headers.TryAddWithoutValidation(ErrorTypeHeader, errorType);
        using var response = await _http.SendAsync(request, cancellationToken);
        EnsureSuccess(response, path);
    }

    private static void EnsureSuccess(HttpResponseMessage response, string path)
    {
        if (response.StatusCode == HttpStatusCode.InternalServerError)
            throw new RuntimeApiExitException($"The Runtime API answered 500 to {path}: the runtime exits, as the API requires.");
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"The Runtime API answered {(int)response.StatusCode} ({response.ReasonPhrase}) to {path}.", null, response.StatusCode);
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

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public void Dispose() => _http.Dispose();
}
