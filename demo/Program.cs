using Gateway.Demo;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

// The repository root: plugins.json, plugins/ and scripts/ are served from there, whatever the working directory.
var root = AppContext.BaseDirectory;
while (!File.Exists(Path.Combine(root, "Gateway.sln")))
{
    root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run the demo from the repository (Gateway.sln not found).");
}

var builder = WebApplication.CreateBuilder(args);
// Before the origins open the process's first sockets.
builder.UseInlineIo();

var origins = new[]
{
    await DemoOrigins.StartAsync("api-1", "http://127.0.0.1:5101"),
    await DemoOrigins.StartAsync("api-2", "http://127.0.0.1:5102"),
    await DemoOrigins.StartAsync("web-1", "http://127.0.0.1:5103"),
};

// The demo's routes and clusters, below anything the user passes (appsettings.json, environment, command line).
builder.Configuration.Sources.Insert(0, new JsonConfigurationSource
{
    FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
    Path = "demo.json",
    Optional = false,
});
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Gateway:PipelineFile"] = Path.Combine(root, "plugins.json"),
    ["Gateway:PluginsPath"] = Path.Combine(root, "plugins"),
    ["Gateway:ScriptsPath"] = Path.Combine(root, "scripts"),
});
builder.AddGateway();

var app = builder.Build();
app.UseGateway();
app.Lifetime.ApplicationStarted.Register(() =>
{
    var proxy = app.Configuration["Kestrel:Endpoints:Proxy:Url"];
    var admin = app.Configuration["Kestrel:Endpoints:Admin:Url"];
    var key = app.Configuration["Gateway:Admin:ApiKey"];
    const string purgeWeb = """{"route":"web"}""";
    Console.WriteLine($"""

        Gateway demo: proxy {proxy}, admin {admin}, origins api-1 :5101, api-2 :5102, web-1 :5103
          curl -i {proxy}/api/hello                   # api-1 / api-2 weighted 2:1 by the Balancing plugin (see x-origin); HeaderRewrite adds x-gateway, scripts/tag.js x-gateway-tag
          curl -i {proxy}/api/internal/x              # 403 from scripts/deny.js; the origins never see it
          curl -i {proxy}/secure/hello                # 401 from Auth; with -H "x-api-key: demo-key-0123456789abcdef" consumer "demo", kept on one AbTesting variant (x-variant; ?variant=next forces the other)
          curl -i {proxy}/anything                    # route "web"
          curl -i {proxy}/static/logo                 # twice: X-Cache MISS, then HIT with Age, from the Caching plugin (the origin says max-age=30)
          curl -s -X POST -H "Authorization: Bearer {key}" -H "Content-Type: application/json" -d '{purgeWeb}' {admin}/admin/cache/purge
          curl -s -H "Authorization: Bearer {key}" {admin}/admin/pipeline
          curl -s -X POST -H "Authorization: Bearer {key}" {admin}/admin/reload    # after editing plugins.json or a script in {Path.Combine(root, "scripts")}
          curl -s {admin}/healthz
        Ctrl+C stops it.
        """);
});
var exitCode = await app.RunGatewayAsync();
foreach (var origin in origins)
{
    await origin.DisposeAsync();
}
return exitCode;
