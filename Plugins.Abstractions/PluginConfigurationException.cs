namespace Gateway.Plugins;

/// <summary>
/// Thrown by a plugin's constructor when its <c>config</c> is invalid. The gateway rejects the reload and
/// reports the message with the full JSON path in <c>plugins.json</c>.
/// </summary>
public sealed class PluginConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The JSON path of the offending value within the entry's config, such as <c>$.request.set</c>.</param>
    /// <param name="message">What is wrong with it and what is expected.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public PluginConfigurationException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = path;
    }

    /// <summary>The JSON path of the offending value within the entry's config; <c>$</c> is the config itself.</summary>
    public string Path { get; }
}
