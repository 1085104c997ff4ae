// The audit push sink: signed NDJSON batches to an HTTPS-style webhook, retried until the receiver accepts them.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../support/server.mjs';
import { signIn, type FlowFetchers } from '../support/oauth-flow.ts';

const FETCHERS: FlowFetchers = { server: (u, i) => fetch(u, i), idp: (u, i) => fetch(u, i) };
const SECRET = randomBytes(32).toString('base64url');

interface Received {
  status: number;
  validSignature: boolean;
  ids: string[];
  types: string[];
}

let receiver: http.Server;
let receiverUrl = '';
let failFirst = 2;
const received: Received[] = [];
let server: { url: string; mcpUrl: string; adminSecret: string; close(): Promise<void> };

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const timestamp = String(req.headers['x-audit-timestamp'] ?? '');
      const signature = String(req.headers['x-audit-signature'] ?? '');
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      const validSignature = signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
      const events = body.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { id: string; type: string });
      const status = failFirst > 0 ? 500 : 204;
      if (failFirst > 0) failFirst--;
      received.push({ status, validSignature, ids: events.map((e) => e.id), types: events.map((e) => e.type) });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/audit`;
  server = await startServer({ vars: { AUDIT_WEBHOOK_URL: receiverUrl, AUDIT_WEBHOOK_SECRET: SECRET } });
});

afterAll(async () => {
  await server?.close();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

describe('the audit webhook', () => {
  it('receives every event, signed, at least once, after the receiver failed twice; deduped by id it matches the store', async () => {
    const user = await signIn(server.url, FETCHERS, { login: 'webhook' });
    const headers = { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'w', version: '1' } } }) });
    const sessionHeaders = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };
    await init.text();
    for (let i = 1; i <= 3; i++) {
      const call = await fetch(server.mcpUrl, { method: 'POST', headers: sessionHeaders, body: JSON.stringify({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: i } } }) });
      expect(call.status).toBe(200);
      await call.text();
    }
    // Delivery retries with backoff (2 s, 4 s, …): wait, bounded, for the three tool calls.
    const accepted = () => new Set(received.filter((r) => r.status === 204).flatMap((r) => r.ids.filter((_, i) => r.types[i] === 'tool.call')));
    const deadline = Date.now() + 45_000;
    while (accepted().size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(accepted().size).toBe(3);
    expect(received.filter((r) => r.status === 500).length).toBe(2);
    expect(received.every((r) => r.validSignature)).toBe(true);

    // Every stored event reaches the webhook (the other outboxes retry on their own backoff), and nothing else does.
    const storedIds = async () => {
      const exported = await fetch(`${server.url}/admin/audit/events?limit=10000`, { headers: { authorization: `Bearer ${server.adminSecret}` } });
      // Each of these reads is itself recorded (admin.read) and pushed a moment later: the
      // comparison is of the other events, which the reads do not change.
      return (await exported.text()).trim().split('\n').map((l) => JSON.parse(l) as { id: string; type: string }).filter((e) => e.type !== 'admin.read').map((e) => e.id);
    };
    const pushed = () => new Set(received.filter((r) => r.status === 204).flatMap((r) => r.ids.filter((_, i) => r.types[i] !== 'admin.read')));
    let stored = await storedIds();
    while (!stored.every((id) => pushed().has(id)) && Date.now() < deadline + 30_000) {
      await new Promise((r) => setTimeout(r, 500));
      stored = await storedIds();
    }
    expect([...pushed()].sort()).toEqual([...stored].sort());
  }, 90_000);

  it('a batch signed with another secret does not verify (the signature covers timestamp and body)', () => {
    const body = '{"id":"x"}\n';
    const good = createHmac('sha256', SECRET).update(`1.${body}`).digest('hex');
    expect(createHmac('sha256', 'another-secret-of-sufficient-length!').update(`1.${body}`).digest('hex')).not.toBe(good);
    expect(createHmac('sha256', SECRET).update(`2.${body}`).digest('hex')).not.toBe(good);
  });
});
