namespace Gateway.Plugins;

/// <summary>The rest of the pipeline after a stage, ending with the call to the upstream.</summary>
/// <param name="context">The request being proxied.</param>
public delegate ValueTask PluginDelegate(PluginContext context);
