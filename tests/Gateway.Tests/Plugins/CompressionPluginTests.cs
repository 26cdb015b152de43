using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Plugins;

/// <summary>The first-party Compression plugin in front of a real origin, alone and in front of the Caching plugin.</summary>
public sealed class CompressionPluginTests : IAsyncLifetime
{
    // A JSON body of ~16 KiB, varied like an API's answer.
    private static readonly string Json = new JsonArray(Enumerable.Range(0, 160).Select(i => (JsonNode)new JsonObject
    {
        ["id"] = i,
        ["name"] = $"item-{i * 7919 % 1000}",
        ["price"] = i * 3.25,
        ["tags"] = new JsonArray("a", $"t{i % 13}"),
    }).ToArray()).ToJsonString();

    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1", respond: (context, _) =>
    {
        var response = context.Response;
        var path = context.Request.Path.Value!;
        response.ContentType = path.EndsWith("/png", StringComparison.Ordinal) ? "image/png" : "application/json";
        response.Headers.ETag = "\"v1\"";
        response.Headers.CacheControl = path.EndsWith("/no-transform", StringComparison.Ordinal) ? "max-age=60, no-transform" : "max-age=60";
        var body = Encoding.UTF8.GetBytes(path.EndsWith("/small", StringComparison.Ordinal) ? "{\"ok\":true}" : Json);
        if (path.EndsWith("/encoded", StringComparison.Ordinal))
        {
            response.Headers.ContentEncoding = "gzip";
            body = Gzip(body);
        }
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    });

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    private Task<TestGateway> GatewayAsync(string pipeline) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .FirstPartyPlugin("Compression")
        .FirstPartyPlugin("Caching")
        .Pipeline(pipeline)
        .StartAsync();

    private static readonly string Alone = """{ "pipeline": [ { "plugin": "Compression", "config": { "minBytes": 1024 } } ] }""";

    private static async Task<(HttpResponseMessage Response, byte[] Body)> GetAsync(TestGateway gateway, string path, string? acceptEncoding, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }
        var response = await gateway.Proxy.SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }

    private static byte[] Gzip(byte[] body)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest))
        {
            gzip.Write(body);
        }
        return compressed.ToArray();
    }

    private static string Decode(string? coding, byte[] body)
    {
        using Stream source = coding switch
        {
            "br" => new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
            "gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
            _ => new MemoryStream(body),
        };
        using var reader = new StreamReader(source, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string? Coding(HttpResponseMessage response) => response.Content.Headers.ContentEncoding.SingleOrDefault();

    [Theory]
    [InlineData("br, gzip", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData(null, null)]
    [InlineData("identity", null)]
    public async Task AJsonBody_IsCompressedAsTheClientTakesIt_WithVary_AndAWeakenedETag(string? acceptEncoding, string? expected)
    {
        await using var gateway = await GatewayAsync(Alone);

        var (response, body) = await GetAsync(gateway, "api/items", acceptEncoding);

        Assert.Equal(expected, Coding(response));
        Assert.Equal(Json, Decode(expected, body));
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.Equal(expected is null ? "\"v1\"" : "W/\"v1\"", response.Headers.ETag?.ToString());
        if (expected is not null)
        {
            Assert.False(response.Content.Headers.NonValidated.Contains("Content-Length"));
            Assert.True(body.Length < Json.Length / 3, $"{body.Length} bytes for {Json.Length}");
        }
        response.Dispose();
    }

    [Theory]
    [InlineData("api/small")]
    [InlineData("api/png")]
    [InlineData("api/no-transform")]
    [InlineData("api/encoded")]
    public async Task WhatShouldNotBeCompressed_GoesAsItCame(string path)
    {
        await using var gateway = await GatewayAsync(Alone);

        var (response, body) = await GetAsync(gateway, path, "br");

        Assert.Equal(path.EndsWith("/encoded", StringComparison.Ordinal) ? "gzip" : null, Coding(response));
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Content.Headers.NonValidated["Content-Length"].ToString());
        Assert.Equal("\"v1\"", response.Headers.ETag?.ToString());
        response.Dispose();
    }

    [Fact]
    public async Task AHead_GetsTheHeadersOfTheUncompressedAnswer()
    {
        await using var gateway = await GatewayAsync(Alone);

        var (response, body) = await GetAsync(gateway, "api/items", "br", HttpMethod.Head);

        Assert.Null(Coding(response));
        Assert.Empty(body);
        response.Dispose();
    }

    [Fact]
    public async Task BeforeTheCache_OneStoredCopy_ServesEachClientItsEncoding()
    {
        await using var gateway = await GatewayAsync("""{ "pipeline": [ { "plugin": "Compression" }, { "plugin": "Caching" } ] }""");

        var (miss, missBody) = await GetAsync(gateway, "api/items", "br");
        var (plain, plainBody) = await GetAsync(gateway, "api/items", null);
        var (gzip, gzipBody) = await GetAsync(gateway, "api/items", "gzip");

        Assert.Equal(("MISS", "br"), (miss.Headers.GetValues("X-Cache").Single(), Coding(miss)));
        Assert.Equal(("HIT", (string?)null), (plain.Headers.GetValues("X-Cache").Single(), Coding(plain)));
        Assert.Equal(("HIT", "gzip"), (gzip.Headers.GetValues("X-Cache").Single(), Coding(gzip)));
        Assert.Equal([Json, Json, Json], [Decode("br", missBody), Decode(null, plainBody), Decode("gzip", gzipBody)]);
        Assert.Equal(Json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), plain.Content.Headers.NonValidated["Content-Length"].ToString());
        Assert.Equal(1, _origin.Requests);
        miss.Dispose();
        plain.Dispose();
        gzip.Dispose();
    }

    [Fact]
    public async Task AStageFailingAfterTheBodyWasWrapped_GivesThePlainProblem()
    {
        await using var gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", _origin)
            .FirstPartyPlugin("Compression")
            .TestPlugin("FilterProbe")
            .Pipeline("""{ "pipeline": [ { "plugin": "Compression" }, { "plugin": "FilterProbe", "config": { "tag": "x", "throwOnResponse": true } } ] }""")
            .StartAsync();

        var (response, body) = await GetAsync(gateway, "api/items", "br");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Null(Coding(response));
        Assert.Equal(500, (int?)JsonNode.Parse(body)!["status"]);
        response.Dispose();
    }

    [Theory]
    [InlineData("""{ "encodings": ["deflate"] }""", "$.pipeline[0].config.encodings[0]")]
    [InlineData("""{ "types": ["json"] }""", "$.pipeline[0].config.types[0]")]
    [InlineData("""{ "level": "max" }""", "$.pipeline[0].config.level")]
    [InlineData("""{ "minBytes": -1 }""", "$.pipeline[0].config.minBytes")]
    public async Task BadConfig_IsRejectedNamingTheField(string config, string path)
    {
        await using var gateway = await GatewayAsync(Alone);
        gateway.WritePipeline($$"""{ "pipeline": [ { "plugin": "Compression", "config": {{config}} } ] }""");

        var error = await gateway.ReloadRejectedAsync();

        Assert.Equal(path, (string?)error["path"]);
    }
}
