using System.Buffers;
using System.Collections;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gateway.AccessLog;

/// <summary>
/// One access log line: its fields for a structured logging provider, and the same as one JSON object for a text one
/// (the message). A field the request did not have (no route, not forwarded) is null, and left out of the JSON.
/// </summary>
internal sealed class AccessLogEntry : IReadOnlyList<KeyValuePair<string, object?>>
{
    /// <summary>The fields every line may have; a logged variable may not take one of these names.</summary>
    public static readonly FrozenSet<string> FieldNames = FrozenSet.Create(StringComparer.Ordinal,
        "time", "client", "method", "host", "path", "protocol", "status", "route", "cluster", "destination",
        "bytesIn", "bytesOut", "durationMs", "upstreamMs", "traceId");

    // Each thread formats into the same buffer: a line costs its string, not its scaffolding.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    // Escapes what JSON must (quotes, control characters: a line stays one line), not what HTML would.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private KeyValuePair<string, object?>[]? _pairs;

    public required DateTimeOffset Time { get; init; }
    public required string? Client { get; init; }
    public required string Method { get; init; }
    public required string Host { get; init; }
    public required string Path { get; init; }
    public required string Protocol { get; init; }
    public required int Status { get; init; }
    public required string? Route { get; init; }
    public required string? Cluster { get; init; }
    public required string? Destination { get; init; }
    public required long BytesIn { get; init; }
    public required long BytesOut { get; init; }
    public required double DurationMs { get; init; }
    public required double? UpstreamMs { get; init; }
    public required string TraceId { get; init; }

    /// <summary>The logged variables the request had, by name.</summary>
    public required IReadOnlyList<KeyValuePair<string, object?>> Vars { get; init; }

    public static readonly Func<AccessLogEntry, Exception?, string> Format = static (entry, _) => entry.ToJson();

    public string ToJson()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        writer.WriteStartObject();
        foreach (var (name, value) in Pairs)
        {
            switch (value)
            {
                case null:
                    break;
                case string text:
                    writer.WriteString(name, text);
                    break;
                case int number:
                    writer.WriteNumber(name, number);
                    break;
                case long number:
                    writer.WriteNumber(name, number);
                    break;
                case double number:
                    writer.WriteNumber(name, Math.Round(number, 3));
                    break;
                case bool flag:
                    writer.WriteBoolean(name, flag);
                    break;
                default:
                    writer.WriteString(name, Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }
        writer.WriteEndObject();
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public override string ToString() => ToJson();

    private KeyValuePair<string, object?>[] Pairs => _pairs ??=
    [
        new("time", Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)),
        new("client", Client),
        new("method", Method),
        new("host", Host),
        new("path", Path),
        new("protocol", Protocol),
        new("status", Status),
        new("route", Route),
        new("cluster", Cluster),
        new("destination", Destination),
        new("bytesIn", BytesIn),
        new("bytesOut", BytesOut),
        new("durationMs", DurationMs),
        new("upstreamMs", UpstreamMs),
        new("traceId", TraceId),
        .. Vars,
    ];

    public int Count => Pairs.Length;

    public KeyValuePair<string, object?> this[int index] => Pairs[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)Pairs).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
