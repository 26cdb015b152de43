using System.Net;
using System.Text.Json;
using Gateway.Plugins.RateLimit;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Plugins.Tests.RateLimit;

/// <summary>The RateLimit plugin's decisions, called as the runner calls a filter, with periods long enough that nothing refills meanwhile.</summary>
public sealed class RateLimitPluginTests
{
    private static RateLimitPlugin Plugin(string config) =>
        new(new PluginSetup("RateLimit", JsonDocument.Parse(config).RootElement, NullLogger.Instance, new ServiceCollection().BuildServiceProvider()));

    private static TestContext Request(string ip = "192.0.2.1", string? user = null, string? consumer = null)
    {
        var context = new TestContext();
        context.HttpContext.Connection.RemoteIpAddress = IPAddress.Parse(ip);
        context.HttpContext.Response.Body = new MemoryStream();
        if (user is not null)
        {
            context.HttpContext.Request.Headers["x-user"] = user;
        }
        if (consumer is not null)
        {
            context.Vars["consumer"] = consumer;
        }
        return context;
    }

    private static bool Admits(RateLimitPlugin plugin, TestContext context)
    {
        var step = plugin.OnRequestAsync(context);
        var passed = step.AsTask().GetAwaiter().GetResult();
        if (passed)
        {
            plugin.OnResponse(context);
        }
        return passed;
    }

    private static int Admitted(RateLimitPlugin plugin, int requests, Func<TestContext> request) =>
        Enumerable.Range(0, requests).Count(_ => Admits(plugin, request()));

    [Fact]
    public void TokenBucket_AdmitsItsBurst_ThenRefusesWith429AndRetryAfter()
    {
        using var plugin = Plugin("""{ "limits": [ { "key": "clientIp", "tokenBucket": { "rate": 1, "per": "01:00:00", "burst": 5 } } ] }""");

        Assert.Equal(5, Admitted(plugin, 5, () => Request()));
        var refused = Request();
        Assert.False(Admits(plugin, refused));

        var response = refused.HttpContext.Response;
        Assert.Equal(StatusCodes.Status429TooManyRequests, response.StatusCode);
        Assert.InRange(int.Parse(response.Headers.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture), 3000, 3600);
        Assert.Equal("\"0\";q=5;w=18000", response.Headers["RateLimit-Policy"]);
        Assert.Equal("\"0\";r=0;t=18000", response.Headers["RateLimit"]);
        Assert.Equal("application/problem+json", response.ContentType);
    }

    [Fact]
    public async Task ASpentBucket_RefillsAsTimePasses()
    {
        // System.Threading.RateLimiting reads the real clock: the bucket refills within a few of its 50 ms periods.
        using var plugin = Plugin("""{ "limits": [ { "key": "clientIp", "tokenBucket": { "rate": 1, "per": "00:00:00.050", "burst": 1 } } ] }""");
        Assert.True(Admits(plugin, Request()));

        var admittedAgain = false;
        for (var attempt = 0; attempt < 250 && !admittedAgain; attempt++)
        {
            await Task.Delay(20);
            admittedAgain = Admits(plugin, Request());
        }

        Assert.True(admittedAgain);
    }

    [Fact]
    public void Window_AdmitsExactlyItsLimit()
    {
        using var plugin = Plugin("""{ "limits": [ { "key": "route", "window": { "limit": 100, "per": "01:00:00" } } ] }""");

        Assert.Equal(100, Admitted(plugin, 300, () => Request()));
    }

    [Fact]
    public void EachKey_HasItsOwnCount_AndARequestWithoutTheKeyIsNotCounted()
    {
        using var plugin = Plugin("""{ "limits": [ { "key": "header:x-user", "window": { "limit": 2, "per": "01:00:00" } } ] }""");

        Assert.Equal(2, Admitted(plugin, 5, () => Request(user: "ann")));
        Assert.Equal(2, Admitted(plugin, 5, () => Request(user: "bob")));
        Assert.Equal(5, Admitted(plugin, 5, () => Request()));
    }

    [Fact]
    public void ACompoundKey_CountsEachCombination()
    {
        using var plugin = Plugin("""{ "limits": [ { "key": "clientIp+var:consumer", "window": { "limit": 1, "per": "01:00:00" } } ] }""");

        Assert.Equal(1, Admitted(plugin, 3, () => Request("192.0.2.1", consumer: "ann")));
        Assert.Equal(1, Admitted(plugin, 3, () => Request("192.0.2.2", consumer: "ann")));
        Assert.Equal(1, Admitted(plugin, 3, () => Request("192.0.2.1", consumer: "bob")));
    }

    [Fact]
    public void SeveralLimits_ARequestMustBeWithinEach_AndTheHeadersNameTheClosestToRunningOut()
    {
        using var plugin = Plugin("""
            { "limits": [
              { "key": "clientIp", "name": "burst", "tokenBucket": { "rate": 10, "per": "01:00:00", "burst": 10 } },
              { "key": "var:consumer", "name": "daily", "window": { "limit": 4, "per": "1.00:00:00" } } ] }
            """);

        var first = Request(consumer: "ann");
        Assert.True(Admits(plugin, first));
        Assert.Equal("\"burst\";q=10;w=3600, \"daily\";q=4;w=86400", first.HttpContext.Response.Headers["RateLimit-Policy"]);
        Assert.Equal("\"daily\";r=3;t=86400", first.HttpContext.Response.Headers["RateLimit"]);
        Assert.Equal(3, Admitted(plugin, 6, () => Request(consumer: "ann")));
        var refused = Request(consumer: "ann");
        Assert.False(Admits(plugin, refused));
        Assert.StartsWith("\"daily\";r=0", refused.HttpContext.Response.Headers["RateLimit"].ToString(), StringComparison.Ordinal);
        // Another consumer from the same address: the daily limit is its own, the address's bucket is shared, and the
        // requests "daily" refused took their token from it first (8 of 10).
        Assert.Equal(2, Admitted(plugin, 10, () => Request(consumer: "bob")));
    }

    [Fact]
    public void Headers_CanBeLeftOffAllowedResponses()
    {
        using var plugin = Plugin("""{ "headers": false, "limits": [ { "key": "clientIp", "window": { "limit": 1, "per": "01:00:00" } } ] }""");
        var allowed = Request();
        var refused = Request();

        Assert.True(Admits(plugin, allowed));
        Assert.False(Admits(plugin, refused));
        Assert.False(allowed.HttpContext.Response.Headers.ContainsKey("RateLimit"));
        Assert.True(refused.HttpContext.Response.Headers.ContainsKey("RateLimit"));
    }

    [Theory]
    [InlineData("{}", "$.limits", "at least one limit")]
    [InlineData("""{ "store": "memcached", "limits": [ { "key": "clientIp", "window": { "limit": 1, "per": "00:01:00" } } ] }""", "$.store", "memcached")]
    [InlineData("""{ "limits": [ { "window": { "limit": 1, "per": "00:01:00" } } ] }""", "$.limits[0].key", "clientIp, route")]
    [InlineData("""{ "limits": [ { "key": "cookie:x", "window": { "limit": 1, "per": "00:01:00" } } ] }""", "$.limits[0].key", "'cookie:x'")]
    [InlineData("""{ "limits": [ { "key": "clientIp+header:", "window": { "limit": 1, "per": "00:01:00" } } ] }""", "$.limits[0].key", "'header:'")]
    [InlineData("""{ "limits": [ { "key": "clientIp" } ] }""", "$.limits[0]", "give tokenBucket")]
    [InlineData("""{ "limits": [ { "key": "clientIp", "window": { "limit": 1, "per": "00:01:00" }, "tokenBucket": { "rate": 1, "per": "00:00:01" } } ] }""", "$.limits[0]", "not both")]
    [InlineData("""{ "limits": [ { "key": "clientIp", "window": { "limit": 0, "per": "00:01:00" } } ] }""", "$.limits[0].window.limit", "more than zero")]
    [InlineData("""{ "limits": [ { "key": "clientIp", "window": { "limit": 5 } } ] }""", "$.limits[0].window.per", "more than zero")]
    [InlineData("""{ "limits": [ { "key": "clientIp", "tokenBucket": { "rate": 5, "per": "00:00:01", "burst": -1 } } ] }""", "$.limits[0].tokenBucket.burst", "more than zero")]
    [InlineData("""{ "limits": [ { "key": "clientIp", "name": "a\"b", "window": { "limit": 1, "per": "00:01:00" } } ] }""", "$.limits[0].name", "quotes")]
    [InlineData("""{ "limits": [ { "key": "clientIp", "name": "x", "window": { "limit": 1, "per": "00:01:00" } }, { "key": "route", "name": "x", "window": { "limit": 1, "per": "00:01:00" } } ] }""", "$.limits", "'x'")]
    public void BadConfig_IsRefusedNamingWhere(string config, string path, string message)
    {
        var error = Assert.Throws<PluginConfigurationException>(() => Plugin(config));

        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
