using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Plugins;

/// <summary>The Caching plugin against a real origin whose answers each test scripts: RFC 9111 as a shared cache applies it.</summary>
public sealed class CachingPluginTests
{
    private static Task<TestOrigin> OriginAsync(Func<HttpContext, int, Task> respond, TimeSpan delay = default) =>
        TestOrigin.StartAsync("d1", delay, respond);

    /// <summary>An origin answering "body-N" (N counting its requests) with the given response headers.</summary>
    private static Task<TestOrigin> OriginAsync(params (string Name, string Value)[] headers) => OriginAsync((context, n) =>
    {
        foreach (var (name, value) in headers)
        {
            context.Response.Headers.Append(name, value);
        }
        return context.Response.WriteAsync($"body-{n}");
    });

    private static Task<TestGateway> GatewayAsync(TestOrigin origin, string config = "{}", TimeProvider? time = null) => TestGateway.Create()
        .Time(time ?? TimeProvider.System)
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", origin)
        .FirstPartyPlugin("Caching")
        .Pipeline($$"""{ "pipeline": [ { "plugin": "Caching", "config": {{config}} } ] }""")
        .StartAsync();

    private static async Task<(HttpStatusCode Status, string Body, string Cache, HttpResponseMessage Response)> GetAsync(
        TestGateway gateway, string path = "api/item", params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        var response = await gateway.Proxy.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var cache = response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : "(none)";
        return (response.StatusCode, body, cache, response);
    }

    [Fact]
    public async Task FreshResponse_IsServedFromTheCache_WithAgeAndItsHeaders()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"), ("Content-Type", "text/plain"), ("x-custom", "kept"));
        await using var gateway = await GatewayAsync(origin);

        var miss = await GetAsync(gateway);
        var hit = await GetAsync(gateway);

        Assert.Equal(("body-1", "MISS"), (miss.Body, miss.Cache));
        Assert.Equal(("body-1", "HIT"), (hit.Body, hit.Cache));
        Assert.Equal(HttpStatusCode.OK, hit.Status);
        Assert.Equal(1, origin.Requests);
        Assert.NotNull(hit.Response.Headers.Age);
        Assert.Equal("text/plain", hit.Response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("kept", hit.Response.Headers.GetValues("x-custom").Single());
        Assert.Equal(6, hit.Response.Content.Headers.ContentLength);
        var counters = JsonNode.Parse(await gateway.Admin.GetStringAsync("admin/pipeline"))!["entries"]![0]!["counters"]!;
        Assert.Equal((1, 1, 0), ((long)counters["miss"]!, (long)counters["hit"]!, (long)counters["stale"]!));
    }

    [Theory]
    [InlineData("Cache-Control", "no-store")]
    [InlineData("Cache-Control", "private, max-age=60")]
    [InlineData("Cache-Control", "max-age=60")] // with a cookie set, below
    [InlineData("Vary", "*")]
    public async Task ResponsesASharedCacheMustNotStore_GoUpstreamEveryTime(string header, string value)
    {
        var withCookie = value == "max-age=60";
        await using var origin = await OriginAsync(withCookie
            ? [(header, value), ("Set-Cookie", "session=abc")]
            : [(header, value), ("Cache-Control", "max-age=60")]);
        await using var gateway = await GatewayAsync(origin);

        await GetAsync(gateway);
        var second = await GetAsync(gateway);

        Assert.Equal(("body-2", "MISS"), (second.Body, second.Cache));
        Assert.Equal(2, origin.Requests);
    }

    [Fact]
    public async Task SetCookie_WithStoreSetCookie_IsStoredButTheCookieIsNotShared()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"), ("Set-Cookie", "session=abc"));
        await using var gateway = await GatewayAsync(origin, """{ "storeSetCookie": true }""");

        var miss = await GetAsync(gateway);
        var hit = await GetAsync(gateway);

        Assert.True(miss.Response.Headers.Contains("Set-Cookie"));
        Assert.Equal(("body-1", "HIT"), (hit.Body, hit.Cache));
        Assert.False(hit.Response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("max-age=60", false)]
    [InlineData("public, max-age=60", true)]
    [InlineData("s-maxage=60", true)]
    [InlineData("max-age=60, must-revalidate", true)]
    public async Task AnswersToAuthorizedRequests_AreStoredOnlyWhenTheOriginAllowsIt(string cacheControl, bool stored)
    {
        await using var origin = await OriginAsync(("Cache-Control", cacheControl));
        await using var gateway = await GatewayAsync(origin);

        await GetAsync(gateway, headers: ("Authorization", "Bearer token"));
        var second = await GetAsync(gateway, headers: ("Authorization", "Bearer token"));

        Assert.Equal(stored ? "HIT" : "MISS", second.Cache);
        Assert.Equal(stored ? 1 : 2, origin.Requests);
    }

    [Theory]
    [InlineData("max-age=003600", "HIT")]
    [InlineData("max-age=\"3600\"", "HIT")]
    [InlineData("max-age=3600.5", "HIT")]
    [InlineData("MAX-AGE=3600", "HIT")]
    [InlineData("max-age=3600, max-age=0", "HIT")] // a repeated directive keeps its first value
    [InlineData("max-age=0, max-age=3600", "MISS")]
    [InlineData("extension=\"max-age=3600\", max-age=0", "MISS")] // quoted text is not a directive
    [InlineData("max-age =3600", "MISS")]
    [InlineData("max-age= 3600", "MISS")]
    [InlineData("max-age='3600'", "MISS")]
    [InlineData("max-age=3600, No-StOrE", "MISS")]
    public async Task CacheControlParsing_FollowsRfc9111(string cacheControl, string second)
    {
        await using var origin = await OriginAsync(("Cache-Control", cacheControl));
        await using var gateway = await GatewayAsync(origin);

        await GetAsync(gateway);

        Assert.Equal(second, (await GetAsync(gateway)).Cache);
    }

    // RFC 9111 §5.1: the first member of Age counts, over several lines too; an invalid first member is ignored.
    [Theory]
    [InlineData(new[] { "7200" }, "MISS")] // older than its max-age when it arrived
    [InlineData(new[] { "7200", "0" }, "MISS")]
    [InlineData(new[] { "7200, 0" }, "MISS")]
    [InlineData(new[] { "0, 7200" }, "HIT")]
    [InlineData(new[] { "-7200" }, "HIT")]
    [InlineData(new[] { "7200.0" }, "HIT")]
    public async Task AgeFromUpstream_ItsFirstMemberCounts(string[] ages, string second)
    {
        await using var origin = await OriginAsync([("Cache-Control", "max-age=3600"), .. ages.Select(age => ("Age", age))]);
        await using var gateway = await GatewayAsync(origin);

        await GetAsync(gateway);

        Assert.Equal(second, (await GetAsync(gateway)).Cache);
    }

    [Theory]
    [InlineData("no-cache=\"x-secret\"")]
    [InlineData("private=\"x-secret, x-other\"")]
    public async Task QualifiedNoCacheOrPrivate_StoresTheResponseWithoutTheNamedFields(string directive)
    {
        await using var origin = await OriginAsync(("Cache-Control", $"max-age=60, {directive}"), ("x-secret", "s"), ("x-kept", "k"));
        await using var gateway = await GatewayAsync(origin);

        var miss = await GetAsync(gateway);
        var hit = await GetAsync(gateway);

        Assert.Equal("s", miss.Response.Headers.GetValues("x-secret").Single());
        Assert.Equal(("body-1", "HIT"), (hit.Body, hit.Cache));
        Assert.False(hit.Response.Headers.Contains("x-secret"));
        Assert.Equal("k", hit.Response.Headers.GetValues("x-kept").Single());
    }

    [Fact]
    public async Task Vary_KeepsOneVariantPerValueOfTheNamedHeaders()
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.Vary = "Accept-Language";
            return context.Response.WriteAsync($"{context.Request.Headers.AcceptLanguage}-{n}");
        });
        await using var gateway = await GatewayAsync(origin);

        var en = await GetAsync(gateway, headers: ("Accept-Language", "en"));
        var fr = await GetAsync(gateway, headers: ("Accept-Language", "fr"));
        var enAgain = await GetAsync(gateway, headers: ("Accept-Language", "en"));
        var frAgain = await GetAsync(gateway, headers: ("Accept-Language", "fr"));

        Assert.Equal(("en-1", "MISS"), (en.Body, en.Cache));
        Assert.Equal(("fr-2", "MISS"), (fr.Body, fr.Cache));
        Assert.Equal(("en-1", "HIT"), (enAgain.Body, enAgain.Cache));
        Assert.Equal(("fr-2", "HIT"), (frAgain.Body, frAgain.Cache));
        Assert.Equal(2, origin.Requests);
    }

    [Theory]
    [InlineData(new[] { "1,2" }, new[] { " 1, 2 " }, "HIT")]
    [InlineData(new[] { "1, 2" }, new[] { "1", "2" }, "HIT")]
    [InlineData(new[] { "1" }, new string[0], "MISS")]
    [InlineData(new[] { "1" }, new[] { "2" }, "MISS")]
    public async Task Vary_ComparesTheNamedFieldsAsLists(string[] first, string[] second, string expected)
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"), ("Vary", "Foo"));
        await using var gateway = await GatewayAsync(origin);

        await GetAsync(gateway, headers: first.Select(value => ("Foo", value)).ToArray());

        Assert.Equal(expected, (await GetAsync(gateway, headers: second.Select(value => ("Foo", value)).ToArray())).Cache);
    }

    [Fact]
    public async Task ConditionalRequests_Get304FromTheCache()
    {
        var lastModified = DateTimeOffset.UtcNow.AddDays(-1).ToString("R");
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"), ("ETag", "\"v1\""), ("Last-Modified", lastModified));
        await using var gateway = await GatewayAsync(origin);
        await GetAsync(gateway);

        var etagMatch = await GetAsync(gateway, headers: ("If-None-Match", "W/\"v0\", \"v1\""));
        var etagMismatch = await GetAsync(gateway, headers: ("If-None-Match", "\"v2\""));
        var notModifiedSince = await GetAsync(gateway, headers: ("If-Modified-Since", DateTimeOffset.UtcNow.ToString("R")));
        var modifiedSince = await GetAsync(gateway, headers: ("If-Modified-Since", DateTimeOffset.UtcNow.AddDays(-2).ToString("R")));

        Assert.Equal((HttpStatusCode.NotModified, "", "HIT"), (etagMatch.Status, etagMatch.Body, etagMatch.Cache));
        Assert.Equal("\"v1\"", etagMatch.Response.Headers.ETag!.Tag);
        Assert.Equal((HttpStatusCode.OK, "body-1"), (etagMismatch.Status, etagMismatch.Body));
        Assert.Equal(HttpStatusCode.NotModified, notModifiedSince.Status);
        Assert.Equal((HttpStatusCode.OK, "body-1"), (modifiedSince.Status, modifiedSince.Body));
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task StaleResponseWithAValidator_IsRevalidatedWithAConditionalRequest()
    {
        var conditions = new ConcurrentQueue<string>();
        await using var origin = await OriginAsync((context, n) =>
        {
            conditions.Enqueue(context.Request.Headers.IfNoneMatch.ToString());
            context.Response.Headers.ETag = "\"v1\"";
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                // The 304's fields replace the stored ones: from now on the copy is fresh for a minute.
                context.Response.Headers.CacheControl = "max-age=60";
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                context.Response.Headers["x-validated"] = "yes";
                return Task.CompletedTask;
            }
            context.Response.Headers.CacheControl = "max-age=1";
            return context.Response.WriteAsync($"body-{n}");
        });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, time: clock);
        await GetAsync(gateway);

        clock.Advance(TimeSpan.FromSeconds(1.2));
        var revalidated = await GetAsync(gateway);
        var hit = await GetAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "body-1", "REVALIDATED"), (revalidated.Status, revalidated.Body, revalidated.Cache));
        Assert.Equal("yes", revalidated.Response.Headers.GetValues("x-validated").Single());
        Assert.Equal(("body-1", "HIT"), (hit.Body, hit.Cache));
        Assert.Equal("yes", hit.Response.Headers.GetValues("x-validated").Single());
        Assert.Equal(["", "\"v1\""], conditions);
    }

    [Theory]
    [InlineData(false, "REVALIDATED")]
    [InlineData(true, "HIT")]
    public async Task CookieSetByA304_ReachesThatClientOnly_AndKeepsTheUpdateUnstoredUnlessAllowed(bool storeSetCookie, string next)
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            context.Response.Headers.ETag = "\"v1\"";
            if (context.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                context.Response.Headers.CacheControl = "max-age=60";
                context.Response.Headers.SetCookie = "seen=1";
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }
            context.Response.Headers.CacheControl = "max-age=1";
            return context.Response.WriteAsync($"body-{n}");
        });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, $$"""{ "storeSetCookie": {{(storeSetCookie ? "true" : "false")}} }""", clock);
        await GetAsync(gateway);
        clock.Advance(TimeSpan.FromSeconds(1.2));

        var revalidated = await GetAsync(gateway);
        var after = await GetAsync(gateway);

        Assert.Equal(("body-1", "REVALIDATED"), (revalidated.Body, revalidated.Cache));
        Assert.Equal("seen=1", revalidated.Response.Headers.GetValues("Set-Cookie").Single());
        Assert.Equal(("body-1", next), (after.Body, after.Cache));
        Assert.Equal(next == "REVALIDATED", after.Response.Headers.Contains("Set-Cookie"));
    }

    // RFC 9110 §5.6.7 and RFC 9111 §5.3: an Expires that is not exactly an HTTP-date means already expired.
    [Theory]
    [InlineData("Thu, 01 Jan 2099 00:00:00 GMT", "HIT")]
    [InlineData("Thursday, 01-Jan-99 00:00:00 GMT", "MISS")] // 1999
    [InlineData("Thu Jan  1 00:00:00 2099", "HIT")]
    [InlineData("Thu,  01 Jan 2099 00:00:00 GMT", "MISS")]
    [InlineData("Thu, 01-Jan-2099 00:00:00 GMT", "MISS")]
    [InlineData("Thu, 01 Jan 2099 0:00:00 GMT", "MISS")]
    [InlineData("Thu, 01 Jan 2099 00:00:00 UTC", "MISS")]
    public async Task Expires_CountsOnlyWhenItIsAnHttpDate(string expires, string second)
    {
        await using var origin = await OriginAsync(("Expires", expires));
        await using var gateway = await GatewayAsync(origin);

        await GetAsync(gateway);

        Assert.Equal(second, (await GetAsync(gateway)).Cache);
    }

    // RFC 9213: a valid targeted field decides for this cache, ahead of Cache-Control and Expires, and is passed on.
    [Theory]
    [InlineData("{}", "max-age=60", "no-store", null, "HIT")]
    [InlineData("{}", "no-store", "max-age=60", null, "MISS")]
    [InlineData("{}", "Max-Age=60", "no-store", null, "MISS")] // not a dictionary: ignored, Cache-Control decides
    [InlineData("{}", "max-age=60,", "max-age=60", null, "HIT")]
    [InlineData("{}", "public", null, "Thu, 01 Jan 2099 00:00:00 GMT", "MISS")] // Expires is ignored
    [InlineData("""{ "targetedFields": [] }""", "no-store", "max-age=60", null, "HIT")]
    public async Task CdnCacheControl_DecidesForThisCache(string config, string targeted, string? cacheControl, string? expires, string second)
    {
        await using var origin = await OriginAsync([
            ("CDN-Cache-Control", targeted),
            .. cacheControl is null ? [] : new[] { ("Cache-Control", cacheControl) },
            .. expires is null ? [] : new[] { ("Expires", expires) }]);
        await using var gateway = await GatewayAsync(origin, config);

        var first = await GetAsync(gateway);
        var next = await GetAsync(gateway);

        Assert.Equal(second, next.Cache);
        Assert.Equal(targeted, first.Response.Headers.GetValues("CDN-Cache-Control").Single());
        Assert.Equal(targeted, next.Response.Headers.GetValues("CDN-Cache-Control").Single());
    }

    [Fact]
    public async Task AConfiguredTargetedField_ComesFirst_AndStrippedFieldsReachNobody()
    {
        await using var origin = await OriginAsync(("Gateway-Cache-Control", "max-age=60"), ("CDN-Cache-Control", "no-store"), ("Cache-Control", "no-store"));
        await using var gateway = await GatewayAsync(origin, """{ "targetedFields": ["Gateway-Cache-Control", "CDN-Cache-Control"], "stripTargetedFields": true }""");

        var miss = await GetAsync(gateway);
        var hit = await GetAsync(gateway);

        Assert.Equal(("MISS", "HIT"), (miss.Cache, hit.Cache));
        Assert.All([miss.Response, hit.Response], response =>
        {
            Assert.False(response.Headers.Contains("Gateway-Cache-Control"));
            Assert.False(response.Headers.Contains("CDN-Cache-Control"));
            Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
        });
    }

    // RFC 9110 §14 and RFC 9111 §3.4: a range of a fresh stored 200 is cut from it; several ranges or a stale If-Range get it whole.
    [Theory]
    [InlineData("bytes=2-5", null, 206, "2345", "bytes 2-5/10")]
    [InlineData("bytes=8-", null, 206, "89", "bytes 8-9/10")]
    [InlineData("bytes=7-100", null, 206, "789", "bytes 7-9/10")]
    [InlineData("bytes=-3", null, 206, "789", "bytes 7-9/10")]
    [InlineData("bytes=10-", null, 416, "", "bytes */10")]
    [InlineData("bytes=0-1,4-5", null, 200, "0123456789", null)]
    [InlineData("items=0-1", null, 200, "0123456789", null)]
    [InlineData("bytes=2-5", "\"v1\"", 206, "2345", "bytes 2-5/10")]
    [InlineData("bytes=2-5", "\"v0\"", 200, "0123456789", null)]
    [InlineData("bytes=2-5", "W/\"v1\"", 200, "0123456789", null)]
    public async Task RangeOfAStoredResponse_IsAnsweredFromTheCache(string range, string? ifRange, int status, string body, string? contentRange)
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.ETag = "\"v1\"";
            return context.Response.WriteAsync("0123456789");
        });
        await using var gateway = await GatewayAsync(origin);
        await GetAsync(gateway);

        var answer = await GetAsync(gateway, headers: [("Range", range), .. ifRange is null ? [] : new[] { ("If-Range", ifRange) }]);

        Assert.Equal(((HttpStatusCode)status, body, "HIT"), (answer.Status, answer.Body, answer.Cache));
        Assert.Equal(contentRange, answer.Response.Content.Headers.ContentRange?.ToString());
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task RangeOfWhatIsNotStored_GoesToTheOrigin_AndItsPartialAnswerIsNotStored()
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            if (context.Request.Headers.Range.Count > 0)
            {
                context.Response.StatusCode = StatusCodes.Status206PartialContent;
                context.Response.Headers.ContentRange = "bytes 0-1/10";
                return context.Response.WriteAsync("01");
            }
            return context.Response.WriteAsync("0123456789");
        });
        await using var gateway = await GatewayAsync(origin);

        var partial = await GetAsync(gateway, headers: ("Range", "bytes=0-1"));
        var whole = await GetAsync(gateway);

        Assert.Equal((HttpStatusCode.PartialContent, "01", "BYPASS"), (partial.Status, partial.Body, partial.Cache));
        Assert.Equal(("0123456789", "MISS"), (whole.Body, whole.Cache));
    }

    [Fact]
    public async Task ExpiresAndDate_GiveTheLifetime_AndAnInvalidExpiresMeansStale()
    {
        var now = DateTimeOffset.UtcNow;
        await using var fresh = await OriginAsync(("Date", now.ToString("R")), ("Expires", now.AddMinutes(5).ToString("R")));
        await using var expired = await OriginAsync(("Expires", "0"));
        await using var freshGateway = await GatewayAsync(fresh);
        await using var expiredGateway = await GatewayAsync(expired);

        await GetAsync(freshGateway);
        await GetAsync(expiredGateway);

        Assert.Equal("HIT", (await GetAsync(freshGateway)).Cache);
        Assert.Equal("MISS", (await GetAsync(expiredGateway)).Cache);
    }

    [Fact]
    public async Task LastModifiedWithoutExplicitFreshness_GetsHeuristicFreshness()
    {
        await using var origin = await OriginAsync(("Last-Modified", DateTimeOffset.UtcNow.AddDays(-10).ToString("R")));
        await using var gateway = await GatewayAsync(origin);

        await GetAsync(gateway);
        var second = await GetAsync(gateway);

        Assert.Equal(("body-1", "HIT"), (second.Body, second.Cache));
    }

    [Fact]
    public async Task RequestDirectives_NoCacheGoesUpstream_OnlyIfCachedNeverDoes_MaxStaleTakesAStaleCopy()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=1"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, time: clock);

        var onlyIfCached = await GetAsync(gateway, headers: ("Cache-Control", "only-if-cached"));
        await GetAsync(gateway);
        var noCache = await GetAsync(gateway, headers: ("Cache-Control", "no-cache"));
        var pragma = await GetAsync(gateway, headers: ("Pragma", "no-cache"));
        clock.Advance(TimeSpan.FromSeconds(1.2));
        var maxStale = await GetAsync(gateway, headers: ("Cache-Control", "max-stale=60"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, onlyIfCached.Status);
        Assert.Equal(("body-2", "MISS"), (noCache.Body, noCache.Cache));
        Assert.Equal(("body-3", "MISS"), (pragma.Body, pragma.Cache));
        Assert.Equal(("body-3", "STALE"), (maxStale.Body, maxStale.Cache));
        Assert.Equal(3, origin.Requests);
    }

    [Fact]
    public async Task MustRevalidate_IsNeverServedStale()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=1, must-revalidate"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, time: clock);
        await GetAsync(gateway);

        clock.Advance(TimeSpan.FromSeconds(1.2));
        var second = await GetAsync(gateway, headers: ("Cache-Control", "max-stale=60"));

        Assert.Equal(("body-2", "MISS"), (second.Body, second.Cache));
    }

    [Fact]
    public async Task Head_IsAnsweredFromTheStoredGet()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"));
        await using var gateway = await GatewayAsync(origin);
        await GetAsync(gateway);

        using var head = await gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Head, "api/item"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("HIT", head.Headers.GetValues("X-Cache").Single());
        Assert.Equal(6, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task Keys_TakeTheConfiguredQueryParametersHeadersAndVars()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"));
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", origin)
            .FirstPartyPlugin("Caching")
            .Script("tenant.js", "function onRequest(ctx) { ctx.vars.tenant = ctx.request.headers.get('x-tenant') ?? 'none'; }")
            .Pipeline("""
                { "pipeline": [
                  { "script": "scripts/tenant.js" },
                  { "plugin": "Caching", "config": { "key": { "query": ["page"], "headers": ["x-device"], "vars": ["tenant"] }, "keyHeader": "x-cache-key" } }
                ] }
                """)
            .StartAsync();

        var first = await GetAsync(gateway, "api/list?page=1&utm=a", ("x-device", "phone"), ("x-tenant", "t1"));
        var otherTracking = await GetAsync(gateway, "api/list?utm=b&page=1", ("x-device", "phone"), ("x-tenant", "t1"));
        var otherPage = await GetAsync(gateway, "api/list?page=2", ("x-device", "phone"), ("x-tenant", "t1"));
        var otherDevice = await GetAsync(gateway, "api/list?page=1", ("x-device", "desk"), ("x-tenant", "t1"));
        var otherTenant = await GetAsync(gateway, "api/list?page=1", ("x-device", "phone"), ("x-tenant", "t2"));

        Assert.Equal("MISS", first.Cache);
        Assert.Equal(("body-1", "HIT"), (otherTracking.Body, otherTracking.Cache));
        Assert.Equal(["MISS", "MISS", "MISS"], new[] { otherPage.Cache, otherDevice.Cache, otherTenant.Cache });
        Assert.Equal("GET 127.0.0.1:" + gateway.Proxy.BaseAddress!.Port + "/api/list?page=1|h:x-device=phone|v:tenant=t1",
            first.Response.Headers.GetValues("x-cache-key").Single());
    }

    [Fact]
    public async Task QueryNone_IgnoresTheQuery()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"));
        await using var gateway = await GatewayAsync(origin, """{ "key": { "query": "none" } }""");

        await GetAsync(gateway, "api/item?a=1");
        var second = await GetAsync(gateway, "api/item?b=2");

        Assert.Equal(("body-1", "HIT"), (second.Body, second.Cache));
    }

    [Fact]
    public async Task FiftyConcurrentMisses_BecomeOneUpstreamRequest()
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync($"body-{n}");
        }, delay: TimeSpan.FromMilliseconds(300));
        await using var gateway = await GatewayAsync(origin);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => GetAsync(gateway)));

        Assert.Equal(1, origin.Requests);
        Assert.All(responses, response => Assert.Equal((HttpStatusCode.OK, "body-1"), (response.Status, response.Body)));
        Assert.Equal(49, responses.Count(response => response.Cache == "HIT"));
    }

    [Fact]
    public async Task ConcurrentMissesOfDifferentVariants_EachGetTheirOwn()
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers.Vary = "Accept-Language";
            return context.Response.WriteAsync(context.Request.Headers.AcceptLanguage.ToString());
        }, delay: TimeSpan.FromMilliseconds(200));
        await using var gateway = await GatewayAsync(origin);

        var languages = Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? "en" : "fr").ToArray();
        var responses = await Task.WhenAll(languages.Select(language => GetAsync(gateway, headers: ("Accept-Language", language))));

        Assert.Equal(languages, responses.Select(response => response.Body));
    }

    // The cache's Debug line for each response it stores is on: the signal that a store landed after its answer went.
    private static Task<TestGateway> GatewayAsync(TestOrigin origin, FakeTimeProvider clock, params string[] args) => TestGateway.Create()
        .Time(clock)
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", origin)
        .FirstPartyPlugin("Caching")
        .Pipeline("""{ "pipeline": [ { "plugin": "Caching" } ] }""")
        .Arg("--Logging:LogLevel:Gateway.Plugins.Caching=Debug")
        .Args(args)
        .StartAsync();

    /// <summary>Gets once the cache has stored <paramref name="stores"/> responses: a refreshed copy lands after its answer.</summary>
    private static async Task<(HttpStatusCode Status, string Body, string Cache, HttpResponseMessage Response)> GetOnceStoredAsync(TestGateway gateway, int stores)
    {
        await gateway.Logs.WaitForCountAsync(line => line.Message.StartsWith("Stored ", StringComparison.Ordinal), stores).WaitAsync(TimeSpan.FromSeconds(10));
        return await GetAsync(gateway);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StaleWhileRevalidate_AnswersEveryRequestAtOnce_WhileOneBackgroundRequestRevalidates(bool withValidator)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conditions = new ConcurrentQueue<string>();
        await using var origin = await OriginAsync(async (context, n) =>
        {
            if (n == 2)
            {
                conditions.Enqueue(context.Request.Headers.IfNoneMatch.ToString());
                await release.Task;
            }
            // Date has whole seconds, so max-age=1 may be stale at once; the refreshed copy lasts a minute.
            context.Response.Headers.CacheControl = n == 1 ? "max-age=1, stale-while-revalidate=60" : "max-age=60";
            if (withValidator)
            {
                context.Response.Headers.ETag = "\"v1\"";
                if (n == 2)
                {
                    context.Response.StatusCode = StatusCodes.Status304NotModified;
                    return;
                }
            }
            await context.Response.WriteAsync($"body-{n}");
        });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, clock);
        await GetAsync(gateway);
        clock.Advance(TimeSpan.FromSeconds(1.2));

        // The origin holds the revalidation until released: these come back while it is under way (a cache that made
        // them wait for it would fail here rather than hang).
        var first = await GetAsync(gateway).WaitAsync(TimeSpan.FromSeconds(10));
        var second = await GetAsync(gateway).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(("body-1", "STALE"), (first.Body, first.Cache));
        Assert.Equal(("body-1", "STALE"), (second.Body, second.Cache));
        release.SetResult();
        var refreshed = await GetOnceStoredAsync(gateway, stores: 2);

        Assert.Equal((withValidator ? "body-1" : "body-2", "HIT"), (refreshed.Body, refreshed.Cache));
        Assert.Equal(2, origin.Requests);
        Assert.Equal(withValidator ? "\"v1\"" : "", Assert.Single(conditions));
        Assert.Equal("60", refreshed.Response.Headers.CacheControl?.MaxAge?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task StaleWhileRevalidate_OutsideItsWindow_TheEntryIsNotServedStale()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=1, stale-while-revalidate=5"));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, clock);
        await GetAsync(gateway);
        clock.Advance(TimeSpan.FromSeconds(7));

        var late = await GetAsync(gateway);

        Assert.Equal(("body-2", "MISS"), (late.Body, late.Cache));
        Assert.Equal(2, origin.Requests);
    }

    [Fact]
    public async Task StaleWhileRevalidate_WhenNoDetachedRequestMayStart_OneRequestRevalidatesWhileTheOthersGetTheStaleCopy()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var revalidating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var origin = await OriginAsync(async (context, n) =>
        {
            if (n == 2)
            {
                revalidating.SetResult();
                await release.Task;
            }
            context.Response.Headers.CacheControl = n == 1 ? "max-age=1, stale-while-revalidate=60" : "max-age=60";
            await context.Response.WriteAsync($"body-{n}");
        });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, clock, "--Gateway:DetachedRequests:MaxConcurrent=0");
        await GetAsync(gateway);
        clock.Advance(TimeSpan.FromSeconds(1.2));

        var leader = GetAsync(gateway);
        await revalidating.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var whileRevalidating = await GetAsync(gateway);
        release.SetResult();
        var refreshed = await leader;
        var after = await GetOnceStoredAsync(gateway, stores: 2);

        Assert.Equal(("body-1", "STALE"), (whileRevalidating.Body, whileRevalidating.Cache));
        Assert.Equal(("body-2", "MISS"), (refreshed.Body, refreshed.Cache));
        Assert.Equal(("body-2", "HIT"), (after.Body, after.Cache));
    }

    [Theory]
    [InlineData(5000, true, false)]
    [InlineData(5000, false, false)]
    [InlineData(100, false, true)]
    public async Task BodiesOverTheLimit_StreamThroughUncached(int size, bool contentLength, bool stored)
    {
        var body = new string('x', size);
        await using var origin = await OriginAsync(async (context, n) =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            if (contentLength)
            {
                context.Response.ContentLength = size;
            }
            // Two writes: a chunked body arrives in pieces.
            await context.Response.WriteAsync(body[..(size / 2)]);
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync(body[(size / 2)..]);
        });
        await using var gateway = await GatewayAsync(origin, """{ "maxBodyBytes": 1000 }""");

        var first = await GetAsync(gateway);
        var second = await GetAsync(gateway);

        Assert.Equal(body, first.Body);
        Assert.Equal(body, second.Body);
        Assert.Equal(stored ? "HIT" : "MISS", second.Cache);
        Assert.Equal(stored ? 1 : 2, origin.Requests);
    }

    [Fact]
    public async Task PurgeByRouteAndByKey_DropStoredResponses()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"));
        await using var gateway = await GatewayAsync(origin, """{ "keyHeader": "x-cache-key" }""");
        var stored = await GetAsync(gateway, "api/a");
        await GetAsync(gateway, "api/b");

        using (var byKey = await gateway.Admin.PostAsync("admin/cache/purge", Json($$"""{ "route": "api", "key": "{{stored.Response.Headers.GetValues("x-cache-key").Single()}}" }""")))
        {
            Assert.Equal(HttpStatusCode.OK, byKey.StatusCode);
        }
        Assert.Equal("MISS", (await GetAsync(gateway, "api/a")).Cache);
        Assert.Equal("HIT", (await GetAsync(gateway, "api/b")).Cache);

        using (var byRoute = await gateway.Admin.PostAsync("admin/cache/purge", Json("""{ "route": "api" }""")))
        {
            Assert.Equal(HttpStatusCode.OK, byRoute.StatusCode);
            Assert.Contains("Caching", await byRoute.Content.ReadAsStringAsync());
        }
        Assert.Equal("MISS", (await GetAsync(gateway, "api/a")).Cache);
        Assert.Equal("MISS", (await GetAsync(gateway, "api/b")).Cache);

        using var unknown = await gateway.Admin.PostAsync("admin/cache/purge", Json("""{ "route": "nope" }"""));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var ambiguous = await gateway.Admin.PostAsync("admin/cache/purge", Json("""{ "route": "api", "tag": "t" }"""));
        Assert.Equal(HttpStatusCode.BadRequest, ambiguous.StatusCode);
        using var anonymous = await gateway.Proxy.PostAsync("admin/cache/purge", Json("""{ "route": "api" }"""));
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Fact]
    public async Task PurgeByTag_DropsTheResponsesTaggedWithIt_OnEveryRoute()
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            context.Response.Headers.CacheControl = "max-age=60";
            context.Response.Headers["Cache-Tag"] = context.Request.Path.Value!.EndsWith("/other") ? "list" : "product-42, list";
            return context.Response.WriteAsync($"body-{n}");
        });
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Route("shop", "/shop/{**rest}", "backend")
            .Cluster("backend", origin)
            .FirstPartyPlugin("Caching")
            .Pipeline("""{ "pipeline": [ { "plugin": "Caching" } ] }""")
            .StartAsync();
        var tagged = await GetAsync(gateway, "api/product");
        await GetAsync(gateway, "shop/product");
        await GetAsync(gateway, "api/other");

        using var purge = await gateway.Admin.PostAsync("admin/cache/purge", Json("""{ "tag": "product-42" }"""));

        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        Assert.False(tagged.Response.Headers.Contains("Cache-Tag"));
        Assert.Equal("MISS", (await GetAsync(gateway, "api/product")).Cache);
        Assert.Equal("MISS", (await GetAsync(gateway, "shop/product")).Cache);
        Assert.Equal("HIT", (await GetAsync(gateway, "api/other")).Cache);
        Assert.Equal("HIT", (await GetAsync(gateway, "api/product")).Cache);
    }

    [Fact]
    public async Task SuccessfulUnsafeRequest_InvalidatesTheStoredResponse()
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"));
        await using var gateway = await GatewayAsync(origin);
        await GetAsync(gateway);

        using var post = await gateway.Proxy.PostAsync("api/item", new StringContent("change"));
        var after = await GetAsync(gateway);

        Assert.Equal("BYPASS", post.Headers.GetValues("X-Cache").Single());
        Assert.Equal(("body-3", "MISS"), (after.Body, after.Cache));
    }

    [Fact]
    public async Task SuccessfulUnsafeRequest_InvalidatesTheLocationAndContentLocationItNames()
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            if (HttpMethods.IsPost(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status201Created;
                context.Response.Headers.Location = "/api/items/7";
                context.Response.Headers.ContentLocation = "items/8";
                return Task.CompletedTask;
            }
            context.Response.Headers.CacheControl = "max-age=60";
            return context.Response.WriteAsync($"body-{n}");
        });
        await using var gateway = await GatewayAsync(origin);
        await GetAsync(gateway, "api/items/7");
        await GetAsync(gateway, "api/items/8");
        await GetAsync(gateway, "api/items/9");

        using var post = await gateway.Proxy.PostAsync("api/items", new StringContent("new"));

        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
        Assert.Equal("MISS", (await GetAsync(gateway, "api/items/7")).Cache);
        Assert.Equal("MISS", (await GetAsync(gateway, "api/items/8")).Cache);
        Assert.Equal("HIT", (await GetAsync(gateway, "api/items/9")).Cache);
    }

    [Theory]
    [InlineData("max-age=1, stale-if-error=60", "{}", true)]
    [InlineData("max-age=1", "{ \"staleOnErrorSeconds\": 60 }", true)]
    [InlineData("max-age=1", "{}", false)]
    [InlineData("max-age=1, must-revalidate, stale-if-error=60", "{}", false)]
    public async Task FailingUpstream_IsAnsweredForByAStaleCopy_WhereAllowed(string cacheControl, string config, bool served)
    {
        await using var origin = await OriginAsync((context, n) =>
        {
            if (n > 1)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return context.Response.WriteAsync("origin is down");
            }
            context.Response.Headers.CacheControl = cacheControl;
            return context.Response.WriteAsync($"body-{n}");
        });
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, config, clock);
        await GetAsync(gateway);
        clock.Advance(TimeSpan.FromSeconds(1.2));

        var failing = await GetAsync(gateway);

        Assert.Equal(served ? (HttpStatusCode.OK, "body-1", "STALE") : (HttpStatusCode.ServiceUnavailable, "origin is down", "MISS"),
            (failing.Status, failing.Body, failing.Cache));
    }

    // RFC 9111 §4.2.4: a cache that cannot reach the origin is disconnected and may serve stale, unless the response forbids it.
    [Theory]
    [InlineData("max-age=1", "{}", true)]
    [InlineData("max-age=1", "{ \"staleOnDisconnect\": false }", false)]
    [InlineData("max-age=1", "{ \"staleOnDisconnect\": false, \"staleOnErrorSeconds\": 60 }", true)]
    [InlineData("max-age=1, must-revalidate", "{}", false)]
    [InlineData("max-age=1, proxy-revalidate", "{}", false)]
    [InlineData("max-age=1, s-maxage=1", "{}", false)]
    [InlineData("max-age=60, no-cache", "{}", false)]
    public async Task UnreachableUpstream_IsAnsweredForByAStaleCopy_UnlessForbidden(string cacheControl, string config, bool served)
    {
        var origin = await OriginAsync(("Cache-Control", cacheControl), ("ETag", "\"v1\""));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayAsync(origin, config, clock);
        await GetAsync(gateway);
        await origin.DisposeAsync();
        clock.Advance(TimeSpan.FromSeconds(1.2));

        var unreachable = await GetAsync(gateway);

        Assert.Equal(served ? (HttpStatusCode.OK, "STALE") : (HttpStatusCode.BadGateway, "MISS"), (unreachable.Status, unreachable.Cache));
        Assert.Equal(served, unreachable.Body == "body-1");
    }

    [Theory]
    [InlineData("""{ "key": { "query": 5 } }""", "$.pipeline[0].config.key.query", "\"all\", \"none\"")]
    [InlineData("""{ "key": { "headers": [""] } }""", "$.pipeline[0].config.key.headers[0]", "empty")]
    [InlineData("""{ "maxBodyBytes": 0 }""", "$.pipeline[0].config.maxBodyBytes", "more than zero")]
    [InlineData("""{ "heuristicFraction": 2 }""", "$.pipeline[0].config.heuristicFraction", "between 0 and 1")]
    [InlineData("""{ "statusHeader": "x cache" }""", "$.pipeline[0].config.statusHeader", "not a header name")]
    [InlineData("""{ "ttl": 5 }""", "$.pipeline[0].config.ttl", "")]
    public async Task BadConfig_IsRejectedNamingTheField_AndThePreviousPipelineKeepsCaching(string config, string path, string message)
    {
        await using var origin = await OriginAsync(("Cache-Control", "max-age=60"));
        await using var gateway = await GatewayAsync(origin);
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "Caching", "config": {{config}} } ] }""");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal(path, (string?)error["path"]);
        Assert.Contains(message, (string?)error["message"]);
        Assert.Equal(["MISS", "HIT"], new[] { (await GetAsync(gateway)).Cache, (await GetAsync(gateway)).Cache });
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
