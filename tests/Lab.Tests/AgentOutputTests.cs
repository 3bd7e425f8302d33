using AutoStop.Lab.Fleet;

namespace AutoStop.Lab.Tests;

/// <summary>The SSM agent's TruncateOutput (amazon-ssm-agent iohandler.go), as the lab ports it: the sizes below are
/// worked out by hand from the Go source for capacity 2,500, the 24-character ERROR title and 23-character truncation marks.</summary>
public class AgentOutputTests
{
    private static string A(int n) => new('a', n);
    private static string E(int n) => new('e', n);

    [Fact]
    public void TheMarksAreTheAgentsStrings()
    {
        Assert.Equal(24, AgentOutput.ErrorTitle.Length);
        Assert.Equal(23, AgentOutput.OutputTruncated.Length);
        Assert.Equal(23, AgentOutput.ErrorTruncated.Length);
    }

    [Fact]
    public void StdoutAloneIsKeptAsItIs() => Assert.Equal("{\"v\":1}\n", AgentOutput.Join("{\"v\":1}\n", ""));

    [Fact]
    public void StderrGoesUnderTheErrorTitleEvenWhenStdoutIsEmpty()
    {
        Assert.Equal("out\n\n----------ERROR-------\nwarn\n", AgentOutput.Join("out\n", "warn\n"));
        Assert.Equal("\n----------ERROR-------\nboom", AgentOutput.Join("", "boom"));
    }

    [Fact]
    public void StdoutOfExactlyTheCapacityIsCutAndMarked()
    {
        var joined = AgentOutput.Join(A(2500), "");
        Assert.Equal(A(2477) + "\n---Output truncated---", joined);
        Assert.Equal(2500, joined.Length);
        Assert.Equal(A(2499), AgentOutput.Join(A(2499), "")); // strictly less than the capacity fits
    }

    [Fact]
    public void WhenBothAreLongBothAreCutToHalves()
    {
        // available = 2500 - 24 = 2476; both over 1238; each keeps (2476 - 23 - 23) / 2 = 1215.
        Assert.Equal(A(1215) + AgentOutput.OutputTruncated + AgentOutput.ErrorTitle + E(1215) + AgentOutput.ErrorTruncated, AgentOutput.Join(A(2000), E(2000)));
    }

    [Fact]
    public void AShortStdoutIsKeptWholeAndStderrIsCut()
    {
        // stderr keeps 2476 - 23 - 100 = 2353: 2,500 in all.
        var joined = AgentOutput.Join(A(100), E(5000));
        Assert.Equal(A(100) + AgentOutput.ErrorTitle + E(2353) + AgentOutput.ErrorTruncated, joined);
        Assert.Equal(2500, joined.Length);
    }

    [Fact]
    public void AShortStderrIsKeptWholeAndStdoutIsCut()
    {
        // stdout keeps 2476 - 23 - 50 = 2403.
        Assert.Equal(A(2403) + AgentOutput.OutputTruncated + AgentOutput.ErrorTitle + E(50), AgentOutput.Join(A(3000), E(50)));
    }

    [Fact]
    public void SizesAreUtf8Bytes()
    {
        // 1,300 two-byte characters are 2,600 bytes: over the capacity although only 1,300 characters.
        Assert.EndsWith(AgentOutput.OutputTruncated, AgentOutput.Join(new string('é', 1300), ""));
    }
}
