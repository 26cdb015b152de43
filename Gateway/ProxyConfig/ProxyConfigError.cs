namespace Gateway.ProxyConfig;

/// <summary>What is wrong with the proxy configuration a reload read.</summary>
/// <param name="Source">The route or cluster, or the section.</param>
/// <param name="Path">Its configuration key.</param>
/// <param name="Message">What is wrong.</param>
internal sealed record ProxyConfigError(string Source, string Path, string Message);
