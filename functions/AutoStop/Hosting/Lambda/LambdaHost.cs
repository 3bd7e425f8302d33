using AutoStop.Configuration;
using AutoStop.Ticking;

namespace AutoStop.Hosting.Lambda;

/// <summary>
/// The custom-runtime loop: read the configuration once (an invalid one is an init error), then for each invocation
/// parse the payload, run one tick with a deadline taken from Lambda's, and post the tick summary or an error.
/// </summary>
public sealed class LambdaHost(IRuntimeApi runtime, Func<string, string?> environment, Func<AutoStopConfig, ITickHandler> createHandler,
    TimeProvider clock, TextWriter stderr)
{
    /// <summary>Kept back from Lambda's deadline to print the last lines and post the response before Lambda kills the process.</summary>
    public static readonly TimeSpan DeadlineMargin = TimeSpan.FromSeconds(3);

    /// <summary>A hung tick is cancelled this long before Lambda's deadline, leaving time to post the error.</summary>
    public static readonly TimeSpan HardStopMargin = TimeSpan.FromSeconds(1);

    public const string InvalidConfigurationError = "AutoStop.InvalidConfiguration";
    public const string InitFailedError = "AutoStop.InitFailed";
    public const string InvalidEventError = "AutoStop.InvalidEvent";
    public const string TickIncompleteError = "AutoStop.TickIncomplete";
    public const string UnhandledError = "AutoStop.UnhandledException";
    public const string DeadlineExceededError = "AutoStop.DeadlineExceeded";

    /// <summary>Serves invocations until <paramref name="cancellationToken"/> fires (Lambda just freezes or kills the process).
    /// Returns 1 after reporting an init error, or when the Runtime API says to exit.</summary>
    /// <summary>The configuration read at init (or, when HandleAsync is called on its own, on the first invocation).</summary>
    private AutoStopConfig? _config;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        ITickHandler handler;
        try
        {
            _config = AutoStopConfig.FromEnvironment(environment);
            handler = createHandler(_config);
        }
        catch (Exception e) // anything (a bad region, an AWS client that cannot be built): Lambda must hear why
        {
            var (errorType, message) = e is ConfigException config
                ? (InvalidConfigurationError, "Invalid AutoStop configuration; nothing was done: " + string.Join(" ", config.Problems))
                : (InitFailedError, $"AutoStop could not start; nothing was done: {e.GetType().Name}: {e.Message}");
            await stderr.WriteLineAsync(message);
            await runtime.ReportInitErrorAsync(errorType, message, cancellationToken);
            return 1;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            Invocation invocation;
            try { invocation = await runtime.NextAsync(cancellationToken); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { break; }
            // A 500 to /next too: exit as the contract says, with a line, rather than crash with an unhandled exception.
            catch (RuntimeApiExitException e) { await stderr.WriteLineAsync(e.Message); return 1; }
            try { await HandleAsync(handler, invocation, cancellationToken); }
            catch (RuntimeApiExitException e) { await stderr.WriteLineAsync(e.Message); return 1; }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // Posting this invocation's result failed (e.g. 413, or the fallback error post too): Lambda ends that
                // invocation itself; the next one must still be served.
                await stderr.WriteLineAsync($"Could not post the result of invocation {invocation.RequestId}: {e.GetType().Name}: {e.Message}");
            }
        }
        return 0;
    }

    /// <summary>One invocation, start to end. Never throws for the invocation's own failures: they are posted as errors.
    /// Throws only when a post to the Runtime API fails.</summary>
    public async Task HandleAsync(ITickHandler handler, Invocation invocation, CancellationToken cancellationToken)
    {
        // The AWS SDK and X-Ray read the trace id from here.
        Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", invocation.TraceId);

        AutoStopConfig config;
        try { config = _config ??= AutoStopConfig.FromEnvironment(environment); }
        catch (ConfigException e)
        {
            var message = "Invalid AutoStop configuration; nothing was done: " + string.Join(" ", e.Problems);
            await stderr.WriteLineAsync(message);
            await runtime.ReportInvocationErrorAsync(invocation.RequestId, InvalidConfigurationError, message, cancellationToken);
            return;
        }

        var trigger = ScheduledEventParser.TryParse(invocation.Payload, clock.GetUtcNow(), config.EventMaxSkew, out var parseError);
        if (trigger is null)
        {
            await stderr.WriteLineAsync(parseError);
            await runtime.ReportInvocationErrorAsync(invocation.RequestId, InvalidEventError, parseError, cancellationToken);
            return;
        }

        // Ignored rather than rejected: the tick still runs, as safely as deployed, and its summary shows dryRun.
        if (trigger.DryRunOffIgnored)
            await stderr.WriteLineAsync("The payload's \"dryRun\":false has no effect: a payload can only turn dry run on; the stack's DryRun parameter (AUTOSTOP_DRY_RUN) decides otherwise.");

        var deadline = invocation.Deadline - DeadlineMargin;
        using var tickCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A hard stop just before Lambda's own: the tick checks its deadline itself; this only bounds a hung call.
        var hardStop = invocation.Deadline - clock.GetUtcNow() - HardStopMargin;
        tickCancellation.CancelAfter(hardStop > TimeSpan.Zero ? hardStop : TimeSpan.Zero);
        try
        {
            var outcome = await handler.RunTickAsync(new TickRequest(trigger.Now ?? clock.GetUtcNow(), deadline, trigger.ForceDryRun), tickCancellation.Token);
            if (outcome.Completed)
                await runtime.RespondAsync(invocation.RequestId, outcome.SummaryJson, cancellationToken);
            else
                await runtime.ReportInvocationErrorAsync(invocation.RequestId, TickIncompleteError,
                    "The tick could not list instances (see the error line in the log); nothing was decided.", cancellationToken);
        }
        catch (OperationCanceledException) when (tickCancellation.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            const string message = "The tick did not finish before the Lambda deadline; what it had not done is left for the next tick.";
            await stderr.WriteLineAsync(message);
            await runtime.ReportInvocationErrorAsync(invocation.RequestId, DeadlineExceededError, message, cancellationToken);
        }
        catch (Exception e) when (e is not RuntimeApiExitException && (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
        {
            // Also a rejected response (e.g. 413): the error post tells Lambda why instead of leaving it to time out.
            await stderr.WriteLineAsync($"Unhandled {e.GetType().Name}: {e.Message}");
            await runtime.ReportInvocationErrorAsync(invocation.RequestId, UnhandledError, $"{e.GetType().Name}: {e.Message}", cancellationToken);
        }
    }
}
