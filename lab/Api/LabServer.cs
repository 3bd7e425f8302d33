using System.Text.Json;
using System.Text.Json.Nodes;
using AutoStop.Lab.Fleet;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AutoStop.Lab.Api;

/// <summary>One HTTP port on 127.0.0.1 serving EC2 (Query), SSM (JSON 1.1) and the Lambda Runtime API, routed by request shape.</summary>
public sealed class LabServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    public LabFleet Fleet { get; }
    public ApiGate Gate { get; }
    public LabIam Iam { get; }
    public Ec2Endpoint Ec2 { get; }
    public SsmEndpoint Ssm { get; }
    public RuntimeEndpoint Runtime { get; } = new();
    public int Port { get; private set; }
    public string Url => $"http://127.0.0.1:{Port}";

    private LabServer(LabFleet fleet, int port, IReadOnlyDictionary<string, string>? agentEnvironment)
    {
        Fleet = fleet;
        Gate = new ApiGate(fleet.Scenario);
        Iam = new LabIam(fleet.Scenario);
        Ec2 = new Ec2Endpoint(fleet, Gate, Iam);
        Ssm = new SsmEndpoint(fleet, Gate, Iam, new LocalAgentScript(LabPaths.ProbeScript, agentEnvironment),
            new LocalAgentScript(LabPaths.NoticeScript, agentEnvironment));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, port);
            k.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
        });
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>Starts serving on 127.0.0.1 (port 0: a free one). <paramref name="agentEnvironment"/>: added to the
    /// environment of the agent scripts that `probe: local` instances run (their test seams, e.g. which terminals the
    /// stop notice writes to).</summary>
    public static async Task<LabServer> StartAsync(LabFleet fleet, int port = 0, IReadOnlyDictionary<string, string>? agentEnvironment = null)
    {
        var server = new LabServer(fleet, port, agentEnvironment);
        await server._app.StartAsync();
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Port = new Uri(address).Port;
        return server;
    }

    /// <summary>Serves one throw-away request on the Runtime API's path (a 404, no invocation), so the server has run its
    /// request path once. The first request a fresh Kestrel serves pays for the lab's own start-up (its JIT, the
    /// pipeline's first use: about 20-25 ms measured on 2 cores); without this, coldStartMs counted that against the
    /// function's cold start, which Lambda's always-warm Runtime API never does.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var response = await http.GetAsync($"{Url}/2018-06-01/lab/warm-up", cancellationToken);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/2018-06-01/", StringComparison.Ordinal))
        {
            await Runtime.HandleAsync(context, path["/2018-06-01/".Length..]);
            return;
        }
        if (context.Request.Method != "POST")
        {
            context.Response.StatusCode = 404;
            return;
        }
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        if (target.StartsWith("AmazonSSM.", StringComparison.Ordinal))
        {
            JsonObject request;
            try { request = (await JsonNode.ParseAsync(context.Request.Body))?.AsObject() ?? []; }
            catch (JsonException e)
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsync(new JsonObject { ["__type"] = "SerializationException", ["message"] = e.Message }.ToJsonString());
                return;
            }
            await Ssm.HandleAsync(context, target["AmazonSSM.".Length..], request);
            return;
        }
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync();
            await Ec2.HandleAsync(context, form.ToDictionary(f => f.Key, f => f.Value));
            return;
        }
        context.Response.StatusCode = 400;
        await context.Response.WriteAsync("The lab serves EC2 (Query form POST), SSM (X-Amz-Target: AmazonSSM.*) and the Lambda Runtime API (/2018-06-01/).");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
