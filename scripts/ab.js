// A/B split with a sticky cookie: a new client is assigned a variant by weight and keeps it on every later request.
//   { "script": "scripts/ab.js", "routes": ["api"], "config": {
//       "cookie": "ab", "maxAgeSeconds": 2592000,
//       "variants": [ { "name": "a", "destination": "api-1", "weight": 90 },
//                     { "name": "b", "destination": "api-2", "weight": 10 } ] } }
// The variant goes into ctx.vars.abVariant (for later stages) and the x-ab-variant response header.

function pick(variants) {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let roll = Math.random() * total;
  for (const v of variants) {
    roll -= v.weight;
    if (roll < 0) return v;
  }
  return variants[variants.length - 1];
}

function onRequest(ctx) {
  const variants = ctx.config.variants;
  const cookie = ctx.config.cookie ?? 'ab';
  const kept = ctx.request.cookies.get(cookie);
  let variant = variants.find(v => v.name === kept);
  if (variant === undefined) {
    variant = pick(variants);
    ctx.vars.abAssigned = true;
  }
  ctx.vars.abVariant = variant.name;
  if (!ctx.upstream.choose(variant.destination)) {
    // The variant's destination is down or unknown: the request still goes to a healthy one.
    ctx.log(`variant ${variant.name}: destination ${variant.destination} is not a candidate`);
  }
}

function onResponse(ctx) {
  ctx.response.headers.set('x-ab-variant', ctx.vars.abVariant);
  if (ctx.vars.abAssigned) {
    const cookie = ctx.config.cookie ?? 'ab';
    const maxAge = ctx.config.maxAgeSeconds ?? 2592000;
    ctx.response.headers.append('set-cookie', `${cookie}=${ctx.vars.abVariant}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax`);
  }
}
