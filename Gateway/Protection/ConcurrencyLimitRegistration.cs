using System.Threading.RateLimiting;
using Gateway.Errors;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace Gateway.Protection;

/// <summary>
/// Per-route concurrency limits as ASP.NET Core rate-limiter policies, the way YARP routes take them
/// (<c>RateLimiterPolicy</c>): each named policy keeps one <see cref="ConcurrencyLimiter"/> per route that uses it,
/// and a request it cannot admit or queue gets 503 problem+json with <c>Retry-After</c>. Read at start.
/// </summary>
internal static class ConcurrencyLimitRegistration
{
    public const string SectionName = "Gateway:ConcurrencyLimits";

    /// <summary>Whether any policy is configured, so the rate-limiter middleware is needed at all.</summary>
    public static bool AnyConfigured(IConfiguration configuration) => configuration.GetSection(SectionName).GetChildren().Any();

    public static IServiceCollection AddGatewayConcurrencyLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            options.OnRejected = static (rejected, _) =>
            {
                var context = rejected.HttpContext;
                context.Response.Headers.RetryAfter = "1";
                return context.RequestServices.GetRequiredService<GatewayProblems>().WriteAsync(context, StatusCodes.Status503ServiceUnavailable,
                    "The route is at its concurrency limit; retry shortly.");
            };
            foreach (var policy in section.GetChildren())
            {
                var limit = policy.Get<ConcurrencyLimitOptions>() ?? new ConcurrencyLimitOptions();
                if (limit.PermitLimit <= 0 || limit.QueueLimit < 0)
                {
                    throw new OptionsValidationException(policy.Path, typeof(ConcurrencyLimitOptions),
                        [$"{policy.Path}: PermitLimit must be more than zero and QueueLimit zero or more, not {limit.PermitLimit} and {limit.QueueLimit}."]);
                }
                var limiterOptions = new ConcurrencyLimiterOptions
                {
                    PermitLimit = limit.PermitLimit,
                    QueueLimit = limit.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                };
                // One factory per policy, made now: the typed RateLimitPartition helpers allocate a closure per request.
                Func<string, RateLimiter> factory = _ => new ConcurrencyLimiter(limiterOptions);
                options.AddPolicy(policy.Key, context => RateLimitPartition.Get(RouteOf(context), factory));
            }
        });
        return services;
    }

    private static string RouteOf(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.RouteId ?? "";
}
