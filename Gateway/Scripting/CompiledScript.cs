using System.Collections.Immutable;
using System.Security.Cryptography;
using Acornima;
using Acornima.Ast;
using Jint;

namespace Gateway.Scripting;

/// <summary>
/// A script file parsed and prepared once per reload; every engine of every entry that names the file runs this.
/// </summary>
internal sealed class CompiledScript
{
    private CompiledScript(string name, string hash, Prepared<Script> program, Prepared<Script> exports)
    {
        Name = name;
        Hash = hash;
        Program = program;
        Exports = exports;
    }

    /// <summary>The script's path as <c>plugins.json</c> writes it; how errors and logs name it.</summary>
    public string Name { get; }

    /// <summary><c>sha256:</c> and the hex digest of the file, so an operator can tell which edit is serving.</summary>
    public string Hash { get; }

    public Prepared<Script> Program { get; }

    /// <summary>
    /// Evaluates, on an engine that ran <see cref="Program"/>, to <c>[onRequest, onResponse, [top-level consts]]</c>:
    /// the hooks however they were declared, and the constants to freeze.
    /// </summary>
    public Prepared<Script> Exports { get; }

    /// <summary>Reads and prepares a script.</summary>
    /// <param name="name">The path as written in the pipeline file.</param>
    /// <param name="path">The resolved file.</param>
    /// <exception cref="ScriptLoadException">The file cannot be read, does not parse, or declares mutable top-level state.</exception>
    public static CompiledScript Compile(string name, string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ScriptLoadException(ex is FileNotFoundException or DirectoryNotFoundException
                ? $"script file not found: {path}"
                : $"cannot read {path}: {ex.Message}", ex);
        }

        Prepared<Script> program;
        try
        {
            program = Engine.PrepareScript(System.Text.Encoding.UTF8.GetString(bytes), name, strict: true);
        }
        catch (ScriptPreparationException ex) when (ex.InnerException is ParseErrorException parse)
        {
            throw new ScriptLoadException($"{name}:{parse.LineNumber}:{parse.Column + 1}: {parse.Description}", ex);
        }

        var constants = TopLevelConstants(name, program.Program!);
        var exports = Engine.PrepareScript(
            "[typeof onRequest === 'function' ? onRequest : undefined, "
            + "typeof onResponse === 'function' ? onResponse : undefined, "
            + $"[{string.Join(", ", constants)}]]",
            name + " (exports)",
            strict: true);
        return new CompiledScript(name, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)), program, exports);
    }

    // Top-level let and class bindings would carry a request's values into the next request on the same engine;
    // const and function bindings are frozen after the top level runs, so they cannot.
    private static ImmutableArray<string> TopLevelConstants(string name, Script script)
    {
        var constants = ImmutableArray.CreateBuilder<string>();
        foreach (var statement in script.Body)
        {
            switch (statement)
            {
                case VariableDeclaration { Kind: VariableDeclarationKind.Const } declaration:
                    foreach (var declarator in declaration.Declarations)
                    {
                        CollectBindings(declarator.Id, constants);
                    }
                    break;
                case VariableDeclaration { Kind: not VariableDeclarationKind.Var } declaration:
                    throw MutableTopLevel(name, declaration, declaration.Kind.ToString().ToLowerInvariant());
                case ClassDeclaration declaration:
                    throw MutableTopLevel(name, declaration, "class");
            }
        }
        return constants.ToImmutable();
    }

    private static ScriptLoadException MutableTopLevel(string name, Node node, string keyword) => new(
        $"{name}:{node.Location.Start.Line}:{node.Location.Start.Column + 1}: a top-level '{keyword}' would keep values "
        + "from one request to the next; use const (frozen after load) or ctx.vars (per request)");

    private static void CollectBindings(Node pattern, ImmutableArray<string>.Builder names)
    {
        switch (pattern)
        {
            case Identifier identifier:
                names.Add(identifier.Name);
                break;
            case ArrayPattern array:
                foreach (var element in array.Elements)
                {
                    if (element is not null)
                    {
                        CollectBindings(element, names);
                    }
                }
                break;
            case ObjectPattern obj:
                foreach (var property in obj.Properties)
                {
                    CollectBindings(property is AssignmentProperty assignment ? assignment.Value : property, names);
                }
                break;
            case AssignmentPattern assignment:
                CollectBindings(assignment.Left, names);
                break;
            case RestElement rest:
                CollectBindings(rest.Argument, names);
                break;
        }
    }
}
