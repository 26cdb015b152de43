// Tags each request on its way upstream and each response on its way back with a value from config.
//   { "script": "scripts/tag.js", "config": { "tag": "blue", "header": "x-gateway-tag" } }
const DEFAULT_HEADER = 'x-gateway-tag';

function onRequest(ctx) {
  ctx.request.headers.set(ctx.config.header ?? DEFAULT_HEADER, ctx.config.tag ?? 'untagged');
}

function onResponse(ctx) {
  ctx.response.headers.set(ctx.config.header ?? DEFAULT_HEADER, ctx.config.tag ?? 'untagged');
}
