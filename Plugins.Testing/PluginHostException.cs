namespace Gateway.Plugins.Testing;

/// <summary>The gateway under test would not start; the message says why, as the gateway's own start-up line would.</summary>
public sealed class PluginHostException(string message, Exception? innerException = null) : Exception(message, innerException);
