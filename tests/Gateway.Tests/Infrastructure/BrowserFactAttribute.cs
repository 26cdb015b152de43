namespace Gateway.Tests.Infrastructure;

/// <summary>A test that drives a real browser: Chromium at <c>GATEWAY_TEST_CHROMIUM</c> (.ci/run installs Debian's).</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Variable = "GATEWAY_TEST_CHROMIUM";

    public BrowserFactAttribute() => Skip = string.IsNullOrEmpty(Chromium) ? $"needs a Chromium: set {Variable} to its executable (.ci/run installs one)" : null;

    /// <summary>The browser's executable, or null where none is given.</summary>
    public static string? Chromium => Environment.GetEnvironmentVariable(Variable);
}
