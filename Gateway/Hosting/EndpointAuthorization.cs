using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Hosting;

/// <summary>
/// ASP.NET Core's authorization middleware, run only for the endpoints that carry authorization metadata (a YARP
/// route's <c>AuthorizationPolicy</c>). YARP registers authorization, so WebApplication would otherwise put the
/// middleware in front of every request, where for an endpoint without metadata it still writes the request's
/// <c>Items</c> (allocating them) and holds an async frame around the rest of the request.
/// </summary>
internal static class EndpointAuthorization
{
    public static void UseAuthorizationWhereAsked(this IApplicationBuilder app) =>
        // Through a builder sharing the application's properties: UseAuthorization marks the application as having it,
        // so WebApplication does not add it again for every request.
        new ConditionalBuilder(app, AsksForAuthorization).UseAuthorization();

    private static bool AsksForAuthorization(HttpContext context) =>
        context.GetEndpoint()?.Metadata is { } metadata
        && (metadata.GetMetadata<IAuthorizeData>() is not null || metadata.GetMetadata<AuthorizationPolicy>() is not null);

    /// <summary>Adds each middleware so that it runs only for requests matching the predicate.</summary>
    private sealed class ConditionalBuilder(IApplicationBuilder app, Func<HttpContext, bool> predicate) : IApplicationBuilder
    {
        public IServiceProvider ApplicationServices
        {
            get => app.ApplicationServices;
            set => app.ApplicationServices = value;
        }

        public IFeatureCollection ServerFeatures => app.ServerFeatures;

        public IDictionary<string, object?> Properties => app.Properties;

        public IApplicationBuilder Use(Func<RequestDelegate, RequestDelegate> middleware)
        {
            app.Use(next =>
            {
                var branch = middleware(next);
                return context => predicate(context) ? branch(context) : next(context);
            });
            return this;
        }

        public IApplicationBuilder New() => app.New();

        public RequestDelegate Build() => app.Build();
    }
}
