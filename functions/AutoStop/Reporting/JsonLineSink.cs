using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AutoStop.Reporting;

/// <summary>
/// Writes one JSON object per line to a TextWriter (stdout in Lambda = CloudWatch Logs).
/// Built with Utf8JsonWriter: no reflection, stable field order, never indented.
/// </summary>
public sealed class JsonLineSink(TextWriter output)
{
    private readonly Lock _gate = new();

    public void Write(Action<Utf8JsonWriter> writeFields)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = false }))
        {
            writer.WriteStartObject();
            writeFields(writer);
            writer.WriteEndObject();
        }
        var line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        lock (_gate)
        {
            output.Write(line);
            output.Write('\n');
            output.Flush();
        }
    }
}
