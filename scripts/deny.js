// Answers 403 for listed path prefixes or client IPs; nothing reaches the upstream.
//   { "script": "scripts/deny.js", "config": { "paths": ["/internal/", "/api/admin"], "clientIps": ["192.0.2.7"] } }

function onRequest(ctx) {
  const path = ctx.request.path;
  const deniedPath = (ctx.config.paths ?? []).some(prefix => path.startsWith(prefix));
  const deniedIp = (ctx.config.clientIps ?? []).includes(ctx.request.clientIp);
  if (deniedPath || deniedIp) {
    ctx.respond(403, { title: 'Forbidden', status: 403 }, { 'content-type': 'application/problem+json' });
  }
}
