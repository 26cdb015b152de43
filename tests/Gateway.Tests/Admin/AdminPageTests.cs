using Gateway.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Gateway.Tests.Admin;

/// <summary>
/// The admin page in a real browser (headless Chromium through Playwright) against a gateway: an operator types the
/// key, sees the pipeline, reloads, and sees a rejected reload's errors, with every call made to the admin listener.
/// </summary>
public sealed class AdminPageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private TestOrigin _origin = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _origin = await TestOrigin.StartAsync("d1");
        if (BrowserFactAttribute.Chromium is { Length: > 0 } chromium)
        {
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true });
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
            _playwright.Dispose();
        }
        await _origin.DisposeAsync();
    }

    private Task<TestGateway> StartAsync() => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .TestPlugin("Probe")
        .Script("tag.js", "function onResponse(ctx) { ctx.response.headers.set('x-tag', 'on'); }")
        .Pipeline("""
            { "pipeline": [
              { "plugin": "Probe", "config": { "tag": "p" } },
              { "script": "scripts/tag.js" }
            ] }
            """)
        .StartAsync();

    [BrowserFact]
    public async Task AnOperator_SeesTheEntries_Reloads_AndSeesARejectedReloadsErrors()
    {
        await using var gateway = await StartAsync();
        (await gateway.Proxy.GetAsync("api/x")).Dispose();
        var admin = gateway.Admin.BaseAddress!.ToString();
        var page = await _browser.NewPageAsync();
        var requested = new List<string>();
        page.Request += (_, request) => requested.Add(request.Url);

        await page.GotoAsync(admin + "admin/");
        var loadMs = await page.EvaluateAsync<double>("() => performance.getEntriesByType('navigation')[0].loadEventEnd");
        output.WriteLine($"admin page loaded in {loadMs:F0} ms");
        await page.FillAsync("#key", TestGateway.AdminKey);
        await page.ClickAsync("#connect");

        await Expect(page.Locator("#entries tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#entries tbody tr").First).ToContainTextAsync("Probe");
        await Expect(page.Locator("#entries tbody tr").Nth(1)).ToContainTextAsync("scripts/tag.js");
        await Expect(page.Locator("#generation")).ToHaveTextAsync("1");
        await Expect(page.Locator("#health")).ToHaveTextAsync("healthy");
        await Expect(page.Locator("#routes tbody tr")).ToContainTextAsync("api");
        await Expect(page.Locator("#clusters tbody tr")).ToContainTextAsync(_origin.Url.TrimEnd('/'));
        await Expect(page.Locator("#cluster")).ToBeHiddenAsync();
        await Expect(page.Locator("#reload-cluster")).ToBeHiddenAsync();

        await page.ClickAsync("#reload");
        await Expect(page.Locator("#generation")).ToHaveTextAsync("2");
        await Expect(page.Locator("#reloads tbody tr").First).ToContainTextAsync("applied");

        gateway.WritePipeline("{ not json");
        await page.ClickAsync("#reload");
        await Expect(page.Locator("#reload-result")).ToBeVisibleAsync();
        await Expect(page.Locator("#reload-errors li")).ToContainTextAsync("plugins.json");
        await Expect(page.Locator("#reloads tbody tr").First).ToContainTextAsync("rejected");
        await Expect(page.Locator("#generation")).ToHaveTextAsync("2");

        // The key went nowhere but the admin API's Authorization header: not into a URL, not into a cookie.
        Assert.All(requested, url => Assert.StartsWith(admin, url));
        Assert.All(requested, url => Assert.DoesNotContain(TestGateway.AdminKey, url));
        Assert.Empty(await page.Context.CookiesAsync());
    }

    [BrowserFact(needsRedis: true)]
    public async Task ACluster_ShowsItsNodes_AndReloadsThemAsOne()
    {
        string[] clusterArgs =
        [
            $"--ConnectionStrings:Redis={Environment.GetEnvironmentVariable(RedisFactAttribute.SharedVariable)}",
            $"--Gateway:Cluster:Secret=page-test-{Guid.NewGuid():N}",
        ];
        await using var a = await TestGateway.Create().Route("api", "/api/{**rest}", "backend").Cluster("backend", _origin)
            .Args([.. clusterArgs, "--Gateway:Cluster:NodeId=a"]).StartAsync();
        await using var b = await TestGateway.Create().Route("api", "/api/{**rest}", "backend").Cluster("backend", _origin)
            .Args([.. clusterArgs, "--Gateway:Cluster:NodeId=b"]).StartAsync();
        var page = await _browser.NewPageAsync();

        await page.GotoAsync(a.Admin.BaseAddress + "admin/");
        await page.FillAsync("#key", TestGateway.AdminKey);
        await page.ClickAsync("#connect");

        await Expect(page.Locator("#nodes tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#nodes tbody tr").First).ToContainTextAsync("a");
        await Expect(page.Locator("#cluster-status")).ToContainTextAsync("all serve the same pipeline");
        await page.ClickAsync("#reload-cluster");
        await Expect(page.Locator("#status")).ToContainTextAsync("2 nodes applied the reload");
        await Expect(page.Locator("#generation")).ToHaveTextAsync("2");
        Assert.Equal(2, (int)System.Text.Json.Nodes.JsonNode.Parse(await b.Admin.GetStringAsync("admin/pipeline"))!["generation"]!);
    }

    [BrowserFact]
    public async Task AWrongKey_OpensNothing()
    {
        await using var gateway = await StartAsync();
        var page = await _browser.NewPageAsync();

        await page.GotoAsync(gateway.Admin.BaseAddress + "admin/");
        await page.FillAsync("#key", "not-the-key");
        await page.ClickAsync("#connect");

        await Expect(page.Locator("#key-form")).ToBeVisibleAsync();
        await Expect(page.Locator("#console")).ToBeHiddenAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('gateway-admin-key')"));
    }
}
