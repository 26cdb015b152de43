using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>
/// What a script cannot do: each breach or escape attempt fails that one request with a 500 problem and a log line
/// naming the script and line, and the next request is served.
/// </summary>
public sealed class ScriptSandboxTests : IAsyncLifetime
{
    private const string Hostile = """
        'use strict';
        var counter = 0;
        const state = { hits: 0 };
        function recurse(n) { return recurse(n + 1) + 1; }
        function onRequest(ctx) {
          switch (ctx.request.query.get('do')) {
            case 'loop': for (;;) {} break;
            case 'allocate': { const parts = []; for (;;) parts.push('x'.repeat(1024) + parts.length); } break;
            case 'big-array': return new Array(10000000).fill(0);
            case 'recurse': return recurse(0);
            case 'throw': throw new Error('thrown on purpose');
            case 'regex': return /^(a+)+$/.test('a'.repeat(40) + '!');
            case 'eval': return eval('1 + 1');
            case 'function': return new Function('return 1')();
            case 'clr': return System.IO.File.ReadAllText('/etc/passwd');
            case 'import': return importNamespace('System');
            case 'timer': return setTimeout(() => {}, 1);
            case 'fetch': return fetch('http://127.0.0.1/');
            case 'require': return require('fs');
            case 'global': counter++; break;
            case 'const': state.hits++; break;
            case 'prototype': Array.prototype.leak = 1; break;
            case 'globalThis': globalThis.leak = 1; break;
          }
          ctx.request.headers.set('x-hook', 'ran');
        }
        """;

    private TestOrigin _origin = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _origin = await TestOrigin.StartAsync("d1");
        _gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", _origin)
            .Script("hostile.js", Hostile)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/hostile.js" } ] }""")
            // A generous time bound, so the statement and memory bounds are the ones these cases meet on a busy machine.
            .Arg("--Gateway:Scripts:Timeout=00:00:10")
            .StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _origin.DisposeAsync();
    }

    [Theory]
    [InlineData("loop", true, "statements")]
    [InlineData("allocate", true, "memory bound")]
    [InlineData("big-array", true, "memory bound")]
    [InlineData("recurse", true, "recursion bound")]
    [InlineData("regex", true, "regular expression exceeded its time bound")]
    [InlineData("throw", false, "Error: thrown on purpose")]
    [InlineData("eval", false, "String compilation has been disabled")]
    [InlineData("function", false, "String compilation has been disabled")]
    [InlineData("clr", false, "System is not defined")]
    [InlineData("import", false, "importNamespace is not defined")]
    [InlineData("timer", false, "setTimeout is not defined")]
    [InlineData("fetch", false, "fetch is not defined")]
    [InlineData("require", false, "require is not defined")]
    [InlineData("global", false, "TypeError")]
    [InlineData("const", false, "Cannot assign to read only property 'hits'")]
    [InlineData("prototype", false, "Cannot assign to read only property 'leak'")]
    [InlineData("globalThis", false, "Cannot assign to read only property 'leak'")]
    public async Task Breach_FailsThatRequestOnly(string attempt, bool isBoundBreach, string message)
    {
        using var failed = await _gateway.Proxy.GetAsync($"api/x?do={attempt}");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("application/problem+json", failed.Content.Headers.ContentType!.MediaType);
        var logged = Assert.Single(_gateway.Logs.Lines, line => line.EventId == 110);
        Assert.Contains("scripts/hostile.js", logged.Message);
        Assert.Matches(@"^scripts/hostile\.js:\d+:\d+: ", logged.Exception!.Message);
        Assert.Contains(message, logged.Exception.Message);

        using var next = await _gateway.Proxy.GetAsync("api/x");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("ran", (await OriginEcho.ReadAsync(next)).Headers["x-hook"]);

        var entry = JsonNode.Parse(await _gateway.Admin.GetStringAsync("admin/pipeline"))!["entries"]![0]!;
        Assert.Equal(1, (long)entry["errors"]!);
        Assert.Equal(isBoundBreach ? 1 : 0, (long)entry["breaches"]!);
        Assert.Equal(isBoundBreach ? 1 : 0, _gateway.Logs.Lines.Count(line => line.EventId == 302));
    }

    [Fact]
    public async Task TimeBound_StopsALoopThatTheStatementBoundWouldNot()
    {
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", _origin)
            .Script("hostile.js", Hostile)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/hostile.js" } ] }""")
            .Arg("--Gateway:Scripts:MaxStatements=2000000000")
            .Arg("--Gateway:Scripts:Timeout=00:00:00.200")
            .StartAsync();

        using var failed = await gateway.Proxy.GetAsync("api/x?do=loop");
        using var next = await gateway.Proxy.GetAsync("api/x");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var logged = Assert.Single(gateway.Logs.Lines, line => line.EventId == 110);
        Assert.Matches(@"^scripts/hostile\.js:7:\d+: exceeded its time bound of 200 ms", logged.Exception!.Message);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Breaches_AtEveryEngine_LeaveThePoolServing()
    {
        // More breaches than the pool holds engines: each discarded engine is replaced.
        for (var i = 0; i < 12; i++)
        {
            using var failed = await _gateway.Proxy.GetAsync("api/x?do=loop");
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }
        var requests = Enumerable.Range(0, 16).Select(_ => _gateway.Proxy.GetAsync("api/x"));
        foreach (var response in await Task.WhenAll(requests))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
    }
}
