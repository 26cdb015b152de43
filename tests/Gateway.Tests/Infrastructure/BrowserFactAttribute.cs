namespace Gateway.Tests.Infrastructure;

/// <summary>A test that drives a real browser: Chromium at <c>GATEWAY_TEST_CHROMIUM</c> (.ci/run installs Debian's).</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Variable = "GATEWAY_TEST_CHROMIUM";

    /// <param name="needsRedis">The page shows something only a gateway on Redis has (a cluster): also needs the shared Redis.</param>
    public BrowserFactAttribute(bool needsRedis = false) =>
        Skip = string.IsNullOrEmpty(Chromium)
            ? $"needs a Chromium: set {Variable} to its executable (.ci/run installs one)"
            : needsRedis ? RedisFactAttribute.SkipWithout(needsOwnServer: false) : null;

    /// <summary>The browser's executable, or null where none is given.</summary>
    public static string? Chromium => Environment.GetEnvironmentVariable(Variable);
}
