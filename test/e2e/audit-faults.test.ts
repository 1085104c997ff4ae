// End to end on a private MariaDB: tool calls under load while MariaDB is stopped and started, and while the server restarts; every audited call reaches mcp_audit.audit_events exactly once.
import { randomBytes } from 'node:crypto';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
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

type JsonObject = Record<string, unknown>;

/** One tool call of the load and what came back. */
interface Call {
  loop: number;
  tag: string;
  sessionId: string;
  /** The HTTP status, or null when no response came (the server was down). */
  status: number | null;
  /** Whether the request surely never reached the server (connection refused). */
  refused: boolean;
  /** The tool result, when the JSON-RPC reply arrived. */
  reply?: { outcome: 'success' | 'failure'; errorCode?: string | undefined };
  startedAt: number;
  endedAt: number;
  /** The body or error, when no reply arrived (for the failure message). */
  detail?: string;
}

/** A stored tool.call event of the load. */
interface Row {
  id: string;
  sessionId: string | null;
  tool: string | null;
  outcome: string;
  requestId: string | undefined;
  errorCode: string | undefined;
}

const RUN = `faults-${randomBytes(6).toString('hex')}`;
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'audit-faults', version: '1.0.0' } } };
const LOOPS = 4;
const LOAD_MS = 8000;
const DELIVERY_BOUND_MS = 90_000;
/** How long to keep watching after delivery caught up, so a late duplicate would be counted. */
const QUIET_MS = 4000;

let database: MariaDb;
let server: Server;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function say(line: string): void {
  process.stdout.write(`[audit-faults] ${line}\n`);
}

async function connect(): Promise<Connection> {
  const a = new URL(database.adminUrl);
  return mysql.createConnection({ host: a.hostname, port: Number(a.port), user: decodeURIComponent(a.username), password: decodeURIComponent(a.password), connectTimeout: 5000 });
}

async function query<T extends RowDataPacket>(sql: string, params: unknown[] = []): Promise<T[]> {
  const conn = await connect();
  try {
    const [rows] = await conn.query<T[]>(sql, params);
    return rows;
  } finally {
    await conn.end();
  }
}

async function createKey(agentId: string): Promise<string> {
  const response = await fetch(`${server.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: `Fault load ${agentId}`, agent_id: agentId, owner: `owner-${RUN}`, scopes: ['support:read'], rate_limit: { requests: 1_000_000, per_seconds: 60 } }),
  });
  expect(response.status).toBe(201);
  return String(((await response.json()) as JsonObject).key);
}

/** The JSON-RPC messages of an SSE (or JSON) body. */
function rpcMessages(contentType: string, text: string): JsonObject[] {
  if (contentType.startsWith('application/json')) return text.trim() === '' ? [] : [JSON.parse(text) as JsonObject];
  return text
    .split('\n\n')
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join(''),
    )
    .filter((data) => data.trim() !== '')
    .map((data) => JSON.parse(data) as JsonObject);
}

function post(key: string, sessionId: string, body: JsonObject, tag: string): Promise<Response> {
  const headers: Record<string, string> = { ...MCP_HEADERS, authorization: `Bearer ${key}`, 'cf-ray': tag };
  if (sessionId) Object.assign(headers, { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
  return fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
}

async function openSession(key: string, prefix: string): Promise<string> {
  const init = await post(key, '', INITIALIZE, `${prefix}-init`);
  expect(init.status).toBe(200);
  await init.text();
  const sessionId = init.headers.get('mcp-session-id') ?? '';
  const ack = await post(key, sessionId, { jsonrpc: '2.0', method: 'notifications/initialized' }, `${prefix}-ack`);
  expect(ack.status).toBe(202);
  return sessionId;
}

/** Whether a fetch failure means the connection was refused (the request never reached the server). */
function wasRefused(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === 'ECONNREFUSED';
}

/** One loop: get_customer calls in its own session until `control.until`, each with a unique cf-ray tag (the event's request id). */
async function loop(key: string, prefix: string, index: number, control: { until: number; made: Call[] }): Promise<Call[]> {
  const sessionId = await openSession(key, `${prefix}-L${index}`);
  const calls: Call[] = [];
  for (let seq = 1; Date.now() < control.until; seq++) {
    const tag = `${prefix}-L${index}-${seq}`;
    const call: Call = { loop: index, tag, sessionId, status: null, refused: false, startedAt: Date.now(), endedAt: 0 };
    calls.push(call);
    control.made.push(call);
    try {
      const response = await post(key, sessionId, { jsonrpc: '2.0', id: seq, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: (seq % 600) + 1 } } }, tag);
      call.status = response.status;
      const text = await response.text();
      const reply = response.status === 200 ? rpcMessages(response.headers.get('content-type') ?? '', text).find((m) => m.id === seq) : undefined;
      const result = reply?.result as { isError?: boolean; content?: Array<{ type: string; text?: string }> } | undefined;
      if (!result) call.detail = text.slice(0, 500);
      if (result) {
        const first = result.content?.[0];
        call.reply = result.isError ? { outcome: 'failure', errorCode: first?.type === 'text' ? first.text?.split(':', 1)[0] : undefined } : { outcome: 'success' };
      }
    } catch (error) {
      call.refused = call.status === null && wasRefused(error);
      call.detail = String(error instanceof Error ? `${error.message} ${String(error.cause)}` : error);
      await sleep(100);
    } finally {
      call.endedAt = Date.now();
    }
  }
  return calls;
}

/** The tool.call events of an agent, as stored. */
async function storedCalls(agentId: string): Promise<Row[]> {
  const rows = await query<RowDataPacket>("SELECT id, session_id, tool, outcome, event FROM mcp_audit.audit_events WHERE agent_id = ? AND type = 'tool.call'", [agentId]);
  return rows.map((r) => {
    const event = JSON.parse(String(r.event)) as JsonObject;
    return { id: String(r.id), sessionId: r.session_id, tool: r.tool, outcome: String(r.outcome), requestId: typeof event.request_id === 'string' ? event.request_id : undefined, errorCode: typeof event.error_code === 'string' ? event.error_code : undefined };
  });
}

/**
 * Polls (bounded) until every one of `tags` has a stored tool.call event; returns when (or null).
 * A late duplicate would still show: callers wait QUIET_MS longer before counting.
 */
async function waitForTags(agentId: string, tags: ReadonlySet<string>, boundMs: number): Promise<number | null> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    const stored = new Set((await storedCalls(agentId)).map((r) => r.requestId));
    if ([...tags].every((t) => stored.has(t))) return Date.now();
    await sleep(250);
  }
  return null;
}

/** Problems with exactly-once: each answered call once (same session, tool, outcome, code); a call that never arrived not at all; nothing else. */
function exactlyOnce(calls: readonly Call[], rows: readonly Row[]): string[] {
  const problems: string[] = [];
  const byTag = new Map<string, Row[]>();
  for (const row of rows) byTag.set(row.requestId ?? '(none)', [...(byTag.get(row.requestId ?? '(none)') ?? []), row]);
  for (const call of calls) {
    const found = byTag.get(call.tag) ?? [];
    byTag.delete(call.tag);
    if (call.reply) {
      if (found.length !== 1) {
        problems.push(`${call.tag} (answered ${call.reply.outcome}${call.reply.errorCode ? ` ${call.reply.errorCode}` : ''}): ${found.length} events`);
        continue;
      }
      const row = found[0] as Row;
      if (row.sessionId !== call.sessionId || row.tool !== 'get_customer' || row.outcome !== call.reply.outcome || row.errorCode !== call.reply.errorCode) {
        problems.push(`${call.tag}: event ${JSON.stringify(row)} does not match the answer ${JSON.stringify(call.reply)} in session ${call.sessionId}`);
      }
    } else if (call.refused ? found.length !== 0 : found.length > 1) {
      problems.push(`${call.tag} (no answer, status ${call.status ?? 'none'}${call.refused ? ', connection refused' : ''}): ${found.length} events`);
    }
  }
  for (const [tag, extra] of byTag) problems.push(`event(s) for no call of this load: request ${tag}, ${extra.length} event(s)`);
  const ids = rows.map((r) => r.id);
  if (new Set(ids).size !== ids.length) problems.push('duplicate event ids');
  return problems;
}

/** Calls made per session, and stored get_customer events per session. */
function perSession(calls: readonly Call[], rows: readonly Row[]): { made: Record<string, number>; stored: Record<string, number> } {
  const made: Record<string, number> = {};
  const stored: Record<string, number> = {};
  for (const c of calls) made[c.sessionId] = (made[c.sessionId] ?? 0) + 1;
  for (const r of rows) if (r.tool === 'get_customer') stored[`${r.sessionId ?? ''}`] = (stored[`${r.sessionId ?? ''}`] ?? 0) + 1;
  return { made, stored };
}

describe('audit delivery under faults (own MariaDB, own server)', () => {
  beforeAll(async () => {
    database = (await startMariaDb()) as MariaDb;
    const { readerUrl } = (await seedDemo({ adminUrl: database.adminUrl })) as { readerUrl: string };
    const { writerUrl } = (await seedAuditDb({ adminUrl: database.adminUrl })) as { writerUrl: string };
    // A short connect timeout, so calls fail fast (db_unavailable) while MariaDB is down.
    server = (await startServer({ mysqlUrl: readerUrl, auditUrl: writerUrl, vars: { DB_CONNECT_TIMEOUT_MS: '1000' } }));
  });

  afterAll(async () => {
    await server?.close();
    await database?.stop();
  });

  it('MariaDB stopped and started in the middle of a load: every call, failed ones included, is stored exactly once', async () => {
    const agentId = `${RUN}-db`;
    const key = await createKey(agentId);
    const started = Date.now();
    const control = { until: started + LOAD_MS, made: [] as Call[] };
    const loops = Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(key, `${RUN}-db`, i, control)));
    await sleep(2000);
    await database.stopServer();
    const downAt = Date.now();
    await sleep(3000);
    await database.startServer();
    const backAt = Date.now();
    // Calls keep going a while after the database is back, so both sides of the outage are in the load.
    control.until = Math.max(control.until, backAt + 2000);
    // The backlog: calls answered before MariaDB came back (their events were recorded by then).
    const backlog = new Set(control.made.filter((c) => c.reply && c.endedAt <= backAt).map((c) => c.tag));
    const backlogDone = waitForTags(agentId, backlog, DELIVERY_BOUND_MS);
    const calls = (await loops).flat();
    const loadEnd = Date.now();
    say(`database down ${((backAt - downAt) / 1000).toFixed(1)} s; ${calls.length} calls in ${((loadEnd - started) / 1000).toFixed(1)} s`);

    const unanswered = calls.filter((c) => !c.reply);
    const unavailable = calls.filter((c) => c.reply?.errorCode === 'db_unavailable');
    const succeeded = calls.filter((c) => c.reply?.outcome === 'success');
    const others = calls.filter((c) => c.reply?.outcome === 'failure' && c.reply.errorCode !== 'db_unavailable');
    say(`answers: ${succeeded.length} success, ${unavailable.length} db_unavailable, ${others.length} other failures (${others.map((c) => c.reply?.errorCode ?? '?').join(', ')}), ${unanswered.length} unanswered`);
    if (unanswered.length > 0) say(`unanswered calls: ${JSON.stringify(unanswered)}\nserver output:\n${server.output.slice(-6000)}`);
    // The outage shows in the answers, and calls succeeded before it and again after it.
    expect(unavailable.length).toBeGreaterThan(0);
    expect(succeeded.some((c) => c.endedAt < downAt)).toBe(true);
    expect(succeeded.some((c) => c.startedAt > backAt)).toBe(true);

    const backlogAt = await backlogDone;
    say(backlogAt === null ? `the backlog of ${backlog.size} events was not delivered within ${DELIVERY_BOUND_MS / 1000} s` : `the backlog of ${backlog.size} events (calls answered before MariaDB came back) was delivered ${((backlogAt - backAt) / 1000).toFixed(1)} s after it came back`);
    const reachedAt = await waitForTags(agentId, new Set(calls.map((c) => c.tag)), DELIVERY_BOUND_MS);
    say(reachedAt === null ? `delivery did not catch up within ${DELIVERY_BOUND_MS / 1000} s` : `delivery caught up with every call ${((reachedAt - backAt) / 1000).toFixed(1)} s after MariaDB came back (${((reachedAt - loadEnd) / 1000).toFixed(1)} s after the load ended)`);
    await sleep(QUIET_MS);
    // The outage reached the delivery: at least one flush failed and was retried.
    expect(server.output).toContain('audit_delivery_failed');
    const rows = await storedCalls(agentId);
    expect(exactlyOnce(calls, rows)).toEqual([]);
    // Every call made is stored, the failed ones included (the server stayed up, so every call reached it).
    expect(rows).toHaveLength(calls.length);
    const { made, stored } = perSession(calls, rows);
    expect(stored).toEqual(made);
    expect(rows.filter((r) => r.errorCode === 'db_unavailable')).toHaveLength(unavailable.length);
    const dupes = await query<RowDataPacket>('SELECT id, COUNT(*) AS n FROM mcp_audit.audit_events GROUP BY id HAVING COUNT(*) > 1');
    expect(dupes).toEqual([]);
    // And, the server being up, every call got its JSON-RPC answer.
    expect(unanswered).toEqual([]);
  }, 180_000);

  it('the server restarted in the middle of a load: every answered call is stored exactly once', async () => {
    const agentId = `${RUN}-restart`;
    const key = await createKey(agentId);
    const started = Date.now();
    const control = { until: started + LOAD_MS, made: [] as Call[] };
    const loops = Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(key, `${RUN}-rs`, i, control)));
    await sleep(3000);
    const stopAt = Date.now();
    await server.restart();
    const upAt = Date.now();
    control.until = Math.max(control.until, upAt + 2000);
    const calls = (await loops).flat();
    const loadEnd = Date.now();
    const answered = calls.filter((c) => c.reply);
    const refused = calls.filter((c) => c.refused);
    say(`server down ${((upAt - stopAt) / 1000).toFixed(1)} s; ${calls.length} calls: ${answered.length} answered, ${refused.length} refused, ${calls.length - answered.length - refused.length} cut off`);
    // In every loop, calls were answered before the server went down and after it came back.
    for (let i = 0; i < LOOPS; i++) {
      const own = calls.filter((c) => c.loop === i);
      expect(own.findIndex((c) => !c.reply)).toBeGreaterThan(0);
      expect(own.findLastIndex((c) => !c.reply)).toBeLessThan(own.length - 1);
    }

    const reachedAt = await waitForTags(agentId, new Set(answered.map((c) => c.tag)), DELIVERY_BOUND_MS);
    say(reachedAt === null ? `delivery did not catch up within ${DELIVERY_BOUND_MS / 1000} s` : `delivery caught up with every answered call ${((reachedAt - upAt) / 1000).toFixed(1)} s after the server came back (${((reachedAt - loadEnd) / 1000).toFixed(1)} s after the load ended)`);
    await sleep(QUIET_MS);
    const rows = await storedCalls(agentId);
    const cut = calls.filter((c) => !c.reply && !c.refused);
    say(`of the ${cut.length} calls cut off by the restart, ${cut.filter((c) => rows.some((r) => r.requestId === c.tag)).length} were recorded before the server went down`);
    expect(exactlyOnce(calls, rows)).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(answered.length);
    const dupes = await query<RowDataPacket>('SELECT id, COUNT(*) AS n FROM mcp_audit.audit_events GROUP BY id HAVING COUNT(*) > 1');
    expect(dupes).toEqual([]);
  }, 180_000);
});
