using Gateway.Plugins;
using Newtonsoft.Json;

namespace JsonUser;

/// <summary>Serializes one of its own types with the Newtonsoft.Json it ships, and says which version that was.</summary>
public sealed class JsonUserPlugin : IGatewayPlugin
{
    private readonly string _name;

    public JsonUserPlugin(PluginSetup setup) => _name = setup.Name;

    public async ValueTask InvokeAsync(PluginContext context, PluginDelegate next)
    {
        // Newtonsoft asks TypeDescriptor about the plugin's type: the cache that pins unloadable contexts.
        var json = JsonConvert.SerializeObject(new Payload { Plugin = _name, Path = context.HttpContext.Request.Path.Value });
        var version = typeof(JsonConvert).Assembly.GetName().Version!.ToString();
        await next(context);
        context.HttpContext.Response.Headers["x-json-" + _name] = $"{version} {json}";
    }

    public sealed class Payload
    {
        public string? Plugin { get; set; }

        public string? Path { get; set; }
    }
}
