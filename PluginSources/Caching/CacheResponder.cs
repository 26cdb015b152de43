using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Caching;

/// <summary>
/// Answers from the store, and says what the cache did: the status (HIT, MISS, STALE, REVALIDATED, BYPASS) in the
/// status header and the request's <c>cache</c> variable, and, when configured, the key header an operator purges by.
/// </summary>
/// <param name="statusHeader">The status header's name; null for none.</param>
/// <param name="keyHeader">The key header's name; null for none.</param>
internal sealed class CacheResponder(string? statusHeader, string? keyHeader)
{
    /// <summary>The request variable that holds the status: the last one set, which is the one the client got.</summary>
    public const string StatusVar = "cache";

    /// <summary>Whether responses carry their cache key, so it is worth building for a bypassed request.</summary>
    public bool ShowsKey => keyHeader is not null;

    /// <summary>
    /// Answers with a stored response <paramref name="age"/> milliseconds old: a 304 when the client's conditions
    /// match it (RFC 9110 §13.2.2), the response otherwise, its body left to the runner to write last.
    /// </summary>
    public void Serve(PluginContext context, StoredResponse stored, long age, string status, string key)
    {
        var http = context.HttpContext;
        var response = http.Response;
        var notModified = stored.Status == StatusCodes.Status200OK && ConditionalRequests.ClientHasIt(http.Request.Headers, stored);
        response.StatusCode = notModified ? StatusCodes.Status304NotModified : stored.Status;
        var headers = response.Headers;
        foreach (var (name, value) in stored.Headers)
        {
            if (!notModified || ConditionalRequests.IsNotModifiedField(name))
            {
                headers.Append(name, value);
            }
        }
        headers.Age = (age / 1000).ToString(CultureInfo.InvariantCulture);
        SetStatus(context, status, key);
        if (!notModified)
        {
            // Set here rather than by the runner: on a revalidation the forwarder may send the headers before it.
            response.ContentLength = stored.Body.Length;
            context.DeferResponseBody(stored.Body);
        }
    }

    /// <summary>Answers a range of a stored <c>200</c>: a <c>206</c> with its <c>Content-Range</c>, or the <c>416</c> for one past the end.</summary>
    public void ServeRange(PluginContext context, StoredResponse stored, long age, string key, RangeRequests.Answer answer, int offset, int count)
    {
        var response = context.HttpContext.Response;
        var length = stored.Body.Length;
        if (answer == RangeRequests.Answer.Unsatisfiable)
        {
            response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            response.Headers.ContentRange = $"bytes */{length}";
            SetStatus(context, "HIT", key);
            return;
        }
        response.StatusCode = StatusCodes.Status206PartialContent;
        foreach (var (name, value) in stored.Headers)
        {
            response.Headers.Append(name, value);
        }
        response.Headers.Age = (age / 1000).ToString(CultureInfo.InvariantCulture);
        response.Headers.ContentRange = $"bytes {offset}-{offset + count - 1}/{length}";
        SetStatus(context, "HIT", key);
        response.ContentLength = count;
        context.DeferResponseBody(stored.Body.Slice(offset, count));
    }

    /// <summary>Says what the cache did, in the status header and in <see cref="StatusVar"/> (which the access log shows).</summary>
    public void SetStatus(PluginContext context, string status, string? key)
    {
        context.Vars[StatusVar] = status;
        var response = context.HttpContext.Response;
        if (statusHeader is not null)
        {
            response.Headers[statusHeader] = status;
        }
        if (keyHeader is not null && key is not null)
        {
            response.Headers[keyHeader] = key;
        }
    }
}
