using System.Globalization;
using System.Text;

namespace AutoStop.Hosting.Lambda;

/// <summary>An HTTP/1.1 response as <see cref="Http11.ReadResponse"/> read it. Header names ignore case; a repeated
/// header keeps its first value.</summary>
public sealed record Http11Response(int StatusCode, string ReasonPhrase, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Just enough HTTP/1.1 (RFC 9112) to read one response from the Lambda Runtime API: the status line, the headers, and a
/// body framed by Transfer-Encoding: chunked, Content-Length, or the end of the connection; interim 1xx responses are
/// skipped. Requests are written by <see cref="RuntimeApiClient"/> with Connection: close, so a connection carries one
/// exchange and nothing is pipelined or pooled.
/// </summary>
public static class Http11
{
    /// <summary>Far above anything the Runtime API sends (its headers are a few hundred bytes).</summary>
    public const int MaxHeaderBytes = 64 * 1024;

    /// <summary>Far above Lambda's largest invocation payload (6 MB): a broken peer cannot make the function eat its memory.</summary>
    public const int MaxBodyBytes = 64 * 1024 * 1024;

    public static Http11Response ReadResponse(Stream stream)
    {
        var reader = new Reader(stream);
        while (true)
        {
            var statusLine = reader.ReadLine() ?? throw new IOException("The connection closed before a response arrived.");
            // HTTP/1.x SP 3DIGIT SP [reason]
            if (!statusLine.StartsWith("HTTP/1.", StringComparison.Ordinal) || statusLine.Length < 12 || statusLine[8] != ' '
                || !int.TryParse(statusLine.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status)
                || (statusLine.Length > 12 && statusLine[12] != ' '))
                throw new IOException($"Not an HTTP/1.1 status line: '{Shorten(statusLine)}'.");
            var reason = statusLine.Length > 13 ? statusLine[13..] : "";

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var headerBytes = statusLine.Length;
            for (var line = reader.ReadLine(); ; line = reader.ReadLine())
            {
                if (line is null) throw new IOException("The connection closed inside the response's headers.");
                if (line.Length == 0) break;
                headerBytes += line.Length;
                if (headerBytes > MaxHeaderBytes) throw new IOException($"The response's headers are over {MaxHeaderBytes} bytes.");
                var colon = line.IndexOf(':');
                if (colon <= 0) throw new IOException($"Not an HTTP header line: '{Shorten(line)}'.");
                headers.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
            }

            if (status is >= 100 and < 200) continue; // 100 Continue and the like: the real response follows

            byte[] body;
            if (status is 204 or 304) body = [];
            else if (headers.TryGetValue("Transfer-Encoding", out var encoding))
            {
                // chunked alone: the Runtime API sends no other coding, and a body still compressed must not pass for JSON.
                if (!encoding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                    throw new IOException($"Unsupported Transfer-Encoding '{Shorten(encoding)}'.");
                body = reader.ReadChunked();
            }
            else if (headers.TryGetValue("Content-Length", out var lengthText))
            {
                if (!long.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                    throw new IOException($"Not a Content-Length: '{Shorten(lengthText)}'.");
                if (length > MaxBodyBytes) throw new IOException($"The response's body ({length} bytes) is over {MaxBodyBytes} bytes.");
                body = reader.ReadExactly((int)length);
            }
            else body = reader.ReadToEnd(); // HTTP/1.1 §6.3: no framing, the body ends with the connection
            return new Http11Response(status, reason, headers, body);
        }
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "...";

    /// <summary>Reads lines and bodies from the stream through one buffer, so nothing read ahead is lost.</summary>
    private sealed class Reader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _start, _end;

        /// <summary>Called only once everything buffered has been taken.</summary>
        private bool Fill()
        {
            _start = 0;
            _end = stream.Read(_buffer, 0, _buffer.Length);
            return _end > 0;
        }

        /// <summary>One line without its CRLF (a bare LF also ends it); null at the end of the stream before any byte of it.</summary>
        public string? ReadLine()
        {
            var line = new List<byte>();
            while (true)
            {
                var lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                var upTo = lf >= 0 ? lf : _end;
                for (var i = _start; i < upTo; i++) line.Add(_buffer[i]);
                if (line.Count > MaxHeaderBytes) throw new IOException($"A response line is over {MaxHeaderBytes} bytes.");
                if (lf >= 0)
                {
                    _start = lf + 1;
                    if (line.Count > 0 && line[^1] == '\r') line.RemoveAt(line.Count - 1);
                    return Encoding.Latin1.GetString([.. line]);
                }
                _start = _end;
                if (!Fill()) return line.Count == 0 ? null : throw new IOException("The connection closed inside a response line.");
            }
        }

        public byte[] ReadExactly(int count)
        {
            var result = new byte[count];
            var done = 0;
            while (done < count)
            {
                if (_start == _end && !Fill()) throw new IOException($"The connection closed after {done} of the body's {count} bytes.");
                var take = Math.Min(count - done, _end - _start);
                Buffer.BlockCopy(_buffer, _start, result, done, take);
                _start += take;
                done += take;
            }
            return result;
        }

        public byte[] ReadToEnd()
        {
            using var body = new MemoryStream();
            do
            {
                body.Write(_buffer, _start, _end - _start);
                _start = _end;
                if (body.Length > MaxBodyBytes) throw new IOException($"The response's body is over {MaxBodyBytes} bytes.");
            }
            while (Fill());
            return body.ToArray();
        }

        public byte[] ReadChunked()
        {
            using var body = new MemoryStream();
            while (true)
            {
                var sizeLine = ReadLine() ?? throw new IOException("The connection closed before a chunk's size.");
                var semicolon = sizeLine.IndexOf(';'); // chunk extensions are ignored
                var sizeText = (semicolon >= 0 ? sizeLine[..semicolon] : sizeLine).Trim();
                if (sizeText.Length is 0 or > 8 || !int.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0)
                    throw new IOException($"Not a chunk size: '{Shorten(sizeLine)}'.");
                if (size == 0)
                {
                    // Trailer fields, if any, up to the empty line that ends the message.
                    for (var line = ReadLine(); line is { Length: > 0 }; line = ReadLine()) { }
                    return body.ToArray();
                }
                if (body.Length + size > MaxBodyBytes) throw new IOException($"The response's body is over {MaxBodyBytes} bytes.");
                body.Write(ReadExactly(size));
                if (ReadLine() is not "") throw new IOException("A chunk did not end with CRLF.");
            }
        }
    }
}
