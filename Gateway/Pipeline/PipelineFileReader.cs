using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Pipeline;

/// <summary>
/// Reads and validates <c>plugins.json</c> into entries. Every problem is collected with its JSON path so one
/// reload attempt reports all of them; nothing here loads a plugin.
/// </summary>
/// <remarks>
/// An entry with problems of its own is still returned, marked <see cref="PipelineEntry.HasOwnErrors"/>, so the reload
/// can check what else it names (its routes) in the same pass; it is never built.
/// </remarks>
internal static partial class PipelineFileReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    private static readonly HashSet<string> EntryProperties = ["plugin", "script", "routes", "enabled", "config"];

    /// <summary>Reads the file at <paramref name="path"/>; what is wrong with it is added to <paramref name="errors"/>.</summary>
    /// <param name="content">The bytes read, which the entries came from; empty when the file could not be read.</param>
    public static ImmutableArray<PipelineEntry> ReadFile(string path, Func<string, string?> environment, List<PipelineError> errors, out byte[] content)
    {
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add(new PipelineError(null, "$", $"cannot read the pipeline file '{path}': {ex.Message}"));
            content = [];
            return [];
        }
        return Read(content, Path.GetFileName(path), environment, errors);
    }

    /// <summary>Reads pipeline JSON; <paramref name="fileName"/> names it in syntax errors.</summary>
    public static ImmutableArray<PipelineEntry> Read(ReadOnlyMemory<byte> json, string fileName, Func<string, string?> environment, List<PipelineError> errors)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            // JsonException counts lines and bytes from zero.
            errors.Add(new PipelineError(null, $"{fileName}:{ex.LineNumber + 1}:{ex.BytePositionInLine + 1}", "malformed JSON: " + FirstSentence(ex.Message)));
            return [];
        }

        using (document)
        {
            return ReadRoot(document.RootElement, environment, errors);
        }
    }

    private static ImmutableArray<PipelineEntry> ReadRoot(JsonElement root, Func<string, string?> environment, List<PipelineError> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new PipelineError(null, "$", "the file must hold an object with a \"pipeline\" array"));
            return [];
        }
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("pipeline" or "$schema"))
            {
                errors.Add(new PipelineError(null, "$." + property.Name, "unknown property; expected \"pipeline\""));
            }
        }
        if (!root.TryGetProperty("pipeline", out var pipeline) || pipeline.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new PipelineError(null, "$.pipeline", "required, and must be an array of entries"));
            return [];
        }

        var entries = ImmutableArray.CreateBuilder<PipelineEntry>();
        var index = 0;
        foreach (var element in pipeline.EnumerateArray())
        {
            if (ReadEntry(index, element, environment, errors) is { } entry)
            {
                entries.Add(entry);
            }
            index++;
        }
        return entries.ToImmutable();
    }

    private static PipelineEntry? ReadEntry(int index, JsonElement element, Func<string, string?> environment, List<PipelineError> errors)
    {
        var path = PipelineEntry.PathOf(index);
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new PipelineError(PipelineEntry.Describe(index, StageKind.Plugin, null), path, "an entry must be an object with \"plugin\" or \"script\""));
            return null;
        }

        var plugin = OptionalString(element, "plugin");
        var script = OptionalString(element, "script");
        var (kind, name) = (plugin, script) switch
        {
            ({ } p, null) => (StageKind.Plugin, p),
            (null, { } s) => (StageKind.Script, s),
            _ => (StageKind.Plugin, (string?)null),
        };
        var display = PipelineEntry.Describe(index, kind, name);
        var errorCount = errors.Count;

        foreach (var property in element.EnumerateObject())
        {
            if (!EntryProperties.Contains(property.Name))
            {
                errors.Add(new PipelineError(display, $"{path}.{property.Name}", "unknown property; expected plugin, script, routes, enabled or config"));
            }
        }

        if (name is null)
        {
            errors.Add(new PipelineError(display, path, "needs exactly one of \"plugin\" (a plugin name) or \"script\" (a file in scripts/), as a non-empty string"));
        }
        else if (kind == StageKind.Plugin && !PluginName().IsMatch(name))
        {
            errors.Add(new PipelineError(display, $"{path}.plugin", "a plugin name is a folder name under plugins/: letters, digits, '.', '_' or '-'"));
        }

        var routes = ReadRoutes(element, path, display, errors);

        var enabled = true;
        if (element.TryGetProperty("enabled", out var enabledElement))
        {
            if (enabledElement.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                enabled = enabledElement.GetBoolean();
            }
            else
            {
                errors.Add(new PipelineError(display, $"{path}.enabled", "must be true or false"));
            }
        }

        var config = ReadConfig(element, path, display, environment, errors);

        return name is null ? null : new PipelineEntry(index, kind, name, routes, enabled, config) { HasOwnErrors = errors.Count > errorCount };
    }

    private static ImmutableArray<string> ReadRoutes(JsonElement element, string path, string display, List<PipelineError> errors)
    {
        if (!element.TryGetProperty("routes", out var routesElement))
        {
            return [];
        }
        if (routesElement.ValueKind != JsonValueKind.Array || routesElement.GetArrayLength() == 0)
        {
            errors.Add(new PipelineError(display, $"{path}.routes", "must be a non-empty array of route ids; leave it out to run on every route"));
            return [];
        }
        var routes = ImmutableArray.CreateBuilder<string>();
        var i = 0;
        foreach (var route in routesElement.EnumerateArray())
        {
            if (route.ValueKind == JsonValueKind.String && route.GetString() is { Length: > 0 } id)
            {
                routes.Add(id);
            }
            else
            {
                errors.Add(new PipelineError(display, $"{path}.routes[{i}]", "a route id must be a non-empty string"));
            }
            i++;
        }
        return routes.ToImmutable();
    }

    private static JsonElement ReadConfig(JsonElement element, string path, string display, Func<string, string?> environment, List<PipelineError> errors)
    {
        if (!element.TryGetProperty("config", out var config))
        {
            return EmptyObject;
        }
        if (config.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new PipelineError(display, $"{path}.config", "must be an object"));
            return EmptyObject;
        }
        return EnvironmentReferences.Substitute(config, $"{path}.config", display, environment, errors);
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex PluginName();
}
