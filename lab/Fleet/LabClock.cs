namespace AutoStop.Lab.Fleet;

/// <summary>
/// The lab's notion of now. In `run` and `demo` it is virtual: each tick sets it to the tick's scheduled time, and while
/// the function works on the tick it moves on with real time multiplied by the scenario's clockScale (1: as fast as a
/// wall clock; 0: it stands still; 600: ten virtual minutes a real second), so what the probe sees and what a stop hits
/// can differ as they do in AWS. Between ticks it stands still. In `serve` it follows the real clock from the scenario's start.
/// </summary>
public sealed class LabClock
{
    private readonly object _gate = new();
    private readonly bool _followsRealTime;
    private DateTimeOffset _virtualBase;
    private DateTimeOffset _realBase = DateTimeOffset.UtcNow;
    private bool _running;

    public LabClock(DateTimeOffset start, bool followsRealTime, double scale = 1)
    {
        if (scale < 0 || double.IsNaN(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "a clock scale is 0 or more");
        _virtualBase = start;
        _followsRealTime = followsRealTime;
        _running = followsRealTime;
        Scale = followsRealTime ? 1 : scale;
    }

    /// <summary>Virtual seconds per real second while a tick runs.</summary>
    public double Scale { get; }

    public DateTimeOffset Now => VirtualAt(DateTimeOffset.UtcNow);

    /// <summary>The virtual time at real time <paramref name="real"/> (in the current tick: the clock is linear within it).</summary>
    public DateTimeOffset VirtualAt(DateTimeOffset real)
    {
        lock (_gate) return At(real);
    }

    private DateTimeOffset At(DateTimeOffset real) =>
        _running && real > _realBase ? _virtualBase + TimeSpan.FromTicks((long)((real - _realBase).Ticks * Scale)) : _virtualBase;

    /// <summary>Starts a tick at virtual <paramref name="now"/>. The clock never goes back: when the previous tick ran
    /// past this time (a fast clockScale, a slow function), it carries on from where it is.</summary>
    public void Set(DateTimeOffset now)
    {
        if (_followsRealTime) throw new InvalidOperationException("a real-time lab clock cannot be set");
        var realNow = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            var current = At(realNow);
            _virtualBase = now > current ? now : current;
            _realBase = realNow;
            _running = true;
        }
    }

    /// <summary>Ends a tick: the clock stands still where it is until the next <see cref="Set"/>.</summary>
    public void Pause()
    {
        if (_followsRealTime) return;
        var realNow = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            _virtualBase = At(realNow);
            _realBase = realNow;
            _running = false;
        }
    }
}
