namespace Gateway.Loading;

/// <summary>A plugin assembly that cannot be loaded or instantiated; the message names the plugin and the file.</summary>
internal sealed class PluginLoadException(string message, Exception? innerException = null) : Exception(message, innerException);
