namespace Gateway.Plugins.Testing;

/// <summary>A request as the origin behind the gateway received it.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="PathAndQuery">The path and query string, as forwarded.</param>
/// <param name="Headers">The request headers, by lower-case name, several values joined with a comma.</param>
/// <param name="Body">The request body.</param>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body);
