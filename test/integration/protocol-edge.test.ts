// Hostile input at the protocol edge (issue 9): deep nesting, a reused in-flight id, a dropped GET stream, bad params, unknown tools.
import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import type { McpSession } from '../../durable/session.ts';
import { classify, type McpMessage } from '../../src/mcp/message.ts';
import { jsonDepth } from '../../src/http/body.ts';
import { call, INITIALIZE, MCP_HEADERS, messages, openSession, post, withAuth } from '../support/mcp-http.ts';
import { settleDeliveries } from '../support/settle.ts';

// The refusals here are audited: deliver them before the file ends, not a second later during teardown.
afterAll(settleDeliveries);

function stubOf(sessionId: string): DurableObjectStub<McpSession> {
  return env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
}

async function sessionCount(): Promise<number> {
  return (await listDurableObjectIds(env.MCP_SESSION)).length;
}

async function pending(sessionId: string): Promise<number> {
  return runInDurableObject(stubOf(sessionId), (instance: McpSession) => instance.auditPending());
}

/** `depth` nested arrays around a number, as JSON text. */
function nested(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** A gate refusal: the status, a JSON-RPC error body with `id: null` and its reason, never a session id. */
async function expectGateError(response: Response, status: number, code: number, reason: string): Promise<{ message: string }> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('mcp-session-id')).toBeNull();
  const body = (await response.json()) as { error: { message: string } };
  expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code, data: { reason } } });
  return body.error;
}

/** A -32602 answer to one request: 200 application/json, the request's id, a short message naming the parameter. */
async function expectInvalidParams(response: Response, id: number, reason: 'invalid_params' | 'unknown_tool', mentions: string): Promise<void> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { id: number; error: { code: number; message: string; data: { reason: string } } };
  expect(body).toMatchObject({ jsonrpc: '2.0', id, error: { code: -32602, data: { reason } } });
  expect(body.error.message).toContain(mentions);
  expect(body.error.message.length).toBeLessThan(160);
  expect(body.error.message).not.toMatch(/invalid_type|expected|\[\{|"path"/);
}

describe('JSON nesting is bounded at the gate', () => {
  it('jsonDepth counts brackets outside strings only, iteratively', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[{{"}]}')).toBe(3);
    expect(jsonDepth('"\\"[[["')).toBe(0);
    expect(jsonDepth(nested(100_000))).toBe(100_000);
  });

  it('10,000 levels in initialize params._meta → 400 nesting_too_deep, no session created', async () => {
    const before = await sessionCount();
    const body = JSON.stringify(INITIALIZE).replace('"clientInfo"', `"_meta":{"x":${nested(10_000)}},"clientInfo"`);
    const error = await expectGateError(await post(body), 400, -32600, 'nesting_too_deep');
    expect(error.message).toContain('64');
    expect(await sessionCount()).toBe(before);
  });

  it('10,000 levels in tools/call arguments → 400, the tool never runs, nothing recorded', async () => {
    const { sessionId, headers } = await openSession();
    const before = await pending(sessionId);
    const body = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_customer","arguments":{"customer_id":${nested(10_000)}}}}`;
    await expectGateError(await post(body, headers), 400, -32600, 'nesting_too_deep');
    expect(await pending(sessionId)).toBeLessThanOrEqual(before);
    // The session still works.
    const [reply] = await messages(await post({ jsonrpc: '2.0', id: 4, method: 'ping' }, headers));
    expect(reply).toEqual({ jsonrpc: '2.0', id: 4, result: {} });
  });

  it('64 levels are accepted, 65 are not', async () => {
    const { headers } = await openSession();
    const ok = await post(`{"jsonrpc":"2.0","id":5,"method":"ping","params":{"_meta":{"x":${nested(61)}}}}`, headers);
    expect(ok.status).toBe(200);
    expect(await messages(ok)).toEqual([{ jsonrpc: '2.0', id: 5, result: {} }]);
    await expectGateError(await post(`{"jsonrpc":"2.0","id":6,"method":"ping","params":{"_meta":{"x":${nested(62)}}}}`, headers), 400, -32600, 'nesting_too_deep');
  });
});

describe('a request id in use is refused, never cross-delivered', () => {
  const toolCall = (id: number, name: string, args: Record<string, unknown>): McpMessage => {
    const classified = classify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    if (!classified.ok) throw new Error('not a message');
    return classified.message;
  };

  it('the second request with an in-flight id → 409 -32600; the first gets its own result; the id is free afterwards', async () => {
    const { sessionId, headers } = await openSession();
    const request = () => new Request('http://localhost:8787/mcp', { method: 'POST', headers: { ...headers, accept: 'application/json, text/event-stream', 'content-type': 'application/json' } });
    const [first, second] = await runInDurableObject(stubOf(sessionId), async (instance: McpSession) => {
      const principal = instance.inspect().meta!.principal;
      const ctx = (message: McpMessage) => ({ sessionId, principal, resourceMetadata: 'http://localhost:8787/.well-known/oauth-protected-resource/mcp', message });
      // Both enter handle() before either awaits: the first holds id 9 when the second arrives.
      const a = instance.handle(request(), ctx(toolCall(9, 'find_customers', { query: 'lovelace', limit: 1 })));
      const b = instance.handle(request(), ctx(toolCall(9, 'list_tables', {})));
      return Promise.all([a.then(messages), b.then(async (r) => ({ status: r.status, body: await r.json() }))]);
    });
    expect(second).toMatchObject({ status: 409, body: { jsonrpc: '2.0', id: null, error: { code: -32600, data: { reason: 'request_id_in_use' } } } });
    const reply = first.find((m) => m.id === 9) as { result: { structuredContent: { rows: Array<{ name: string }> } } };
    expect(reply.result.structuredContent.rows[0]?.name).toMatch(/lovelace/i);
    // Answered: the id can be used again.
    const [again] = await messages(await post({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'list_tables', arguments: {} } }, headers));
    expect(again).toMatchObject({ id: 9, result: { structuredContent: { tables: expect.any(Array) } } });
  });

  it('over HTTP, two concurrent calls with one id: each answer (if any) is its own, the other is refused', async () => {
    const { headers } = await openSession();
    const send = (name: string, args: Record<string, unknown>) => post({ jsonrpc: '2.0', id: 'same', method: 'tools/call', params: { name, arguments: args } }, headers);
    const [a, b] = await Promise.all([send('find_customers', { query: 'lovelace', limit: 1 }), send('list_tables', {})]);
    const outcome = async (response: Response, expectContent: (content: Record<string, unknown>) => void) => {
      if (response.status === 409) {
        expect(await response.json()).toMatchObject({ error: { code: -32600, data: { reason: 'request_id_in_use' } } });
        return 'refused';
      }
      const replies = (await messages(response)).filter((m) => m.id === 'same');
      expect(replies).toHaveLength(1);
      expectContent((replies[0] as { result: { structuredContent: Record<string, unknown> } }).result.structuredContent);
      return 'answered';
    };
    const ra = await outcome(a, (content) => expect(JSON.stringify(content.rows)).toMatch(/lovelace/i));
    const rb = await outcome(b, (content) => expect(content.tables).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'customers' })])));
    expect([ra, rb]).toContain('answered');
  });
});

describe('the standalone GET stream', () => {
  it('a dropped stream does not block a reconnect: the new GET takes over at once', async () => {
    const { headers } = await openSession();
    const get = () => call('/mcp', { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    // The client goes away without the server hearing of it yet (no cancel propagated).
    const second = await get();
    expect(second.status).toBe(200);
    expect(second.headers.get('content-type')).toBe('text/event-stream');
    // The old stream was closed by the takeover.
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    let done = false;
    while (!done) done = (await reader.read()).done;
    await second.body?.cancel();
  });

  it('a resume of the dropped stream (Last-Event-ID of an event it carried) takes over too', async () => {
    const { sessionId, headers } = await openSession();
    const first = await call('/mcp', { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
    expect(first.status).toBe(200);
    // An event the standalone stream carried (nothing in the catalog sends one unprompted).
    const lastEventId = await runInDurableObject(stubOf(sessionId), (_instance: McpSession, state) =>
      String(state.storage.sql.exec<{ seq: number }>("INSERT INTO events (stream_id, message, at) VALUES ('_GET_stream', '{}', ?) RETURNING seq", Date.now()).one().seq),
    );
    const resumed = await call('/mcp', { method: 'GET', headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastEventId } });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('content-type')).toBe('text/event-stream');
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    let done = false;
    while (!done) done = (await reader.read()).done;
    await resumed.body?.cancel();
  });
});

describe('invalid params → -32602 naming the parameter, never given to the SDK', () => {
  it('tools/call with arguments an array', async () => {
    const { sessionId, headers } = await openSession();
    const before = await pending(sessionId);
    await expectInvalidParams(await post({ jsonrpc: '2.0', id: 21, method: 'tools/call', params: { name: 'get_customer', arguments: [1] } }, headers), 21, 'invalid_params', 'arguments');
    // Never given to the SDK, but recorded like every refused call (one tool.call failure; test/integration/audit.test.ts checks its content).
    expect(await pending(sessionId)).toBe(before + 1);
  });
  it('tools/call with name a number', async () => {
    const { headers } = await openSession();
    await expectInvalidParams(await post({ jsonrpc: '2.0', id: 22, method: 'tools/call', params: { name: 7, arguments: {} } }, headers), 22, 'invalid_params', 'name');
  });
  it('tools/list with cursor a number', async () => {
    const { headers } = await openSession();
    await expectInvalidParams(await post({ jsonrpc: '2.0', id: 23, method: 'tools/list', params: { cursor: 5 } }, headers), 23, 'invalid_params', 'cursor');
  });
  it('logging/setLevel with an unknown level; the stored level is unchanged', async () => {
    const { sessionId, headers } = await openSession();
    await expectInvalidParams(await post({ jsonrpc: '2.0', id: 24, method: 'logging/setLevel', params: { level: 'loud' } }, headers), 24, 'invalid_params', 'level');
    const state = await runInDurableObject(stubOf(sessionId), (instance: McpSession) => instance.inspect());
    expect(state.meta?.logLevel).toBe('info');
  });
  it('a malformed initialize → 400 at the gate, no session created', async () => {
    const before = await sessionCount();
    await expectGateError(await post({ ...INITIALIZE, params: { protocolVersion: 1 } }), 400, -32600, 'invalid_request');
    expect(await sessionCount()).toBe(before);
  });
  it('the session still answers well-formed requests afterwards', async () => {
    const { headers } = await openSession();
    await post({ jsonrpc: '2.0', id: 25, method: 'tools/list', params: { cursor: 5 } }, headers).then((r) => r.text());
    const [reply] = await messages(await post({ jsonrpc: '2.0', id: 26, method: 'tools/list' }, headers));
    expect(reply).toMatchObject({ id: 26, result: { tools: expect.any(Array) } });
  });
});

describe('an unknown tool is a protocol error (MCP 2025-11-25)', () => {
  it('tools/call of an unknown tool → -32602 naming it, recorded once as a refused call', async () => {
    const { sessionId, headers } = await openSession();
    const before = await pending(sessionId);
    await expectInvalidParams(await post({ jsonrpc: '2.0', id: 31, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }, headers), 31, 'unknown_tool', 'no_such_tool');
    expect(await pending(sessionId)).toBe(before + 1);
  });
  it('a known tool that fails is still a tool result with isError and its code', async () => {
    const { headers } = await openSession();
    const [reply] = await messages(await post({ jsonrpc: '2.0', id: 32, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 999_999 } } }, headers));
    expect(reply).toEqual({ jsonrpc: '2.0', id: 32, result: { isError: true, content: [{ type: 'text', text: 'not_found: no customer with that id' }] } });
  });
});

describe('the Host header', () => {
  it('two Host values folded into one ("a, b") → 400 host_invalid, no session created', async () => {
    const before = await sessionCount();
    const error = await expectGateError(await post(INITIALIZE, { host: 'localhost:8787, evil.example' }), 400, -32600, 'host_invalid');
    expect(error.message).toContain('Host');
    expect(await sessionCount()).toBe(before);
  });
  it('a foreign single host is still 403 host_forbidden', async () => {
    await expectGateError(await post(INITIALIZE, { host: 'evil.example' }), 403, -32000, 'host_forbidden');
  });
});

describe('an oversized streamed body', () => {
  it('10 MB in chunks (no Content-Length) → 413 typed, no session created', async () => {
    const before = await sessionCount();
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await call('/mcp', { method: 'POST', headers: await withAuth({ ...MCP_HEADERS }), body });
    await expectGateError(response, 413, -32600, 'body_too_large');
    expect(await sessionCount()).toBe(before);
  });
});
