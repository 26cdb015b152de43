using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Loading;

[Collection(JsonUserNewContexts.Name)]
public sealed class PluginIsolationTests
{
    [Fact]
    public async Task Load_TwoPluginsShippingDifferentVersionsOfALibrary_EachUsesItsOwn()
    {
        await using var origin = await TestOrigin.StartAsync("d1");
        await using var gateway = await TestGateway.Create()
            .Route("all", "{**rest}", "c")
            .Cluster("c", origin)
            .TestPlugin("JsonUserNew")
            .TestPlugin("JsonUserOld")
            .Pipeline("""{ "pipeline": [ { "plugin": "JsonUserNew" }, { "plugin": "JsonUserOld" } ] }""")
            .StartAsync();

        using var response = await gateway.Proxy.GetAsync("x");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("13.0.0.0 {\"Plugin\":\"JsonUserNew\"", response.Headers.GetValues("x-json-JsonUserNew").Single());
        Assert.StartsWith("12.0.0.0 {\"Plugin\":\"JsonUserOld\"", response.Headers.GetValues("x-json-JsonUserOld").Single());
    }
}
