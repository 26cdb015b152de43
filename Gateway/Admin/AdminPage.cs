using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Gateway.Admin;

/// <summary>
/// The admin page (<c>GET /admin/</c>) and its script and style, served from the assembly: nothing is fetched from
/// anywhere else, and the page may run only its own script and talk only to the listener that served it.
/// </summary>
internal sealed class AdminPage
{
    public const string Index = "index.html";

    private const string ResourcePrefix = "admin-page/";

    // The page runs its own script and style only, calls its own origin only, and cannot be framed (clickjacking).
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private readonly FrozenDictionary<string, Asset> _assets;

    public AdminPage()
    {
        var assembly = typeof(AdminPage).Assembly;
        _assets = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToFrozenDictionary(name => name[ResourcePrefix.Length..], name => Asset.Read(assembly, name), StringComparer.Ordinal);
    }

    public Task ServeAsync(HttpContext context, string name)
    {
        var response = context.Response;
        if (!_assets.TryGetValue(name, out var asset))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidated each time, so a gateway upgraded in place serves its own page, not a browser's copy of the old one.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        return response.Body.WriteAsync(asset.Content).AsTask();
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag)
    {
        public static Asset Read(System.Reflection.Assembly assembly, string resource)
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var contentType = Path.GetExtension(resource) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            return new Asset(content, contentType, $"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8))}\"");
        }
    }
}
