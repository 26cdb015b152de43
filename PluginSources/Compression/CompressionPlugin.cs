using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.Compression;

/// <summary>
/// Compresses responses the client can take compressed (Brotli or gzip by its <c>Accept-Encoding</c>) on the way
/// out: bodies of the configured types, of at least <c>minBytes</c>, that the upstream did not encode and did not mark
/// <c>no-transform</c>; adds <c>Vary: Accept-Encoding</c> and weakens a strong <c>ETag</c> (the compressed bytes are
/// another representation). Before the Caching plugin in the pipeline, the cache keeps the upstream's answer and every
/// hit is compressed for the client asking, so one stored copy serves every encoding.
/// </summary>
[NonBlocking]
public sealed class CompressionPlugin : IGatewayFilter
{
    private static readonly ValueTask<bool> Pass = new(true);

    private static readonly string[] DefaultTypes =
    [
        "text/*", "application/json", "application/*+json", "application/xml", "application/*+xml", "application/javascript",
        "application/ecmascript", "application/x-javascript", "image/svg+xml",
    ];

    private readonly long _minBytes;
    private readonly string[] _encodings;
    private readonly MediaTypes _types;
    private readonly CompressionLevel _level;

    public CompressionPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var options = setup.GetConfig<CompressionOptions>();
        _minBytes = options.MinBytes switch
        {
            null => 1024,
            >= 0 and var min => min,
            _ => throw new PluginConfigurationException("$.minBytes", "must be zero or more"),
        };
        var encodings = options.Encodings ?? ["br", "gzip"];
        for (var i = 0; i < encodings.Length; i++)
        {
            if (encodings[i] is not ("br" or "gzip"))
            {
                throw new PluginConfigurationException($"$.encodings[{i}]", $"'{encodings[i]}' is not br or gzip");
            }
        }
        if (encodings.Length == 0)
        {
            throw new PluginConfigurationException("$.encodings", "give br, gzip or both");
        }
        _encodings = encodings;
        _types = MediaTypes.Parse(options.Types ?? DefaultTypes, "$.types");
        _level = options.Level switch
        {
            null or "fastest" => CompressionLevel.Fastest,
            "optimal" => CompressionLevel.Optimal,
            _ => throw new PluginConfigurationException("$.level", $"'{options.Level}' is not fastest or optimal"),
        };
    }

    /// <summary>
    /// For a client that takes one of the codings, the body's stream is wrapped now, before any inner stage wraps it, so
    /// it sees what they pass on: the Caching plugin after this entry stores the upstream's answer, and this compresses
    /// it (and every hit) for the client asking.
    /// </summary>
    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        if (!HttpMethods.IsHead(http.Request.Method) && ContentCoding.Choose(http.Request.Headers.AcceptEncoding, _encodings) is { } coding)
        {
            context.TryWrapResponseBody(body => new CompressingStream(body, http, this, coding));
        }
        return Pass;
    }

    /// <summary>A compressible response varies by <c>Accept-Encoding</c>, whether or not this client's copy is compressed.</summary>
    public void OnResponse(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (MayCompress(context.HttpContext))
        {
            context.HttpContext.Response.Headers.Append(HeaderNames.Vary, HeaderNames.AcceptEncoding);
        }
    }

    /// <summary>
    /// At the body's first write, with the headers final: the encoder when this response is to be compressed (its
    /// fields then say so), null when it goes as it is.
    /// </summary>
    internal Stream? StartEncoding(HttpContext http, string coding, Stream body)
    {
        if (!MayCompress(http))
        {
            return null;
        }
        var headers = http.Response.Headers;
        headers.ContentEncoding = coding;
        headers.ContentLength = null;
        // The compressed bytes are another representation: a strong validator of the identity bytes no longer holds.
        if (headers.ETag is [{ } etag] && etag.StartsWith('"'))
        {
            headers.ETag = "W/" + etag;
        }
        return CompressingStream.Encoder(coding, body, _level);
    }

    /// <summary>A body of a compressible type and size that nobody encoded and nobody forbade changing.</summary>
    private bool MayCompress(HttpContext http)
    {
        var response = http.Response;
        var headers = response.Headers;
        if (response.HasStarted || HttpMethods.IsHead(http.Request.Method) || response.StatusCode is < 200 or 204 or 206 or 304
            || headers.ContainsKey(HeaderNames.ContentEncoding) || headers.ContainsKey(HeaderNames.ContentRange)
            || response.ContentLength < _minBytes || !_types.Contains(response.ContentType))
        {
            return false;
        }
        foreach (var value in headers.CacheControl)
        {
            if (value is not null && value.Contains("no-transform", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        return true;
    }
}
