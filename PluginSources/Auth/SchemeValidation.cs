namespace Gateway.Plugins.Auth;

/// <summary>Config checks shared by the schemes; each failure names the field.</summary>
internal static class SchemeValidation
{
    private static readonly string[] AllFields =
    [
        "header", "query", "keys", "realm", "users", "issuers", "audiences", "algorithms", "clockSkewSeconds",
        "signingKeys", "jwksUrl", "jwksRefreshSeconds", "jwksWaitMilliseconds", "consumerClaim", "claimHeaders", "claimVars", "tokenCacheSize",
    ];

    /// <summary>Rejects fields that belong to another scheme: a typo there would silently weaken the config.</summary>
    public static void OnlyFields(SchemeOptions options, string path, params string[] allowed)
    {
        foreach (var field in AllFields)
        {
            if (!allowed.Contains(field) && IsSet(options, field))
            {
                throw new PluginConfigurationException($"{path}.{field}", options.Scheme is null
                    ? "belongs inside one of the \"schemes\""
                    : $"does not apply to scheme '{options.Scheme}'");
            }
        }
    }

    private static bool IsSet(SchemeOptions options, string field) => field switch
    {
        "header" => options.Header is not null,
        "query" => options.Query is not null,
        "keys" => options.Keys is not null,
        "realm" => options.Realm is not null,
        "users" => options.Users is not null,
        "issuers" => options.Issuers is not null,
        "audiences" => options.Audiences is not null,
        "algorithms" => options.Algorithms is not null,
        "clockSkewSeconds" => options.ClockSkewSeconds is not null,
        "signingKeys" => options.SigningKeys is not null,
        "jwksUrl" => options.JwksUrl is not null,
        "jwksRefreshSeconds" => options.JwksRefreshSeconds is not null,
        "jwksWaitMilliseconds" => options.JwksWaitMilliseconds is not null,
        "consumerClaim" => options.ConsumerClaim is not null,
        "claimHeaders" => options.ClaimHeaders is not null,
        "tokenCacheSize" => options.TokenCacheSize is not null,
        "claimVars" => options.ClaimVars is not null,
        _ => false,
    };

    public static void HeaderName(string name, string path)
    {
        if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".Contains(c)))
        {
            throw new PluginConfigurationException(path, $"'{name}' is not a valid header name");
        }
    }
}
