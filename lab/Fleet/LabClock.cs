namespace AutoStop.Lab.Fleet;

/// <summary>
/// The lab's notion of now. In `run` and `demo` it is virtual: it jumps tick by tick and stands still while the
/// function runs a tick. In `serve` it follows the real clock from the scenario's start.
/// </summary>
public sealed class LabClock(DateTimeOffset start, bool followsRealTime)
{
    private readonly DateTimeOffset _realStart = DateTimeOffset.UtcNow;
    private readonly DateTimeOffset _start = start;
    private DateTimeOffset _virtual = start;

    public DateTimeOffset Now => followsRealTime ? _start + (DateTimeOffset.UtcNow - _realStart) : _virtual;

    public void Set(DateTimeOffset now)
    {
        if (followsRealTime) throw new InvalidOperationException("a real-time lab clock cannot be set");
        _virtual = now;
    }
}
