// Helpers of the anomaly tests: admin requests, keys, agent sessions, the audit store, the alert hub's WebSocket.
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { AuditEvent } from '../../src/audit/event.ts';
import type { AlertHubState } from '../../src/contracts/alert-hub.ts';
import { INITIALIZE, MCP_HEADERS, messages, ORIGIN } from '../support/mcp-http.ts';
import { settleDeliveries } from '../support/settle.ts';

/** A request to /admin with the bootstrap credential. */
export function admin(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${env.ADMIN_SECRET}`, ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return SELF.fetch(`${ORIGIN}${path}`, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
}

/** A new API key (both scopes, a generous rate) and its id. */
export async function createKey(agentName: string): Promise<{ key: string; keyId: string }> {
  const response = await admin('/admin/keys', { body: { agent_name: agentName, owner: 'user-anomaly', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1000, per_seconds: 3600 } } });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { key: string; key_id: string };
  return { key: body.key, keyId: body.key_id };
}

/** An MCP session opened with a credential (an API key or an access token). */
export async function openWith(credential: string): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const response = await SELF.fetch(`${ORIGIN}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${credential}` }, body: JSON.stringify(INITIALIZE) });
  expect(response.status).toBe(200);
  await response.text();
  const sessionId = response.headers.get('mcp-session-id') ?? '';
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${credential}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  const ack = await SELF.fetch(`${ORIGIN}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  expect(ack.status).toBe(202);
  return { sessionId, headers };
}

let nextId = 100;

/** A tools/call; the raw response (not read). */
export function toolCall(headers: Record<string, string>, name: string, args: Record<string, unknown>): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args } }) });
}

/** A tools/call that must be answered with a result (not an error); returns the result. */
export async function okCall(headers: Record<string, string>, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await toolCall(headers, name, args);
  expect(response.status).toBe(200);
  const reply = (await messages(response)).find((m) => 'result' in m || 'error' in m);
  expect(reply?.error).toBeUndefined();
  return reply?.result as Record<string, unknown>;
}

/** A normal habit: `n` customer look-ups (find_customers and get_customer), answered. */
export async function learn(headers: Record<string, string>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) await okCall(headers, 'find_customers', { query: 'Smith' });
    else await okCall(headers, 'get_customer', { customer_id: 1 });
  }
}

/** Every stored audit event naming this key (or grant), after pending deliveries ran. */
export async function auditOf(match: (e: AuditEvent) => boolean): Promise<AuditEvent[]> {
  await settleDeliveries();
  const store = env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default'));
  const rows = await store.search({ limit: 10_000 });
  return rows.map((r) => JSON.parse(r.event) as AuditEvent).filter(match);
}

/** A WebSocket client of the alert hub through GET /admin/alerts/live; collects every `cf_agent_state`. */
export async function hubClient(): Promise<{ states: AlertHubState[]; next: (test: (s: AlertHubState) => boolean) => Promise<AlertHubState>; close: () => void }> {
  const response = await admin('/admin/alerts/live', { headers: { upgrade: 'websocket' } });
  expect(response.status).toBe(101);
  const ws = response.webSocket;
  if (!ws) throw new Error('no WebSocket');
  ws.accept();
  const states: AlertHubState[] = [];
  const waiters: Array<{ test: (s: AlertHubState) => boolean; resolve: (s: AlertHubState) => void }> = [];
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { type?: string; state?: AlertHubState };
    if (message.type !== 'cf_agent_state' || !message.state) return;
    states.push(message.state);
    for (const w of [...waiters]) {
      if (w.test(message.state)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message.state);
      }
    }
  });
  return {
    states,
    next: (test) => {
      const seen = states.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    close: () => ws.close(1000, 'done'),
  };
}
