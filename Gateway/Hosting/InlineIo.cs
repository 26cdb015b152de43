namespace Gateway.Hosting;

/// <summary>The runtime's switch for inline socket completions, read as the runtime reads it.</summary>
internal static class InlineIo
{
    public const string RuntimeVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Whether this process runs socket completions on the socket threads.</summary>
    public static bool IsOn => Environment.GetEnvironmentVariable(RuntimeVariable) == "1";
}
