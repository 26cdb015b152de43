using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Errors;

/// <summary>Each error status the forwarding ends with has a title that says what happened, not a generic one.</summary>
public sealed class ForwarderErrorTitleTests
{
    [Fact]
    public async Task BodyOverTheLimit_Is413TitledAsSuch()
    {
        await using var origin = await TestOrigin.StartAsync("d1");
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend", route => route["MaxRequestBodySize"] = 16)
            .Cluster("backend", origin)
            .StartAsync();

        using var response = await gateway.Proxy.PostAsync("api/x", new StreamContent(new MemoryStream(new byte[1024])));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("The request body is too large.", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["title"]);
    }

    [Fact]
    public async Task UnreachableUpstream_Is502TitledAsSuch()
    {
        var origin = await TestOrigin.StartAsync("gone");
        var builder = TestGateway.Create().Route("api", "/api/{**rest}", "backend").Cluster("backend", origin);
        await origin.DisposeAsync();
        await using var gateway = await builder.StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("The upstream could not be reached.", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["title"]);
    }
}
