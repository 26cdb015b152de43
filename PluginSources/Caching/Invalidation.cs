using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Caching;

/// <summary>
/// RFC 9111 §4.4: a successful unsafe request (POST, PUT, DELETE…) invalidates what is stored for its URI, and for
/// the URIs its response names as changed or created (<c>Location</c>, <c>Content-Location</c>) on the same host.
/// </summary>
internal sealed class Invalidation(ResponseStore store, Generations routes, CacheKeyBuilder keys)
{
    private static readonly string[] NamedUris = [HeaderNames.Location, HeaderNames.ContentLocation];

    /// <summary>Invalidates after the origin answered <paramref name="context"/>'s request; returns the request's cache key.</summary>
    public async ValueTask<string> InvalidateAsync(PluginContext context)
    {
        var request = context.HttpContext.Request;
        var response = context.HttpContext.Response;
        var key = keys.Build(context);
        if (response.StatusCode is >= 200 and < 400 && !IsSafe(request.Method))
        {
            var prefix = (await routes.CurrentAsync(context.RouteId).ConfigureAwait(false)).Prefix;
            await store.RemoveAsync(prefix + key).ConfigureAwait(false);
            foreach (var named in NamedUris)
            {
                if (SameHostUri(request, response.Headers[named]) is { } uri)
                {
                    await store.RemoveAsync(prefix + keys.Build(context, uri)).ConfigureAwait(false);
                }
            }
        }
        return key;
    }

    private static Uri? SameHostUri(HttpRequest request, StringValues value)
    {
        if (value.Count != 1 || !Uri.TryCreate(new Uri($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}"), value.ToString(), out var uri))
        {
            return null;
        }
        return string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase) ? uri : null;
    }

    // The unsafe methods the plugin sees are all but OPTIONS and TRACE (GET and HEAD never come here).
    private static bool IsSafe(string method) => HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);
}
