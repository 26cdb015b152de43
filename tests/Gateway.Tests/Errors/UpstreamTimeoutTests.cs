using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Errors;

/// <summary>An upstream that does not answer costs the client the route's or the cluster's timeout, then a 504 problem.</summary>
public sealed class UpstreamTimeoutTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync()
    {
        _origin.Release();
        await _origin.DisposeAsync();
    }

    [Fact]
    public async Task RouteTimeout_Expires_As504Problem_AndOtherRequestsAreServed()
    {
        await using var gateway = await TestGateway.Create()
            .Route("slow", "/hold/{**rest}", "backend", route => route["Timeout"] = "00:00:01")
            .Route("rest", "{**rest}", "backend")
            .Cluster("backend", _origin)
            .StartAsync();

        await AssertTimedOutAsync(gateway);
        using var served = await gateway.Proxy.GetAsync("x");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task NamedTimeoutPolicyFromConfiguration_Expires_As504Problem()
    {
        await using var gateway = await TestGateway.Create()
            .Route("slow", "/hold/{**rest}", "backend", route => route["TimeoutPolicy"] = "quick")
            .Cluster("backend", _origin)
            .Arg("--Gateway:TimeoutPolicies:quick:Timeout=00:00:01")
            .StartAsync();

        await AssertTimedOutAsync(gateway);
    }

    [Fact]
    public async Task ClusterActivityTimeout_Expires_As504Problem()
    {
        await using var gateway = await TestGateway.Create()
            .Route("slow", "/hold/{**rest}", "backend")
            .Cluster("backend", _origin)
            .ConfigureCluster("backend", cluster => cluster["HttpRequest"] = new JsonObject { ["ActivityTimeout"] = "00:00:01" })
            .StartAsync();

        await AssertTimedOutAsync(gateway);
    }

    [Fact]
    public async Task GatewayDefaultActivityTimeout_AppliesToClustersThatSetNone()
    {
        await using var gateway = await TestGateway.Create()
            .Route("slow", "/hold/{**rest}", "backend")
            .Cluster("backend", _origin)
            .Arg("--Gateway:UpstreamActivityTimeout=00:00:01")
            .StartAsync();

        await AssertTimedOutAsync(gateway);
    }

    private static async Task AssertTimedOutAsync(TestGateway gateway)
    {
        using var response = await gateway.Proxy.GetAsync("hold/x");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("did not answer", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["title"]);
    }
}
