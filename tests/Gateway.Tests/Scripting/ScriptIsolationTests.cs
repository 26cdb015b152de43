using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>
/// No state between requests: nothing a hook can reach, from the global object or from <c>ctx</c>, can be written or
/// extended, so one request cannot leave a value for the next on the same engine.
/// </summary>
public sealed class ScriptIsolationTests : IAsyncLifetime
{
    // Walks everything reachable from globalThis and ctx through own properties (values, getters, setters) and
    // prototypes, plus what only an instance leads to: the results of every method called on a sample of its kind,
    // and the objects syntax makes (iterators, generators, async functions). Answers with each writable, configurable
    // or extensible place found. ctx.vars is the request's own bag, live by design.
    private const string Walker = """
        function onRequest(ctx) {
          const findings = [];
          const seen = new Set();
          const queue = [];
          const visit = (value, path) => {
            if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
              if (!seen.has(value)) { seen.add(value); queue.push([value, path]); }
            }
          };
          visit(globalThis, 'globalThis');
          visit(ctx, 'ctx');
          // A generator object's own prototype is its function's fresh prototype object; the shared one is above it.
          const of = Object.getPrototypeOf;
          const made = {
            'generator': of(function* () { yield 1; }),
            'generator object': of(of((function* () { yield 1; })())),
            'async function': of(async function () {}),
            'async generator': of(async function* () {}),
            'async generator object': of(of((async function* () {})())),
            'arrow': of(() => 1),
            'class': of(class {}),
            'bound function': of(function () {}.bind(null)),
            'arguments': of((function () { return arguments; })()),
            'promise': of(Promise.resolve(1)),
            'regexp string iterator': of('a'.matchAll(/a/g)),
            'iterator helper': of([1].values().map(x => x)),
            'wrapped iterator': of(Iterator.from({ next() { return { done: true }; } })),
            'segments': of(new Intl.Segmenter().segment('ab')),
            'error': of(new Error('x')),
          };
          for (const name of Object.keys(made)) {
            visit(made[name], 'prototype of a ' + name);
          }
          const samples = new Map([
            [Array.prototype, () => [1, 2]], [Map.prototype, () => new Map([[1, 2]])], [Set.prototype, () => new Set([1])],
            [String.prototype, () => 'ab'], [RegExp.prototype, () => /a/g], [Iterator.prototype, () => [1, 2].values()],
            [Promise.prototype, () => Promise.resolve(1)], [Date.prototype, () => new Date(0)], [Object.prototype, () => ({})],
          ]);
          for (let i = 0; i < queue.length; i++) {
            const [target, path] = queue[i];
            if (target === ctx.vars) continue;
            if (Object.isExtensible(target)) findings.push(path + ' is extensible');
            for (const key of Reflect.ownKeys(target)) {
              const descriptor = Object.getOwnPropertyDescriptor(target, key);
              const name = path + '.' + String(key);
              if (descriptor.configurable) findings.push(name + ' is configurable');
              if ('value' in descriptor) {
                if (descriptor.writable) findings.push(name + ' is writable');
                visit(descriptor.value, name);
                const sample = samples.get(target);
                if (sample && typeof descriptor.value === 'function' && key !== 'constructor') {
                  try {
                    const result = descriptor.value.call(sample());
                    if ((typeof result === 'object' && result !== null) || typeof result === 'function') {
                      visit(Object.getPrototypeOf(result), 'prototype of what ' + name + '() returns');
                    }
                  } catch (e) { }
                }
              } else {
                visit(descriptor.get, name + ' (getter)');
                visit(descriptor.set, name + ' (setter)');
              }
            }
            visit(Object.getPrototypeOf(target), path + ' (prototype)');
          }
          ctx.respond(200, { reached: seen.size, findings: findings });
        }
        """;

    private TestOrigin _origin = null!;

    public async Task InitializeAsync() => _origin = await TestOrigin.StartAsync("d1");

    public async Task DisposeAsync() => await _origin.DisposeAsync();

    [Fact]
    public async Task EverythingReachable_IsFrozen()
    {
        await using var gateway = await Gateway("walk.js", Walker)
            .Arg("--Gateway:Scripts:Timeout=00:00:30")
            .Arg("--Gateway:Scripts:MaxStatements=100000000")
            .Arg("--Gateway:Scripts:MaxMemoryBytes=268435456")
            .StartAsync();

        var walk = JsonNode.Parse(await gateway.Proxy.GetStringAsync("api/x"))!;

        Assert.True((int)walk["reached"]! > 500, $"the walk reached only {walk["reached"]} objects");
        Assert.Empty(walk["findings"]!.AsArray().Select(finding => (string)finding!));
    }

    [Fact]
    public async Task LegacyRegExpStatics_DoNotCarryOneRequestsMatchIntoTheNext()
    {
        await using var gateway = await Gateway("match.js", """
            function onRequest(ctx) {
              /secret=(\w+)/.test('secret=' + (ctx.request.headers.get('x-secret') || ''));
              ctx.request.headers.set('x-seen', typeof RegExp.$1 === 'string' ? RegExp.$1 : 'nothing');
            }
            """).StartAsync();

        using var first = new HttpRequestMessage(HttpMethod.Get, "api/x") { Headers = { { "x-secret", "hunter2" } } };
        var seenByFirst = (await OriginEcho.ReadAsync(await gateway.Proxy.SendAsync(first))).Headers["x-seen"];
        var seenBySecond = (await OriginEcho.ReadAsync(await gateway.Proxy.GetAsync("api/x"))).Headers["x-seen"];

        Assert.Equal("nothing", seenByFirst);
        Assert.Equal("nothing", seenBySecond);
    }

    [Fact]
    public async Task TopLevelGlobalRegExp_IsUsable_AndItsPositionIsNotCarriedOver()
    {
        await using var gateway = await Gateway("regexp.js", """
            const slashes = /\/+/g;
            const letter = /b/g;
            function onRequest(ctx) {
              ctx.request.headers.set('x-path', ctx.request.path.replace(slashes, '/'));
              ctx.request.headers.set('x-found', String(letter.test('ab')));
              ctx.request.headers.set('x-position', String(letter.lastIndex));
            }
            """).StartAsync();

        for (var i = 0; i < 3; i++)
        {
            var echo = await OriginEcho.ReadAsync(await gateway.Proxy.GetAsync("api//x///y"));
            Assert.Equal("/api/x/y", echo.Headers["x-path"]);
            Assert.Equal("true", echo.Headers["x-found"]);
            Assert.Equal("2", echo.Headers["x-position"]);
        }
    }

    private TestGatewayBuilder Gateway(string name, string script) => TestGateway.Create()
        .Route("api", "/api/{**rest}", "backend")
        .Cluster("backend", _origin)
        .Script(name, script)
        .Pipeline($$"""{ "pipeline": [ { "script": "scripts/{{name}}" } ] }""");
}
