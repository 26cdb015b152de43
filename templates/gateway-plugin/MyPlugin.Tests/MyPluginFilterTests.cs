using System.Net;
using Gateway.Plugins.Testing;

namespace MyPlugin.Tests;

/// <summary>The plugin in a real gateway, in this process, in front of an origin that records what it received.</summary>
public sealed class MyPluginFilterTests
{
    [Fact]
    public async Task Header_ReachesTheOrigin_AndTheClientSeesItWasSet()
    {
        await using var host = await PluginHost.Create()
            .Plugin<MyPluginFilter>("""{ "header": "x-team", "value": "blue" }""")
            .StartAsync();

        using var response = await host.Client.GetAsync("/hello");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("blue", host.Origin.LastRequest.Headers["x-team"]);
        Assert.Equal("blue", response.Headers.GetValues("x-team-seen").Single());
    }

    [Fact]
    public async Task AnInvalidHeaderName_IsRefusedAtLoad_NamingTheField()
    {
        var refused = await Assert.ThrowsAsync<PluginHostException>(() =>
            PluginHost.Create().Plugin<MyPluginFilter>("""{ "header": "x team", "value": "blue" }""").StartAsync());

        Assert.Contains("$.pipeline[0].config.header", refused.Message);
    }
}
