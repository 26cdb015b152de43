namespace Gateway.Tests.Infrastructure;

/// <summary>Where the solution build put the real plugins the tests load.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The first-party plugins' drop folder, as the solution build fills it.</summary>
    public static string FirstPartyPlugins => Path.Combine(Root, "plugins");

    /// <summary>The test-only plugins, one folder per project.</summary>
    public static string TestPlugins => Path.Combine(Root, "artifacts", "test-plugins");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
