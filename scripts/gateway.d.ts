// The API a gateway script gets. Reference it from a script for editor completion:
//   /// <reference path="./gateway.d.ts" />
//
// A script is a plain (non-module) JavaScript file, run in strict mode, that defines onRequest(ctx), onResponse(ctx)
// or both, as function declarations or top-level consts. It is compiled once per reload; its top level runs once per
// engine, and the gateway keeps a small pool of engines per script entry.
//
// What survives between requests: nothing a request can change. After the top level has run, the global object,
// every built-in (Object.prototype, Array.prototype, the iterator and async-function prototypes, ...), every top-level
// function and const, ctx and its functions, and everything reachable from them are frozen; assigning to them throws a
// TypeError. Top-level `let` and `class` are rejected at reload. Per-request state goes in ctx.vars. The legacy
// RegExp.$1..$9, RegExp.input and RegExp.lastMatch are absent (they held the last match, whoever made it). A top-level
// global or sticky regular expression works as usual; its lastIndex is set back to 0 before every call. Two things
// cannot be frozen and are kept per engine, so a request may or may not see another's changes to them: the contents of
// Map/Set objects created at the top level, and variables captured by closures created at the top level. Use them only
// as caches of values that are the same for every request, never for request data.
//
// Sandbox: no CLR access, no file system, no network, no timers, no eval/Function/string compilation, no binary
// buffers (ArrayBuffer, typed arrays, DataView, Atomics), no WeakRef/FinalizationRegistry, no ShadowRealm, no
// Intl.ListFormat. Each call is bounded by Gateway:Scripts (Timeout 50 ms, MaxStatements 100000, MaxMemoryBytes 4 MiB,
// MaxRecursionDepth 64, MaxArraySize 100000, RegexTimeout 20 ms); deeper native recursion (through built-ins,
// getters, Proxy traps or a deeply nested value) is stopped before the stack runs out, and the built-ins that build a
// string of a size an argument or a count of parts decides (repeat, padStart, padEnd, join, concat, String.raw,
// replace, replaceAll, JSON.stringify) refuse one that would not fit in what the call has left. A call that throws or
// breaches a bound fails that request with a 500 problem response and a log line naming the script, line and column;
// an engine that breached a bound is discarded. A hook that throws or breaches a bound on the reload's warm-up request
// (GET / on host warm-up.invalid, route and cluster "warm-up", no candidates) rejects the reload.
//
// Promises: a hook may be async or return a promise. The jobs a call queues (the code after an await, .then
// callbacks) run as soon as the hook returns, within the same call's bounds and before the request goes on. There are
// no timers or I/O, so the hook's promise must have settled by then: one still pending, or rejected, fails the request.

/** A request's headers or a response's headers. Names are case-insensitive. */
interface GatewayHeaders {
  /** The header's value, several values joined with ", "; null when absent. */
  get(name: string): string | null;
  has(name: string): boolean;
  /** Replaces every value of the header. Names must be HTTP tokens; values must not contain CR, LF or NUL. */
  set(name: string, value: string | number | boolean): void;
  /** Adds a value, keeping existing ones (e.g. a second set-cookie). */
  append(name: string, value: string | number | boolean): void;
  remove(name: string): void;
}

interface GatewayQuery {
  /** The first value of the query parameter; null when absent. */
  get(name: string): string | null;
  has(name: string): boolean;
  /** onRequest only: replaces the parameter in the query string sent upstream. */
  set(name: string, value: string | number | boolean): void;
  /** onRequest only: removes the parameter from the query string sent upstream. */
  remove(name: string): void;
  /** The query string as it will go upstream, with its leading "?", or "". */
  toString(): string;
}

interface GatewayCookies {
  /** The request cookie's value; null when absent. */
  get(name: string): string | null;
  has(name: string): boolean;
}

interface GatewayRequest {
  readonly method: string;
  /** The request path; in onRequest, assigning a path starting with "/" rewrites the path sent upstream. */
  path: string;
  readonly query: GatewayQuery;
  /** In onRequest, changes go upstream. */
  readonly headers: GatewayHeaders;
  /** The Host header's value, e.g. "example.com:8080". */
  readonly host: string;
  /** "http" or "https", as the client connected. */
  readonly scheme: string;
  /** The client's address as the gateway sees it (no X-Forwarded-For parsing); null if unknown. */
  readonly clientIp: string | null;
  readonly cookies: GatewayCookies;
}

/** onResponse only: the upstream's answer, not yet sent; changes go to the client. */
interface GatewayResponse {
  status: number;
  readonly headers: GatewayHeaders;
}

/** onRequest only: where the request may go. */
interface GatewayUpstream {
  /** The ids of the matched cluster's healthy destinations still in play (a new array on each read). */
  readonly candidates: string[];
  /** Pins the request to that destination; false (changing nothing) if it is not a candidate. */
  choose(destinationId: string): boolean;
}

/** Values vars carry: C# plugins see string, double, bool or null. Other values from C# arrive as their text. */
type GatewayVar = string | number | boolean | null;

interface GatewayContext {
  /** The matched route's id (ReverseProxy:Routes). */
  readonly route: string;
  /** The matched cluster's id. */
  readonly cluster: string;
  /** This entry's "config" from plugins.json (deep-frozen), {} when it has none. */
  readonly config: any;
  /** The per-request bag shared by every stage, C# plugins included. Assigning an object or function throws. */
  readonly vars: Record<string, GatewayVar>;
  readonly request: GatewayRequest;
  readonly response: GatewayResponse;
  readonly upstream: GatewayUpstream;
  /**
   * onRequest only: answers now, and no upstream call is made (later stages do not run; earlier ones unwind).
   * A string body is sent as text/plain, any other value as JSON; headers may set content-type.
   */
  respond(status: number, body?: unknown, headers?: Record<string, string | number | boolean>): void;
  /** Writes an information-level log line tagged with the script and route. */
  log(message: unknown): void;
}

/** Runs before the request goes upstream, at the entry's place in the pipeline. */
declare function onRequest(ctx: GatewayContext): void | Promise<void>;

/** Runs after the upstream's status and headers are in, before they are sent to the client. */
declare function onResponse(ctx: GatewayContext): void | Promise<void>;
