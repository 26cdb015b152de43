using System.Net;
using System.Text.Json;
using Gateway.Plugins.Gslb;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Plugins.Tests.Gslb;

/// <summary>The client's region and its order of pools: the trusted field first, then the networks, then <c>*</c>.</summary>
public sealed class GslbRegionTests
{
    private const string Config = """
        { "regionHeader": "x-client-region",
          "networks": { "10.0.0.0/8": "eu", "10.9.0.0/16": "ap", "2001:db8::/32": "us" },
          "pools": { "eu": "api-eu", "us": "api-us", "ap": "api-ap" },
          "order": { "eu": ["eu", "us"], "us": ["us", "eu"], "ap": ["ap", "eu", "us"], "*": ["us", "eu"] } }
        """;

    private static GslbPlugin Plugin(string config) =>
        new(new PluginSetup("Gslb", JsonDocument.Parse(config).RootElement, NullLogger.Instance, new ServiceCollection().BuildServiceProvider()));

    private static (string Region, string[] Pools) Resolve(string config, string? header, string? address)
    {
        var plugin = Plugin(config);
        var http = new DefaultHttpContext();
        if (header is not null)
        {
            http.Request.Headers["x-client-region"] = header;
        }
        http.Connection.RemoteIpAddress = address is null ? null : IPAddress.Parse(address);
        var (region, order) = plugin.OrderFor(http);
        return (region, [.. order.Select(index => plugin.PoolNames[index])]);
    }

    [Theory]
    [InlineData("eu", "192.0.2.1", "eu", "eu,us")]
    [InlineData(" US ", "10.0.0.1", "US", "us,eu")]
    // A region the order does not know: the networks decide, the most specific first.
    [InlineData("fr", "10.0.0.1", "eu", "eu,us")]
    [InlineData(null, "10.9.1.1", "ap", "ap,eu,us")]
    [InlineData(null, "::ffff:10.9.1.1", "ap", "ap,eu,us")]
    [InlineData(null, "2001:db8::7", "us", "us,eu")]
    // Nothing places the client: "*".
    [InlineData(null, "192.0.2.1", "*", "us,eu")]
    [InlineData(null, null, "*", "us,eu")]
    public void TheRegion_AndItsPools(string? header, string? address, string region, string pools)
    {
        var resolved = Resolve(Config, header, address);

        Assert.Equal(region, resolved.Region);
        Assert.Equal(pools, string.Join(',', resolved.Pools));
    }

    [Fact]
    public void WithoutAnyOrder_EveryRegionTriesThePoolsAsListed() =>
        Assert.Equal("b,a", string.Join(',', Resolve("""{ "pools": { "b": "api-b", "a": "api-a" } }""", "eu", null).Pools));

    [Theory]
    [InlineData("""{ }""", "$.pools")]
    [InlineData("""{ "pools": { "eu": "" } }""", "$.pools.eu")]
    [InlineData("""{ "pools": { "eu": "api-eu" }, "order": { "eu": ["eu", "mars"] } }""", "$.order.eu[1]")]
    [InlineData("""{ "pools": { "eu": "api-eu" }, "order": { "eu": [] } }""", "$.order.eu")]
    [InlineData("""{ "pools": { "eu": "api-eu" }, "order": { "eu": ["eu"] }, "networks": { "10.0.0.0/8": "us" } }""", "$.networks['10.0.0.0/8']")]
    [InlineData("""{ "pools": { "eu": "api-eu" }, "order": { "eu": ["eu"] }, "networks": { "10.0.0.1/8": "eu" } }""", "$.networks['10.0.0.1/8']")]
    public void AConfigThatCannotWork_IsRefused_AtItsPath(string config, string path) =>
        Assert.Equal(path, Assert.Throws<PluginConfigurationException>(() => Plugin(config)).Path);
}
