using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AutoStop.TestSupport;

namespace AutoStop.Deploy.Tests;

/// <summary>
/// What the probe and notice document tests share: running templates/generate-probe-document, and the content hash in a
/// document's name (AutoStop-${AWS::StackName}-KIND-HASH), read from the template and computed independently of the
/// generator: SHA-256 of the resource's lines (its key line and every deeper-indented or blank line after it), trailing
/// spaces trimmed, without the lines holding the name.
/// </summary>
internal static class GeneratedDocuments
{
    public static (int ExitCode, string Output) Generator(params string[] arguments)
    {
        var start = new ProcessStartInfo("python3", [RepoPaths.Of("templates", "generate-probe-document"), .. arguments])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), "the generator did not finish in 30 s");
        return (process.ExitCode, output.Result + error.Result);
    }

    /// <summary>The hash in the KIND document's name: the same in its two places (the resource's Name and the function's
    /// environment variable).</summary>
    public static string HashIn(string[] lines, string kind)
    {
        var hashes = lines.Select(l => NamePattern(kind).Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, hashes.Count); // the document's Name and the function's AUTOSTOP_*_DOCUMENT
        Assert.Single(hashes.Distinct());
        return hashes[0];
    }

    /// <summary>The hash of the <paramref name="resource"/> block, computed here, and how many lines the block has.</summary>
    public static (string Hash, int Lines) ComputedHash(string[] lines, string resource, string kind)
    {
        var start = Array.IndexOf(lines, $"  {resource}:");
        Assert.True(start >= 0, $"{resource} is not in the template");
        var end = start + 1;
        while (end < lines.Length && (lines[end].Trim().Length == 0 || lines[end].Length - lines[end].TrimStart().Length > 2)) end++;
        var text = string.Join("\n", lines[start..end].Where(l => !NamePattern(kind).IsMatch(l)).Select(l => l.TrimEnd()));
        return (Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12], end - start);
    }

    public static Regex NamePattern(string kind) => new($@"AutoStop-\$\{{AWS::StackName\}}-{kind}-([0-9a-f]{{12}})");
}
