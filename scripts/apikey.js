// Requires an API key from config; 401 otherwise. The key never goes upstream; the consumer's name does.
//   { "script": "scripts/apikey.js", "routes": ["api"],
//     "config": { "header": "x-api-key", "keys": { "demo": "${env:DEMO_API_KEY}" } } }
// For hashed keys, several schemes and constant-time comparison, use the Auth plugin.

function onRequest(ctx) {
  const header = ctx.config.header ?? 'x-api-key';
  const presented = ctx.request.headers.get(header);
  const consumer = presented === null
    ? undefined
    : Object.keys(ctx.config.keys).find(name => ctx.config.keys[name] === presented);
  if (consumer === undefined) {
    ctx.respond(401, { title: 'Unauthorized', status: 401, detail: `a valid ${header} header is required` }, {
      'content-type': 'application/problem+json',
      'www-authenticate': `ApiKey header="${header}"`,
    });
    return;
  }
  ctx.request.headers.remove(header);
  ctx.request.headers.set('x-consumer', consumer);
  ctx.vars.consumer = consumer;
}
