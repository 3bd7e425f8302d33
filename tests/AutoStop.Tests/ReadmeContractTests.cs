using AutoStop.Configuration;
using AutoStop.Policy;
using AutoStop.TestSupport;

namespace AutoStop.Tests;

/// <summary>The README's tables are a contract with users: they must name what the code does.</summary>
public class ReadmeContractTests
{
    private static readonly string Readme = File.ReadAllText(RepoPaths.Of("README.md"));

    [Fact]
    public void EveryConfigurationVariableIsDocumentedWithItsDefault()
    {
        foreach (var v in AutoStopConfig.Variables)
            Assert.Contains($"| `{v.Name}` | `{v.Default}` |", Readme);
    }

    [Fact]
    public void EveryReasonCodeIsDocumented()
    {
        foreach (var code in ReasonCodes.All) Assert.Contains($"| `{code}` |", Readme);
    }

    [Fact]
    public void EverySettingTagIsDocumented()
    {
        foreach (var name in InstanceSettingsReader.KnownNames) Assert.Contains($"| `AutoStop:{name}` |", Readme);
    }

    [Fact]
    public void TheTestCommandIsWhatCiRuns()
    {
        Assert.Contains("    bash tests/run.sh", Readme);
        Assert.Contains("bash tests/run.sh", File.ReadAllText(RepoPaths.Of(".ci", "run")));
    }
}
