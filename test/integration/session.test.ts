// The session Durable Object: state in storage, eviction survival, SSE resumption, idle expiry, log bound.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { McpSession } from '../../durable/session.ts';
import { call, callTool, messages, openSession, parseSse, post } from '../support/mcp-http.ts';

const INIT_PARAMS = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } };

function stubOf(sessionId: string): DurableObjectStub<McpSession> {
  return env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
}

describe('session state', () => {
  it('stores the negotiated version, client info and capabilities', async () => {
    const { sessionId } = await openSession();
    const state = await runInDurableObject(stubOf(sessionId), (instance: McpSession) => instance.inspect());
    expect(state.meta).toMatchObject({
      sessionId,
      principal: { kind: 'user', id: expect.stringMatching(/^u_/), clientId: expect.any(String), scopes: ['support:read', 'sql:read'] },
      protocolVersion: '2025-11-25',
      initialize: { clientInfo: { name: 'vitest', version: '1.0.0' }, capabilities: {} },
      endedAt: null,
    });
  });

  it('survives eviction: the rebuilt server still knows the session and serves tools', async () => {
    const { sessionId, headers } = await openSession();
    await post({ jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'debug' } }, headers).then((r) => r.text());
    await evictDurableObject(stubOf(sessionId));
    const before = await runInDurableObject(stubOf(sessionId), (instance: McpSession) => instance.inspect());
    expect(before.live).toBe(false);
    expect(before.meta?.logLevel).toBe('debug');
    const reply = await callTool(headers, 'get_customer', { customer_id: 1 });
    expect(reply).toMatchObject({ result: { structuredContent: { id: 1 } } });
    const after = await runInDurableObject(stubOf(sessionId), (instance: McpSession) => instance.inspect());
    expect(after.live).toBe(true);
  });

  it('a second initialize on the same session is refused', async () => {
    const { sessionId } = await openSession();
    const response = await runInDurableObject(stubOf(sessionId), async (instance: McpSession) =>
      instance.handle(new Request('http://localhost/mcp', { method: 'POST', headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' } }), {
        sessionId,
        principal: instance.inspect().meta!.principal,
        resourceMetadata: 'http://localhost:8787/.well-known/oauth-protected-resource/mcp',
        message: { kind: 'initialize', id: 9, params: INIT_PARAMS, raw: { jsonrpc: '2.0', id: 9, method: 'initialize', params: INIT_PARAMS } },
      }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { data: { reason: 'already_initialized' } } });
  });
});

describe('SSE resumption', () => {
  it('replays the events after Last-Event-ID from storage, even after eviction', async () => {
    const { sessionId, headers } = await openSession();
    const response = await post({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'support_report', arguments: {}, _meta: { progressToken: 'p1' } } }, headers);
    const events = parseSse(await response.text());
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const withData = events.filter((e) => e.data !== '');
    // support_report logs each step at info, the level a session starts at, after its progress.
    expect(withData.map((e) => JSON.parse(e.data).method ?? 'result')).toEqual([
      'notifications/progress', 'notifications/message', 'notifications/progress', 'notifications/message', 'notifications/progress', 'notifications/message', 'notifications/progress', 'result',
    ]);
    // Resume after the first progress event, as a client whose connection dropped would.
    const cursor = withData[0]?.id as string;
    await evictDurableObject(stubOf(sessionId));
    const resumed = await call('/mcp', { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': cursor } });
    expect(resumed.status).toBe(200);
    const replay = parseSse(await readUntil(resumed, '"id":11'));
    expect(replay.map((e) => e.id)).toEqual(withData.slice(1).map((e) => e.id));
    expect(JSON.parse(replay.at(-1)?.data ?? '{}')).toMatchObject({ id: 11, result: { structuredContent: { tickets: expect.any(Array) } } });
  });

  it('an unknown Last-Event-ID is refused with 400', async () => {
    const { headers } = await openSession();
    const resumed = await call('/mcp', { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': '999999' } });
    expect(resumed.status).toBe(400);
  });

  it('keeps only the newest SESSION_EVENT_LOG_MAX events', async () => {
    const { sessionId, headers } = await openSession();
    // support_report streams (progress, log messages), so its answers are events; at least 4 per call.
    for (let i = 0; i < 12; i++) await callTool(headers, 'support_report', {}, 100 + i);
    await runDurableObjectAlarm(stubOf(sessionId));
    const state = await runInDurableObject(stubOf(sessionId), (instance: McpSession) => instance.inspect());
    expect(state.events).toBe(20);
  });
});

describe('idle expiry', () => {
  it('the alarm ends an idle session; then it answers 404', async () => {
    const { sessionId, headers } = await openSession();
    await runInDurableObject(stubOf(sessionId), (_instance: McpSession, state) => {
      state.storage.sql.exec('UPDATE session SET last_seen_at = ? WHERE id = 1', Date.now() - 61_000);
    });
    await evictDurableObject(stubOf(sessionId));
    expect(await runDurableObjectAlarm(stubOf(sessionId))).toBe(true);
    const state = await runInDurableObject(stubOf(sessionId), (instance: McpSession) => instance.inspect());
    expect(state.meta?.endedAt).toEqual(expect.any(Number));
    expect(state.events).toBe(0);
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, headers);
    expect(response.status).toBe(404);
  });

  it('the alarm keeps an active session and re-arms', async () => {
    const { sessionId, headers } = await openSession();
    expect(await runDurableObjectAlarm(stubOf(sessionId))).toBe(true);
    const [reply] = await messages(await post({ jsonrpc: '2.0', id: 2, method: 'ping' }, headers));
    expect(reply).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    const alarm = await runInDurableObject(stubOf(sessionId), (_i: McpSession, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());
  });
});

/** Reads an SSE stream until a marker appears (the resumed GET stream stays open). */
async function readUntil(response: Response, marker: string): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  // Until the event holding the marker has ended: a long event may arrive in several chunks.
  const ended = () => text.includes(marker) && text.indexOf('\n\n', text.indexOf(marker)) >= 0;
  while (!ended()) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text.slice(0, text.indexOf('\n\n', text.indexOf(marker)) + 2);
}
