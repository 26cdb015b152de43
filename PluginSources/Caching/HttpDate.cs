using Microsoft.Extensions.Primitives;

namespace Gateway.Plugins.Caching;

/// <summary>
/// HTTP-date (RFC 9110 §5.6.7), strictly: IMF-fixdate (<c>Sun, 06 Nov 1994 08:49:37 GMT</c>), and the obsolete RFC 850
/// (<c>Sunday, 06-Nov-94 08:49:37 GMT</c>) and asctime (<c>Sun Nov  6 08:49:37 1994</c>) forms, exactly as the grammar
/// spells them: case-sensitive names, single spaces, two-digit hours. Anything else is not a date, so an
/// <c>Expires</c> that is not one means already expired and an <c>If-Modified-Since</c> that is not one is ignored.
/// </summary>
internal static class HttpDate
{
    private static readonly string[] Days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    private static readonly string[] LongDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>The field's date as Unix milliseconds; null when absent, on several lines, or not an HTTP-date.</summary>
    public static long? Parse(StringValues field) => field.Count == 1 && TryParse(field[0], out var date) ? date : null;

    /// <summary>Parses one HTTP-date; <paramref name="now"/> resolves an RFC 850 two-digit year (§5.6.7).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out long unixMilliseconds, DateTimeOffset? now = null)
    {
        unixMilliseconds = 0;
        int day, month, year;
        ReadOnlySpan<char> time;
        if (text.Length == 29 && text[3] == ',')
        {
            // IMF-fixdate: day-name "," SP 2DIGIT SP month SP 4DIGIT SP hh:mm:ss SP "GMT"
            if (!IsOneOf(text[..3], Days) || !Is(text[4..5], " ") || !TwoDigits(text[5..7], out day) || !Is(text[7..8], " ")
                || !Month(text[8..11], out month) || !Is(text[11..12], " ") || !FourDigits(text[12..16], out year)
                || !Is(text[16..17], " ") || !Is(text[25..], " GMT"))
            {
                return false;
            }
            time = text[17..25];
        }
        else if (text.Length == 24 && text[3] == ' ')
        {
            // asctime: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP hh:mm:ss SP 4DIGIT
            if (!IsOneOf(text[..3], Days) || !Month(text[4..7], out month) || !Is(text[7..8], " ")
                || !(TwoDigits(text[8..10], out day) || (text[8] == ' ' && OneDigit(text[9], out day)))
                || !Is(text[10..11], " ") || !Is(text[19..20], " ") || !FourDigits(text[20..], out year))
            {
                return false;
            }
            time = text[11..19];
        }
        else
        {
            // rfc850-date: day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP hh:mm:ss SP "GMT"
            var comma = text.IndexOf(',');
            if (comma < 0 || !IsOneOf(text[..comma], LongDays) || text.Length != comma + 24)
            {
                return false;
            }
            var rest = text[(comma + 1)..];
            if (!Is(rest[..1], " ") || !TwoDigits(rest[1..3], out day) || !Is(rest[3..4], "-") || !Month(rest[4..7], out month)
                || !Is(rest[7..8], "-") || !TwoDigits(rest[8..10], out var shortYear) || !Is(rest[10..11], " ") || !Is(rest[19..], " GMT"))
            {
                return false;
            }
            // A two-digit year more than 50 years ahead is the latest past year with those digits.
            var thisYear = (now ?? DateTimeOffset.UtcNow).Year;
            year = thisYear - (thisYear % 100) + shortYear;
            if (year > thisYear + 50)
            {
                year -= 100;
            }
            time = rest[11..19];
        }
        if (!TwoDigits(time[..2], out var hour) || time[2] != ':' || !TwoDigits(time[3..5], out var minute) || time[5] != ':'
            || !TwoDigits(time[6..8], out var second) || hour > 23 || minute > 59 || second > 60
            || day < 1 || day > DateTime.DaysInMonth(Math.Max(year, 1), month) || year < 1)
        {
            return false;
        }
        // A leap second (:60) is the last second of its minute.
        var date = new DateTimeOffset(year, month, day, hour, minute, Math.Min(second, 59), TimeSpan.Zero);
        unixMilliseconds = date.ToUnixTimeMilliseconds();
        return true;
    }

    private static bool Is(ReadOnlySpan<char> text, string expected) => text.SequenceEqual(expected);

    private static bool IsOneOf(ReadOnlySpan<char> text, string[] names)
    {
        foreach (var name in names)
        {
            if (text.SequenceEqual(name))
            {
                return true;
            }
        }
        return false;
    }

    private static bool Month(ReadOnlySpan<char> text, out int month)
    {
        for (month = 1; month <= Months.Length; month++)
        {
            if (text.SequenceEqual(Months[month - 1]))
            {
                return true;
            }
        }
        return false;
    }

    private static bool OneDigit(char c, out int value)
    {
        value = c - '0';
        return char.IsAsciiDigit(c);
    }

    private static bool TwoDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.Length != 2 || !OneDigit(text[0], out var tens) || !OneDigit(text[1], out var ones))
        {
            return false;
        }
        value = tens * 10 + ones;
        return true;
    }

    private static bool FourDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.Length != 4 || !TwoDigits(text[..2], out var high) || !TwoDigits(text[2..], out var low))
        {
            return false;
        }
        value = high * 100 + low;
        return true;
    }
}
