using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.Plugins.AbTesting;

/// <summary>
/// Assigns each client a variant of an experiment and sends its requests to that variant's destinations: sticky by
/// cookie, or by hashing a header or a <c>vars</c> value so every node agrees with no shared state; overridable for QA.
/// The variant goes into <c>vars</c>, an upstream header and a response header.
/// </summary>
[NonBlocking]
public sealed class AbTestingPlugin : IGatewayFilter, IReportsCounters
{
    private readonly AbTestingOptions _options;
    private readonly VariantPicker _picker;
    private readonly Func<UpstreamDestination, bool>?[] _inGroup;
    private readonly Dictionary<string, int> _byName;
    private readonly string _var;
    private readonly string? _upstreamHeader;
    private readonly string? _responseHeader;
    private readonly string? _cookie;
    private readonly string _cookieSuffix;
    private readonly long[] _assigned;

    public AbTestingPlugin(PluginSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _options = setup.GetConfig<AbTestingOptions>();
        Validate(_options);
        _picker = new VariantPicker(_options.Name, _options.Variants);
        _inGroup = _options.Variants.Select(variant => variant.Group is { } group ? InGroup(group) : null).ToArray();
        _byName = _options.Variants.Select((v, i) => (v.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        _assigned = new long[_options.Variants.Count];
        _var = _options.Var ?? "variant";
        _upstreamHeader = NullIfEmpty(_options.UpstreamHeader ?? "x-variant");
        _responseHeader = NullIfEmpty(_options.ResponseHeader ?? "x-variant");
        var sticky = _options.Sticky ?? new StickyOptions();
        _cookie = sticky.Header is null && sticky.Var is null ? sticky.Cookie ?? "ab_" + _options.Name : null;
        _cookieSuffix = $"; Max-Age={sticky.MaxAgeSeconds ?? 2_592_000}; Path=/; HttpOnly; SameSite=Lax";
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static void Validate(AbTestingOptions options)
    {
        if (options.Name.Length == 0 || options.Name.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')))
        {
            throw new PluginConfigurationException("$.name", "use letters, digits, '-' and '_'");
        }
        if (options.Variants.Count < 2)
        {
            throw new PluginConfigurationException("$.variants", "an experiment needs at least two variants");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Variants.Count; i++)
        {
            var variant = options.Variants[i];
            var path = $"$.variants[{i}]";
            if (variant.Name.Length == 0 || variant.Name.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.')))
            {
                throw new PluginConfigurationException(path + ".name", "use letters, digits, '-', '_' and '.'");
            }
            if (!names.Add(variant.Name))
            {
                throw new PluginConfigurationException(path + ".name", $"'{variant.Name}' is used twice");
            }
            if (!(variant.Weight > 0) || double.IsInfinity(variant.Weight))
            {
                throw new PluginConfigurationException(path + ".weight", "must be a positive number");
            }
            if ((variant.Group is null) == (variant.Cluster is null))
            {
                throw new PluginConfigurationException(path, "give exactly one of \"group\" (destination metadata) or \"cluster\"");
            }
            if (variant.Group is { Count: 0 })
            {
                throw new PluginConfigurationException(path + ".group", "name at least one metadata key");
            }
        }
        if (options.Sticky is { } sticky && new object?[] { sticky.Cookie, sticky.Header, sticky.Var }.Count(x => x is not null) > 1)
        {
            throw new PluginConfigurationException("$.sticky", "give one of cookie, header or var");
        }
        if (options.Sticky is { MaxAgeSeconds: <= 0 })
        {
            throw new PluginConfigurationException("$.sticky.maxAgeSeconds", "must be positive");
        }
    }

    public ValueTask<bool> OnRequestAsync(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var index = Assign(context);
        var variant = _options.Variants[index];
        Interlocked.Increment(ref _assigned[index]);
        context.Vars[_var] = variant.Name;
        if (_upstreamHeader is not null)
        {
            context.HttpContext.Request.Headers[_upstreamHeader] = variant.Name;
        }
        Route(context, index);
        return new ValueTask<bool>(true);
    }

    /// <summary>Requests assigned to each variant, <c>variant:&lt;name&gt;</c>, whatever assigned them (a draw, stickiness, an override).</summary>
    public IReadOnlyDictionary<string, long> Counters =>
        _options.Variants.Select((variant, i) => (Name: "variant:" + variant.Name, Count: Interlocked.Read(ref _assigned[i])))
            .ToDictionary(counter => counter.Name, counter => counter.Count, StringComparer.Ordinal);

    public void OnResponse(PluginContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        // The variant is what the request step put in vars (a later stage may have changed it: the client is told that).
        if (response.HasStarted || !context.Vars.TryGetValue(_var, out var value) || value is not string variant)
        {
            return;
        }
        if (_responseHeader is not null)
        {
            response.Headers[_responseHeader] = variant;
        }
        if (_cookie is not null && !TryOverride(context.HttpContext.Request, out _) && KeptByCookie(context.HttpContext.Request) is null)
        {
            // Assigned on this request: the client keeps it from now on.
            response.Headers.Append(HeaderNames.SetCookie, _cookie + "=" + variant + _cookieSuffix);
        }
    }

    private int Assign(PluginContext context)
    {
        var request = context.HttpContext.Request;
        if (TryOverride(request, out var forced))
        {
            return forced;
        }
        if (_cookie is not null)
        {
            return KeptByCookie(request) ?? _picker.PickRandom();
        }
        var key = _options.Sticky!.Header is { } header
            ? request.Headers[header].ToString()
            : context.Vars.TryGetValue(_options.Sticky.Var!, out var value) ? value?.ToString() ?? string.Empty : string.Empty;
        // No key to hash (an anonymous client): a random variant for this request only.
        return key.Length == 0 ? _picker.PickRandom() : _picker.Pick(key);
    }

    private bool TryOverride(HttpRequest request, out int index)
    {
        index = -1;
        if (_options.Override is not { } forced)
        {
            return false;
        }
        var named = forced.Header is not null ? request.Headers[forced.Header].ToString() : string.Empty;
        if (named.Length == 0 && forced.Query is not null)
        {
            named = request.Query[forced.Query].ToString();
        }
        return named.Length > 0 && _byName.TryGetValue(named, out index);
    }

    private int? KeptByCookie(HttpRequest request) =>
        request.Cookies.TryGetValue(_cookie!, out var kept) && _byName.TryGetValue(kept, out var index) ? index : null;

    private static Func<UpstreamDestination, bool> InGroup(IReadOnlyDictionary<string, string> group)
    {
        // Flattened once, so testing a destination allocates no enumerator or closure per request.
        var required = group.ToArray();
        return destination =>
        {
            foreach (var (key, expected) in required)
            {
                if (!destination.Metadata.TryGetValue(key, out var value) || value != expected)
                {
                    return false;
                }
            }
            return true;
        };
    }

    private void Route(PluginContext context, int index)
    {
        if (_inGroup[index] is not { } inGroup)
        {
            context.ChooseCluster(_options.Variants[index].Cluster!);
            return;
        }
        // A variant whose destinations are all down does not take the route down: its requests go to the others.
        var candidates = context.Destinations;
        var any = false;
        for (var i = 0; i < candidates.Count && !any; i++)
        {
            any = inGroup(candidates[i]);
        }
        if (any)
        {
            context.NarrowDestinations(inGroup);
        }
    }
}
