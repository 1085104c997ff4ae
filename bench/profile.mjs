// `npm run bench -- --profile`: V8 CPU profiles of this Worker on workerd (Miniflare, inspector on) while it serves
// OAuth tools/call, API-key tools/call and new sessions; self time grouped by the source module it was spent in.
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort } from '../test/support/server.mjs';
import { bearerHeader, startUpstream } from './lib/auth.mjs';
import { closeSession, expectResult, openLoad, openSession, callTool } from './lib/load.mjs';
import { callToolModern } from './lib/modern.mjs';
import { buildWorker, loadTooling, startWorkerd } from './lib/workerd.mjs';

/** The profiler's sampling interval, and the most one sample may count for (µs). */
const SAMPLE_US = 250;
const SAMPLE_CAP_US = 4 * SAMPLE_US;
const VARS = { ENABLE_BENCH_FLOOR: 'true', ENABLE_CONFORMANCE_PACK: 'true', ACCESS_TOKEN_TTL_SECONDS: '86400' };

/** A minimal Chrome DevTools Protocol client over the global WebSocket. */
async function cdp(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector ${url} refused the connection`)), { once: true });
  });
  let next = 1;
  const waiting = new Map();
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(String(event.data));
    if (msg.id && waiting.has(msg.id)) {
      const { resolve, reject } = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) reject(new Error(msg.error.message));
      else resolve(msg.result);
    }
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Line → source module of an esbuild bundle (esbuild writes `// path/to/module.ts` before each module). */
function moduleMap(bundle) {
  const lines = bundle.split('\n');
  const starts = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs|json))$/.exec(lines[i]);
    if (m) starts.push({ line: i, module: m[1].includes('node_modules/') ? m[1].slice(m[1].indexOf('node_modules/')) : m[1].replace(/^(\.\.\/)+/, '') });
  }
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = '(bundle prelude)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid].line <= line) {
        found = starts[mid].module;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** The part of the stack a module belongs to. */
function stage(module, fn) {
  if (fn.startsWith('(')) return fn; // (garbage collector), (program), (idle)
  if (module === '(native)') {
    if (['exec', 'one', 'toArray', 'next', 'raw', 'columnNames'].includes(fn)) return 'native: SQLite (storage.sql)';
    if (['setAlarm', 'getAlarm', 'deleteAlarm', 'blockConcurrencyWhile', 'transactionSync'].includes(fn)) return 'native: Durable Object storage (alarms, gates)';
    if (['verify', 'sign', 'digest', 'importKey'].includes(fn)) return 'native: WebCrypto';
    if (['Request', 'Response', 'Headers', 'URL', 'ReadableStream', 'read', 'enqueue', 'close', 'getReader', 'get', 'idFromName', 'fetch'].includes(fn)) return 'native: HTTP objects, streams, stubs';
    return 'native: other';
  }
  const rules = [
    [/node_modules\/jose\//, 'JWT (jose)'],
    [/node_modules\/zod\//, 'zod parsing'],
    [/node_modules\/@modelcontextprotocol\/sdk\/dist\/esm\/server\/(webStandardStreamableHttp|streamableHttp)/, 'SDK transport (streamable HTTP, SSE framing)'],
    [/node_modules\/@modelcontextprotocol\/sdk\//, 'SDK server and protocol'],
    [/node_modules\/(ajv|@cfworker\/json-schema)/, 'JSON Schema validation'],
    [/node_modules\//, 'other libraries'],
    [/^src\/http\/mcp-auth/, 'router: /mcp authentication'],
    [/^src\/http\//, 'router: HTTP gate and endpoints'],
    [/^src\/auth\//, 'auth helpers (ids, keys)'],
    [/^src\/audit\//, 'audit (events, redaction)'],
    [/^durable\/audit-outbox/, 'audit outbox (Durable Object)'],
    [/^durable\/session/, 'session Durable Object'],
    [/^durable\/api-key/, 'API key Durable Object'],
    [/^src\/mcp\//, 'MCP server factory and messages'],
    [/^src\/security\//, 'security (integrity, scanning)'],
    [/^src\/tools\//, 'tools'],
    [/^src\//, 'other src'],
    [/^durable\//, 'other Durable Objects'],
  ];
  return rules.find(([re]) => re.test(module))?.[1] ?? module;
}

/** Self time (ms) per stage and per module from a V8 CPU profile. */
function summarize(profile, lineToModule, scriptUrl) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  // A gap between two samples longer than a few intervals is the process waiting for a CPU on the shared machine
  // (or a blocking wait), not time spent where the sample landed: each sample counts at most SAMPLE_CAP_US.
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + Math.min(dt[i] ?? 0, SAMPLE_CAP_US) / 1000);
  const stages = new Map();
  const modules = new Map();
  for (const [id, ms] of self) {
    const f = byId.get(id).callFrame;
    const module = f.url === scriptUrl || path.basename(f.url) === 'index.js' ? lineToModule(f.lineNumber) : f.url === '' ? '(native)' : f.url;
    const s = stage(module, f.functionName);
    stages.set(s, (stages.get(s) ?? 0) + ms);
    const key = `${module} ${f.functionName || '(anonymous)'}`;
    modules.set(key, (modules.get(key) ?? 0) + ms);
  }
  const sort = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 10) / 10]);
  return { stages: sort(stages), functions: sort(modules).slice(0, 25) };
}

/** Profiles each workload for `durationMs`; prints per-request self time per stage; writes bench/results/profile-*.cpuprofile. */
export async function profileMain({ root, opts, signal, say, cleanups }) {
  const durationMs = Math.round(Number(opts.duration) * 1000);
  const connections = Number(opts.connections);
  const tooling = await loadTooling(root);
  const build = await buildWorker(root);
  cleanups.push({ name: 'build folder', fn: build.remove, sync: build.remove });
  const lineToModule = moduleMap(readFileSync(build.scriptPath, 'utf8'));
  const port = await freePort();
  const inspectorPort = await freePort();
  const upstream = await startUpstream(port);
  cleanups.push({ name: 'OpenID provider', fn: upstream.stop });
  const adminSecret = randomBytes(32).toString('base64url');
  const server = await startWorkerd({ root, scriptPath: build.scriptPath, port, tooling, vars: { ...upstream.vars, ...VARS, ADMIN_SECRET: adminSecret }, inspectorPort, onLog: () => {} });
  cleanups.push({ name: 'workerd', fn: server.dispose });
  const auth = (await bearerHeader(server.url)).headers;
  const created = await (await fetch(`${server.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminSecret}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: 'profile', owner: 'profile', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1_000_000, per_seconds: 1 } }) })).json();
  const keyAuth = { authorization: `Bearer ${created.key}` };
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
  if (!target?.webSocketDebuggerUrl) throw new Error(`workerd's inspector lists no target: ${JSON.stringify(targets).slice(0, 300)}`);
  const inspector = await cdp(target.webSocketDebuggerUrl);
  cleanups.push({ name: 'inspector', fn: () => inspector.close() });
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: SAMPLE_US });
  say(`profiling ${target.title ?? target.url} on 127.0.0.1:${inspectorPort}; ${connections} connections, ${durationMs / 1000} s per workload`);

  const cheap = (client, headers, n) => callTool(client, headers, n + 1, 'test_simple_text', {}, signal);
  const workloads = [
    { key: 'floor', label: 'floor', iteration: async (client) => expectResult(await client.request('POST', '/_bench/floor', { headers: { 'content-type': 'application/json' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'floor', arguments: {} } } }), 1) },
    { key: 'oauth_call', label: 'tools/call (cheap tool), OAuth token', mcpHeaders: auth, setup: (c) => openSession(c, signal), teardown: (c, h) => closeSession(c, h), iteration: cheap },
    { key: 'key_call', label: 'tools/call (cheap tool), API key', mcpHeaders: keyAuth, setup: (c) => openSession(c, signal), teardown: (c, h) => closeSession(c, h), iteration: cheap },
    { key: 'session', label: 'new session (initialize + initialized + DELETE)', mcpHeaders: auth, iteration: async (c) => closeSession(c, await openSession(c, signal), signal) },
    { key: 'stateless_call', label: 'tools/call (cheap tool), stateless 2026-07-28, OAuth token', mcpHeaders: auth, iteration: (c, _h, n) => callToolModern(c, n + 1, 'test_simple_text', {}, signal) },
  ];
  const report = {};
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  for (const w of workloads) {
    const load = await openLoad({ baseUrl: server.url, connections, mcpHeaders: w.mcpHeaders, signal, setup: w.setup });
    try {
      await load.phase(1000, w.iteration);
      await inspector.send('Profiler.start');
      const phase = await load.phase(durationMs, w.iteration);
      const { profile } = await inspector.send('Profiler.stop');
      writeFileSync(path.join(root, `bench/results/profile-${w.key}.cpuprofile`), JSON.stringify(profile));
      const s = summarize(profile, lineToModule, build.scriptPath);
      const n = phase.latencies.length;
      const per = (ms) => Math.round((ms / n) * 1000) / 1000;
      report[w.key] = { label: w.label, iterations: n, errors: phase.errors.length, stagesMsPerIteration: s.stages.map(([k, v]) => [k, per(v)]), topFunctionsMs: s.functions };
      const busy = s.stages.filter(([k]) => k !== '(idle)').reduce((a, [, v]) => a + v, 0);
      report[w.key].busyMsPerIteration = per(busy);
      process.stdout.write(`\n${w.label}: ${n} iterations, ${phase.errors.length} errors; sampled thread time ${per(busy)} ms per iteration (idle excluded, profiler overhead included: read the shares)\n`);
      for (const [k, v] of s.stages) if (k !== '(idle)' && v / busy >= 0.005) process.stdout.write(`  ${k.padEnd(52)} ${((100 * v) / busy).toFixed(1).padStart(5)} %  ${per(v).toFixed(3)} ms\n`);
    } finally {
      await load.close(w.teardown);
    }
  }
  writeFileSync(path.join(root, 'bench/results/profile.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write('\nJSON: bench/results/profile.json; raw profiles: bench/results/profile-*.cpuprofile (open in Chrome DevTools)\n');
  return 0;
}
