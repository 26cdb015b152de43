using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Forwarding;

/// <summary>RFC 9110 §7.6.1: fields named in Connection are for one hop; the gateway forwards them in neither direction.</summary>
public sealed class ConnectionNominatedFieldsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FieldsTheClientsConnectionNames_DoNotReachTheOrigin(bool withPipeline)
    {
        await using var origin = await TestOrigin.StartAsync("d1");
        var builder = TestGateway.Create().Route("api", "/api/{**rest}", "backend").Cluster("backend", origin);
        await using var gateway = await (withPipeline
            ? builder.FirstPartyPlugin("HeaderRewrite").Pipeline("""{ "pipeline": [ { "plugin": "HeaderRewrite", "config": { "request": { "set": { "x-via": "gw" } } } } ] }""")
            : builder).StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/x");
        request.Headers.Connection.Add("x-hop");
        request.Headers.Connection.Add("x-other-hop");
        request.Headers.Add("x-hop", "for the gateway only");
        request.Headers.Add("x-other-hop", "1");
        request.Headers.Add("x-end-to-end", "kept");

        using var response = await gateway.Proxy.SendAsync(request);
        var echo = await OriginEcho.ReadAsync(response);

        Assert.False(echo.Headers.ContainsKey("x-hop"));
        Assert.False(echo.Headers.ContainsKey("x-other-hop"));
        Assert.Equal("kept", echo.Headers["x-end-to-end"]);
    }

    [Fact]
    public async Task FieldsTheOriginsConnectionNames_ReachNeitherTheClientNorTheCache()
    {
        await using var origin = await TestOrigin.StartAsync("d1", respond: (context, n) =>
        {
            context.Response.Headers.Connection = "x-hop";
            context.Response.Headers["x-hop"] = $"for the gateway only {n}";
            context.Response.Headers["x-end-to-end"] = "kept";
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync("body");
        });
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend").Cluster("backend", origin)
            .FirstPartyPlugin("Caching")
            .Pipeline("""{ "pipeline": [ { "plugin": "Caching" } ] }""")
            .StartAsync();

        using var miss = await gateway.Proxy.GetAsync("api/x");
        using var hit = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal((HttpStatusCode.OK, "MISS", "HIT"), (hit.StatusCode, miss.Headers.GetValues("X-Cache").Single(), hit.Headers.GetValues("X-Cache").Single()));
        Assert.All([miss, hit], response =>
        {
            Assert.False(response.Headers.Contains("x-hop"));
            Assert.Equal("kept", response.Headers.GetValues("x-end-to-end").Single());
        });
    }
}
