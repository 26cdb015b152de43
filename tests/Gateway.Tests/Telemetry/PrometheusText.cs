using System.Globalization;
using System.Text;

namespace Gateway.Tests.Telemetry;

/// <summary>One sample of the Prometheus text exposition format: a metric name, its labels and its value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>Parses a scrape the way Prometheus does (format 0.0.4): comments skipped, label values unescaped.</summary>
    /// <exception cref="FormatException">A line is not a sample.</exception>
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var nameEnd = line.IndexOfAny(['{', ' ']);
            var name = line[..nameEnd];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            var at = nameEnd;
            if (line[at] == '{')
            {
                at++;
                while (line[at] != '}')
                {
                    var equals = line.IndexOf('=', at);
                    var key = line[at..equals];
                    at = equals + 2; // past ="
                    var value = new StringBuilder();
                    for (; line[at] != '"'; at++)
                    {
                        value.Append(line[at] == '\\' ? line[++at] switch { 'n' => '\n', var escaped => escaped } : line[at]);
                    }
                    labels[key] = value.ToString();
                    at++;
                    if (line[at] == ',')
                    {
                        at++;
                    }
                }
                at++;
            }
            var fields = line[at..].Trim().Split(' ');
            var number = fields[0] switch { "+Inf" => double.PositiveInfinity, "-Inf" => double.NegativeInfinity, "NaN" => double.NaN, var v => double.Parse(v, CultureInfo.InvariantCulture) };
            samples.Add(new PrometheusSample(name, labels, number));
        }
        return samples;
    }
}
