using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Scripting;

/// <summary>
/// The built-ins the sandbox puts size checks in front of behave as ECMAScript says for every ordinary call: the
/// checks change what a call may allocate, not what it returns.
/// </summary>
public sealed class ScriptBuiltInTests : IAsyncLifetime
{
    private TestOrigin _origin = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _origin = await TestOrigin.StartAsync("d1");
        _gateway = await TestGateway.Create()
            .Route("api", "/api/{**rest}", "backend")
            .Cluster("backend", _origin)
            .Script("eval.js", """
                const cases = {
                  'repeat': () => 'ab'.repeat(3),
                  'repeat-zero': () => 'ab'.repeat(0),
                  'pad-start': () => '5'.padStart(3, '0'),
                  'pad-end': () => 'ab'.padEnd(5, 'xy'),
                  'pad-default': () => 'a'.padStart(3),
                  'concat': () => 'a'.concat(1, null, { toString: () => 'o' }),
                  'raw': () => String.raw`a\n${1}b${2}`,
                  'raw-object': () => String.raw({ raw: ['x', 'y', 'z'] }, 1, 2, 3),
                  'join': () => [1, null, undefined, 'a', [2, 3]].join('-'),
                  'join-default': () => [1, 2].join(),
                  'join-cyclic': () => { const a = [1]; a.push(a); return a.join(); },
                  'join-array-like': () => Array.prototype.join.call({ length: 3, 0: 'a', 2: 'c' }, '+'),
                  'to-string-nested': () => String([1, [2, [3, []]]]),
                  'to-locale-string': () => [1, 'a', null].toLocaleString(),
                  'replace-string': () => 'a-b-c'.replace('-', '+'),
                  'replace-all-string': () => 'a-b-c'.replaceAll('-', '+'),
                  'replace-patterns': () => 'abc'.replace('b', "[$$|$&|$`|$'|$1]"),
                  'replace-empty': () => 'ab'.replaceAll('', '.'),
                  'replace-function': () => 'a1b2'.replace(/\d/g, d => d * 2),
                  'replace-regex': () => 'a-b-c'.replace(/-/g, '__________'),
                  'replace-regex-captures': () => 'john smith'.replace(/(\w+)\s(\w+)/, '$2, $1 ($0 $3 $10)'),
                  'replace-regex-named': () => '2026-12'.replace(/(?<y>\d+)-(?<m>\d+)/, '$<m>/$<y> $<none>|'),
                  'replace-regex-tail': () => 'abc'.replace(/b/, "[$'|$`]"),
                  'replace-object-search': () => 'a.b'.replace({ toString: () => '.' }, '!'),
                  'replace-all-regex': () => 'aXbX'.replaceAll(/X/g, '$&$&'),
                  'stringify': () => JSON.stringify({ a: [1, 'x', null, true], b: { c: undefined, d: () => 1 }, e: new String('s') }),
                  'stringify-indent': () => JSON.stringify({ a: [1, { b: 2 }], c: {} , d: [] }, null, 2),
                  'stringify-tab': () => JSON.stringify([1], null, '\t'),
                  'stringify-replacer': () => JSON.stringify({ a: 1, b: 2 }, (k, v) => typeof v === 'number' ? v * 10 : v),
                  'stringify-list': () => JSON.stringify({ b: 1, a: { b: 2, c: 3 }, c: 4 }, ['a', 'b']),
                  'stringify-to-json': () => JSON.stringify({ d: { toJSON: () => 'j' } }),
                  'stringify-raw': () => JSON.stringify({ n: JSON.rawJSON('1e400') }),
                  'stringify-escapes': () => JSON.stringify('"\\\n\u0001\ud800'),
                };
                function onRequest(ctx) {
                  const name = ctx.request.query.get('case');
                  if (name) ctx.respond(200, { value: cases[name]() });
                }
                """)
            .Pipeline("""{ "pipeline": [ { "script": "scripts/eval.js" } ] }""")
            .StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _origin.DisposeAsync();
    }

    [Theory]
    [InlineData("repeat", "ababab")]
    [InlineData("repeat-zero", "")]
    [InlineData("pad-start", "005")]
    [InlineData("pad-end", "abxyx")]
    [InlineData("pad-default", "  a")]
    [InlineData("concat", "a1nullo")]
    [InlineData("raw", "a\\n1b2")]
    [InlineData("raw-object", "x1y2z")]
    [InlineData("join", "1---a-2,3")]
    [InlineData("join-default", "1,2")]
    [InlineData("join-cyclic", "1,")]
    [InlineData("join-array-like", "a++c")]
    [InlineData("to-string-nested", "1,2,3,")]
    [InlineData("to-locale-string", "1,a,")]
    [InlineData("replace-string", "a+b-c")]
    [InlineData("replace-all-string", "a+b+c")]
    [InlineData("replace-patterns", "a[$|b|a|c|$1]c")]
    [InlineData("replace-empty", ".a.b.")]
    [InlineData("replace-function", "a2b4")]
    [InlineData("replace-regex", "a__________b__________c")]
    [InlineData("replace-regex-captures", "smith, john ($0 $3 john0)")]
    [InlineData("replace-regex-named", "12/2026 |")]
    [InlineData("replace-regex-tail", "a[c|a]c")]
    [InlineData("replace-object-search", "a!b")]
    [InlineData("replace-all-regex", "aXXbXX")]
    [InlineData("stringify", """{"a":[1,"x",null,true],"b":{},"e":"s"}""")]
    [InlineData("stringify-indent", "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": {},\n  \"d\": []\n}")]
    [InlineData("stringify-tab", "[\n\t1\n]")]
    [InlineData("stringify-replacer", """{"a":10,"b":20}""")]
    [InlineData("stringify-list", """{"a":{"b":2},"b":1}""")]
    [InlineData("stringify-to-json", """{"d":"j"}""")]
    [InlineData("stringify-raw", """{"n":1e400}""")]
    [InlineData("stringify-escapes", "\"\\\"\\\\\\n\\u0001\\ud800\"")]
    public async Task GuardedBuiltIn_ReturnsWhatTheLanguageSays(string name, string expected)
    {
        var answer = JsonNode.Parse(await _gateway.Proxy.GetStringAsync($"api/x?case={name}"))!;

        Assert.Equal(expected, (string?)answer["value"]);
    }
}
