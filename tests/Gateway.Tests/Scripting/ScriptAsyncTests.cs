using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>
/// Hooks that use promises: an async hook's code after <c>await</c>, and any job a hook queues, run inside that call,
/// before the request goes on; a promise still pending or rejected at the end fails that request only.
/// </summary>
public sealed class ScriptAsyncTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task AsyncHooks_CodeAfterAwaitRunsInTheirOwnCall()
    {
        await using var gateway = await Gateway("""
            async function onRequest(ctx) {
              await null;
              ctx.request.headers.set('x-after-await', ctx.request.path);
            }
            async function onResponse(ctx) {
              await Promise.resolve();
              ctx.response.headers.set('x-after-await', 'response');
            }
            """);

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Proxy.GetAsync($"api/{i}");
            Assert.Equal($"/api/{i}", (await OriginEcho.ReadAsync(response)).Headers["x-after-await"]);
            Assert.Equal("response", response.Headers.GetValues("x-after-await").Single());
        }
    }

    [Fact]
    public async Task QueuedJobs_RunBeforeTheRequestGoesOn_ForThatRequest()
    {
        await using var gateway = await Gateway("""
            function onRequest(ctx) {
              Promise.resolve(ctx.request.path).then(path => ctx.request.headers.set('x-job', path));
            }
            """);

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Proxy.GetAsync($"api/{i}");
            Assert.Equal($"/api/{i}", (await OriginEcho.ReadAsync(response)).Headers["x-job"]);
        }
    }

    [Fact]
    public async Task AsyncHook_RespondAfterAwait_Answers()
    {
        await using var gateway = await Gateway("""
            async function onRequest(ctx) {
              await null;
              if (ctx.route === 'api') ctx.respond(403, 'after await');
            }
            """);

        using var response = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("after await", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, _origin.Requests);
    }

    [Fact]
    public async Task RejectedPromise_FailsThatRequest_NamingWhereTheErrorWasMade()
    {
        await using var gateway = await Gateway("""
            async function onRequest(ctx) {
              await null;
              if (ctx.route === 'api') throw new Error('rejected on purpose');
            }
            """);

        using var failed = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var logged = Assert.Single(gateway.Logs.Lines, line => line.EventId == 110);
        Assert.StartsWith("scripts/hook.js:3:", logged.Exception!.Message);
        Assert.Contains("onRequest's promise was rejected: Error: rejected on purpose", logged.Exception.Message);
    }

    [Fact]
    public async Task PendingPromise_FailsThatRequest_AndTheNextIsServed()
    {
        await using var gateway = await Gateway("""
            async function onRequest(ctx) {
              if (ctx.request.query.has('wait')) await new Promise(() => {});
            }
            """);

        using var failed = await gateway.Proxy.GetAsync("api/x?wait");
        using var next = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var logged = Assert.Single(gateway.Logs.Lines, line => line.EventId == 110);
        Assert.Contains("onRequest's promise was still pending", logged.Exception!.Message);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task EndlessJobs_AreStoppedByTheCallsBounds()
    {
        await using var gateway = await Gateway("""
            function onRequest(ctx) {
              if (ctx.request.query.has('endless')) { const again = () => Promise.resolve().then(again); again(); }
            }
            """);

        using var failed = await gateway.Proxy.GetAsync("api/x?endless");
        using var next = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Contains(gateway.Logs.Lines, line => line.EventId == 302);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Reload_HookWhosePromiseNeverSettles_IsRejected()
    {
        await using var gateway = await Gateway("function onRequest(ctx) {}");
        gateway.WriteScript("hook.js", "async function onRequest(ctx) { await new Promise(() => {}); }");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Contains("onRequest's promise was still pending", (string?)error["message"]);
    }

    private Task<TestGateway> Gateway(string script) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .Script("hook.js", script)
        .Pipeline("""{ "pipeline": [ { "script": "scripts/hook.js" } ] }""")
        .StartAsync();
}
