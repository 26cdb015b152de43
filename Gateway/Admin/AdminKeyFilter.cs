using Microsoft.Net.Http.Headers;

namespace Gateway.Admin;

/// <summary>Requires <c>Authorization: Bearer &lt;admin key&gt;</c> on every admin endpoint it guards.</summary>
internal sealed partial class AdminKeyFilter(AdminKey key, TimeProvider time, ILogger<AdminKeyFilter> logger) : IEndpointFilter
{
    // One line per address per minute: a client hammering with a wrong key is seen, and cannot fill the disk.
    private readonly LogThrottle _throttle = new(time, linesPerWindow: 1, TimeSpan.FromMinutes(1));

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (key.Matches(HashedKey.PresentedBy(http.Request)))
        {
            return next(context);
        }

        var remote = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (_throttle.ShouldLog(remote, out var leftOut))
        {
            if (leftOut == 0)
            {
                Log.Unauthorized(logger, http.Request.Path, remote);
            }
            else
            {
                Log.UnauthorizedAgain(logger, http.Request.Path, remote, leftOut);
            }
        }
        http.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer realm=\"gateway-admin\"";
        return ValueTask.FromResult<object?>(TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "A valid admin key is required.",
            detail: "Send Authorization: Bearer <key>, the key being Gateway:Admin:ApiKey."));
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.AdminUnauthorized, LogLevel.Warning, "Admin call to {Path} from {RemoteIp} without a valid key (one such line per address per minute).")]
        public static partial void Unauthorized(ILogger logger, string path, string remoteIp);

        [LoggerMessage(EventIds.AdminUnauthorized, LogLevel.Warning, "Admin call to {Path} from {RemoteIp} without a valid key, and {LeftOut} more from that address since its last such line (one per address per minute).")]
        public static partial void UnauthorizedAgain(ILogger logger, string path, string remoteIp, long leftOut);
    }
}
