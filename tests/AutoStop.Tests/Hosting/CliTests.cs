using AutoStop.Configuration;
using AutoStop.Hosting;
using AutoStop.Ticking;

namespace AutoStop.Tests.Hosting;

public class CliTests
{
    private sealed class RecordingHandler(bool completed = true) : ITickHandler
    {
        public TickRequest? Request;
        public Task<TickOutcome> RunTickAsync(TickRequest request, CancellationToken cancellationToken)
        {
            Request = request;
            return Task.FromResult(new TickOutcome("{}", completed));
        }
    }

    private readonly StringWriter _out = new(), _err = new();
    private RecordingHandler _handler = new();
    private AutoStopConfig? _config;
    private string? _region;

    private Task<int> Run(IDictionary<string, string>? env, params string[] args) =>
        Cli.RunAsync(args, n => env?.TryGetValue(n, out var v) == true ? v : null,
            (config, region) => { _config = config; _region = region; return _handler; },
            _out, _err, TimeProvider.System, CancellationToken.None);

    [Fact]
    public async Task HelpExplainsTheCommandAndEveryVariable()
    {
        Assert.Equal(0, await Run(null, "--help"));
        var help = _out.ToString();
        Assert.Contains("autostop tick", help);
        foreach (var v in AutoStopConfig.Variables) Assert.Contains(v.Name, help);
    }

    [Fact]
    public async Task TickPassesNowDryRunAndRegion()
    {
        Assert.Equal(0, await Run(null, "tick", "--dry-run", "--now", "2026-11-23T10:05:00Z", "--region", "eu-west-1"));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 5, 0, TimeSpan.Zero), _handler.Request!.Now);
        Assert.True(_handler.Request.ForceDryRun);
        Assert.Equal("eu-west-1", _region);
        Assert.True(_handler.Request.Deadline > DateTimeOffset.UtcNow);
    }

    [Theory]
    [InlineData("--now", "tomorrow")]
    [InlineData("--now", "2026-11-23T10:05:00")]
    [InlineData("--bogus", "x")]
    public async Task BadArgumentsExitTwoNamingTheValue(string option, string value)
    {
        Assert.Equal(2, await Run(null, "tick", option, value));
        Assert.Null(_handler.Request);
        Assert.Contains(option == "--now" ? value : option, _err.ToString());
    }

    [Fact]
    public async Task ConfigurationErrorExitsTwoAndDoesNothing()
    {
        Assert.Equal(2, await Run(new Dictionary<string, string> { ["AUTOSTOP_IDLE_MINUTES"] = "1" }, "tick"));
        Assert.Null(_config);
        Assert.Contains("AUTOSTOP_IDLE_MINUTES='1'", _err.ToString());
    }

    [Fact]
    public async Task UnreachableAwsExitsThree()
    {
        _handler = new RecordingHandler(completed: false);
        Assert.Equal(3, await Run(null, "tick"));
    }
}
