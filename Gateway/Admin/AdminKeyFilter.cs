using Microsoft.Net.Http.Headers;

namespace Gateway.Admin;

/// <summary>Requires <c>Authorization: Bearer &lt;admin key&gt;</c> on every admin endpoint it guards.</summary>
internal sealed partial class AdminKeyFilter(AdminKey key, ILogger<AdminKeyFilter> logger) : IEndpointFilter
{
    private const string Scheme = "Bearer ";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var authorization = http.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) && key.Matches(authorization.AsSpan(Scheme.Length).Trim()))
        {
            return next(context);
        }

        Log.Unauthorized(logger, http.Request.Path, http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"gateway-admin\"";
        return ValueTask.FromResult<object?>(TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "A valid admin key is required.",
            detail: "Send Authorization: Bearer <key>, the key being Gateway:Admin:ApiKey."));
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.AdminUnauthorized, LogLevel.Warning, "Admin call to {Path} from {RemoteIp} without a valid key.")]
        public static partial void Unauthorized(ILogger logger, string path, string remoteIp);
    }
}
