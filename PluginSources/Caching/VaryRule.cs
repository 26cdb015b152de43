using System.Buffers.Binary;
using System.Text;

namespace Gateway.Plugins.Caching;

/// <summary>
/// What a primary key holds when the origin's responses carry <c>Vary</c>: the request headers that select among
/// them. Each variant is stored under the primary key, the rule's id and those headers' values; a new rule gets a
/// new id, so variants stored under an earlier rule (or before a purge) are never reached again.
/// </summary>
internal sealed record VaryRule(string Id, string[] Headers, long ExpiresAt)
{
    private const byte FormatVersion = 1;
    private const byte RuleKind = 2;

    public static bool IsRule(byte[] data) => data.Length > 1 && data[0] == FormatVersion && data[1] == RuleKind;

    public bool SameHeaders(string[] headers) => Headers.AsSpan().SequenceEqual(headers);

    public byte[] Serialize()
    {
        var text = string.Join('\n', [Id, .. Headers]);
        var data = new byte[2 + 8 + Encoding.UTF8.GetByteCount(text)];
        data[0] = FormatVersion;
        data[1] = RuleKind;
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(2), ExpiresAt);
        Encoding.UTF8.GetBytes(text, data.AsSpan(10));
        return data;
    }

    public static VaryRule? Deserialize(byte[] data)
    {
        if (!IsRule(data) || data.Length < 10)
        {
            return null;
        }
        var parts = Encoding.UTF8.GetString(data.AsSpan(10)).Split('\n');
        return new VaryRule(parts[0], parts[1..], BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(2)));
    }
}
