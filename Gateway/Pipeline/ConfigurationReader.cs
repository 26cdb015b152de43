using System.Text.Json;
using Microsoft.Extensions.Configuration.Json;

namespace Gateway.Pipeline;

/// <summary>
/// Reads the application's configuration sources afresh for a reload, into a configuration of its own that nothing
/// uses unless the reload succeeds: the running configuration is not touched, no file is watched, and every file that
/// does not parse is an error naming it and the position.
/// </summary>
internal sealed class ConfigurationReader(IConfiguration configuration)
{
    /// <returns>The configuration as the files now say; null when one does not parse, with the errors added.</returns>
    public IConfiguration? Read(List<PipelineError> errors)
    {
        if (configuration is not IConfigurationBuilder application)
        {
            return configuration;
        }
        var failures = new List<PipelineError>();
        var fresh = new ConfigurationBuilder();
        foreach (var source in application.Sources)
        {
            fresh.Add(source is JsonConfigurationSource json ? Unwatched(json, failures) : source);
        }
        var read = fresh.Build();
        errors.AddRange(failures);
        return failures.Count == 0 ? read : null;
    }

    private static JsonConfigurationSource Unwatched(JsonConfigurationSource source, List<PipelineError> failures) => new()
    {
        Path = source.Path!,
        Optional = source.Optional,
        FileProvider = source.FileProvider,
        ReloadOnChange = false,
        OnLoadException = context =>
        {
            failures.Add(Describe(source.Path ?? "configuration", context.Exception));
            context.Ignore = true;
        },
    };

    // "appsettings.json:3:17: malformed JSON: ..." from the JsonException under the loader's two wrappers.
    private static PipelineError Describe(string file, Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is JsonException json)
            {
                var message = json.Message;
                var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
                return new PipelineError(null, $"{file}:{json.LineNumber + 1}:{json.BytePositionInLine + 1}", "malformed JSON: " + (cut > 0 ? message[..cut] : message));
            }
        }
        return new PipelineError(null, file, (exception.InnerException ?? exception).Message);
    }
}
