namespace Gateway.Pipeline;

/// <summary>Where a reload finds its inputs; full paths.</summary>
/// <param name="PipelineFile">The pipeline file; script paths in it are relative to its folder.</param>
/// <param name="PluginsPath">The plugin drop folder.</param>
/// <param name="ScriptsPath">The scripts folder; no script may come from outside it.</param>
internal sealed record PipelineLocations(string PipelineFile, string PluginsPath, string ScriptsPath);
