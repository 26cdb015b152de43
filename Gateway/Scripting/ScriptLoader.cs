using System.Text.Json;
using Gateway.Plugins;

namespace Gateway.Scripting;

/// <summary>
/// The scripts of one reload: resolves each entry's path, keeps it inside the scripts folder, compiles each file once
/// however many entries name it, and loads each entry's runtime with its config.
/// </summary>
/// <param name="baseDirectory">Where relative script paths start: the pipeline file's folder.</param>
/// <param name="scriptsPath">The scripts folder, a full path; no script may come from outside it.</param>
internal sealed class ScriptLoader(string baseDirectory, string scriptsPath, ScriptOptions options, ILogger logger, TimeProvider time)
{
    private readonly Dictionary<string, CompiledScript> _compiled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScriptLoadException> _failed = new(StringComparer.Ordinal);

    /// <summary>Compiles (once) and loads the script an entry names, warmed and ready to serve.</summary>
    /// <param name="name">The script's path as written in the pipeline file.</param>
    /// <returns>The entry's filter, and the hash of the file it runs.</returns>
    /// <exception cref="ScriptLoadException">It is outside the scripts folder, unreadable, invalid, or fails its warm-up.</exception>
    public (IGatewayFilter Plugin, string Hash) Load(string name, JsonElement config)
    {
        var script = Compile(name);
        return (ScriptPlugin.Load(script, config, options, logger, time), script.Hash);
    }

    private CompiledScript Compile(string name)
    {
        var path = Resolve(name);
        if (_compiled.TryGetValue(path, out var script))
        {
            return script;
        }
        if (_failed.TryGetValue(path, out var failure))
        {
            throw failure;
        }
        try
        {
            script = CompiledScript.Compile(name, path);
            _compiled.Add(path, script);
            return script;
        }
        catch (ScriptLoadException ex)
        {
            _failed.Add(path, ex);
            throw;
        }
    }

    private string Resolve(string name)
    {
        var path = Path.GetFullPath(name, baseDirectory);
        var root = Path.TrimEndingDirectorySeparator(scriptsPath) + Path.DirectorySeparatorChar;
        if (!path.StartsWith(root, StringComparison.Ordinal))
        {
            throw new ScriptLoadException($"'{name}' resolves to {path}, outside the scripts folder {scriptsPath}");
        }
        return path;
    }
}
