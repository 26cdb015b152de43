/// <reference path="./gateway.d.ts" />
// A Gateway hook. Put it in the gateway's scripts/ folder, add
//   { "script": "scripts/my-hook.js", "config": { "tag": "blue" } }
// to plugins.json and POST /admin/reload. gateway.d.ts (beside it) is the API each hook gets, for your editor.

/** @param {GatewayContext} ctx */
function onRequest(ctx) {
  ctx.request.headers.set('x-my-hook', ctx.config.tag ?? 'on');
}

/** @param {GatewayContext} ctx */
function onResponse(ctx) {
  ctx.response.headers.set('x-my-hook', ctx.config.tag ?? 'on');
}
