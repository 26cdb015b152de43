using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace Gateway.Plugins.Balancing;

/// <summary>
/// A hash ring with virtual nodes: a key goes to the first destination point at or after its hash. Adding or removing
/// one of n destinations moves only the keys of the points it adds or removes, about 1/n of them. Rings are built once
/// per set of candidates and reused.
/// </summary>
internal sealed class ConsistentHash(HashOnOptions hashOn, int virtualNodes) : IBalancingPolicy
{
    private Ring? _last;

    public int Pick(PluginContext context, IReadOnlyList<UpstreamDestination> candidates)
    {
        var key = Key(context);
        if (key.Length == 0)
        {
            return Random.Shared.Next(candidates.Count);
        }
        var ring = RingFor(candidates);
        var id = ring.Lookup(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan())));
        for (var i = 0; i < candidates.Count; i++)
        {
            if (string.Equals(candidates[i].Id, id, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return 0;
    }

    private string Key(PluginContext context)
    {
        var request = context.HttpContext.Request;
        return hashOn switch
        {
            { Header: { } header } => request.Headers[header].ToString(),
            { Cookie: { } cookie } => request.Cookies[cookie] ?? string.Empty,
            { Query: { } query } => request.Query[query].ToString(),
            { Var: { } name } => context.Vars.TryGetValue(name, out var value) ? value?.ToString() ?? string.Empty : string.Empty,
            _ => context.HttpContext.Connection.RemoteIpAddress?.ToString() ?? string.Empty,
        };
    }

    private Ring RingFor(IReadOnlyList<UpstreamDestination> candidates)
    {
        var last = Volatile.Read(ref _last);
        if (last is not null && last.Covers(candidates))
        {
            return last;
        }
        var ring = new Ring(candidates.Select(c => c.Id).ToArray(), virtualNodes);
        Volatile.Write(ref _last, ring);
        return ring;
    }

    private sealed class Ring
    {
        private readonly ulong[] _points;
        private readonly string[] _owners;
        private readonly HashSet<string> _ids;

        public Ring(string[] ids, int virtualNodes)
        {
            _ids = new HashSet<string>(ids, StringComparer.OrdinalIgnoreCase);
            var points = new List<(ulong Point, string Id)>(ids.Length * virtualNodes);
            foreach (var id in ids)
            {
                for (var v = 0; v < virtualNodes; v++)
                {
                    points.Add((XxHash3.HashToUInt64(Encoding.UTF8.GetBytes($"{id}#{v}")), id));
                }
            }
            points.Sort((a, b) => a.Point.CompareTo(b.Point));
            _points = points.Select(p => p.Point).ToArray();
            _owners = points.Select(p => p.Id).ToArray();
        }

        /// <summary>Whether the ring was built for exactly these candidates.</summary>
        public bool Covers(IReadOnlyList<UpstreamDestination> candidates)
        {
            if (candidates.Count != _ids.Count)
            {
                return false;
            }
            for (var i = 0; i < candidates.Count; i++)
            {
                if (!_ids.Contains(candidates[i].Id))
                {
                    return false;
                }
            }
            return true;
        }

        public string Lookup(ulong hash)
        {
            var index = Array.BinarySearch(_points, hash);
            if (index < 0)
            {
                index = ~index;
            }
            return _owners[index == _points.Length ? 0 : index];
        }
    }
}
