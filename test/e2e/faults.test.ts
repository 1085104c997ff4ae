// Faults end to end (issue 9): MariaDB stopped during tool calls answers a typed db_unavailable within the connect timeout and recovers by itself; a stream cut mid-response resumes with Last-Event-ID, every event after the cut delivered exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module without type declarations
import { seedAuditDb, seedDemo, startMariaDb } from '../support/mariadb.mjs';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

interface MariaDb {
  adminUrl: string;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

type Message = Record<string, unknown> & { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: unknown };

const CONNECT_TIMEOUT_MS = 1000;
/** Room above the connect timeout for the rest of the request on a shared machine. */
const SLACK_MS = 2000;
const RECOVERY_BOUND_MS = 30_000;
const MCP = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let database: MariaDb;
let server: Server;
let key: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json()) as Record<string, unknown>;
}

/** SSE events of a text body (id and parsed data; empty priming events kept with data null). */
function events(text: string): Array<{ id?: string; data: Message | null }> {
  return text
    .split(/\n\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let id: string | undefined;
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) id = line.slice(3).trim();
        if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      return { ...(id === undefined ? {} : { id }), data: data === '' ? null : (JSON.parse(data) as Message) };
    });
}

async function openSession(): Promise<Record<string, string>> {
  const init = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...MCP, authorization: `Bearer ${key}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'faults', version: '1' } } }) });
  expect(init.status).toBe(200);
  await init.text();
  const headers = { ...MCP, authorization: `Bearer ${key}`, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };
  const ack = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  expect(ack.status).toBe(202);
  return headers;
}

/** Calls a tool and returns its JSON-RPC reply and how long it took. */
async function callTool(headers: Record<string, string>, id: number, name: string, args: Record<string, unknown> = {}): Promise<{ reply: Message | undefined; ms: number; status: number }> {
  const started = Date.now();
  const response = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) });
  const text = await response.text();
  const all = (response.headers.get('content-type') ?? '').startsWith('application/json') ? [JSON.parse(text) as Message] : events(text).flatMap((e) => (e.data ? [e.data] : []));
  return { reply: all.find((m) => m.id === id), ms: Date.now() - started, status: response.status };
}

function toolText(reply: Message | undefined): string {
  const content = (reply?.result?.content ?? []) as Array<{ text?: string }>;
  return content[0]?.text ?? '';
}

beforeAll(async () => {
  database = await startMariaDb();
  const { readerUrl } = await seedDemo({ adminUrl: database.adminUrl, log: () => undefined });
  const { writerUrl } = await seedAuditDb({ adminUrl: database.adminUrl });
  server = await startServer({ mysqlUrl: readerUrl, auditUrl: writerUrl, vars: { DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), ENABLE_CONFORMANCE_PACK: 'true' } });
  const created = await admin('/admin/keys', { agent_name: 'faults', owner: 'faults@example.com', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 10_000, per_seconds: 60 } });
  key = String(created.key);
}, 180_000);

afterAll(async () => {
  await server?.close();
  await database?.stop();
});

describe('faults: MySQL stopped during tool calls', () => {
  it('answers a typed db_unavailable within the connect timeout, then recovers by itself when MariaDB is back', async () => {
    const headers = await openSession();
    const before = await callTool(headers, 1, 'list_tables');
    expect(before.reply?.result?.isError, toolText(before.reply)).toBeFalsy();

    await database.stopServer();
    const down: Array<{ reply: Message | undefined; ms: number; status: number }> = [];
    try {
      for (let i = 0; i < 3; i++) down.push(await callTool(headers, 10 + i, i % 2 ? 'find_customers' : 'list_tables', i % 2 ? { query: 'a' } : {}));
    } finally {
      await database.startServer();
    }
    for (const call of down) {
      expect(call.status).toBe(200);
      expect(call.reply?.error, JSON.stringify(call.reply)).toBeUndefined();
      expect(call.reply?.result?.isError).toBe(true);
      expect(toolText(call.reply)).toMatch(/^db_unavailable: /);
      expect(toolText(call.reply)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at .*:\d+:\d+/);
      expect(call.ms).toBeLessThan(CONNECT_TIMEOUT_MS + SLACK_MS);
    }

    // No restart of the server and no new session: the same session recovers when MariaDB is back.
    const deadline = Date.now() + RECOVERY_BOUND_MS;
    let recovered: Message | undefined;
    for (let id = 100; Date.now() < deadline; id++) {
      const call = await callTool(headers, id, 'list_tables');
      if (call.reply?.result && !call.reply.result.isError) {
        recovered = call.reply;
        break;
      }
      await sleep(500);
    }
    expect(recovered, `not recovered within ${RECOVERY_BOUND_MS} ms`).toBeDefined();
  }, 120_000);
});

describe('faults: a stream cut mid-response', () => {
  it('resumes with Last-Event-ID: every event after the cut arrives once, none lost', async () => {
    const headers = await openSession();
    const controller = new AbortController();
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p-7' } } }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Read until the first progress notification, then cut the connection.
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let before: Array<{ id?: string; data: Message | null }> = [];
    while (!before.some((e) => e.data?.method === 'notifications/progress')) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      before = events(buffered.slice(0, buffered.lastIndexOf('\n\n') + 2));
    }
    controller.abort();
    await reader.cancel().catch(() => undefined);
    expect(before.some((e) => e.data?.id === 7), 'the cut came before the result').toBe(false);
    const lastId = before.filter((e) => e.id !== undefined).at(-1)?.id;
    expect(lastId, 'the stream carried event ids').toBeDefined();

    // The tool finishes while the client is away; then the client resumes from the last id it saw.
    await sleep(500);
    const resumeController = new AbortController();
    const resumed = await fetch(`${server.url}/mcp`, { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastId ?? '' }, signal: resumeController.signal });
    expect(resumed.status).toBe(200);
    const resumeReader = (resumed.body as ReadableStream<Uint8Array>).getReader();
    let replayText = '';
    const stopAt = Date.now() + 10_000;
    while (Date.now() < stopAt && !events(replayText).some((e) => e.data?.id === 7)) {
      const next = await Promise.race([resumeReader.read(), sleep(Math.max(1, stopAt - Date.now())).then(() => ({ done: true, value: undefined }))]);
      if (next.done) break;
      replayText += decoder.decode(next.value, { stream: true });
    }
    resumeController.abort();
    await resumeReader.cancel().catch(() => undefined);

    const after = events(replayText);
    const all = [...before, ...after].filter((e) => e.data !== null);
    const progress = all.filter((e) => e.data?.method === 'notifications/progress').map((e) => e.data?.params?.progress);
    const results = all.filter((e) => e.data?.id === 7);
    expect(progress, 'each progress notification exactly once, in order').toEqual([0, 50, 100]);
    expect(results).toHaveLength(1);
    expect(toolText(results[0]?.data ?? undefined)).toBe('Tool with progress executed successfully');
    const ids = all.map((e) => e.id).filter((id) => id !== undefined);
    expect(new Set(ids).size, 'no event delivered twice').toBe(ids.length);
    expect(after.filter((e) => e.data !== null).every((e) => e.id !== lastId)).toBe(true);
  }, 60_000);
});
