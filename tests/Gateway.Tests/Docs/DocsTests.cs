using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Docs;

/// <summary>
/// The code blocks README.md and docs/ mark as meant to run (<c>```js test:script</c>, a hook; <c>```json test:entry</c>,
/// a plugins.json entry) run here, so the documentation cannot drift from the gateway. The C# plugin block
/// (<c>```csharp test:plugin</c>) is built and loaded by .ci/authoring, which has the packages it compiles against.
/// </summary>
public sealed partial class DocsTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    public static TheoryData<string, string> Scripts() => Blocks("js test:script");

    public static TheoryData<string, string> Entries() => Blocks("json test:entry");

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task ScriptBlock_LoadsAndServes(string where, string source)
    {
        await using var gateway = await Gateway()
            .Script("doc.js", source)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/doc.js", "config": { "tag": "blue" } } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{where}: {(int)response.StatusCode}");
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public async Task EntryBlock_LoadsAndServes(string where, string entry)
    {
        await using var gateway = await Gateway()
            .FirstPartyPlugin("HeaderRewrite").FirstPartyPlugin("Balancing").FirstPartyPlugin("Caching").FirstPartyPlugin("IpFilter").FirstPartyPlugin("RateLimit").FirstPartyPlugin("Retry").FirstPartyPlugin("Compression").FirstPartyPlugin("Buffering").FirstPartyPlugin("Gslb")
            .Pipeline($$"""{ "pipeline": [ {{entry}} ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{where}: {(int)response.StatusCode}");
    }

    [Fact]
    public async Task ReadmeHook_AnswersAsTheReadmeSays()
    {
        var source = (string)Assert.Single(Blocks("js test:script"), block => (string)block[0] == "README.md#1")[1];
        await using var gateway = await Gateway()
            .Script("hello.js", source)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/hello.js", "routes": ["api"] } ] }""")
            .StartAsync();

        using var answered = await gateway.Proxy.GetAsync("api/hello?name=world");
        using var forwarded = await gateway.Proxy.GetAsync("api/hello");

        Assert.Equal("""{"hello":"world","route":"api"}""", JsonNode.Parse(await answered.Content.ReadAsStringAsync())!.ToJsonString());
        Assert.False(answered.Headers.Contains("x-hello"));
        Assert.Equal(("d1", "from a hook"), ((await OriginEcho.ReadAsync(forwarded)).Origin, forwarded.Headers.GetValues("x-hello").Single()));
    }

    private TestGatewayBuilder Gateway() => TestGateway.Create().Route("api", "/api/{**rest}", "api").Cluster("api", _origin);

    private static TheoryData<string, string> Blocks(string info)
    {
        var blocks = new TheoryData<string, string>();
        var files = Directory.GetFiles(Path.Combine(RepoPaths.Root, "docs"), "*.md").Order().Prepend(Path.Combine(RepoPaths.Root, "README.md"));
        foreach (var file in files)
        {
            var n = 0;
            foreach (Match match in FencedBlock().Matches(File.ReadAllText(file)))
            {
                if (match.Groups["info"].Value.Trim() == info)
                {
                    blocks.Add($"{Path.GetRelativePath(RepoPaths.Root, file)}#{++n}", match.Groups["code"].Value);
                }
            }
        }
        Assert.NotEmpty(blocks);
        return blocks;
    }

    [GeneratedRegex(@"^```(?<info>[^\n`]*)\n(?<code>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedBlock();
}
