namespace Gateway.Scripting;

/// <summary>A script cannot serve: unreadable, outside the scripts folder, not valid JavaScript, or failing at load.</summary>
internal sealed class ScriptLoadException(string message, Exception? inner = null) : Exception(message, inner);
