// The admin page: every call is the documented admin API on the listener that served the page, with the key the
// operator typed (kept in this tab's session storage, never in a URL or a cookie). Text from the gateway is always
// set as text, never as markup.
'use strict';

const keyName = 'gateway-admin-key';
const refreshEveryMs = 5000;
let key = sessionStorage.getItem(keyName);
let timer = null;

const byId = id => document.getElementById(id);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function fill(tableId, rows) {
  const body = byId(tableId).tBodies[0];
  body.replaceChildren(...rows.map(cells => {
    const tr = document.createElement('tr');
    tr.append(...cells);
    return tr;
  }));
}

function say(text) {
  byId('status').textContent = text;
}

async function call(method, path, body) {
  const headers = { Authorization: 'Bearer ' + key };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit',
  });
  if (response.status === 401) {
    forget('The key was refused.');
    throw new Error('unauthorized');
  }
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: type.includes('json') ? await response.json() : null };
}

async function showHealth() {
  const response = await fetch('/healthz', { cache: 'no-store', credentials: 'omit' });
  const health = await response.json();
  byId('health').textContent = health.status;
  byId('health').className = health.status;
  byId('cache').textContent = `${health.cache.kind}: ${health.cache.status}` + (health.cache.error ? ` (${health.cache.error})` : '');
  byId('cache').className = health.cache.status;
}

function showPipeline(pipeline) {
  byId('generation').textContent = pipeline.generation;
  byId('retiring').textContent = pipeline.retiring;
  fill('entries', pipeline.entries.map(entry => [
    cell(entry.index, 'number'),
    cell(entry.kind),
    cell(entry.name + (entry.enabled ? '' : ' (disabled)')),
    cell(entry.version ?? entry.hash),
    cell(entry.routes ? entry.routes.join(', ') : 'all'),
    cell(entry.calls, 'number'),
    cell(entry.errors, entry.errors > 0 ? 'number rejected' : 'number'),
    cell(entry.timeSpentMs.toFixed(1), 'number'),
    cell(entry.lastError),
  ]));
}

function purgeButton(route) {
  const td = document.createElement('td');
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Purge';
  button.addEventListener('click', () => purge(route));
  td.append(button);
  return td;
}

function showRoutes(routes) {
  fill('routes', routes.routes.map(route => [
    cell(route.id),
    cell(route.cluster),
    cell(route.path),
    cell(route.hosts ? route.hosts.join(', ') : ''),
    purgeButton(route.id),
  ]));
}

function showClusters(clusters) {
  fill('clusters', clusters.clusters.flatMap(cluster => cluster.destinations.map((destination, i) => [
    cell(i === 0 ? `${cluster.id} (${cluster.available} available)` : ''),
    cell(destination.id),
    cell(destination.address),
    cell(destination.active, destination.active),
    cell(destination.passive, destination.passive),
    cell(destination.inFlight, 'number'),
  ])));
}

// A node's hash is long; its first characters tell nodes apart, the whole is in the tooltip.
function hashCell(hash) {
  const td = cell(hash ? hash.replace('sha256:', '').slice(0, 12) : '', 'hash');
  td.title = hash ?? '';
  return td;
}

// Hidden on a node without a cluster (404); Redis not answering (503) is said in the section.
function showCluster(cluster) {
  byId('cluster').hidden = cluster.status === 404;
  byId('reload-cluster').hidden = cluster.status === 404;
  if (cluster.status !== 200) {
    byId('cluster-status').textContent = cluster.status === 404 ? '' : cluster.body?.title ?? `Status ${cluster.status}`;
    return;
  }
  const drifting = cluster.body.nodes.filter(node => node.drift).length;
  byId('cluster-status').textContent = `${cluster.body.nodes.length} nodes; this is ${cluster.body.node}; `
    + (drifting === 0 ? 'all serve the same pipeline.' : `${drifting} serve another pipeline than most.`);
  fill('nodes', cluster.body.nodes.map(node => [
    cell(node.node),
    cell(node.version),
    cell(node.generation, 'number'),
    hashCell(node.pipelineHash),
    cell(node.healthy ? 'healthy' : node.status, node.healthy ? 'healthy' : 'degraded'),
    cell(node.lastReload ? `${node.lastReload.outcome} ${new Date(node.lastReload.at).toLocaleTimeString()}` : '',
      node.lastReload?.outcome),
    cell(node.drift ? 'drift' : '', node.drift ? 'rejected' : ''),
  ]));
}

function errorText(error) {
  return (error.entry ? `${error.entry} at ` : '') + `${error.path}: ${error.message}`;
}

function showReloads(reloads) {
  fill('reloads', reloads.reloads.map(reload => [
    cell(new Date(reload.at).toLocaleString()),
    cell(reload.outcome, reload.outcome),
    cell(reload.generation, 'number'),
    cell(reload.errors.map(errorText).join('\n')),
  ]));
}

async function refresh() {
  try {
    const [pipeline, routes, clusters, reloads, cluster] = await Promise.all([
      call('GET', '/admin/pipeline'), call('GET', '/admin/routes'), call('GET', '/admin/clusters'), call('GET', '/admin/reloads'),
      call('GET', '/admin/cluster'),
    ]);
    if (pipeline.status === 200) showPipeline(pipeline.body);
    showRoutes(routes.body);
    showClusters(clusters.body);
    showReloads(reloads.body);
    showCluster(cluster);
    await showHealth();
    say('Updated ' + new Date().toLocaleTimeString());
  } catch (error) {
    if (error.message !== 'unauthorized') say('Could not reach the admin API: ' + error.message);
  }
}

function showErrors(errors) {
  byId('reload-errors').replaceChildren(...errors.map(error => {
    const li = document.createElement('li');
    li.textContent = errorText(error);
    return li;
  }));
  byId('reload-result').hidden = false;
}

// The outcome is said after the refresh, which would otherwise replace it with its own line.
async function reload() {
  say('Reloading…');
  const result = await call('POST', '/admin/reload');
  if (result.status === 200) {
    byId('reload-result').hidden = true;
  } else {
    showErrors(result.body?.errors ?? [{ path: String(result.status), message: result.body?.title ?? 'The reload failed.' }]);
  }
  await refresh();
  say(result.status === 200 ? `Generation ${result.body.generation} is serving.` : 'Reload rejected.');
}

// Every node reloads from its own files; the nodes that did not apply it are listed, with their errors.
async function reloadCluster() {
  say('Reloading every node…');
  const result = await call('POST', '/admin/reload?scope=cluster');
  const nodes = result.body?.nodes ?? [];
  const failed = nodes.filter(node => node.status !== 'applied');
  if (result.status === 200) {
    byId('reload-result').hidden = true;
  } else {
    showErrors(nodes.length === 0
      ? [{ path: String(result.status), message: result.body?.title ?? 'The cluster reload failed.' }]
      : failed.flatMap(node => node.errors.length === 0
        ? [{ path: node.node, message: node.status }]
        : node.errors.map(error => ({ ...error, path: `${node.node}: ${error.path}` }))));
  }
  await refresh();
  say(result.status === 200 ? `${nodes.length} nodes applied the reload.` : `${failed.length} of ${nodes.length} nodes did not apply the reload.`);
}

async function purge(route) {
  const result = await call('POST', '/admin/cache/purge', { route });
  say(result.status === 200
    ? `Purged route ${route} from ${result.body.stages.join(', ')}.`
    : `Route ${route}: ${result.body?.title ?? result.status}`);
}

function connect() {
  byId('key-form').hidden = true;
  byId('console').hidden = false;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, refreshEveryMs);
}

function forget(reason) {
  key = null;
  sessionStorage.removeItem(keyName);
  clearInterval(timer);
  byId('console').hidden = true;
  byId('key-form').hidden = false;
  byId('key').value = '';
  say('');
  if (reason) {
    byId('key').setCustomValidity(reason);
    byId('key').reportValidity();
  }
}

byId('key').addEventListener('input', () => byId('key').setCustomValidity(''));
byId('key-form').addEventListener('submit', async event => {
  event.preventDefault();
  key = byId('key').value.trim();
  const check = await call('GET', '/admin/pipeline').catch(() => null);
  if (check) {
    sessionStorage.setItem(keyName, key);
    connect();
  }
});
byId('reload').addEventListener('click', reload);
byId('reload-cluster').addEventListener('click', reloadCluster);
byId('refresh').addEventListener('click', refresh);
byId('forget').addEventListener('click', () => forget());

showHealth();
if (key) connect();
