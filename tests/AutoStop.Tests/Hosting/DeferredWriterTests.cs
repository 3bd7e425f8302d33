using AutoStop.Hosting;

namespace AutoStop.Tests.Hosting;

/// <summary>Lambda's stderr: opened at the first line, not at start.</summary>
public sealed class DeferredWriterTests
{
    [Fact]
    public async Task NothingIsOpenedUntilSomethingIsWrittenAndThenOnlyOnce()
    {
        var opened = 0;
        var inner = new StringWriter();
        var writer = new DeferredWriter(() => { opened++; return inner; });

        writer.Flush();
        await writer.FlushAsync();
        Assert.Equal(0, opened);

        await writer.WriteLineAsync("first");
        writer.WriteLine("second");
        writer.Write('x');
        writer.Write("yz".AsSpan());
        writer.Flush();

        Assert.Equal(1, opened);
        Assert.Equal($"first{Environment.NewLine}second{Environment.NewLine}xyz", inner.ToString());
    }
}
