using Gateway.Pipeline;

namespace Gateway.Scripting;

/// <summary>
/// The scripts of one reload: resolves each entry's path, keeps it inside the scripts folder, and compiles each file
/// once however many entries name it.
/// </summary>
internal sealed class ScriptCompilations(PipelineLocations locations)
{
    private readonly Dictionary<string, CompiledScript> _compiled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ScriptLoadException> _failed = new(StringComparer.Ordinal);

    /// <param name="name">The script's path as written in the pipeline file.</param>
    /// <exception cref="ScriptLoadException">It is outside the scripts folder, unreadable or invalid.</exception>
    public CompiledScript Compile(string name)
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
        var baseDirectory = Path.GetDirectoryName(locations.PipelineFile) ?? Environment.CurrentDirectory;
        var path = Path.GetFullPath(name, baseDirectory);
        var root = Path.TrimEndingDirectorySeparator(locations.ScriptsPath) + Path.DirectorySeparatorChar;
        if (!path.StartsWith(root, StringComparison.Ordinal))
        {
            throw new ScriptLoadException($"'{name}' resolves to {path}, outside the scripts folder {locations.ScriptsPath}");
        }
        return path;
    }
}
