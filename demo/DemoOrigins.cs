using System.Text.Json;

namespace Gateway.Demo;

/// <summary>
/// Small upstreams for the demo: each answers with its name and the request it received; answers under /static are cacheable.
/// </summary>
internal static class DemoOrigins
{
    public static async Task<WebApplication> StartAsync(string name, string url)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        app.Run(context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers["x-origin"] = name;
            if (context.Request.Path.StartsWithSegments("/static"))
            {
                // Cacheable: the Caching plugin on the web route keeps it for 30 s.
                context.Response.Headers.CacheControl = "public, max-age=30";
                context.Response.Headers.LastModified = DateTimeOffset.UtcNow.AddDays(-1).ToString("R");
            }
            return context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                origin = name,
                method = context.Request.Method,
                path = context.Request.Path.Value + context.Request.QueryString,
                headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()),
            }) + "\n");
        });
        await app.StartAsync();
        return app;
    }
}
