// The /mcp gate: every malformed or disallowed request is refused with a typed error, and no session is created.
import { listDurableObjectIds } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, INITIALIZE, MCP_HEADERS, messages, openSession, post, withAuth } from '../support/mcp-http.ts';

async function sessionCount(): Promise<number> {
  return (await listDurableObjectIds(env.MCP_SESSION)).length;
}

/** Asserts a gate refusal: status, JSON-RPC error body with its reason, and no session created. */
async function expectRefused(response: Response, status: number, rpcCode: number, reason: string, before: number): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('mcp-session-id')).toBeNull();
  const body = (await response.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string; data: { reason: string } } };
  expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: rpcCode, data: { reason } } });
  expect(body.error.message.length).toBeGreaterThan(5);
  expect(await sessionCount()).toBe(before);
}

describe('initialize', () => {
  it('creates a session with a random 256-bit id and answers on SSE', async () => {
    const before = await sessionCount();
    const response = await post(INITIALIZE);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const sessionId = response.headers.get('mcp-session-id');
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [reply] = await messages(response);
    expect(reply).toMatchObject({ id: 0, result: { protocolVersion: '2025-11-25', serverInfo: { name: 'own-mcp-server' }, capabilities: { tools: {}, logging: {} } } });
    expect(await sessionCount()).toBe(before + 1);
  });

  it('negotiates the latest version when the client asks for an unknown one', async () => {
    const response = await post({ ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: '1999-01-01' } });
    const [reply] = await messages(response);
    expect(reply).toMatchObject({ result: { protocolVersion: '2025-11-25' } });
  });

  it('two sessions get different ids', async () => {
    const a = await openSession();
    const b = await openSession();
    expect(a.sessionId).not.toBe(b.sessionId);
  });

  it('refuses initialize that carries a session id (no session fixation)', async () => {
    const before = await sessionCount();
    const response = await post(INITIALIZE, { 'mcp-session-id': 'A'.repeat(43) });
    await expectRefused(response, 400, -32600, 'already_initialized', before);
  });
});

describe('malformed requests', () => {
  it('body that is not JSON → 400 parse error', async () => {
    const before = await sessionCount();
    await expectRefused(await post('{"jsonrpc": "2.0", "id": 1,'), 400, -32700, 'parse_error', before);
  });
  it('JSON that is not JSON-RPC → 400 invalid request', async () => {
    const before = await sessionCount();
    await expectRefused(await post({ hello: 'world' }), 400, -32600, 'invalid_request', before);
  });
  it('a JSON-RPC batch → 400', async () => {
    const before = await sessionCount();
    await expectRefused(await post([INITIALIZE, { jsonrpc: '2.0', id: 2, method: 'ping' }]), 400, -32600, 'batch_not_supported', before);
  });
  it('a body over 1 MiB → 413', async () => {
    const before = await sessionCount();
    const big = JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, pad: 'x'.repeat(1024 * 1024) } });
    await expectRefused(await post(big), 413, -32600, 'body_too_large', before);
  });
  it('a body that is not application/json → 415', async () => {
    const before = await sessionCount();
    await expectRefused(await post(INITIALIZE, { 'content-type': 'text/plain' }), 415, -32600, 'unsupported_media_type', before);
  });
  it('an unsupported HTTP method → 405 with Allow', async () => {
    const before = await sessionCount();
    const response = await call('/mcp', { method: 'PUT', headers: MCP_HEADERS, body: '{}' });
    expect(response.headers.get('allow')).toBe('GET, POST, DELETE');
    await expectRefused(response, 405, -32000, 'method_not_allowed', before);
  });
});

describe('sessions', () => {
  it('a request other than initialize without a session id → 400', async () => {
    const before = await sessionCount();
    await expectRefused(await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), 400, -32000, 'session_required', before);
  });
  it('an unknown session id → 404 and no Durable Object is left with state', async () => {
    const unknown = 'Z'.repeat(43);
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': unknown, 'mcp-protocol-version': '2025-11-25' });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: -32001, data: { reason: 'session_not_found' } } });
  });
  it('a malformed session id → 404 without reaching a Durable Object', async () => {
    const before = await sessionCount();
    await expectRefused(await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': '../../etc' }), 404, -32001, 'session_not_found', before);
  });
  it('GET without a session id → 400', async () => {
    const before = await sessionCount();
    await expectRefused(await call('/mcp', { headers: await withAuth({ accept: 'text/event-stream' }) }), 400, -32000, 'session_required', before);
  });
  it('notifications are accepted with 202 and no body', async () => {
    const { headers } = await openSession();
    const response = await post({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, headers);
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
  });
  it('DELETE ends the session; afterwards it answers 404', async () => {
    const { headers } = await openSession();
    const deleted = await call('/mcp', { method: 'DELETE', headers });
    expect(deleted.status).toBe(200);
    const after = await post({ jsonrpc: '2.0', id: 3, method: 'ping' }, headers);
    expect(after.status).toBe(404);
    expect(await after.json()).toMatchObject({ error: { code: -32001 } });
  });
});

describe('protocol version', () => {
  it('an unsupported MCP-Protocol-Version → 400', async () => {
    const { headers } = await openSession();
    const before = await sessionCount();
    await expectRefused(await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { ...headers, 'mcp-protocol-version': '2024-01-01' }), 400, -32000, 'unsupported_protocol_version', before);
  });
  it('a supported older version header is served', async () => {
    const { headers } = await openSession();
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { ...headers, 'mcp-protocol-version': '2025-06-18' });
    expect(response.status).toBe(200);
    expect(await messages(response)).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
  });
});

describe('origin and host', () => {
  it('a disallowed Origin → 403 and no CORS header', async () => {
    const before = await sessionCount();
    const response = await post(INITIALIZE, { origin: 'https://evil.example.com' });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    await expectRefused(response, 403, -32000, 'origin_forbidden', before);
  });
  it('a non-loopback Host in development → 403 (DNS rebinding)', async () => {
    const before = await sessionCount();
    await expectRefused(await post(INITIALIZE, { host: 'evil.example.com', origin: 'http://evil.example.com' }), 403, -32000, 'host_forbidden', before);
  });
  it('a loopback Origin is allowed and echoed for CORS', async () => {
    const response = await post(INITIALIZE, { origin: 'http://localhost:6274' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    expect(response.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
    await response.text();
  });
  it('a CORS preflight from an allowed origin → 204 with the MCP headers', async () => {
    const response = await call('/mcp', { method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' } });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE');
  });
});

describe('JSON-RPC errors inside a session', () => {
  it('an unknown method → -32601', async () => {
    const { headers } = await openSession();
    const [reply] = await messages(await post({ jsonrpc: '2.0', id: 4, method: 'no/such/method' }, headers));
    expect(reply).toMatchObject({ id: 4, error: { code: -32601 } });
  });
  it('an unknown tool → an error naming it', async () => {
    const { headers } = await openSession();
    const [reply] = await messages(await post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }, headers));
    expect(JSON.stringify(reply)).toContain('no_such_tool');
    expect(reply).toMatchObject({ id: 5 });
    const isProtocolError = 'error' in (reply ?? {});
    const isToolError = (reply as { result?: { isError?: boolean } }).result?.isError === true;
    expect(isProtocolError || isToolError).toBe(true);
    // MCP 2025-11-25: it is a protocol error, -32602.
    expect(reply).toMatchObject({ error: { code: -32602, data: { reason: 'unknown_tool', tool: 'no_such_tool' } } });
  });
  it('arguments that fail the schema → isError naming the field, the tool never runs', async () => {
    const { headers } = await openSession();
    const [reply] = await messages(await post({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 'one' } } }, headers));
    expect(reply).toMatchObject({ id: 6, result: { isError: true } });
    expect(JSON.stringify(reply)).toContain('customer_id');
    expect(JSON.stringify(reply)).not.toContain('"name"');
  });
});

describe('other routes', () => {
  it('/ describes the server and which database it uses', async () => {
    const response = await call('/');
    expect(await response.json()).toEqual({ name: 'own-mcp-server', version: '0.1.0', mcp: '/mcp', database: 'embedded' });
  });
  it('an unknown path → 404 JSON', async () => {
    const response = await call('/nope');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found' });
  });
  it('the benchmark floor route is off unless enabled', async () => {
    const response = await call('/_bench/floor', { method: 'POST' });
    expect(response.status).toBe(404);
  });
});
