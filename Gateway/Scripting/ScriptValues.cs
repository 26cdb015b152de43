using System.Globalization;
using System.Text.Json;
using Jint;
using Jint.Native;
using Jint.Runtime;

namespace Gateway.Scripting;

/// <summary>Conversions between the values C# stages and scripts exchange.</summary>
internal static class ScriptValues
{
    /// <summary>A <c>vars</c> value as a script sees it: strings, numbers, booleans and null; anything else as its text.</summary>
    public static JsValue ToScript(object? value) => value switch
    {
        null => JsValue.Null,
        string text => new JsString(text),
        bool flag => flag ? JsBoolean.True : JsBoolean.False,
        double number => new JsNumber(number),
        int number => new JsNumber(number),
        long number => new JsNumber(number),
        float number => new JsNumber(number),
        decimal number => new JsNumber((double)number),
        IFormattable formattable => new JsString(formattable.ToString(null, CultureInfo.InvariantCulture)),
        _ => new JsString(value.ToString() ?? string.Empty),
    };

    /// <summary>A script's <c>vars</c> value as C# stages see it: string, double, bool or null.</summary>
    /// <returns>False for objects, functions and symbols, which <c>vars</c> does not carry.</returns>
    public static bool TryFromScript(JsValue value, out object? result)
    {
        switch (value.Type)
        {
            case Types.String:
                result = value.AsString();
                return true;
            case Types.Number:
                result = value.AsNumber();
                return true;
            case Types.Boolean:
                result = value.AsBoolean();
                return true;
            case Types.Null:
            case Types.Undefined:
                result = null;
                return true;
            default:
                result = null;
                return false;
        }
    }

    /// <summary>Builds a JavaScript value from JSON, for an entry's <c>config</c>; done once per engine.</summary>
    public static JsValue FromJson(Engine engine, JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => FromJsonObject(engine, element),
        JsonValueKind.Array => new JsArray(engine, element.EnumerateArray().Select(item => FromJson(engine, item)).ToArray()),
        JsonValueKind.String => new JsString(element.GetString()!),
        JsonValueKind.Number => new JsNumber(element.GetDouble()),
        JsonValueKind.True => JsBoolean.True,
        JsonValueKind.False => JsBoolean.False,
        _ => JsValue.Null,
    };

    private static JsObject FromJsonObject(Engine engine, JsonElement element)
    {
        var result = new JsObject(engine);
        foreach (var property in element.EnumerateObject())
        {
            result.FastSetDataProperty(property.Name, FromJson(engine, property.Value));
        }
        return result;
    }

    /// <summary>Text for a header or body value; what <c>String(value)</c> gives in JavaScript.</summary>
    public static string ToText(JsValue value) => TypeConverter.ToString(value);
}
