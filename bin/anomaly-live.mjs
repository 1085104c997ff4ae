// `npm run anomaly:eval -- --live`: the live pass. Starts the real Worker on workerd (the deployable bundle, Miniflare API)
// with a learning period of seconds, drives agents through /mcp with API keys (normal habits, then injected attacks), and
// reads alerts where an operator would: the alert hub's WebSocket (GET /admin/alerts/live). Reports detection per attack,
// time from the attack's first call to the alert at the hub, and false alarms per 10,000 normal calls.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as keys from './lib/keys.mjs';
import { mulberry32 } from '../src/lib/seeded.ts';
import { freePort } from '../test/support/server.mjs';
import { buildWorker, loadTooling, startWorkerd } from '../bench/lib/workerd.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Peaks learn a day late (docs/anomaly.md), so in a run of minutes the rate floors (6 calls a minute) are the usual
// peak: habits stay near them, one call about every 10 s.
const LEARN_CALLS = 16;
const LEARN_GAP_MS = 10_000;
const NORMAL_AFTER_MS = 60_000;
const say = (m) => process.stderr.write(`[anomaly:live] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The SQL an analyst repeats (constants: data for the server's guarded SQL tool). */
const ANALYST_SQL = ['SELECT id, name FROM customers WHERE id = 7', 'SELECT id, status FROM orders WHERE customer_id = 7', 'SELECT id, subject FROM tickets WHERE status = 1'];
const NAMES = ['Smith', 'Jones', 'Garcia', 'Miller', 'Brown'];

/** One normal call of a habit. */
function normalCall(habit, rnd) {
  if (habit === 'analyst') return ['sql_select', { sql: ANALYST_SQL[Math.floor(rnd() * ANALYST_SQL.length)] }];
  const r = rnd();
  if (r < 0.4) return ['find_customers', { query: NAMES[Math.floor(rnd() * NAMES.length)] }];
  if (r < 0.8) return ['get_customer', { customer_id: 1 + Math.floor(rnd() * 60) * 3 }];
  return ['list_customer_orders', { customer_id: 1 + Math.floor(rnd() * 60) * 3 }];
}

/** The injected attacks: each a list of calls and the gap between them. */
const ATTACKS = {
  exfil_burst: { habit: 'support', gapMs: 150, calls: () => Array.from({ length: 40 }, (_, i) => ['get_customer', { customer_id: 1 + ((i * 7) % 180) }]) },
  enum_ids: { habit: 'support', gapMs: 1500, calls: () => Array.from({ length: 14 }, (_, i) => ['get_customer', { customer_id: 100 + i }]) },
  enum_tables: { habit: 'analyst', gapMs: 1500, calls: () => [['list_tables', {}], ['describe_table', { table: 'customers' }], ['sql_select', { sql: 'SELECT table_name FROM information_schema.tables' }]] },
  first_tool: { habit: 'support', gapMs: 1500, calls: () => [['sql_select', { sql: 'SELECT id, name FROM customers WHERE id = 9' }]] },
  new_args: { habit: 'support', gapMs: 1500, calls: () => [['list_customer_orders', { customer_id: 4, status: 'refunded', limit: 100 }]] },
  exfil_rows: { habit: 'analyst', gapMs: 1500, calls: () => [['sql_select', { sql: 'SELECT id, name FROM customers WHERE id > 0' }]] },
};

async function mcp(url, headers, id, name, args) {
  const r = await fetch(`${url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) });
  await r.text();
  return r.status;
}

async function agent(url, adminSecret, name) {
  const created = await fetch(`${url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminSecret}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: name, owner: 'eval', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 100_000, per_seconds: 3600 } }) });
  if (created.status !== 201) throw new Error(`key creation answered ${created.status}`);
  const { key, key_id: keyId } = await created.json();
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(`${url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name, version: '1' } } }) });
  await init.text();
  return { keyId, name, headers: { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' }, id: 1 };
}

export async function main() {
  say('bundling the Worker and starting it on workerd (learning: 15 calls, 45 s)');
  const tooling = await loadTooling(ROOT);
  const build = await buildWorker(ROOT);
  const port = await freePort();
  const adminSecret = randomBytes(32).toString('base64url');
  const vars = { ADMIN_SECRET: adminSecret, ID_SECRET: String(keys.generateIdSecret()), OAUTH_SIGNING_KEY: await keys.generateSigningKey(), ANOMALY_MIN_CALLS: '15', ANOMALY_MIN_LEARNING_SECONDS: '45', ANOMALY_TOOL_MIN_CALLS: '5', ANOMALY_POLICY: '{"tools":{}}' };
  const server = await startWorkerd({ root: ROOT, scriptPath: build.scriptPath, port, tooling, vars });
  const url = server.url;
  /** First time the hub showed an alert for each key (ms), and every alert seen. */
  const firstAlert = new Map();
  const alertsByKey = new Map();
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/admin/alerts/live`, { headers: { authorization: `Bearer ${adminSecret}` } });
  ws.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data));
    if (m.type !== 'cf_agent_state') return;
    for (const a of m.state.alerts) {
      const k = a.actor?.key_id;
      if (!k) continue;
      if (!firstAlert.has(k)) firstAlert.set(k, Date.now());
      alertsByKey.set(k, (alertsByKey.get(k) ?? new Map()).set(a.id, a));
    }
  });
  try {
    const rnd = mulberry32(11);
    const normals = [];
    for (let i = 0; i < 6; i++) normals.push({ habit: i % 3 === 2 ? 'analyst' : 'support', ...(await agent(url, adminSecret, `normal-${i}`)) });
    const attacked = [];
    for (const [kind, a] of Object.entries(ATTACKS)) attacked.push({ kind, habit: a.habit, ...(await agent(url, adminSecret, `target-${kind}`)) });
    const all = [...normals, ...attacked];
    let normalCalls = 0;
    let learnedAt = 0;
    say(`${all.length} agents learn: ${LEARN_CALLS} calls each, about one every ${LEARN_GAP_MS / 1000} s`);
    await Promise.all(all.map(async (p) => {
      for (let i = 0; i < LEARN_CALLS; i++) {
        const [tool, args] = normalCall(p.habit, rnd);
        await mcp(url, p.headers, p.id++, tool, args);
        normalCalls++;
        await sleep(LEARN_GAP_MS * (0.6 + 0.8 * rnd()));
      }
    }));
    learnedAt = Date.now();
    const alertsBeforeAttacks = new Set(firstAlert.keys());
    say(`learned; attacks on ${attacked.length} agents while ${normals.length} keep their habits for ${NORMAL_AFTER_MS / 1000} s`);
    const started = new Map();
    await Promise.all([
      ...normals.map(async (p) => {
        while (Date.now() - learnedAt < NORMAL_AFTER_MS) {
          const [tool, args] = normalCall(p.habit, rnd);
          await mcp(url, p.headers, p.id++, tool, args);
          normalCalls++;
          await sleep(LEARN_GAP_MS * (0.6 + 0.8 * rnd()));
        }
      }),
      ...attacked.map(async (p) => {
        const a = ATTACKS[p.kind];
        await sleep(2000 + rnd() * 5000);
        started.set(p.keyId, Date.now());
        for (const [tool, args] of a.calls()) {
          await mcp(url, p.headers, p.id++, tool, args);
          await sleep(a.gapMs);
        }
      }),
    ]);
    await sleep(3000);
    const rows = attacked.map((p) => {
      const t = firstAlert.get(p.keyId);
      const before = alertsBeforeAttacks.has(p.keyId);
      const detected = t !== undefined && !before && t >= (started.get(p.keyId) ?? Infinity);
      return { attack: p.kind, detected, alertedBeforeAttack: before, secondsToAlert: detected ? (t - started.get(p.keyId)) / 1000 : null, reasons: detected ? [...alertsByKey.get(p.keyId).values()].map((a) => a.reasons[0]) : [] };
    });
    const falseAlarms = [...normals.map((p) => p.keyId), ...attacked.filter((p) => alertsBeforeAttacks.has(p.keyId)).map((p) => p.keyId)].reduce((n, k) => n + (alertsByKey.get(k)?.size ?? 0), 0);
    const report = { runtime: 'workerd direct (Miniflare API)', agents: all.length, normalCalls, falseAlarms, falseAlarmsPer10k: Math.round((falseAlarms / normalCalls) * 10_000 * 10) / 10, attacks: rows };
    process.stderr.write(`${JSON.stringify(report, null, 2)}\n`);
    say(`detected ${rows.filter((r) => r.detected).length} of ${rows.length} attacks; ${falseAlarms} false alarms in ${normalCalls} normal calls`);
    return report;
  } finally {
    ws.close();
    await server.dispose().catch(() => {});
    build.remove();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
