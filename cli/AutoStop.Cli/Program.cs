using AutoStop.Cli;

// stdout carries only what a command prints for its caller (the SSH bytes for ssh-proxy); messages go to stderr.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
var host = new CliHost(
    Environment.GetEnvironmentVariable,
    Console.OpenStandardInput(),
    Console.OpenStandardOutput(),
    Console.Out,
    Console.Error,
    StderrIsTerminal: !Console.IsErrorRedirected,
    StdoutIsTerminal: !Console.IsOutputRedirected,
    TimeProvider.System,
    TimeZoneInfo.Local);
return await Commands.RunAsync(args, host, stop.Token);
