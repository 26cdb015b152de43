using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Infrastructure;

/// <summary>Describes a test gateway's routes, clusters, plugins and pipeline, then starts it.</summary>
internal sealed class TestGatewayBuilder
{
    private readonly JsonObject _routes = [];
    private readonly JsonObject _clusters = [];
    private readonly List<(string Name, string Source)> _plugins = [];
    private readonly List<(string Name, string Source)> _scripts = [];
    private readonly List<(string Path, string Content)> _files = [];
    private readonly List<string> _args = [];
    private string _pipeline = """{ "pipeline": [] }""";
    private readonly List<Action<IServiceCollection>> _services = [];

    /// <param name="configure">Sets more of the route's YARP configuration (Timeout, TimeoutPolicy...).</param>
    public TestGatewayBuilder Route(string id, string path, string clusterId, Action<JsonObject>? configure = null)
    {
        var route = new JsonObject { ["ClusterId"] = clusterId, ["Match"] = new JsonObject { ["Path"] = path } };
        configure?.Invoke(route);
        _routes[id] = route;
        return this;
    }

    /// <summary>Sets more of a cluster's YARP configuration (HttpRequest, LoadBalancingPolicy...).</summary>
    public TestGatewayBuilder ConfigureCluster(string id, Action<JsonObject> configure)
    {
        configure((JsonObject)_clusters[id]!);
        return this;
    }

    /// <summary>A cluster whose destinations are named after the origins, with an optional "group" metadata each.</summary>
    public TestGatewayBuilder Cluster(string id, params (TestOrigin Origin, string? Group)[] destinations)
    {
        var configured = new JsonObject();
        foreach (var (origin, group) in destinations)
        {
            var destination = new JsonObject { ["Address"] = origin.Url };
            if (group is not null)
            {
                destination["Metadata"] = new JsonObject { ["group"] = group };
            }
            configured[origin.Name] = destination;
        }
        _clusters[id] = new JsonObject { ["Destinations"] = configured };
        return this;
    }

    /// <summary>A cluster of one destination at <paramref name="address"/>, for an origin that is not a <see cref="TestOrigin"/>.</summary>
    public TestGatewayBuilder Cluster(string id, string address)
    {
        _clusters[id] = new JsonObject { ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = address } } };
        return this;
    }

    /// <summary>A cluster whose destinations carry a "weight" metadata each.</summary>
    public TestGatewayBuilder WeightedCluster(string id, params (TestOrigin Origin, int Weight)[] destinations)
    {
        var configured = new JsonObject();
        foreach (var (origin, weight) in destinations)
        {
            configured[origin.Name] = new JsonObject { ["Address"] = origin.Url, ["Metadata"] = new JsonObject { ["weight"] = weight.ToString() } };
        }
        _clusters[id] = new JsonObject { ["Destinations"] = configured };
        return this;
    }

    public TestGatewayBuilder Cluster(string id, params TestOrigin[] origins) =>
        Cluster(id, origins.Select(origin => (origin, (string?)null)).ToArray());

    /// <summary>Installs a test plugin build (artifacts/test-plugins/<paramref name="project"/>) as <paramref name="name"/>.</summary>
    public TestGatewayBuilder TestPlugin(string name, string? project = null)
    {
        _plugins.Add((name, Path.Combine(RepoPaths.TestPlugins, project ?? name)));
        return this;
    }

    /// <summary>Installs a first-party plugin build from the repository's plugins/ folder.</summary>
    public TestGatewayBuilder FirstPartyPlugin(string name)
    {
        _plugins.Add((name, Path.Combine(RepoPaths.FirstPartyPlugins, name)));
        return this;
    }

    /// <summary>Writes a script into the gateway's scripts/ folder; the pipeline names it <c>scripts/<paramref name="name"/></c>.</summary>
    public TestGatewayBuilder Script(string name, string source)
    {
        _scripts.Add((name, source));
        return this;
    }

    /// <summary>Copies a shipped sample from the repository's scripts/ folder.</summary>
    public TestGatewayBuilder SampleScript(string name) => Script(name, System.IO.File.ReadAllText(Path.Combine(RepoPaths.Root, "scripts", name)));

    /// <summary>Writes a file of any other kind into the gateway's folder, at a path relative to it.</summary>
    public TestGatewayBuilder File(string path, string content)
    {
        _files.Add((path, content));
        return this;
    }

    public TestGatewayBuilder Pipeline(string json)
    {
        _pipeline = json;
        return this;
    }

    public TestGatewayBuilder Arg(string arg)
    {
        _args.Add(arg);
        return this;
    }

    /// <summary>The clock the gateway reads (a FakeTimeProvider to move time on without waiting).</summary>
    public TestGatewayBuilder Time(TimeProvider time)
    {
        _services.Add(services => services.AddSingleton(time));
        return this;
    }

    /// <summary>More services for the gateway, such as an in-memory trace exporter.</summary>
    public TestGatewayBuilder Services(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    public TestGatewayBuilder Args(IEnumerable<string> args)
    {
        _args.AddRange(args);
        return this;
    }

    public async Task<TestGateway> StartAsync()
    {
        var directory = WriteFolder();
        try
        {
            return await TestGateway.StartAsync(directory, [.. FolderArgs(directory), .. _args], services => _services.ForEach(configure => configure(services)));
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>Starts the gateway in a process of its own, in its own folder.</summary>
    public async Task<GatewayProcess> StartProcessAsync()
    {
        var directory = WriteFolder();
        try
        {
            return await GatewayProcess.StartAsync(directory, [.. FolderArgs(directory), .. _args]);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Starts one gateway process per argument list, all in one folder (the same files, as nodes deployed alike), each
    /// with these and its own arguments. Dispose them all; the folder goes with the first.
    /// </summary>
    public async Task<GatewayProcess[]> StartProcessesAsync(params IReadOnlyList<string>[] nodeArgs)
    {
        var directory = WriteFolder();
        var started = new List<GatewayProcess>();
        try
        {
            foreach (var args in nodeArgs)
            {
                started.Add(await GatewayProcess.StartAsync(directory, [.. FolderArgs(directory), .. _args, .. args]));
            }
            return [.. started];
        }
        catch
        {
            foreach (var process in started)
            {
                await process.DisposeAsync();
            }
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
            throw;
        }
    }

    /// <summary>Runs the gateway in a process of its own until it exits by itself (a start that fails).</summary>
    public async Task<(int ExitCode, string Output)> RunProcessToExitAsync()
    {
        var directory = WriteFolder();
        try
        {
            return await GatewayProcess.RunToExitAsync(directory, [.. FolderArgs(directory), .. _args]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string[] FolderArgs(string directory) =>
    [
        $"--Gateway:PipelineFile={Path.Combine(directory, "plugins.json")}",
        $"--Gateway:PluginsPath={Path.Combine(directory, "plugins")}",
        $"--Gateway:ScriptsPath={Path.Combine(directory, "scripts")}",
    ];

    private string WriteFolder()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gateway-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var settings = new JsonObject
        {
            ["ReverseProxy"] = new JsonObject { ["Routes"] = _routes.DeepClone(), ["Clusters"] = _clusters.DeepClone() },
        };
        System.IO.File.WriteAllText(Path.Combine(directory, "appsettings.json"), settings.ToJsonString());
        System.IO.File.WriteAllText(Path.Combine(directory, "plugins.json"), _pipeline);
        Directory.CreateDirectory(Path.Combine(directory, "scripts"));
        foreach (var (name, source) in _scripts)
        {
            System.IO.File.WriteAllText(Path.Combine(directory, "scripts", name), source);
        }
        foreach (var (path, content) in _files)
        {
            System.IO.File.WriteAllText(Path.Combine(directory, path), content);
        }
        foreach (var (name, source) in _plugins)
        {
            CopyPlugin(source, Path.Combine(directory, "plugins", name));
        }
        return directory;
    }

    internal static void CopyPlugin(string source, string destination)
    {
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"no plugin build at {source}: build the solution first");
        }
        if (Directory.Exists(destination))
        {
            Directory.Delete(destination, recursive: true);
        }
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            System.IO.File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }
    }
}
