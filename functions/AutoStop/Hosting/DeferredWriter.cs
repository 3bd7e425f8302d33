using System.Text;

namespace AutoStop.Hosting;

/// <summary>Stands for a writer that is only opened when something is first written: in Lambda, Console.Error is set up
/// at the first line printed instead of at start (its set-up installs the console's signal handling: a thread and a pipe).</summary>
public sealed class DeferredWriter(Func<TextWriter> open) : TextWriter
{
    private readonly Lazy<TextWriter> _writer = new(open, LazyThreadSafetyMode.ExecutionAndPublication);

    public override Encoding Encoding => _writer.Value.Encoding;
    public override void Write(char value) => _writer.Value.Write(value);
    public override void Write(string? value) => _writer.Value.Write(value);
    public override void Write(char[] buffer, int index, int count) => _writer.Value.Write(buffer, index, count);
    public override void Write(ReadOnlySpan<char> buffer) => _writer.Value.Write(buffer);
    public override void WriteLine() => _writer.Value.WriteLine();
    public override void WriteLine(string? value) => _writer.Value.WriteLine(value);
    public override Task WriteAsync(char value) => _writer.Value.WriteAsync(value);
    public override Task WriteAsync(string? value) => _writer.Value.WriteAsync(value);
    public override Task WriteLineAsync(string? value) => _writer.Value.WriteLineAsync(value);
    public override Task WriteLineAsync() => _writer.Value.WriteLineAsync();

    /// <summary>Nothing written yet: nothing to flush, and no reason to open the writer.</summary>
    public override void Flush()
    {
        if (_writer.IsValueCreated) _writer.Value.Flush();
    }

    public override Task FlushAsync() => _writer.IsValueCreated ? _writer.Value.FlushAsync() : Task.CompletedTask;
}
