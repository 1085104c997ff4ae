// End to end (wrangler dev): an agent's key builds a baseline, then exfiltrates; the alert reaches the audit store, the webhook and a WebSocket client of the alert hub, and the blocking policy refuses the next call.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle } from '../support/server.mjs';

const SECRET = randomBytes(32).toString('base64url');
const received: Array<{ type: string; id: string; actor: { key_id?: string }; tool?: string }> = [];
let receiver: http.Server;
let server: ServerHandle;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      for (const line of body.trim().split('\n').filter((l) => l !== '')) received.push(JSON.parse(line) as (typeof received)[number]);
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/audit`;
  server = await startServer({
    vars: {
      AUDIT_WEBHOOK_URL: webhook,
      AUDIT_WEBHOOK_SECRET: SECRET,
      ANOMALY_MIN_CALLS: '5',
      ANOMALY_MIN_LEARNING_SECONDS: '0',
      ANOMALY_TOOL_MIN_CALLS: '3',
      ANOMALY_POLICY: JSON.stringify({ tools: { sql_select: { agent: 'block' } }, duration_seconds: 600 }),
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

const adminHeaders = () => ({ authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' });

async function rpc(headers: Record<string, string>, id: number, name: string, args: Record<string, unknown>): Promise<Response> {
  return fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) });
}

async function until<T>(what: string, read: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('anomaly detection end to end', () => {
  it('exfiltration by a key: anomaly.detected in the store, on the webhook and at the hub; the next call is blocked', async () => {
    const created = await fetch(`${server.url}/admin/keys`, { method: 'POST', headers: adminHeaders(), body: JSON.stringify({ agent_name: 'Report Agent', owner: 'owner@example.test', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1000, per_seconds: 3600 } }) });
    expect(created.status).toBe(201);
    const { key, key_id: keyId } = (await created.json()) as { key: string; key_id: string };

    // A WebSocket client of the alert hub, through the admin API.
    const states: Array<{ alerts: Array<{ id: string; actor: { key_id?: string }; tool?: string; reasons: string[]; event_id?: string }> }> = [];
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/admin/alerts/live`, { headers: { authorization: `Bearer ${server.adminSecret}` } } as unknown as string[]);
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as { type?: string; state?: (typeof states)[number] };
      if (m.type === 'cf_agent_state' && m.state) states.push(m.state);
    });
    await until('the hub state', () => (states.length > 0 ? true : undefined));

    const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'agent', version: '1' } } }) });
    expect(init.status).toBe(200);
    await init.text();
    const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };

    // The habit: one customer at a time.
    for (let i = 1; i <= 8; i++) {
      const r = await rpc(session, i, 'sql_select', { sql: `SELECT id, name FROM customers WHERE id = ${i}` });
      expect(r.status).toBe(200);
      expect(await r.text()).not.toContain('"isError":true');
    }
    // The key exfiltrates: the whole table (up to the row limit) in one call. It is answered
    // (its arguments look like the habit); its rows give it away.
    const exfil = await rpc(session, 50, 'sql_select', { sql: 'SELECT id, name FROM customers WHERE id > 0' });
    expect(exfil.status).toBe(200);
    await exfil.text();
    const calledAt = Date.now();

    // The alert at the hub's WebSocket client.
    const alert = await until('the alert at the hub', () => states.flatMap((s) => s.alerts).find((a) => a.actor.key_id === keyId));
    const hubLatencyMs = Date.now() - calledAt;
    expect(alert.tool).toBe('sql_select');
    expect(alert.reasons.join(' ')).toMatch(/rows returned/);
    // The blocking policy refuses the next call, before the tool runs.
    const next = await rpc(session, 51, 'sql_select', { sql: 'SELECT id, name FROM customers WHERE id = 3' });
    expect(next.status).toBe(403);
    expect(((await next.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe('anomaly_blocked');

    // The audit store (export) holds anomaly.detected with the chain, and anomaly.enforced.
    const stored = await until('anomaly events in the store', async () => {
      const r = await fetch(`${server.url}/admin/audit/events?limit=10000`, { headers: { authorization: `Bearer ${server.adminSecret}` } });
      const events = (await r.text()).trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { id: string; type: string; actor: { key_id?: string; agent_name?: string; owner?: string }; tool?: string; params?: Record<string, unknown> });
      const mine = events.filter((e) => e.actor.key_id === keyId);
      return mine.some((e) => e.type === 'anomaly.enforced') ? mine : undefined;
    });
    const detected = stored.filter((e) => e.type === 'anomaly.detected');
    expect(detected.length).toBe(1);
    expect(detected[0]?.actor).toMatchObject({ key_id: keyId, agent_name: 'Report Agent', owner: 'owner@example.test' });
    expect(detected[0]?.params).toMatchObject({ action: 'block', kind: 'agent' });
    expect(alert.event_id).toBe(detected[0]?.id);
    expect(stored.filter((e) => e.type === 'tool.call' && e.tool === 'sql_select').length).toBe(9);
    // And on the webhook.
    await until('the webhook', () => (received.some((e) => e.type === 'anomaly.detected' && e.actor.key_id === keyId) ? true : undefined));
    ws.close();
    console.log(JSON.stringify({ event: 'anomaly_e2e', hub_latency_ms: hubLatencyMs }));
  }, 120_000);
});
