// End to end over real HTTP: open SSE streams (the standalone GET and a long tool call) carry comment heartbeats on SSE_HEARTBEAT_MS, and still deliver messages after many of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

const HEARTBEAT_MS = 200;
let server: Server;
let headers: Record<string, string>;

beforeAll(async () => {
  // The conformance pack brings test_sampling: a tool call that stays open until the client answers.
  server = await startServer({ vars: { SSE_HEARTBEAT_MS: String(HEARTBEAT_MS), ENABLE_CONFORMANCE_PACK: 'true' } });
  const created = await fetch(`${server.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'Heartbeat Agent', owner: 'user-heartbeat', scopes: ['support:read', 'sql:read'] }),
  });
  expect(created.status).toBe(201);
  const key = ((await created.json()) as { key: string }).key;
  const base = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const init = await fetch(server.mcpUrl, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'heartbeat', version: '1' } } }),
  });
  expect(init.status).toBe(200);
  await init.text();
  headers = { ...base, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };
  const ack = await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  expect(ack.status).toBe(202);
});

afterAll(async () => {
  await server?.close();
});

/** Reads an SSE body incrementally. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  text = '';
  done = false;

  constructor(response: Response) {
    this.#reader = (response.body as ReadableStream<Uint8Array>).getReader();
  }

  /** Reads until `until(text)` holds or `ms` pass; true when the condition held. */
  async readUntil(until: (text: string) => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!until(this.text)) {
      const left = deadline - Date.now();
      if (left <= 0 || this.done) return until(this.text);
      const next = await Promise.race([this.#reader.read(), new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), left))]);
      if (next === 'timeout') return until(this.text);
      if (next.done) this.done = true;
      else this.text += this.#decoder.decode(next.value, { stream: true });
    }
    return true;
  }

  heartbeats(): number {
    return this.text.split('\n').filter((line) => line === ': keepalive').length;
  }

  /** The JSON-RPC messages received so far. */
  messages(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith('data: ') && line.length > 'data: '.length)
      .map((line) => JSON.parse(line.slice('data: '.length)) as Record<string, unknown>);
  }

  async close(): Promise<void> {
    await this.#reader.cancel();
  }
}

describe('SSE heartbeats', () => {
  it('the standalone GET stream carries a comment heartbeat every SSE_HEARTBEAT_MS and stays open', async () => {
    const response = await fetch(server.mcpUrl, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const sse = new SseReader(response);
    expect(await sse.readUntil(() => sse.heartbeats() >= 5, HEARTBEAT_MS * 15)).toBe(true);
    expect(sse.done).toBe(false);
    // Heartbeats are comments: no message, no event id a client would resume from.
    expect(sse.messages()).toEqual([]);
    await sse.close();
  });

  it('a long tool call stream carries heartbeats while it waits, then delivers the server request and the result on it', async () => {
    const response = await fetch(server.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_sampling', arguments: { prompt: 'ping' } } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const sse = new SseReader(response);
    expect(await sse.readUntil(() => sse.messages().some((m) => m.method === 'sampling/createMessage'), 5000)).toBe(true);
    const request = sse.messages().find((m) => m.method === 'sampling/createMessage') as { id: string | number };
    // The client takes its time: the stream must stay open across several heartbeats.
    const before = sse.heartbeats();
    expect(await sse.readUntil(() => sse.heartbeats() >= before + 5, HEARTBEAT_MS * 15)).toBe(true);
    expect(sse.done).toBe(false);
    const answer = await fetch(server.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { role: 'assistant', content: { type: 'text', text: 'pong' }, model: 'test', stopReason: 'endTurn' } }),
    });
    expect(answer.status).toBe(202);
    expect(await sse.readUntil(() => sse.messages().some((m) => m.id === 7), 5000)).toBe(true);
    expect(sse.messages().find((m) => m.id === 7)).toMatchObject({ result: { content: [{ type: 'text', text: 'LLM response: pong' }] } });
    await sse.close();
  });
});
