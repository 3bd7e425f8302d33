using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Fleet;

/// <summary>A state change of an instance in virtual time (the summary's timeline).</summary>
public sealed record StateChange(DateTimeOffset Time, string State, string Cause);

/// <summary>One simulated EC2 instance: its EC2 facts, its tags, and its state over virtual time.</summary>
public sealed class LabInstance(string id, string reservationId, InstanceSpec spec, DateTimeOffset launchTime, string initialState, DateTimeOffset start)
{
    /// <summary>How long stopping lasts in virtual time.</summary>
    public static readonly TimeSpan StopDuration = TimeSpan.FromSeconds(60);

    /// <summary>How long pending lasts: the scenario's startSeconds (default 30). EC2 reports pending from StartInstances
    /// until the instance is ready, then running ("Amazon EC2 instance state changes", EC2 User Guide: "When you start
    /// your instance, it enters the pending state ... then it enters the running state"); how long depends on the instance.</summary>
    public TimeSpan StartDuration => Spec.StartDuration;

    private readonly object _gate = new();
    private bool _stopCompleted;   // stopped by a stop (not stopped since the scenario began)

    public string Id { get; } = id;
    public string ReservationId { get; } = reservationId;
    public InstanceSpec Spec { get; } = spec;
    public Dictionary<string, string> Tags { get; } = new(spec.Tags, StringComparer.Ordinal);
    public string State { get; private set; } = initialState;
    public DateTimeOffset StateSince { get; private set; } = initialState == "running" ? launchTime : start;
    public DateTimeOffset LaunchTime { get; private set; } = launchTime;
    public bool LastStopHibernated { get; private set; }
    public List<StateChange> Timeline { get; } = [new(start, initialState, "scenario")];

    public object Gate => _gate;

    /// <summary>The SSM agent's PingStatus at <paramref name="now"/>: the scenario's ping once the instance has run for
    /// agentOnlineSeconds, ConnectionLost before that and whenever it is not running. SSM reports ConnectionLost for a
    /// stopped managed node and Online again once its agent has started and pinged ("Understanding managed node status",
    /// Systems Manager User Guide; PingStatus enum Online | ConnectionLost | Inactive in botocore's ssm/2014-11-06 model).</summary>
    public string PingStatusAt(DateTimeOffset now)
    {
        lock (_gate)
            return State == "running" && now >= StateSince + Spec.AgentOnlineAfter ? Spec.PingStatus : "ConnectionLost";
    }

    /// <summary>PrivateIpAddress: kept while stopped. PublicIpAddress: "We release your instance's public IPv4 address when
    /// it is stopped" and assign a new one when it starts ("Amazon EC2 instance IP addressing", EC2 User Guide), so none
    /// while stopping or stopped. The lab serves one scenario address for both.</summary>
    public (string? Private, string? Public) Addresses
    {
        get { lock (_gate) return (Spec.Address, State is "pending" or "running" ? Spec.Address : null); }
    }

    /// <summary>Moves the instance's state forward to <paramref name="now"/>: stopping becomes stopped, pending becomes
    /// running, and a stopped instance is started by its person when one of their sessions begins (autoStart).</summary>
    public void AdvanceTo(DateTimeOffset now)
    {
        lock (_gate)
        {
            if (State == "stopping" && now >= StateSince + StopDuration)
            {
                Change(StateSince + StopDuration, "stopped", "stop completed");
                _stopCompleted = true;
            }
            if (State == "pending" && now >= StateSince + StartDuration) Change(StateSince + StartDuration, "running", "start completed");
            if (State == "stopped" && Spec.AutoStart)
            {
                // A person arriving at the very moment a stop completes (whole-minute traces: a stop at a minute completes
                // on the next one) finds the instance stopped and starts it, as one arriving later does; without this the
                // arrival was neither served nor counted as cut (it did not begin while the instance was stopping).
                var arrival = Spec.Sessions.Where(s => s.IsPersonSession && (s.From > StateSince || _stopCompleted && s.From == StateSince) && s.From <= now)
                    .Select(s => (DateTimeOffset?)s.From).Min();
                if (arrival is { } t)
                {
                    Change(t, "running", "started by its user");
                    LaunchTime = t;
                }
            }
        }
    }

    /// <summary>EC2 refuses to stop a pending instance (IncorrectInstanceState); stopping or stopped ones are left as they are.</summary>
    public bool CanStop { get { lock (_gate) return State is "running" or "stopping" or "stopped"; } }

    /// <summary>EC2 refuses to start a stopping instance (IncorrectInstanceState); pending or running ones are left as they are.</summary>
    public bool CanStart { get { lock (_gate) return State is "stopped" or "pending" or "running"; } }

    /// <summary>EC2's StopInstances on this instance; returns the previous state name.</summary>
    public string Stop(DateTimeOffset now, bool hibernate)
    {
        lock (_gate)
        {
            var previous = State;
            if (State == "running")
            {
                LastStopHibernated = hibernate;
                Change(now, "stopping", hibernate ? "hibernated by StopInstances" : "stopped by StopInstances");
            }
            return previous;
        }
    }

    public string Start(DateTimeOffset now)
    {
        lock (_gate)
        {
            var previous = State;
            if (State == "stopped")
            {
                Change(now, "pending", "started by StartInstances");
                LaunchTime = now;
            }
            return previous;
        }
    }

    private void Change(DateTimeOffset at, string state, string cause)
    {
        State = state;
        StateSince = at;
        Timeline.Add(new StateChange(at, state, cause));
    }

    public bool HasFault(FaultKind kind, DateTimeOffset now) => Spec.Faults.Any(f => f.Kind == kind && f.From <= now && now < f.To);

    public InstanceFault? Fault(FaultKind kind, DateTimeOffset now) => Spec.Faults.FirstOrDefault(f => f.Kind == kind && f.From <= now && now < f.To);

    public static int StateCode(string state) => state switch
    {
        "pending" => 0, "running" => 16, "shutting-down" => 32, "terminated" => 48, "stopping" => 64, "stopped" => 80, _ => 0,
    };
}
