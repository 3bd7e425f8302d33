using System.Security.Cryptography;
using System.Text;
using AutoStop.Lab.Scenarios;

namespace AutoStop.Lab.Fleet;

/// <summary>The simulated fleet: instances by id in launch order, the commands sent to them, and the lab's clock.</summary>
public sealed class LabFleet
{
    public LabClock Clock { get; }
    public Scenario Scenario { get; }
    public IReadOnlyList<LabInstance> Instances { get; }
    public CommandStore Commands { get; } = new();
    /// <summary>The stop notices delivered (the notice document's commands that reached an instance).</summary>
    public NoticeLog Notices { get; } = new();
    private readonly Dictionary<string, LabInstance> _byId;

    public LabFleet(Scenario scenario, LabClock clock)
    {
        Scenario = scenario;
        Clock = clock;
        var instances = new List<LabInstance>();
        var reservation = 0;
        foreach (var spec in scenario.Instances)
        {
            reservation++;
            for (var i = 0; i < spec.Count; i++)
            {
                var id = spec.Id ?? DeterministicId(scenario.Seed, spec.Name, i, instances.Count);
                var launch = spec.LaunchTime ?? scenario.Start - TimeSpan.FromHours(1);
                var named = spec.Count > 1 ? spec with { Tags = WithName(spec.Tags, $"{spec.Name}-{i + 1}") } : spec;
                instances.Add(new LabInstance(id, $"r-{Hex(id, 17)}", named, launch, spec.State, scenario.Start));
            }
        }
        Instances = instances;
        _byId = instances.ToDictionary(i => i.Id, StringComparer.Ordinal);
    }

    public LabInstance? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Brings every instance's state forward to the clock's now.</summary>
    public void Advance()
    {
        var now = Clock.Now;
        foreach (var instance in Instances) instance.AdvanceTo(now);
    }

    private static Dictionary<string, string> WithName(IReadOnlyDictionary<string, string> tags, string name) =>
        new(tags, StringComparer.Ordinal) { ["Name"] = name };

    private static string DeterministicId(int seed, string name, int index, int position) =>
        "i-" + Hex($"{seed}/{name}/{index}/{position}", 17);

    private static string Hex(string text, int length) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant()[..length];
}
