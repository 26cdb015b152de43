using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Protection;

/// <summary>
/// The host's own bounds against real connections: a route's concurrency limit with its queue, a route's request body
/// limit, and Kestrel's connection limit.
/// </summary>
public sealed class LimitsTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync()
    {
        _origin.Release();
        await _origin.DisposeAsync();
    }

    [Fact]
    public async Task ARouteAtItsConcurrencyLimit_QueuesUpToItsQueue_ThenAnswers503WithRetryAfter()
    {
        // ASP.NET Core's rate limiter counts the requests it queues: the signal that the second request waits.
        var queuedOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meters) =>
            {
                if (instrument is { Meter.Name: "Microsoft.AspNetCore.RateLimiting", Name: "aspnetcore.rate_limiting.queued_requests" })
                {
                    meters.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, change, _, _) =>
        {
            if (change > 0)
            {
                queuedOne.TrySetResult();
            }
        });
        listener.Start();
        await using var gateway = await TestGateway.Create()
            .Route("api", "/{**rest}", "backend", route => route["RateLimiterPolicy"] = "one-at-a-time")
            .Cluster("backend", _origin)
            .Arg("--Gateway:ConcurrencyLimits:one-at-a-time:PermitLimit=1")
            .Arg("--Gateway:ConcurrencyLimits:one-at-a-time:QueueLimit=1")
            .StartAsync();

        var inFlight = gateway.Proxy.GetAsync("hold/1");
        await _origin.Holding.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = gateway.Proxy.GetAsync("hold/2");
        await queuedOne.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var refused = await gateway.Proxy.GetAsync("x");
        var queuedBeforeRelease = queued.IsCompleted;
        _origin.Release();
        using var first = await inFlight;
        using var second = await queued;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(503, (int?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["status"]);
        Assert.False(queuedBeforeRelease);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(2, _origin.Requests);
    }

    [Fact]
    public async Task ARouteNamingAPolicyThatDoesNotExist_IsAReloadError()
    {
        await using var gateway = await TestGateway.Create().Route("api", "/{**rest}", "backend").Cluster("backend", _origin)
            .Arg("--Gateway:ConcurrencyLimits:some:PermitLimit=1").StartAsync();
        var file = Path.Combine(gateway.Directory, "appsettings.json");
        var settings = JsonNode.Parse(File.ReadAllText(file))!;
        settings["ReverseProxy"]!["Routes"]!["api"]!["RateLimiterPolicy"] = "nope";
        File.WriteAllText(file, settings.ToJsonString());

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal("ReverseProxy:Routes:api", (string?)error["path"]);
        Assert.Contains("nope", (string?)error["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PermitLimit=0")]
    [InlineData("QueueLimit=-1")]
    public async Task AConcurrencyPolicyOutOfRange_StopsTheStart_NamingIt(string setting)
    {
        var start = TestGateway.Create()
            .Route("api", "/{**rest}", "backend", route => route["RateLimiterPolicy"] = "bad")
            .Cluster("backend", _origin)
            .Arg("--Gateway:ConcurrencyLimits:bad:PermitLimit=1")
            .Arg($"--Gateway:ConcurrencyLimits:bad:{setting}")
            .StartAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => start);

        Assert.Contains("Gateway:ConcurrencyLimits:bad: PermitLimit must be more than zero and QueueLimit zero or more", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARouteWithItsOwnBodyLimit_Answers413PastIt_AndOtherRoutesKeepKestrels()
    {
        await using var gateway = await TestGateway.Create()
            .Route("small", "/small/{**rest}", "backend", route => route["Metadata"] = new JsonObject { ["MaxRequestBodySize"] = "1024" })
            .Route("big", "/big/{**rest}", "backend")
            .Cluster("backend", _origin)
            .StartAsync();
        var body = new string('x', 4096);

        using var tooBig = await gateway.Proxy.PostAsync("small/x", new StringContent(body));
        using var fits = await gateway.Proxy.PostAsync("small/x", new StringContent(new string('x', 1024)));
        using var elsewhere = await gateway.Proxy.PostAsync("big/x", new StringContent(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    [Theory]
    [InlineData("1mb")]
    [InlineData("-1")]
    public async Task ABodyLimitThatIsNotANumber_IsAReloadError_NamingIt(string value)
    {
        await using var gateway = await TestGateway.Create().Route("api", "/{**rest}", "backend").Cluster("backend", _origin).StartAsync();
        var file = Path.Combine(gateway.Directory, "appsettings.json");
        var settings = JsonNode.Parse(File.ReadAllText(file))!;
        settings["ReverseProxy"]!["Routes"]!["api"]!["Metadata"] = new JsonObject { ["MaxRequestBodySize"] = value };
        File.WriteAllText(file, settings.ToJsonString());

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal("ReverseProxy:Routes:api:Metadata:MaxRequestBodySize", (string?)error["path"]);
        Assert.Contains($"not '{value}'", (string?)error["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task PastKestrelsConnectionLimit_ANewConnectionIsClosed_WhileTheOpenOnesServe()
    {
        await using var gateway = await TestGateway.Create()
            .Route("api", "/{**rest}", "backend")
            .Cluster("backend", _origin)
            .Arg("--Kestrel:Limits:MaxConcurrentConnections=2")
            .StartAsync();
        var proxy = gateway.Proxy.BaseAddress!;

        using var first = await ConnectAsync(proxy);
        using var second = await ConnectAsync(proxy);
        using var third = await ConnectAsync(proxy);
        var answers = await Task.WhenAll(GetAsync(first, proxy), GetAsync(second, proxy), GetAsync(third, proxy));

        Assert.StartsWith("HTTP/1.1 200", answers[0], StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", answers[1], StringComparison.Ordinal);
        Assert.Equal("", answers[2]);
    }

    private static async Task<TcpClient> ConnectAsync(Uri address)
    {
        var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        return client;
    }

    /// <summary>A GET over the connection; what came back before it closed, empty when nothing did.</summary>
    private static async Task<string> GetAsync(TcpClient client, Uri address)
    {
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /x HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\n\r\n"));
            using var reader = new StreamReader(stream, Encoding.ASCII);
            return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            return "";
        }
    }
}
