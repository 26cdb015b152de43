using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Forwarding;

/// <summary>What the servers behind the gateway are stays out of its answers: their software's fields, their error pages, their addresses.</summary>
public sealed class OriginHidingTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1", respond: (context, _) =>
    {
        var headers = context.Response.Headers;
        headers.Server = "Apache/2.4.58 (Ubuntu)";
        headers["X-Powered-By"] = "PHP/8.3";
        headers["X-AspNet-Version"] = "4.0.30319";
        headers["X-Internal-Node"] = "app-7.internal";
        headers["X-Kept"] = "yes";
        if (context.Request.Path.Value!.EndsWith("/fail", StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            headers.RetryAfter = "30";
            return context.Response.WriteAsync("System.NullReferenceException at Acme.Orders.Controller.Get() in /src/Orders.cs:line 42");
        }
        return context.Response.WriteAsync("ok");
    });

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> GatewayAsync(params string[] args) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend", route => route["Metadata"] = new JsonObject { ["HideOriginErrors"] = "true" })
        .Route("raw", "/raw/{**rest}", "backend")
        .Cluster("backend", _origin)
        .Args(args)
        .StartAsync();

    private static bool Has(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out _) || response.Content.Headers.TryGetValues(name, out _);

    [Fact]
    public async Task ByDefault_TheOriginsSoftwareFields_AndKestrelsServerField_AreGone()
    {
        await using var gateway = await GatewayAsync();

        using var response = await gateway.Proxy.GetAsync("raw/x");
        using var own = await gateway.Proxy.GetAsync("nowhere");

        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.False(Has(response, "Server"));
        Assert.False(Has(response, "X-Powered-By"));
        Assert.False(Has(response, "X-AspNet-Version"));
        Assert.True(Has(response, "X-Internal-Node"));
        Assert.True(Has(response, "X-Kept"));
        Assert.False(Has(own, "Server"));
    }

    [Fact]
    public async Task ConfiguredFields_ReplaceTheDefaultList()
    {
        await using var gateway = await GatewayAsync("--Gateway:HideOrigin:RemoveHeaders:0=Server", "--Gateway:HideOrigin:RemoveHeaders:1=X-Internal-Node");

        using var response = await gateway.Proxy.GetAsync("raw/x");

        Assert.False(Has(response, "Server"));
        Assert.False(Has(response, "X-Internal-Node"));
        Assert.True(Has(response, "X-Powered-By"));
    }

    [Fact]
    public async Task Disabled_EverythingPasses_AndKestrelNamesItself()
    {
        await using var gateway = await GatewayAsync("--Gateway:HideOrigin:Enabled=false");

        using var response = await gateway.Proxy.GetAsync("raw/x");
        using var own = await gateway.Proxy.GetAsync("nowhere");

        Assert.Equal("Apache/2.4.58 (Ubuntu)", response.Headers.Server.ToString());
        Assert.True(Has(response, "X-Powered-By"));
        Assert.Equal("Kestrel", own.Headers.Server.ToString());
    }

    [Fact]
    public async Task OnARouteThatHidesOriginErrors_AnOrigin5xx_BecomesTheGatewaysProblem_KeepingStatusAndRetryAfter()
    {
        await using var gateway = await GatewayAsync();

        using var hidden = await gateway.Proxy.GetAsync("api/fail");
        using var raw = await gateway.Proxy.GetAsync("raw/fail");
        var body = await hidden.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, hidden.StatusCode);
        Assert.Equal("application/problem+json", hidden.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("NullReferenceException", body, StringComparison.Ordinal);
        Assert.Equal(500, (int?)JsonNode.Parse(body)!["status"]);
        Assert.Equal(TimeSpan.FromSeconds(30), hidden.Headers.RetryAfter?.Delta);
        Assert.False(Has(hidden, "X-Internal-Node"));
        Assert.Contains("NullReferenceException", await raw.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreachableUpstream_IsNotNamedInTheAnswer()
    {
        var port = LoopbackPorts.Free();
        await using var gateway = await TestGateway.Create().Route("api", "/api/{**rest}", "backend").Cluster("backend", $"http://127.0.0.1:{port}/").StartAsync();

        using var response = await gateway.Proxy.GetAsync("api/x");
        var answer = response.Headers + (await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.DoesNotContain(port.ToString(System.Globalization.CultureInfo.InvariantCulture), answer, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", answer, StringComparison.Ordinal);
    }
}
