using System.Text;
using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

public sealed class PipelineFileReaderTests
{
    private static readonly Dictionary<string, string> Environment = new() { ["DEMO_KEY"] = "k-123", ["REGION"] = "eu" };

    private static (System.Collections.Immutable.ImmutableArray<PipelineEntry> Entries, List<PipelineError> Errors) Read(string json)
    {
        var errors = new List<PipelineError>();
        var entries = PipelineFileReader.Read(Encoding.UTF8.GetBytes(json), "plugins.json", name => Environment.GetValueOrDefault(name), errors);
        return (entries, errors);
    }

    private static PipelineError SingleError(string json) => Assert.Single(Read(json).Errors);

    [Fact]
    public void Read_ValidFile_KeepsOrderRoutesEnabledAndConfig()
    {
        var (entries, errors) = Read("""
            {
              // comments and trailing commas are allowed
              "pipeline": [
                { "plugin": "Auth", "routes": ["api", "admin"], "config": { "keys": ["${env:DEMO_KEY}"], "note": "in ${env:REGION} and ${env:REGION}" } },
                { "script": "scripts/tag.js", "enabled": false },
              ]
            }
            """);

        Assert.Empty(errors);
        Assert.Equal(2, entries.Length);
        Assert.Equal((0, StageKind.Plugin, "Auth"), (entries[0].Index, entries[0].Kind, entries[0].Name));
        Assert.Equal(["api", "admin"], entries[0].Routes.ToArray());
        Assert.True(entries[0].Enabled);
        Assert.Equal("k-123", entries[0].Config.GetProperty("keys")[0].GetString());
        Assert.Equal("in eu and eu", entries[0].Config.GetProperty("note").GetString());
        Assert.Equal((StageKind.Script, false, true), (entries[1].Kind, entries[1].Enabled, entries[1].AllRoutes));
        Assert.Equal(System.Text.Json.JsonValueKind.Object, entries[1].Config.ValueKind);
    }

    [Theory]
    [InlineData("""{ "pipeline": [ { "plugin": "A" }, ] ,, }""", "plugins.json:1:", "malformed JSON")]
    [InlineData("""[]""", "$", "\"pipeline\"")]
    [InlineData("""{ "pipeline": [], "stages": [] }""", "$.stages", "unknown property")]
    [InlineData("""{ "pipeline": [ 5 ] }""", "$.pipeline[0]", "must be an object")]
    [InlineData("""{ "pipeline": [ { "plugin": "A", "script": "b.js" } ] }""", "$.pipeline[0]", "exactly one")]
    [InlineData("""{ "pipeline": [ { "plugin": "../etc" } ] }""", "$.pipeline[0].plugin", "folder name")]
    [InlineData("""{ "pipeline": [ { "plugin": "A", "routes": [] } ] }""", "$.pipeline[0].routes", "non-empty")]
    [InlineData("""{ "pipeline": [ { "plugin": "A", "routes": ["ok", 3] } ] }""", "$.pipeline[0].routes[1]", "non-empty string")]
    [InlineData("""{ "pipeline": [ { "plugin": "A", "enabled": "yes" } ] }""", "$.pipeline[0].enabled", "true or false")]
    [InlineData("""{ "pipeline": [ { "plugin": "A", "config": [] } ] }""", "$.pipeline[0].config", "must be an object")]
    [InlineData("""{ "pipeline": [ { "plugin": "A", "confg": {} } ] }""", "$.pipeline[0].confg", "unknown property")]
    [InlineData("""{ "pipeline": [ { "plugin": "A", "config": { "a": [ { "b": "${env:NOT_SET}" } ] } } ] }""", "$.pipeline[0].config.a[0].b", "NOT_SET")]
    public void Read_InvalidFile_NamesThePath(string json, string path, string message)
    {
        var error = SingleError(json);

        Assert.StartsWith(path, error.Path);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Read_SeveralProblems_ReportsAllOfThemWithTheirEntries()
    {
        var (entries, errors) = Read("""
            { "pipeline": [ { "plugin": "A", "enabled": 1 }, { "plugin": "B", "routes": "api" }, { "plugin": "C" } ] }
            """);

        Assert.Equal(["pipeline[0] (plugin \"A\")", "pipeline[1] (plugin \"B\")"], errors.Select(e => e.Entry));
        Assert.Equal([true, true, false], entries.Select(entry => entry.HasOwnErrors));
    }
}
