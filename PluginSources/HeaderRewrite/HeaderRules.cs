using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Plugins.HeaderRewrite;

/// <summary>One side's rules, validated and compiled at load: remove, then rename, then set, then append.</summary>
internal sealed class HeaderRules
{
    private readonly string[] _remove;
    private readonly (string From, string To)[] _rename;
    private readonly (string Name, HeaderTemplate Value)[] _set;
    private readonly (string Name, HeaderTemplate Value)[] _append;

    private HeaderRules(string[] remove, (string, string)[] rename, (string, HeaderTemplate)[] set, (string, HeaderTemplate)[] append)
    {
        _remove = remove;
        _rename = rename;
        _set = set;
        _append = append;
    }

    /// <returns>Null when there is nothing to do on this side.</returns>
    public static HeaderRules? Create(HeaderRuleOptions? options, string path)
    {
        if (options is null)
        {
            return null;
        }
        var remove = (options.Remove ?? []).Select((name, i) => CheckName(name, $"{path}.remove[{i}]")).ToArray();
        var rename = (options.Rename ?? []).Select(pair => (CheckName(pair.Key, $"{path}.rename"), CheckName(pair.Value, $"{path}.rename.{pair.Key}"))).ToArray();
        var set = Templates(options.Set, $"{path}.set");
        var append = Templates(options.Append, $"{path}.append");
        return remove.Length + rename.Length + set.Length + append.Length == 0 ? null : new HeaderRules(remove, rename, set, append);
    }

    public void Apply(IHeaderDictionary headers, PluginContext context)
    {
        foreach (var name in _remove)
        {
            headers.Remove(name);
        }
        foreach (var (from, to) in _rename)
        {
            if (headers.Remove(from, out var values))
            {
                headers[to] = values;
            }
        }
        foreach (var (name, value) in _set)
        {
            headers[name] = value.Render(context);
        }
        foreach (var (name, value) in _append)
        {
            headers[name] = StringValues.Concat(headers[name], value.Render(context));
        }
    }

    private static (string, HeaderTemplate)[] Templates(Dictionary<string, string>? rules, string path) =>
        (rules ?? []).Select(pair => (CheckName(pair.Key, path), HeaderTemplate.Parse(pair.Value, $"{path}.{pair.Key}"))).ToArray();

    private static string CheckName(string name, string path)
    {
        if (string.IsNullOrEmpty(name) || name.Any(c => c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".Contains(c)))
        {
            throw new PluginConfigurationException(path, $"'{name}' is not a valid header name.");
        }
        return name;
    }
}
