// durable/plain-replies.ts on the real SDK: an McpServer connected through PlainReplies to the SDK's
// WebStandardStreamableHTTPServerTransport, in a session whose id is SID.
import { McpServer, WebStandardStreamableHTTPServerTransport, type JSONRPCRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { PlainReplies } from '../../../durable/plain-replies.ts';
import { parseSse } from '../../support/mcp-http.ts';

const SID = 'session-1';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function post(body: unknown, session = true): Request {
  return new Request('http://x/mcp', { method: 'POST', headers: { ...HEADERS, ...(session ? { 'mcp-session-id': SID } : {}) }, body: JSON.stringify(body) });
}

/** A server with two tools: `wait` answers when `release` is called and logs first if asked; `now` answers at once. */
async function setUp() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const server = new McpServer({ name: 't', version: '1' }, { capabilities: { tools: {}, logging: {} } });
  server.registerTool('wait', { description: 'waits' }, async (ctx) => {
    await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data: 'started' } });
    await gate;
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.registerTool('now', { description: 'answers' }, () => ({ content: [{ type: 'text', text: 'now' }] }));
  const inner = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => SID });
  const replies = new PlainReplies(inner);
  await server.connect(replies);
  const init = await inner.handleRequest(post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }, false));
  await init.text();
  await (await inner.handleRequest(post({ jsonrpc: '2.0', method: 'notifications/initialized' }))).text();
  return { server, inner, replies, release };
}

function call(id: number, name: string): JSONRPCRequest {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } };
}

describe('PlainReplies', () => {
  it('answers a request with one JSON body holding exactly its JSON-RPC answer', async () => {
    const { replies } = await setUp();
    const response = await replies.answer(post(call(1, 'now')), call(1, 'now'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe(SID);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'now' }] } });
  });

  it('a message about a request answered as JSON goes to the standalone stream, not lost; the answer still comes as JSON', async () => {
    const { inner, replies, release } = await setUp();
    const standalone = await inner.handleRequest(new Request('http://x/mcp', { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': SID } }));
    expect(standalone.headers.get('content-type')).toBe('text/event-stream');
    const reader = standalone.body!.pipeThrough(new TextDecoderStream()).getReader();
    const pending = replies.answer(post(call(2, 'wait')), call(2, 'wait'));
    let seen = '';
    while (!seen.includes('started')) seen += (await reader.read()).value ?? '';
    const logged = parseSse(seen).map((e) => JSON.parse(e.data) as { method: string; params: { data: string } });
    expect(logged).toEqual([{ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'started' } }]);
    release();
    expect(await (await pending).json()).toMatchObject({ id: 2, result: { content: [{ text: 'done' }] } });
    await reader.cancel();
  });

  it('a cancelled request gets 202 with no body (the server sends no answer to it), and the tool never answers afterwards', async () => {
    const { inner, replies, release } = await setUp();
    const pending = replies.answer(post(call(3, 'wait')), call(3, 'wait'));
    const cancel = await inner.handleRequest(post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'user' } }));
    expect(cancel.status).toBe(202);
    const response = await pending;
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    release();
    // The same id can be used again at once.
    const again = await replies.answer(post(call(3, 'now')), call(3, 'now'));
    expect(await again.json()).toMatchObject({ id: 3, result: { content: [{ text: 'now' }] } });
  });

  it('closing answers the requests still waiting with 404 session not found', async () => {
    const { replies } = await setUp();
    const pending = replies.answer(post(call(4, 'wait')), call(4, 'wait'));
    await replies.close();
    const response = await pending;
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32001, message: 'Session not found' } });
  });

  it('a second request with an id still waiting is refused, not crossed with the first', async () => {
    const { replies, release } = await setUp();
    const pending = replies.answer(post(call(5, 'wait')), call(5, 'wait'));
    expect(() => replies.answer(post(call(5, 'now')), call(5, 'now'))).toThrow(/already waiting/);
    release();
    expect(await (await pending).json()).toMatchObject({ id: 5, result: { content: [{ text: 'done' }] } });
  });
});
