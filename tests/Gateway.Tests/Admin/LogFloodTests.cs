using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Admin;

/// <summary>Warnings anyone can cause are counted, not repeated: the log says what happened without growing with the traffic.</summary>
public sealed class LogFloodTests
{
    [Fact]
    public async Task WrongAdminKeys_AreOneLinePerAddressPerMinute_ThenCounted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await TestGateway.Create().Route("api", "/api/{**rest}", "backend").Time(time).StartAsync();
        using var intruder = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        intruder.DefaultRequestHeaders.Authorization = new("Bearer", "wrong");

        for (var i = 0; i < 200; i++)
        {
            using var refused = await intruder.PostAsync("admin/reload", null);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        var lines = Warnings(gateway);
        Assert.Single(lines);

        time.Advance(TimeSpan.FromMinutes(1));
        (await intruder.PostAsync("admin/reload", null)).Dispose();

        lines = Warnings(gateway);
        Assert.Equal(2, lines.Length);
        Assert.Contains("and 199 more from that address", lines[1]);
    }

    [Fact]
    public async Task AStageFailingEveryRequest_LogsTenLinesAMinute_ThenCounts()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await TestOrigin.StartAsync("d1");
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", origin)
            .Script("fails.js", "function onRequest(ctx) { if (ctx.route === 'api') throw new Error('on every request'); }")
            .Pipeline("""{ "pipeline": [ { "script": "scripts/fails.js" } ] }""")
            .Time(time)
            .StartAsync();

        for (var i = 0; i < 50; i++)
        {
            using var failed = await gateway.Proxy.GetAsync("api/x");
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }
        Assert.Equal(10, gateway.Logs.Lines.Count(line => line.EventId == 110));

        time.Advance(TimeSpan.FromMinutes(1));
        (await gateway.Proxy.GetAsync("api/x")).Dispose();

        var last = gateway.Logs.Lines.Last(line => line.EventId == 110);
        Assert.Contains("40 more of its failures were not logged", last.Message);
    }

    private static string[] Warnings(TestGateway gateway) =>
        gateway.Logs.Lines.Where(line => line.EventId == EventIds.AdminUnauthorized).Select(line => line.Message).ToArray();
}
