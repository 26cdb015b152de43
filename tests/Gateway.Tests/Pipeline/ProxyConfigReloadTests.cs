using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// The routes and clusters YARP serves change only through a reload that validated them with the pipeline: an edit
/// or a deletion of appsettings.json is seen by nothing until then, and a reload that fails changes nothing.
/// </summary>
public sealed class ProxyConfigReloadTests : IAsyncLifetime
{
    private const string Key = "key-0123456789abcdef";

    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task EditedRouteFile_IsNotServedUntilAReloadValidatesItWithThePipeline()
    {
        // The running configuration watches its files here, as it does by default outside the tests.
        await using var gateway = await SecuredGateway().Arg("--hostBuilder:reloadConfigOnChange=true").StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, "secure/x"));

        // The route is renamed: the Auth entry names the old id, so the renamed route would run without it.
        await ChangeSettingsAsync(gateway, settings => settings["ReverseProxy"]!["Routes"] = Routes("renamed"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, "secure/x"));

        var error = await gateway.ReloadRejectedAsync();
        Assert.Equal("$.pipeline[0].routes[0]", (string?)error["path"]);
        Assert.Contains("'secure' is not defined", (string?)error["message"]);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, "secure/x"));

        gateway.WritePipeline(Pipeline("renamed"));
        await gateway.ReloadOkAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, "secure/x"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "secure/x", Key));
    }

    [Fact]
    public async Task DeletedSettingsFile_KeepsServing_AndItsReloadIsRejected()
    {
        await using var gateway = await SecuredGateway().Arg("--hostBuilder:reloadConfigOnChange=true").StartAsync();

        await ChangeSettingsAsync(gateway, null);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, "secure/x"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "open/x"));

        using var reload = await gateway.ReloadAsync();
        var errors = JsonNode.Parse(await reload.Content.ReadAsStringAsync())!["errors"]!.AsArray();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reload.StatusCode);
        Assert.Contains(errors, error => ((string)error!["message"]!).Contains("no route is defined"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, "open/x"));
    }

    [Fact]
    public async Task MalformedSettingsFile_Answers422WithTheFileAndPosition()
    {
        await using var gateway = await SecuredGateway().StartAsync();
        File.WriteAllText(Path.Combine(gateway.Directory, "appsettings.json"), "{\n  \"ReverseProxy\": { \"Routes\": {\n    \"x\": { ,\n} } }");

        var error = await gateway.ReloadRejectedAsync();

        Assert.EndsWith("appsettings.json:3:12", (string?)error["path"]);
        Assert.StartsWith("malformed JSON", (string?)error["message"]);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(gateway, "secure/x"));
    }

    [Fact]
    public async Task InvalidRoute_IsRejectedWithYarpsOwnReason()
    {
        await using var gateway = await SecuredGateway().StartAsync();
        await ChangeSettingsAsync(gateway, settings => settings["ReverseProxy"]!["Routes"]!["secure"]!["Match"] = new JsonObject());

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal("ReverseProxy:Routes:secure", (string?)error["path"]);
        Assert.Contains("secure", (string?)error["message"]);
    }

    [Fact]
    public async Task EveryErrorOfAReload_IsReportedAtOnce()
    {
        await using var gateway = await SecuredGateway().StartAsync();
        gateway.WritePipeline("""
            { "pipeline": [
              { "plugin": "Auth", "routes": ["secure"], "config": { "scheme": "apikey", "keys": ["${env:GATEWAY_TEST_UNSET_KEY}"] } },
              { "plugin": "Auth", "routes": ["nowhere"], "config": { "scheme": "apikey", "keys": ["key-0123456789abcdef"] } },
              { "plugin": "Auth", "rotues": ["secure"] }
            ] }
            """);

        using var reload = await gateway.ReloadAsync();

        var errors = JsonNode.Parse(await reload.Content.ReadAsStringAsync())!["errors"]!.AsArray();
        Assert.Equal(
            ["$.pipeline[0].config.keys[0]", "$.pipeline[1].routes[0]", "$.pipeline[2].rotues"],
            errors.Select(error => (string)error!["path"]!).Order());
    }

    [Fact]
    public async Task RenamingRoutesUnderTraffic_NeverServesARouteWithoutTheStagesItWasValidatedWith()
    {
        await using var gateway = await SecuredGateway().StartAsync();
        using var stop = new CancellationTokenSource();
        var unauthorized = 0;
        var answered = new List<HttpStatusCode>();

        async Task LoadAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var status = await StatusAsync(gateway, "secure/x");
                lock (answered)
                {
                    answered.Add(status);
                }
                if (status == HttpStatusCode.Unauthorized)
                {
                    Interlocked.Increment(ref unauthorized);
                }
            }
        }

        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(LoadAsync)).ToArray();
        for (var i = 0; i < 10; i++)
        {
            var name = i % 2 == 0 ? "renamed" : "secure";
            await ChangeSettingsAsync(gateway, settings => settings["ReverseProxy"]!["Routes"] = Routes(name));
            gateway.WritePipeline(Pipeline(name));
            await gateway.ReloadOkAsync();
        }
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.True(unauthorized > 0);
        Assert.All(answered, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
    }

    private TestGatewayBuilder SecuredGateway() => TestGateway.Create()
        .Route("secure", "/secure/{**rest}", "backend")
        .Route("open", "/open/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("Auth")
        .Pipeline(Pipeline("secure"));

    private static string Pipeline(string securedRoute) => $$"""
        { "pipeline": [ { "plugin": "Auth", "routes": ["{{securedRoute}}"], "config": { "scheme": "apikey", "keys": ["{{Key}}"] } } ] }
        """;

    private static JsonObject Routes(string securedRoute) => new()
    {
        [securedRoute] = new JsonObject { ["ClusterId"] = "backend", ["Match"] = new JsonObject { ["Path"] = "/secure/{**rest}" } },
        ["open"] = new JsonObject { ["ClusterId"] = "backend", ["Match"] = new JsonObject { ["Path"] = "/open/{**rest}" } },
    };

    // Changes appsettings.json (null deletes it), and when the running configuration watches it, waits until it has
    // read the change: whatever it would do with it, it has done.
    private static async Task ChangeSettingsAsync(TestGateway gateway, Action<JsonNode>? change)
    {
        var configuration = gateway.Services.GetRequiredService<IConfiguration>();
        var reloaded = new TaskCompletionSource();
        using var registration = configuration.GetReloadToken().RegisterChangeCallback(_ => reloaded.TrySetResult(), null);
        var file = Path.Combine(gateway.Directory, "appsettings.json");
        if (change is null)
        {
            File.Delete(file);
        }
        else
        {
            var settings = JsonNode.Parse(File.ReadAllText(file))!;
            change(settings);
            File.WriteAllText(file, settings.ToJsonString());
        }
        if (configuration["hostBuilder:reloadConfigOnChange"] == "true")
        {
            await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string path, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }
        using var response = await gateway.Proxy.SendAsync(request);
        return response.StatusCode;
    }
}
