using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>
/// Scripts that would end the process or take its memory, run against a gateway in a process of its own: a native
/// recursion inside a built-in, or one built-in call asked for gigabytes. Each fails its request with a breach; the
/// process lives, serves the next request, and its peak memory stays far below what the calls asked for.
/// </summary>
public sealed class ScriptProcessSafetyTests(ScriptProcessSafetyTests.HostileGateway gateway) : IClassFixture<ScriptProcessSafetyTests.HostileGateway>
{
    // The memory shapes but json-indent ask for a gigabyte or more in one call. The process running every case peaks
    // at ~400 MB (the server GC lets the heap grow between collections, and each case may use its 64 MiB bound).
    private const long PeakMemoryCeiling = 1024L * 1024 * 1024;

    private const string Hostile = """
        function deepArray(n) { var a = []; for (var i = 0; i < n; i++) a = [a]; return a; }
        function deepObject(n) { var o = {}; for (var i = 0; i < n; i++) o = { a: o }; return o; }
        function megabytes(n) { return new Array(n).fill('x'.repeat(500000)); } // n references to one megabyte
        function onRequest(ctx) {
          var shape = ctx.request.query.get('shape');
          var s = 'x'.repeat(500000);
          switch (shape) {
            case 'array-join': String(deepArray(20000)); break;
            case 'array-tostring': deepArray(20000).toString(); break;
            case 'json-stringify': JSON.stringify(deepObject(20000)); break;
            case 'array-flat': deepArray(20000).flat(Infinity); break;
            case 'sort-comparator': { const again = () => [2, 1].sort(again); again(); } break;
            case 'getter-chain': ({ get a() { return this.a; } }).a; break;
            case 'proxy-trap': { const p = new Proxy({}, { get: (t, k) => p[k] }); p.x; } break;
            case 'proxy-chain': { let p = {}; for (let i = 0; i < 150000; i++) p = new Proxy(p, {}); p.x; } break;
            case 'value-of': { const o = { valueOf: () => +o }; +o; } break;
            case 'constructor': { function F() { return new F(); } new F(); } break;
            case 'repeat': 'x'.repeat(5e8); break;
            case 'repeat-pairs': 'ab'.repeat(2.5e8); break;
            case 'pad': 'x'.padEnd(5e8, 'yz'); break;
            case 'join': megabytes(1100).join(''); break;
            case 'join-separator': new Array(1000).fill(s).join(s); break;
            case 'to-locale-string': megabytes(1100).toLocaleString(); break;
            case 'concat': ''.concat.apply('', megabytes(1100)); break;
            case 'raw': String.raw({ raw: megabytes(1100) }); break;
            case 'replace-all-empty': s.replaceAll('', s); break;
            case 'replace-tail': s.replace(/x/g, "$'"); break;
            case 'replace-object-search': s.replaceAll({ toString: () => 'x' }, "$'"); break;
            case 'json-raw': JSON.stringify(new Array(500).fill(JSON.rawJSON('"' + s + '"'))); break;
            case 'json-shared': JSON.stringify(megabytes(1100)); break;
            case 'json-indent': JSON.stringify(deepObject(2000), null, 10); break;
          }
          ctx.request.headers.set('x-served', 'yes');
        }
        """;

    [Theory]
    [InlineData("array-join")]
    [InlineData("array-tostring")]
    [InlineData("json-stringify")]
    [InlineData("array-flat")]
    [InlineData("sort-comparator")]
    [InlineData("getter-chain")]
    [InlineData("proxy-trap")]
    [InlineData("proxy-chain")]
    [InlineData("value-of")]
    [InlineData("constructor")]
    public async Task NativeRecursion_FailsThatRequestAsABreach_AndTheProcessLives(string shape)
    {
        var message = await AssertBreachAsync(shape);

        Assert.True(message.Contains("ran out of stack") || message.Contains("recursion bound"), message);
    }

    [Theory]
    [InlineData("repeat")]
    [InlineData("repeat-pairs")]
    [InlineData("pad")]
    [InlineData("join")]
    [InlineData("join-separator")]
    [InlineData("to-locale-string")]
    [InlineData("concat")]
    [InlineData("raw")]
    [InlineData("replace-all-empty")]
    [InlineData("replace-tail")]
    [InlineData("replace-object-search")]
    [InlineData("json-raw")]
    [InlineData("json-shared")]
    [InlineData("json-indent")]
    public async Task OneBuiltInCall_IsStoppedBeforeItAllocatesFarBeyondTheMemoryBound(string shape)
    {
        var message = await AssertBreachAsync(shape);

        Assert.Contains("memory bound", message);
        Assert.True(gateway.Process.PeakMemoryBytes < PeakMemoryCeiling, $"peak memory {gateway.Process.PeakMemoryBytes:N0} bytes");
    }

    [Fact]
    public async Task BinaryBuffers_AreNotInTheSandbox()
    {
        await using var process = await Gateway()
            .Script("buffers.js", """
                function onRequest(ctx) {
                  ctx.respond(200, [typeof ArrayBuffer, typeof Uint8Array, typeof SharedArrayBuffer, typeof DataView,
                    typeof Atomics, typeof WeakRef, typeof FinalizationRegistry, typeof ShadowRealm].join());
                }
                """)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/buffers.js" } ] }""")
            .StartProcessAsync();

        Assert.Equal("undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined", await process.Proxy.GetStringAsync("api/x"));
    }

    [Fact]
    public async Task Reload_TopLevelThatBreaksABound_IsRejectedNamingEachEntry_WithoutMultiplyingItsAllocations()
    {
        await using var process = await Gateway()
            .Script("ok.js", "function onRequest(ctx) {}")
            .Pipeline("""{ "pipeline": [ { "script": "scripts/ok.js" } ] }""")
            .Args(RoomForDeepStructures)
            .StartProcessAsync();
        File.WriteAllText(Path.Combine(process.Directory, "scripts", "deep.js"),
            "var a = []; for (var i = 0; i < 20000; i++) a = [a]; String(a);\nfunction onRequest(ctx) {}");
        File.WriteAllText(Path.Combine(process.Directory, "scripts", "big.js"),
            "const big = 'x'.repeat(5e8);\nfunction onRequest(ctx) {}");
        File.WriteAllText(Path.Combine(process.Directory, "plugins.json"),
            """{ "pipeline": [ { "script": "scripts/deep.js" }, { "script": "scripts/big.js" }, { "script": "scripts/big.js" } ] }""");

        using var reload = await process.Admin.PostAsync("admin/reload", null);

        var body = await reload.Content.ReadAsStringAsync();
        Assert.True(reload.StatusCode == HttpStatusCode.UnprocessableEntity, body);
        var errors = JsonNode.Parse(body)!["errors"]!.AsArray().Select(error => (string)error!["message"]!).ToArray();
        Assert.True(errors.Length == 3, body);
        Assert.StartsWith("scripts/deep.js:1:", errors[0]);
        Assert.Contains("ran out of stack", errors[0]);
        Assert.All(errors[1..], error => Assert.StartsWith("scripts/big.js:1:", error));
        Assert.All(errors[1..], error => Assert.Contains("memory bound", error));
        Assert.True(process.PeakMemoryBytes < PeakMemoryCeiling, $"peak memory {process.PeakMemoryBytes:N0} bytes");
        Assert.False(process.HasExited);
        using var served = await process.Proxy.GetAsync("api/x");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    // A generous time bound, so what stops each case is the bound it is about, even on a cold process, and room for
    // structures deep enough to exhaust the stack.
    private static readonly string[] RoomForDeepStructures =
    [
        "--Gateway:Scripts:Timeout=00:00:10",
        "--Gateway:Scripts:MaxStatements=1000000",
        "--Gateway:Scripts:MaxMemoryBytes=67108864",
    ];

    // One request with the shape: a 500 problem, one more breach on /admin/pipeline, and the next request served.
    private async Task<string> AssertBreachAsync(string shape)
    {
        await gateway.Serialized.WaitAsync();
        try
        {
            var breachesBefore = (await EntryAsync())["breaches"]!.GetValue<long>();
            using var failed = await gateway.Process.Proxy.GetAsync($"api/x?shape={shape}");
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Equal("application/problem+json", failed.Content.Headers.ContentType!.MediaType);
            var entry = await EntryAsync();
            Assert.Equal(breachesBefore + 1, entry["breaches"]!.GetValue<long>());
            Assert.False(gateway.Process.HasExited, gateway.Process.Output);

            using var next = await gateway.Process.Proxy.GetAsync("api/x");
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
            Assert.Equal("yes", (await OriginEcho.ReadAsync(next)).Headers["x-served"]);
            return (string)entry["lastError"]!;
        }
        finally
        {
            gateway.Serialized.Release();
        }
    }

    private async Task<JsonNode> EntryAsync() =>
        JsonNode.Parse(await gateway.Process.Admin.GetStringAsync("admin/pipeline"))!["entries"]![0]!;

    private TestGatewayBuilder Gateway() => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", gateway.Origin);

    /// <summary>One gateway process running the hostile script, shared by the cases, which take turns.</summary>
    public sealed class HostileGateway : IAsyncLifetime
    {
        internal TestOrigin Origin { get; private set; } = null!;

        internal GatewayProcess Process { get; private set; } = null!;

        public SemaphoreSlim Serialized { get; } = new(1, 1);

        public async Task InitializeAsync()
        {
            Origin = await TestOrigin.StartAsync("d1");
            Process = await TestGateway.Create()
                .Route("api", "/api/{**rest}", "backend")
                .Cluster("backend", Origin)
                .Script("hostile.js", Hostile)
                .Pipeline("""{ "pipeline": [ { "script": "scripts/hostile.js" } ] }""")
                .Args(RoomForDeepStructures)
                .StartProcessAsync();
        }

        public async Task DisposeAsync()
        {
            await Process.DisposeAsync();
            await Origin.DisposeAsync();
        }
    }
}
