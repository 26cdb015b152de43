using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

public sealed class AdminEndpointsTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _origin = await TestOrigin.StartAsync("d1");
        _gateway = await TestGateway.Create()
            .Route("all", "{**rest}", "c")
            .Cluster("c", _origin)
            .TestPlugin("Probe")
            .Pipeline("""{ "pipeline": [ { "plugin": "Probe", "routes": ["all"], "config": { "tag": "t" } }, { "plugin": "Probe", "enabled": false, "config": { "tag": "off" } } ] }""")
            .StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _origin.DisposeAsync();
    }

    [Theory]
    [InlineData("GET", "admin/pipeline", null)]
    [InlineData("POST", "admin/reload", null)]
    [InlineData("GET", "admin/pipeline", "Bearer wrong-key")]
    [InlineData("POST", "admin/reload", "Bearer test-admin-key-but-longer")]
    [InlineData("GET", "admin/pipeline", "Basic dGVzdC1hZG1pbi1rZXk=")]
    public async Task AdminCall_WithoutTheKey_Is401Problem(string method, string path, string? authorization)
    {
        using var client = new HttpClient { BaseAddress = _gateway.Admin.BaseAddress };
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(1, (int)JsonNode.Parse(await _gateway.Admin.GetStringAsync("admin/pipeline"))!["generation"]!);
    }

    [Fact]
    public async Task Healthz_WithoutKey_Is200()
    {
        using var client = new HttpClient { BaseAddress = _gateway.Admin.BaseAddress };

        var health = JsonNode.Parse(await client.GetStringAsync("healthz"))!;

        Assert.Equal("healthy", (string?)health["status"]);
    }

    [Fact]
    public async Task Pipeline_ListsEveryEntryWithVersionRoutesAndCounters()
    {
        for (var i = 0; i < 3; i++)
        {
            (await _gateway.Proxy.GetAsync("x")).Dispose();
        }

        var pipeline = JsonNode.Parse(await _gateway.Admin.GetStringAsync("admin/pipeline"))!;

        var entries = pipeline["entries"]!.AsArray();
        Assert.Equal(2, entries.Count);
        Assert.Equal("plugin", (string?)entries[0]!["kind"]);
        Assert.Equal("Probe", (string?)entries[0]!["name"]);
        Assert.StartsWith("1.0.0", (string?)entries[0]!["version"]);
        Assert.Equal("all", (string?)entries[0]!["routes"]![0]);
        Assert.Equal(3, (long)entries[0]!["calls"]!);
        Assert.Equal(0, (long)entries[0]!["errors"]!);
        Assert.True((double)entries[0]!["timeSpentMs"]! > 0);
        Assert.False((bool)entries[1]!["enabled"]!);
        Assert.Null(entries[1]!["version"]);
    }

    [Theory]
    [InlineData("GET", "admin/pipeline")]
    [InlineData("POST", "admin/reload")]
    [InlineData("GET", "healthz")]
    public async Task AdminPaths_OnTheProxyListener_AreProxiedNotAnswered(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.AdminKey);

        using var response = await _gateway.Proxy.SendAsync(request);
        var echo = await OriginEcho.ReadAsync(response);

        Assert.Equal("d1", echo.Origin);
        Assert.Equal("/" + path, echo.Path);
        Assert.Equal(1, _gateway.Holder.Current!.Generation);
    }

    [Fact]
    public async Task ProxyRoutes_OnTheAdminListener_AreNotProxied()
    {
        using var response = await _gateway.Admin.GetAsync("some/api");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, _origin.Requests);
    }
}
