namespace Gateway.AccessLog;

/// <summary>
/// The <c>Gateway:AccessLog</c> section: one structured line per request served by the proxy listener, through the
/// <c>Gateway.AccessLog</c> logging category. Off by default.
/// </summary>
public sealed record AccessLogOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Gateway:AccessLog";

    /// <summary>The logging category of the lines, which any logging provider can route or filter.</summary>
    public const string Category = "Gateway.AccessLog";

    /// <summary>Logs requests; read at start.</summary>
    public bool Enabled { get; init; }

    /// <summary>Logs one request in this many (1: every request).</summary>
    public int SampleEvery { get; init; } = 1;

    /// <summary>Logs the query string with the path. Off by default: queries carry tokens and personal data.</summary>
    public bool Query { get; init; }

    /// <summary>
    /// A file the lines are appended to, in batches (<see cref="AccessLogFile"/>), instead of going to the console; other
    /// logging providers still get them. Relative to the working directory.
    /// </summary>
    public string? File { get; init; }

    /// <summary>The request variables (set by pipeline entries) logged by name; <see cref="DefaultVars"/> when unset. A list replaces it.</summary>
    public string[]? Vars { get; init; }

    /// <summary>Auth's consumer, AbTesting's variant and Caching's result, under the variable names they set by default.</summary>
    public static IReadOnlyList<string> DefaultVars { get; } = ["consumer", "variant", "cache"];

    /// <summary>What is wrong with these options, if anything.</summary>
    public IEnumerable<string> Validate()
    {
        if (SampleEvery < 1)
        {
            yield return $"{SectionName}:SampleEvery must be 1 or more, not {SampleEvery}.";
        }
        foreach (var name in Vars ?? [])
        {
            if (string.IsNullOrWhiteSpace(name) || AccessLogEntry.FieldNames.Contains(name))
            {
                yield return $"{SectionName}:Vars: '{name}' cannot be a variable's field: the line has a field of that name.";
            }
        }
    }
}
