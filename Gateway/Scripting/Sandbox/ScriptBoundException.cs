namespace Gateway.Scripting.Sandbox;

/// <summary>
/// A sandbox bound stopped a call: its statements, time or memory ran out, or a built-in refused to build a result
/// that would not fit. Not a JavaScript error, so no <c>catch</c> in the script can swallow it.
/// </summary>
internal sealed class ScriptBoundException(string message) : Exception(message);
