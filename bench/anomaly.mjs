// `npm run bench -- --anomaly`: what behavioural baselines cost a tool call. Two servers on workerd (Miniflare API, the
// deployable bundle), ANOMALY_ENABLED=true and =false, measured in interleaved slices in one run; plus the engine's CPU per call.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as keys from '../bin/lib/keys.mjs';
import { DEFAULT_SETTINGS, newBaseline, observe, score } from '../src/security/baseline/index.ts';
import { freePort } from '../test/support/server.mjs';
import { buildWorker, loadTooling, startWorkerd } from './lib/workerd.mjs';
import { summarize } from './lib/load.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SLICES = Number(process.env.ANOMALY_BENCH_SLICES ?? 6);
const SLICE_MS = Number(process.env.ANOMALY_BENCH_SLICE_MS ?? 5000);
const CONNECTIONS = 4;
/** ANOMALY_BENCH_STATELESS=1: the same calls as stateless MCP 2026-07-28 requests (no session; the baseline is asked and fed per call). */
const STATELESS = process.env.ANOMALY_BENCH_STATELESS === '1';
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
/** The SQL an analyst-like agent repeats (constants: the statements are data for the engine, never run here). */
const SQL_HABIT = ['SELECT id, name FROM customers WHERE id = 7', 'SELECT id, status FROM orders WHERE customer_id = 7', 'SELECT id, subject FROM tickets WHERE status = 1'];

const say = (m) => process.stderr.write(`[bench:anomaly] ${m}\n`);

async function startOne(build, tooling, enabled) {
  const port = await freePort();
  const adminSecret = randomBytes(32).toString('base64url');
  const vars = { ADMIN_SECRET: adminSecret, ID_SECRET: String(keys.generateIdSecret()), OAUTH_SIGNING_KEY: await keys.generateSigningKey(), ANOMALY_ENABLED: enabled ? 'true' : 'false' };
  const handle = await startWorkerd({ root: ROOT, scriptPath: build.scriptPath, port, tooling, vars });
  const created = await fetch(`${handle.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminSecret}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: 'Bench Agent', owner: 'bench', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1_000_000, per_seconds: 86_400 } }) });
  if (created.status !== 201) throw new Error(`key creation answered ${created.status}`);
  const { key } = await created.json();
  const sessions = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (STATELESS) {
      sessions.push({ ...headers, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get_customer' });
      continue;
    }
    const init = await fetch(`${handle.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) });
    await init.text();
    sessions.push({ ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' });
  }
  return { url: handle.url, sessions, dispose: handle.dispose, enabled };
}

/** Every connection calls get_customer back to back for `ms`; returns the latencies and calls answered. */
async function slice(server, ms) {
  const until = performance.now() + ms;
  const samples = [];
  let id = 1;
  await Promise.all(server.sessions.map(async (headers) => {
    while (performance.now() < until) {
      const t = performance.now();
      const r = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 1 + (id % 50) }, ...(STATELESS ? { _meta: ENVELOPE } : {}) } }) });
      const text = await r.text();
      if (r.status !== 200 || text.includes('"error"')) throw new Error(`tool call answered ${r.status}: ${text.slice(0, 200)}`);
      samples.push(performance.now() - t);
    }
  }));
  return samples;
}

/** The engine's CPU per call (score + observe, what a session adds), on a principal with a realistic history, in this process. */
function engineCpu() {
  const state = newBaseline(DEFAULT_SETTINGS);
  let at = Date.parse('2026-11-02T09:00:00Z');
  const call = (i) => ({ at: (at += 20_000), tool: i % 3 === 0 ? 'find_customers' : i % 3 === 1 ? 'get_customer' : 'sql_select', args: i % 3 === 0 ? { query: 'Smith', limit: 20 } : i % 3 === 1 ? { customer_id: 1 + (i % 97) } : { sql: SQL_HABIT[i % SQL_HABIT.length] }, status: 'ok', rows: i % 3 === 1 ? 1 : 12, bytes: 800, ip: '198.51.100.7', userAgent: 'agent/1.0' });
  for (let i = 0; i < 3000; i++) observe(state, call(i), DEFAULT_SETTINGS, 'agent');
  const n = 20_000;
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const c = call(i);
    score(state, c, DEFAULT_SETTINGS);
    observe(state, c, DEFAULT_SETTINGS, 'agent');
  }
  const used = process.cpuUsage(start);
  return { calls: n, microsecondsPerCall: Math.round(((used.user + used.system) / n) * 10) / 10, stateBytes: JSON.stringify(state).length };
}

export async function main() {
  say('bundling the Worker (wrangler deploy --dry-run)');
  const tooling = await loadTooling(ROOT);
  const build = await buildWorker(ROOT);
  const servers = [];
  try {
    servers.push(await startOne(build, tooling, true), await startOne(build, tooling, false));
    const [on, off] = servers;
    say(`warming up, then ${SLICES} interleaved slices of ${SLICE_MS} ms per side, ${CONNECTIONS} connections`);
    await slice(on, 2000);
    await slice(off, 2000);
    const samples = { on: [], off: [] };
    const durations = { on: 0, off: 0 };
    for (let i = 0; i < SLICES; i++) {
      for (const side of i % 2 === 0 ? ['on', 'off'] : ['off', 'on']) {
        const t = performance.now();
        samples[side].push(...(await slice(side === 'on' ? on : off, SLICE_MS)));
        durations[side] += performance.now() - t;
      }
    }
    const s = { on: summarize(samples.on), off: summarize(samples.off) };
    const rps = { on: samples.on.length / (durations.on / 1000), off: samples.off.length / (durations.off / 1000) };
    const cpu = engineCpu();
    const report = {
      runtime: 'workerd direct (Miniflare API)',
      tool: `get_customer (embedded), API key, audit on, ${STATELESS ? 'stateless 2026-07-28' : '2025-11-25 session'}`,
      slices: SLICES,
      sliceMs: SLICE_MS,
      connections: CONNECTIONS,
      on: { ...s.on, calls: samples.on.length, rps: Math.round(rps.on) },
      off: { ...s.off, calls: samples.off.length, rps: Math.round(rps.off) },
      ratio: { p50: +(s.on.p50 / s.off.p50).toFixed(2), p99: +(s.on.p99 / s.off.p99).toFixed(2), throughput: +(rps.on / rps.off).toFixed(2) },
      engineCpu: cpu,
    };
    // workerd's log lines (audit events) go to stdout; the report goes to stderr, whole, after them.
    process.stderr.write(`${JSON.stringify(report, null, 2)}\n`);
    say(`p50 ${report.on.p50} / ${report.off.p50} ms = ${report.ratio.p50}×; p99 ${report.on.p99} / ${report.off.p99} ms = ${report.ratio.p99}×; throughput ${report.ratio.throughput}×; engine ${cpu.microsecondsPerCall} µs CPU per call (score + observe)`);
  } finally {
    for (const server of servers) await server.dispose().catch(() => {});
    build.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
