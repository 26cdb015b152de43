using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.ObjectPool;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Builds a request's cache key: <c>GET host/path?query</c>, then <c>|h:name=value</c> for each keyed header and
/// <c>|v:name=value</c> for each keyed var, values percent-encoded so that no value can imitate another part.
/// HEAD shares GET's key: a stored GET answers both.
/// </summary>
internal sealed class CacheKeyBuilder
{
    // A pool, not a [ThreadStatic]: thread statics in an unloadable plugin race the runtime's cleanup when a thread
    // exits while the plugin unloads, which can crash the process (dotnet/runtime#110837).
    private static readonly ObjectPool<StringBuilder> Builders = new DefaultObjectPoolProvider().CreateStringBuilderPool();

    private readonly bool _wholeQuery;
    private readonly string[] _queryParameters;
    private readonly string[] _headers;
    private readonly string[] _vars;

    private CacheKeyBuilder(bool wholeQuery, string[] queryParameters, string[] headers, string[] vars)
    {
        _wholeQuery = wholeQuery;
        _queryParameters = queryParameters;
        _headers = headers;
        _vars = vars;
    }

    /// <exception cref="PluginConfigurationException">The key options are unusable; the path names the field.</exception>
    public static CacheKeyBuilder From(CacheKeyOptions? options)
    {
        var query = options?.Query;
        bool whole;
        string[] parameters = [];
        switch (query)
        {
            case null:
            case { ValueKind: JsonValueKind.String } when query.Value.ValueEquals("all"):
                whole = true;
                break;
            case { ValueKind: JsonValueKind.String } when query.Value.ValueEquals("none"):
                whole = false;
                break;
            case { ValueKind: JsonValueKind.Array } when query.Value.EnumerateArray().All(p => p.ValueKind == JsonValueKind.String && p.GetString()!.Length > 0):
                whole = false;
                parameters = query.Value.EnumerateArray().Select(p => p.GetString()!).ToArray();
                break;
            default:
                throw new PluginConfigurationException("$.key.query", "use \"all\", \"none\" or a list of parameter names");
        }
        return new CacheKeyBuilder(whole, parameters, Names(options?.Headers, "$.key.headers"), Names(options?.Vars, "$.key.vars"));
    }

    private static string[] Names(string[]? names, string path)
    {
        if (names is null)
        {
            return [];
        }
        for (var i = 0; i < names.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                throw new PluginConfigurationException($"{path}[{i}]", "a name cannot be empty");
            }
        }
        return names;
    }

    public string Build(PluginContext context) => Build(context, target: null);

    /// <summary>
    /// The key of another URI on this request's host (such as a <c>Location</c> an unsafe request invalidates), with
    /// this request's keyed headers and vars.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="target">The other URI's path and query, or null for the request's own.</param>
    public string Build(PluginContext context, Uri? target)
    {
        var request = context.HttpContext.Request;
        var key = Builders.Get();
        key.Append("GET ");
        AppendLower(key, request.Host.Value ?? "");
        if (target is null)
        {
            key.Append(request.PathBase.Value).Append(request.Path.Value);
        }
        else
        {
            key.Append(target.AbsolutePath);
        }
        if (_wholeQuery)
        {
            key.Append(target is null ? request.QueryString.Value : target.Query);
        }
        else if (_queryParameters.Length > 0)
        {
            var query = target is null ? request.Query : new QueryCollection(QueryHelpers.ParseQuery(target.Query));
            var separator = '?';
            foreach (var name in _queryParameters)
            {
                foreach (var value in query[name])
                {
                    key.Append(separator).Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value ?? ""));
                    separator = '&';
                }
            }
        }
        foreach (var name in _headers)
        {
            key.Append("|h:").Append(name).Append('=').Append(Uri.EscapeDataString(request.Headers[name].ToString()));
        }
        if (_vars.Length > 0)
        {
            var vars = context.Vars;
            foreach (var name in _vars)
            {
                var value = vars.TryGetValue(name, out var held) ? held?.ToString() ?? "" : "";
                key.Append("|v:").Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }
        var built = key.ToString();
        Builders.Return(key);
        return built;
    }

    /// <summary>The values of a response's <c>Vary</c> fields in this request: what tells its variants apart.</summary>
    public static string VaryValues(HttpRequest request, string[] varyHeaders)
    {
        var key = Builders.Get();
        foreach (var name in varyHeaders)
        {
            // Field values compare as lists (RFC 9111 §4.1 allows this normalization): lines combined, whitespace
            // around elements dropped, so "1,2", " 1, 2 " and two lines "1" and "2" select the same variant.
            var elements = request.Headers[name].SelectMany(value => (value ?? "").Split(',', StringSplitOptions.TrimEntries));
            key.Append('|').Append(name).Append('=').Append(Uri.EscapeDataString(string.Join(",", elements)));
        }
        var built = key.ToString();
        Builders.Return(key);
        return built;
    }

    private static void AppendLower(StringBuilder key, string host)
    {
        foreach (var c in host)
        {
            key.Append(char.ToLowerInvariant(c));
        }
    }
}
