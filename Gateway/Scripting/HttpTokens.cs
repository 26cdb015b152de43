using System.Buffers;

namespace Gateway.Scripting;

/// <summary>RFC 9110 tokens, which header names must be.</summary>
internal static class HttpTokens
{
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static bool IsToken(string value) => value.Length > 0 && !value.AsSpan().ContainsAnyExcept(TokenChars);
}
