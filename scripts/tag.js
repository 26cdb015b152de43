// Tags each request on its way upstream and each response on its way back with a value from config.
//   { "script": "scripts/tag.js", "config": { "tag": "blue" } }

function onRequest(ctx) {
  ctx.request.headers.set('x-gateway-tag', ctx.config.tag);
}

function onResponse(ctx) {
  ctx.response.headers.set('x-gateway-tag', ctx.config.tag);
}
