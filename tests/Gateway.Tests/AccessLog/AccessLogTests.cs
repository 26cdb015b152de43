using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.AccessLog;

/// <summary>
/// The access log as an operator reads it: one JSON line per request of the proxy listener under the
/// <c>Gateway.AccessLog</c> category, with where the request went, what it cost and what the pipeline made of it.
/// </summary>
public sealed class AccessLogTests : IAsyncLifetime
{
    private const string Category = "Gateway.AccessLog";
    private const string Body = "hello world";

    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1", respond: async (context, _) =>
    {
        // Read whole, so the request's body has gone through the gateway before the answer.
        await new StreamReader(context.Request.Body).ReadToEndAsync();
        context.Response.Headers.CacheControl = "public, max-age=60";
        await context.Response.WriteAsync(Body);
    });

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private TestGatewayBuilder Gateway(params string[] args) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Route("quiet", "/quiet/{**rest}", "backend", route => route["Metadata"] = new JsonObject { ["AccessLog"] = "false" })
        .Cluster("backend", _origin)
        .TestPlugin("Probe")
        .FirstPartyPlugin("Caching")
        .Pipeline("""
            { "pipeline": [
              { "plugin": "Probe", "config": { "tag": "consumer", "setVar": "alice" } },
              { "plugin": "Caching", "routes": ["api"] }
            ] }
            """)
        .Args(args);

    private static async Task<IReadOnlyList<JsonNode>> LinesAsync(TestGateway gateway, int count)
    {
        await gateway.Logs.WaitForCountAsync(line => line.Category == Category, count).WaitAsync(TimeSpan.FromSeconds(30));
        return [.. gateway.Logs.Lines.Where(line => line.Category == Category).Select(line => JsonNode.Parse(line.Message)!)];
    }

    [Fact]
    public async Task EachRequest_IsOneJsonLine_WithWhereItWent_WhatItCost_AndWhatThePipelineMadeOfIt()
    {
        await using var gateway = await Gateway("--Gateway:AccessLog:Enabled=true").StartAsync();
        var trace = ActivityTraceId.CreateRandom();
        using var traced = new HttpRequestMessage(HttpMethod.Get, "api/x?token=secret")
        {
            Headers = { { "traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01" } },
        };

        (await gateway.Proxy.SendAsync(traced)).Dispose();
        (await gateway.Proxy.GetAsync("api/x?token=secret")).Dispose();
        (await gateway.Proxy.PostAsync("api/form", new StringContent("12345"))).Dispose();
        var lines = await LinesAsync(gateway, 3);

        var miss = lines[0];
        Assert.Equal("GET", (string?)miss["method"]);
        Assert.Equal($"127.0.0.1:{new Uri(gateway.Proxy.BaseAddress!.ToString()).Port}", (string?)miss["host"]);
        Assert.Equal("/api/x", (string?)miss["path"]);
        Assert.Equal("HTTP/1.1", (string?)miss["protocol"]);
        Assert.Equal("127.0.0.1", (string?)miss["client"]);
        Assert.Equal(200, (int)miss["status"]!);
        Assert.Equal("api", (string?)miss["route"]);
        Assert.Equal("backend", (string?)miss["cluster"]);
        Assert.Equal("d1", (string?)miss["destination"]);
        Assert.Equal(0, (long)miss["bytesIn"]!);
        Assert.Equal(Body.Length, (long)miss["bytesOut"]!);
        Assert.InRange((double)miss["upstreamMs"]!, 0, (double)miss["durationMs"]!);
        Assert.Equal(trace.ToHexString(), (string?)miss["traceId"]);
        Assert.Equal("alice", (string?)miss["consumer"]);
        Assert.Equal("MISS", (string?)miss["cache"]);
        Assert.True(DateTimeOffset.TryParse((string?)miss["time"], out _));

        // Served from the cache: nothing forwarded, the same body counted from the store.
        var hit = lines[1];
        Assert.Equal("HIT", (string?)hit["cache"]);
        Assert.Equal(Body.Length, (long)hit["bytesOut"]!);
        Assert.Null(hit["upstreamMs"]);
        Assert.Null(hit["destination"]);

        var post = lines[2];
        Assert.Equal("POST", (string?)post["method"]);
        Assert.Equal(5, (long)post["bytesIn"]!);
        Assert.Equal(Body.Length, (long)post["bytesOut"]!);
    }

    [Fact]
    public async Task ARouteSwitchedOff_TheAdminApi_AndUnsampledRequests_AreNotLogged_WhileUnroutedOnesAre()
    {
        await using var gateway = await Gateway("--Gateway:AccessLog:Enabled=true", "--Gateway:AccessLog:SampleEvery=2", "--Gateway:AccessLog:Query=true").StartAsync();

        for (var i = 0; i < 4; i++)
        {
            (await gateway.Proxy.GetAsync($"quiet/{i}")).Dispose();
        }
        for (var i = 1; i <= 6; i++)
        {
            (await gateway.Proxy.GetAsync($"nowhere?n={i}")).Dispose();
            (await gateway.Admin.GetAsync("admin/pipeline")).Dispose();
        }
        // One in two of the requests the log would show: the second, fourth and sixth unrouted one, the last of them.
        var lines = await LinesAsync(gateway, 3);

        Assert.Equal(["/nowhere?n=2", "/nowhere?n=4", "/nowhere?n=6"], lines.Select(line => (string?)line["path"]));
        Assert.All(lines, line => Assert.Equal(404, (int)line["status"]!));
        Assert.All(lines, line => Assert.Null(line["route"]));
    }

    [Fact]
    public async Task WithAFile_TheLinesAreAppendedToIt_AndAllOfThemAreThereOnceTheGatewayStops()
    {
        var file = Path.Combine(Path.GetTempPath(), $"access-{Guid.NewGuid():N}.log");
        File.WriteAllText(file, "an earlier line\n");
        try
        {
            await using (var gateway = await Gateway("--Gateway:AccessLog:Enabled=true", $"--Gateway:AccessLog:File={file}").StartAsync())
            {
                for (var i = 0; i < 3; i++)
                {
                    (await gateway.Proxy.GetAsync($"api/{i}")).Dispose();
                }
                await gateway.Logs.WaitForCountAsync(line => line.Category == Category, 3).WaitAsync(TimeSpan.FromSeconds(30));
            }

            var lines = File.ReadAllLines(file);
            Assert.Equal("an earlier line", lines[0]);
            Assert.Equal(["/api/0", "/api/1", "/api/2"], lines.Skip(1).Select(line => (string?)JsonNode.Parse(line)!["path"]));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Unset_NothingIsLogged()
    {
        await using var gateway = await Gateway().StartAsync();

        (await gateway.Proxy.GetAsync("api/x")).Dispose();
        (await gateway.Proxy.GetAsync("nowhere")).Dispose();

        Assert.DoesNotContain(gateway.Logs.Lines, line => line.Category == Category);
    }

    [Fact]
    public async Task ARouteSwitchThatIsNotABoolean_IsRefusedAtReload()
    {
        await using var gateway = await Gateway("--Gateway:AccessLog:Enabled=true").StartAsync();
        var settings = Path.Combine(gateway.Directory, "appsettings.json");
        File.WriteAllText(settings, File.ReadAllText(settings).Replace("\"AccessLog\":\"false\"", "\"AccessLog\":\"quietly\"", StringComparison.Ordinal));

        var error = await gateway.ReloadRejectedAsync();

        Assert.Contains("AccessLog", (string?)error["path"]);
        Assert.Contains("'quietly' is not true or false", (string?)error["message"]);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Proxy.GetAsync("quiet/x")).StatusCode);
    }

    [Theory]
    [InlineData("--Gateway:AccessLog:SampleEvery=0", "SampleEvery must be 1 or more")]
    [InlineData("--Gateway:AccessLog:Vars:0=status", "'status' cannot be a variable's field")]
    [InlineData("--Gateway:AccessLog:File=/nonexistent-folder/access.log", "Gateway:AccessLog:File '/nonexistent-folder/access.log' cannot be opened for appending")]
    public async Task SettingsThatCannotWork_FailTheStart(string setting, string message)
    {
        var (exitCode, output) = await Gateway("--Gateway:AccessLog:Enabled=true", setting).RunProcessToExitAsync();

        Assert.Equal(1, exitCode);
        Assert.Contains(message, output);
    }
}
