using Microsoft.AspNetCore.Http;

namespace Gateway.Plugins.Auth;

/// <summary>One way a request may prove who sent it.</summary>
internal interface IAuthScheme
{
    /// <summary>The <c>WWW-Authenticate</c> challenge for this scheme.</summary>
    string Challenge { get; }

    /// <summary>Checks the request's credentials for this scheme; never throws for bad input.</summary>
    ValueTask<AuthOutcome> AuthenticateAsync(HttpContext context);

    /// <summary>Removes this scheme's credentials from the request before it goes upstream.</summary>
    void RemoveCredentials(HttpRequest request);
}

internal enum AuthStatus
{
    /// <summary>The request carries no credentials for the scheme.</summary>
    Absent,

    /// <summary>It carries some, and they are not accepted.</summary>
    Rejected,

    Accepted,
}

/// <param name="Consumer">Who the accepted credentials belong to.</param>
/// <param name="Error">Why credentials were rejected; for the log and the problem's detail.</param>
/// <param name="Headers">Upstream headers an accepted scheme adds (claims).</param>
/// <param name="Vars">Values an accepted scheme puts into <c>vars</c> (claims).</param>
internal readonly record struct AuthOutcome(
    AuthStatus Status,
    string? Consumer = null,
    string? Error = null,
    IReadOnlyList<KeyValuePair<string, string>>? Headers = null,
    IReadOnlyList<KeyValuePair<string, string>>? Vars = null)
{
    public static AuthOutcome Absent => default;

    public static AuthOutcome Reject(string error) => new(AuthStatus.Rejected, Error: error);

    public static AuthOutcome Accept(
        string consumer,
        IReadOnlyList<KeyValuePair<string, string>>? headers = null,
        IReadOnlyList<KeyValuePair<string, string>>? vars = null) =>
        new(AuthStatus.Accepted, consumer, Headers: headers, Vars: vars);
}
