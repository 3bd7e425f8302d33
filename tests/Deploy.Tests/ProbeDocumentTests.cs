using AutoStop.TestSupport;
using YamlDotNet.RepresentationModel;

namespace AutoStop.Deploy.Tests;

/// <summary>The function runs exactly the probe document the template creates, never an older or newer one: the
/// document is named after a hash of itself and replaced (not versioned) when it changes, and the function's
/// environment carries that exact name and version 1.</summary>
public class ProbeDocumentTests
{
    private static YamlMappingNode Function => Template.Properties("AutoStopFunction");
    private static YamlMappingNode Document => Template.Properties("ProbeDocument");

    [Fact]
    public void TheFunctionNamesExactlyTheDocumentTheTemplateCreatesAndItsOnlyVersion()
    {
        var variables = Function["Environment"]["Variables"];
        // The same text, not a Ref: SAM's version hash sees literal environment values only (see the template comment).
        Assert.Equal(Document["Name"]["Fn::Sub"].ToString(), variables["AUTOSTOP_PROBE_DOCUMENT"]["Fn::Sub"].ToString());
        Assert.Matches(@"^AutoStop-\$\{AWS::StackName\}-probe-[0-9a-f]{12}$", Document["Name"]["Fn::Sub"].ToString());
        Assert.Equal("1", variables["AUTOSTOP_PROBE_DOCUMENT_VERSION"].ToString());

        Assert.Equal("Replace", Document["UpdateMethod"].ToString()); // NewVersion would leave the default version to CloudFormation
        Assert.Equal("Command", Document["DocumentType"].ToString());
        Assert.Contains("ProbeDocument", ((YamlSequenceNode)Template.Resource("AutoStopFunction")["DependsOn"]).Children.Select(c => c.ToString()));
        Assert.Equal("live", Function["AutoPublishAlias"].ToString()); // Scheduler invokes a version: code and env together
        Assert.Equal("ProbeDocument", Template.Root["Outputs"]["ProbeDocumentName"]["Value"]["Ref"].ToString());
    }

    [Fact]
    public void TheNameCarriesTheHashOfTheDocumentResource()
    {
        var lines = File.ReadAllLines(Template.Path);
        var hash = HashIn(lines);
        // Computed here independently of the generator (GeneratedDocuments.ComputedHash says how).
        var (expected, blockLines) = GeneratedDocuments.ComputedHash(lines, "ProbeDocument", "probe");
        Assert.Equal(expected, hash);
        Assert.True(blockLines > 100, "the resource block should hold the whole embedded probe");
    }

    [Fact]
    public void ChangingTheProbeOrAnythingElseInTheDocumentChangesTheName()
    {
        var directory = Directory.CreateTempSubdirectory("autostop-probe-name-");
        try
        {
            var template = Path.Combine(directory.FullName, "template.yaml");
            var script = Path.Combine(directory.FullName, "probe.sh");
            File.Copy(Template.Path, template);
            File.Copy(RepoPaths.Of("agent", "session-probe.sh"), script);
            var original = HashIn(File.ReadAllLines(template));

            // Regenerating from the same script changes nothing: the hash is stable.
            Assert.Equal(0, GeneratedDocuments.Generator("--template", template, "--script", script).ExitCode);
            Assert.Equal(File.ReadAllText(Template.Path), File.ReadAllText(template));

            // A new probe: --check fails, regenerating gives a new name, in both places.
            File.AppendAllText(script, "# a change\n");
            var (staleExit, staleOutput) = GeneratedDocuments.Generator("--check", "--template", template, "--script", script);
            Assert.Equal(1, staleExit);
            Assert.Contains("differs", staleOutput);
            Assert.Equal(0, GeneratedDocuments.Generator("--template", template, "--script", script).ExitCode);
            var afterScript = HashIn(File.ReadAllLines(template));
            Assert.NotEqual(original, afterScript);
            Assert.Equal(0, GeneratedDocuments.Generator("--check", "--template", template, "--script", script).ExitCode);

            // A change outside the embedded script (the step's timeout) also needs a new name: a custom-named document
            // cannot be replaced under its old name.
            var text = File.ReadAllText(template);
            Assert.Contains("timeoutSeconds: \"60\"", text);
            File.WriteAllText(template, text.Replace("timeoutSeconds: \"60\"", "timeoutSeconds: \"61\""));
            Assert.Equal(1, GeneratedDocuments.Generator("--check", "--template", template, "--script", script).ExitCode);
            Assert.Equal(0, GeneratedDocuments.Generator("--template", template, "--script", script).ExitCode);
            var afterContent = HashIn(File.ReadAllLines(template));
            Assert.NotEqual(afterScript, afterContent);

            // A template whose function does not carry the name is refused, not half-updated.
            text = File.ReadAllText(template);
            var envLine = $"            Fn::Sub: AutoStop-${{AWS::StackName}}-probe-{afterContent}";
            Assert.Contains(envLine, text);
            File.WriteAllText(template, text.Replace(envLine, "            Fn::Sub: some-other-document"));
            var (refusedExit, refusedOutput) = GeneratedDocuments.Generator("--template", template, "--script", script);
            Assert.NotEqual(0, refusedExit);
            Assert.Contains("AUTOSTOP_PROBE_DOCUMENT", refusedOutput);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("a")]
    [InlineData("aws-autostop")]                                                  // SSM reserves the prefix aws: the name starts with AutoStop-
    [InlineData("autostop-stack-name-of-the-longest-length-59-characters-xx")]    // the README's limit
    public void TheNameIsAValidDocumentNameTheFunctionAccepts(string stackName)
    {
        Assert.True(stackName.Length <= 59);
        var name = Template.ProbeDocumentName(stackName);
        Assert.Matches(@"^[a-zA-Z0-9_\-.]{3,128}$", name); // AWS::SSM::Document Name pattern
        foreach (var reserved in new[] { "aws", "amazon", "amzn" })
            Assert.False(name.StartsWith(reserved, StringComparison.OrdinalIgnoreCase), name);
        var config = AutoStop.Configuration.AutoStopConfig.FromEnvironment(n => n == "AUTOSTOP_PROBE_DOCUMENT" ? name : null);
        Assert.Equal(name, config.ProbeDocument);
    }

    private static string HashIn(string[] lines) => GeneratedDocuments.HashIn(lines, "probe");


}
