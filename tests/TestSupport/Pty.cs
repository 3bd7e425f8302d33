using System.Runtime.InteropServices;
using System.Text;

namespace AutoStop.TestSupport;

/// <summary>
/// A real pseudo-terminal (posix_openpt, grantpt, unlockpt, ptsname_r from glibc): <see cref="Path"/> is its
/// /dev/pts/N, which a program under test writes to as to any person's terminal, and <see cref="Read"/> returns what
/// arrived on it, as the person's terminal emulator would receive it (the master side).
/// </summary>
public sealed class Pty : IDisposable
{
    private const int O_RDWR = 2, O_NOCTTY = 0x100, POLLIN = 1;
    private readonly int _master;
    private readonly StringBuilder _received = new();

    public string Path { get; }

    public Pty()
    {
        _master = posix_openpt(O_RDWR | O_NOCTTY);
        if (_master < 0) throw new InvalidOperationException($"posix_openpt failed: errno {Marshal.GetLastPInvokeError()}");
        var name = new byte[128];
        if (grantpt(_master) != 0 || unlockpt(_master) != 0 || ptsname_r(_master, name, name.Length) != 0)
        {
            close(_master);
            throw new InvalidOperationException($"could not set up the pty: errno {Marshal.GetLastPInvokeError()}");
        }
        Path = Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0));
    }

    /// <summary>Everything received so far, reading for up to <paramref name="wait"/> until <paramref name="until"/>
    /// is in it (or, without one, until nothing more arrives for 200 ms).</summary>
    public string Read(TimeSpan wait, string? until = null)
    {
        var end = DateTime.UtcNow + wait;
        var buffer = new byte[65536];
        while (DateTime.UtcNow < end)
        {
            if (until is not null && _received.ToString().Contains(until, StringComparison.Ordinal)) break;
            var fds = new PollFd { Fd = _master, Events = POLLIN };
            var ready = poll(ref fds, 1, until is null ? 200 : 100);
            if (ready <= 0)
            {
                if (until is null) break;
                continue;
            }
            var n = read(_master, buffer, buffer.Length);
            if (n <= 0) // EIO: no slave side open (none yet, or all closed) and nothing buffered
            {
                if (until is null) break;
                Thread.Sleep(50);
                continue;
            }
            _received.Append(Encoding.UTF8.GetString(buffer, 0, (int)n));
        }
        return _received.ToString();
    }

    public void Dispose() => close(_master);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)] private static extern int posix_openpt(int flags);
    [DllImport("libc", SetLastError = true)] private static extern int grantpt(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int unlockpt(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int ptsname_r(int fd, byte[] buf, nint buflen);
    [DllImport("libc", SetLastError = true)] private static extern nint read(int fd, byte[] buf, nint count);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] private static extern int poll(ref PollFd fds, nuint nfds, int timeout);
}
