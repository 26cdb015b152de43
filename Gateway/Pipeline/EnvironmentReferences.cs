using System.Buffers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Pipeline;

/// <summary>
/// <c>${env:NAME}</c> in an entry's config: replaced by the variable's value in every string, so secrets stay in the
/// environment and out of <c>plugins.json</c>; an unset variable is an error naming the field.
/// </summary>
internal static partial class EnvironmentReferences
{
    /// <summary>The config with every reference replaced, in a document of its own that outlives the file's.</summary>
    public static JsonElement Substitute(JsonElement config, string path, string display, Func<string, string?> environment, List<PipelineError> errors)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteSubstituted(config, writer, path, display, environment, errors);
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static void WriteSubstituted(JsonElement value, Utf8JsonWriter writer, string path, string display, Func<string, string?> environment, List<PipelineError> errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    WriteSubstituted(property.Value, writer, $"{path}.{property.Name}", display, environment, errors);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    WriteSubstituted(item, writer, $"{path}[{i++}]", display, environment, errors);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(SubstituteEnvironment(value.GetString()!, path, display, environment, errors));
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }

    private static string SubstituteEnvironment(string text, string path, string display, Func<string, string?> environment, List<PipelineError> errors)
    {
        if (!text.Contains("${env:", StringComparison.Ordinal))
        {
            return text;
        }
        return EnvironmentReference().Replace(text, match =>
        {
            var name = match.Groups[1].Value;
            if (environment(name) is { } found)
            {
                return found;
            }
            errors.Add(new PipelineError(display, path, $"environment variable '{name}' is not set"));
            return string.Empty;
        });
    }

    [GeneratedRegex(@"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex EnvironmentReference();
}
