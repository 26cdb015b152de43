using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins;

/// <summary>What a plugin's constructor receives: its entry's config, a logger and the gateway's services.</summary>
public sealed class PluginSetup
{
    private JsonSerializerOptions? _serializerOptions;

    /// <summary>Creates a setup; the gateway does this once per <c>plugins.json</c> entry at reload.</summary>
    /// <param name="name">The entry's plugin name.</param>
    /// <param name="config">The entry's <c>config</c> object, with <c>${env:NAME}</c> already replaced.</param>
    /// <param name="logger">A logger whose category names the plugin.</param>
    /// <param name="services">The services the plugin may resolve (see <see cref="Services"/>).</param>
    public PluginSetup(string name, JsonElement config, ILogger logger, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(services);
        Name = name;
        Config = config;
        Logger = logger;
        Services = services;
    }

    /// <summary>The entry's plugin name, as written in <c>plugins.json</c>.</summary>
    public string Name { get; }

    /// <summary>The entry's <c>config</c>: a JSON object, empty when the entry has none.</summary>
    public JsonElement Config { get; }

    /// <summary>A logger whose category names the plugin. Log through it, not a logger of your own type.</summary>
    public ILogger Logger { get; }

    /// <summary>
    /// The gateway's services a plugin may use, and only these: <c>IDistributedCache</c> (Redis when configured,
    /// in-process otherwise), <c>TimeProvider</c> (read time through it, so tests can move it), <c>IHttpClientFactory</c>,
    /// <c>ILoggerFactory</c>, <c>IProblemDetailsService</c>, and <see cref="ISharedScripts"/> when the gateway has a Redis
    /// (1.1.0). Any other type resolves to null, and
    /// <c>GetRequiredService</c> throws naming this list. Resolve what you need in the constructor, not per request.
    /// </summary>
    public IServiceProvider Services { get; }

    /// <summary>
    /// Binds <see cref="Config"/> to <typeparamref name="T"/> with camelCase names, rejecting unknown members,
    /// missing required members and nulls where the type does not allow them.
    /// </summary>
    /// <typeparam name="T">The plugin's options type.</typeparam>
    /// <returns>The bound options.</returns>
    /// <exception cref="PluginConfigurationException">The config does not fit <typeparamref name="T"/>; the path says where.</exception>
    /// <remarks>
    /// The serializer's metadata for <typeparamref name="T"/> lives in options owned by this setup, so it goes away
    /// with the plugin's load context instead of pinning it in a process-wide cache.
    /// </remarks>
    public T GetConfig<T>()
    {
        _serializerOptions ??= new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            AllowTrailingCommas = true,
            ReadCommentHandling = JsonCommentHandling.Skip,
        };
        try
        {
            return Config.Deserialize<T>(_serializerOptions)
                ?? throw new PluginConfigurationException("$", "config must be an object, not null.");
        }
        catch (JsonException ex)
        {
            throw new PluginConfigurationException(ex.Path ?? "$", ex.Message, ex);
        }
    }
}
