// Issue 14: in a 2025-11-25 session, a request that can only produce its answer is answered as one
// JSON body; a call that may stream (progress asked for, a tool that logs) keeps its event stream.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { McpSession } from '../../durable/session.ts';
import { openSession, parseSse, post } from '../support/mcp-http.ts';

function view(sessionId: string) {
  return runInDurableObject(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId)), (instance: McpSession) => instance.inspect());
}

function toolCall(id: number, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) } };
}

describe('answers as JSON or as an event stream, per request', () => {
  it('a SQL tool call: 200 application/json with the session id, one JSON-RPC answer, no event stored', async () => {
    const { sessionId, headers } = await openSession();
    const before = await view(sessionId);
    const response = await post(toolCall(3, 'get_customer', { customer_id: 2 }), headers);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe(sessionId);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 3, result: { structuredContent: { id: 2 } } });
    expect(body).not.toHaveProperty('error');
    const after = await view(sessionId);
    expect(after.events).toBe(before.events);
    expect(after.served).toBe(before.served + 1);
  });

  it('a tool error is a JSON result with isError; requests other than tools/call keep their event stream', async () => {
    const { headers } = await openSession();
    for (const method of ['tools/list', 'ping']) {
      const response = await post({ jsonrpc: '2.0', id: method, method }, headers);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(parseSse(await response.text()).some((e) => e.data.includes(`"id":"${method}"`))).toBe(true);
    }
    const missing = await post(toolCall(4, 'get_customer', { customer_id: 999_999 }), headers);
    expect(missing.headers.get('content-type')).toBe('application/json');
    expect(await missing.json()).toMatchObject({ id: 4, result: { isError: true } });
  });

  it('a call that asks for progress is answered on an event stream, which is stored for resumption', async () => {
    const { sessionId, headers } = await openSession();
    const before = await view(sessionId);
    const response = await post(toolCall(5, 'get_customer', { customer_id: 1 }, { progressToken: 'p5' }), headers);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = parseSse(await response.text());
    expect(events.map((e) => e.data).find((d) => d?.includes('"id":5'))).toContain('"structuredContent"');
    expect((await view(sessionId)).events).toBeGreaterThan(before.events);
  });

  it('a tool that streams (support_report logs) keeps the event stream with its log messages, with or without a progress token', async () => {
    const { headers } = await openSession();
    for (const meta of [undefined, { progressToken: 'r' }]) {
      const response = await post(toolCall(6, 'support_report', {}, meta), headers);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const methods = parseSse(await response.text()).flatMap((e) => (e.data ? [(JSON.parse(e.data) as { method?: string }).method] : []));
      expect(methods.filter((m) => m === 'notifications/message')).toHaveLength(3);
      expect(methods.filter((m) => m === 'notifications/progress')).toHaveLength(meta ? 4 : 0);
    }
  });

  it('the request id is free again as soon as its JSON answer is made', async () => {
    const { headers } = await openSession();
    const first = await post(toolCall(7, 'get_customer', { customer_id: 1 }), headers);
    const second = await post(toolCall(7, 'get_customer', { customer_id: 2 }), headers);
    expect((await first.json()) as unknown).toMatchObject({ id: 7, result: { structuredContent: { id: 1 } } });
    expect((await second.json()) as unknown).toMatchObject({ id: 7, result: { structuredContent: { id: 2 } } });
  });

  it('what the SDK transport refuses is still refused by it: a client that does not accept event streams gets 406', async () => {
    const { headers } = await openSession();
    const response = await post(toolCall(8, 'get_customer', { customer_id: 1 }), { ...headers, accept: 'application/json' });
    expect(response.status).toBe(406);
  });
});
