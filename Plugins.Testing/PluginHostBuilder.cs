using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Testing;

/// <summary>
/// Describes a gateway for one test: the pipeline's entries in order (plugins and scripts, each with its config as
/// JSON), the origin's answer, and any other setting. <see cref="StartAsync"/> starts it.
/// </summary>
public sealed class PluginHostBuilder
{
    private readonly List<JsonObject> _entries = [];
    private readonly Dictionary<string, string> _plugins = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _scripts = new(StringComparer.Ordinal);
    private readonly List<string> _settings = [];
    private Func<HttpContext, Task>? _respond;

    internal PluginHostBuilder()
    {
    }

    /// <summary>
    /// Adds the plugin in <typeparamref name="TPlugin"/>'s assembly (the project the test references) as the next
    /// entry. The gateway loads the assembly from a copy, in a load context of its own, as it loads any plugin; its
    /// dependencies resolve from the test's output folder.
    /// </summary>
    /// <param name="config">The entry's <c>config</c> object as JSON; none for <c>{}</c>.</param>
    public PluginHostBuilder Plugin<TPlugin>(string? config = null) where TPlugin : IGatewayPlugin =>
        Plugin(typeof(TPlugin).Assembly.Location, config);

    /// <summary>
    /// Adds a plugin as the next entry: <paramref name="path"/> is its <c>.dll</c> (copied alone) or a folder holding
    /// <c>&lt;Name&gt;.dll</c> and its dependencies, as built into a gateway's <c>plugins/&lt;Name&gt;/</c> (copied whole).
    /// </summary>
    /// <param name="path">The plugin's <c>.dll</c>, or its folder.</param>
    /// <param name="config">The entry's <c>config</c> object as JSON; none for <c>{}</c>.</param>
    public PluginHostBuilder Plugin(string path, string? config = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var name = Directory.Exists(path)
            ? Path.GetFileName(Path.TrimEndingDirectorySeparator(path))
            : Path.GetFileNameWithoutExtension(path);
        _plugins[name] = Path.GetFullPath(path);
        return Entry("plugin", name, config);
    }

    /// <summary>Adds a JavaScript hook, read from the file at <paramref name="path"/>, as the next entry.</summary>
    /// <param name="path">The script file; it is copied into the gateway's <c>scripts/</c> folder.</param>
    /// <param name="config">The entry's <c>config</c> object as JSON (<c>ctx.config</c>); none for <c>{}</c>.</param>
    public PluginHostBuilder Script(string path, string? config = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var name = Path.GetFileName(path);
        _scripts[name] = Path.GetFullPath(path);
        return Entry("script", "scripts/" + name, config);
    }

    /// <summary>How the origin answers instead of 200 <c>origin</c>; it records the request either way.</summary>
    public PluginHostBuilder Origin(Func<HttpContext, Task> respond)
    {
        _respond = respond ?? throw new ArgumentNullException(nameof(respond));
        return this;
    }

    /// <summary>Any other configuration, as the command line gives it: <c>Setting("Gateway:Scripts:Timeout", "00:00:01")</c>.</summary>
    public PluginHostBuilder Setting(string key, string value)
    {
        _settings.Add($"--{key}={value}");
        return this;
    }

    /// <summary>Starts the origin and the gateway; dispose the host to stop both and delete the gateway's folder.</summary>
    /// <exception cref="PluginHostException">The gateway would not start: a plugin failed to load or rejected its config.</exception>
    public Task<PluginHost> StartAsync() => PluginHost.StartAsync(this);

    internal Func<HttpContext, Task>? Respond => _respond;

    internal IReadOnlyList<string> Settings => _settings;

    /// <summary>Writes the gateway's folder: settings, pipeline, plugins and scripts.</summary>
    internal void WriteFolder(string directory, string originUrl)
    {
        var settings = new JsonObject
        {
            ["ReverseProxy"] = new JsonObject
            {
                ["Routes"] = new JsonObject { ["default"] = new JsonObject { ["ClusterId"] = "origin", ["Match"] = new JsonObject { ["Path"] = "{**catch-all}" } } },
                ["Clusters"] = new JsonObject { ["origin"] = new JsonObject { ["Destinations"] = new JsonObject { ["origin"] = new JsonObject { ["Address"] = originUrl } } } },
            },
        };
        File.WriteAllText(Path.Combine(directory, "appsettings.json"), settings.ToJsonString());
        File.WriteAllText(Path.Combine(directory, "plugins.json"), new JsonObject { ["pipeline"] = new JsonArray([.. _entries.Select(entry => entry.DeepClone())]) }.ToJsonString());
        foreach (var (name, source) in _plugins)
        {
            var destination = Directory.CreateDirectory(Path.Combine(directory, "plugins", name)).FullName;
            var files = Directory.Exists(source)
                ? Directory.GetFiles(source)
                : new[] { source, Path.ChangeExtension(source, ".pdb") }.Where(File.Exists).ToArray();
            foreach (var file in files)
            {
                File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
            }
        }
        var scripts = Directory.CreateDirectory(Path.Combine(directory, "scripts")).FullName;
        foreach (var (name, source) in _scripts)
        {
            File.Copy(source, Path.Combine(scripts, name));
        }
    }

    private PluginHostBuilder Entry(string kind, string name, string? config)
    {
        var entry = new JsonObject { [kind] = name };
        if (config is not null)
        {
            try
            {
                entry["config"] = JsonNode.Parse(config, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            }
            catch (JsonException ex)
            {
                throw new ArgumentException($"the config of {kind} '{name}' is not JSON: {ex.Message}", nameof(config), ex);
            }
        }
        _entries.Add(entry);
        return this;
    }
}
