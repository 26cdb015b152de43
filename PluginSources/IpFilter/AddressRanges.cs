using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Plugins.IpFilter;

/// <summary>
/// A set of addresses as sorted, disjoint ranges of one 128-bit space, where an IPv4 address is its IPv4-mapped IPv6
/// form (<c>::ffff:192.0.2.7</c>, RFC 4291 §2.5.5.2): a client that reaches a dual-stack listener as a mapped address
/// and one that reaches an IPv4 listener are the same client. A lookup is a binary search, whatever the list's length.
/// </summary>
internal sealed class AddressRanges
{
    private const int MappedPrefix = 96;
    private static readonly UInt128 MappedBase = new(0, 0xffff_0000_0000);

    private readonly UInt128[] _starts;
    private readonly UInt128[] _ends;

    private AddressRanges(UInt128[] starts, UInt128[] ends)
    {
        _starts = starts;
        _ends = ends;
    }

    /// <summary>How many disjoint ranges the entries made.</summary>
    public int Count => _starts.Length;

    /// <exception cref="PluginConfigurationException">An entry is not an address or a CIDR range.</exception>
    public static AddressRanges Parse(IReadOnlyList<string> entries, string path)
    {
        var ranges = new List<(UInt128 Start, UInt128 End)>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            ranges.Add(ParseRange(entries[i], $"{path}[{i}]"));
        }
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        var starts = new List<UInt128>(ranges.Count);
        var ends = new List<UInt128>(ranges.Count);
        foreach (var (start, end) in ranges)
        {
            // Overlapping or adjacent ranges merge, so each address falls in at most one.
            if (ends.Count > 0 && (ends[^1] == UInt128.MaxValue || start <= ends[^1] + 1))
            {
                ends[^1] = UInt128.Max(ends[^1], end);
                continue;
            }
            starts.Add(start);
            ends.Add(end);
        }
        return new AddressRanges([.. starts], [.. ends]);
    }

    public bool Contains(IPAddress address) => Contains(ToKey(address));

    public bool Contains(UInt128 key)
    {
        // The last range starting at or before the key is the only one that may hold it.
        var index = Array.BinarySearch(_starts, key);
        if (index < 0)
        {
            index = ~index - 1;
        }
        return index >= 0 && key <= _ends[index];
    }

    /// <summary>The address's place in the 128-bit space: IPv6 as it is, IPv4 as its mapped form.</summary>
    public static UInt128 ToKey(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return written == 4
            ? MappedBase | BinaryPrimitives.ReadUInt32BigEndian(bytes)
            : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    private static (UInt128 Start, UInt128 End) ParseRange(string entry, string path)
    {
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? entry : entry[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal)
            || (address.AddressFamily == AddressFamily.InterNetwork && addressText.Count(c => c == '.') != 3))
        {
            throw new PluginConfigurationException(path, $"'{entry}' is not an IP address or a CIDR range such as 10.0.0.0/8 or 2001:db8::/32");
        }
        var isV4 = address.AddressFamily == AddressFamily.InterNetwork;
        var bits = isV4 ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(entry.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            throw new PluginConfigurationException(path, $"'{entry}' has no prefix length from 0 to {bits} after the '/'");
        }
        var key = ToKey(address);
        var length = isV4 ? MappedPrefix + prefix : prefix;
        var hostBits = length == 128 ? UInt128.Zero : UInt128.MaxValue >> length;
        if ((key & hostBits) != 0)
        {
            // 10.0.0.1/8 is most likely a typo for a host or for the network; neither is guessed.
            throw new PluginConfigurationException(path, $"'{entry}' has bits set past its prefix length: the range is written {Format(key & ~hostBits, isV4)}/{prefix}");
        }
        return (key, key | hostBits);
    }

    private static string Format(UInt128 key, bool isV4)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, key);
        return (isV4 ? new IPAddress(bytes[12..]) : new IPAddress(bytes)).ToString();
    }
}
