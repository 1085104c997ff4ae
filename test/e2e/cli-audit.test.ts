// End to end in Node: `mcp-admin audit search` and `audit tail` (bin/mcp-admin.mjs) against the real server's GET /admin/audit/events.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql, { type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AUDIT_TYPES, type AuditEvent } from '../../src/audit/event.ts';
import { auditRow } from '../../src/db/audit-port.ts';
// @ts-expect-error -- plain ES module without type declarations
import { parseMysqlUrl, seedNamedAuditDb } from '../support/mariadb.mjs';
import { signIn, type FlowFetchers, type SignedIn } from '../support/oauth-flow.ts';
import { freePort, startServer, type ServerHandle as Server } from '../support/server.mjs';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The parts of a raw audit event these tests read. */
interface RawEvent {
  v: number;
  id: string;
  time: string;
  type: string;
  outcome: string;
  tool?: string;
  actor: { user_id?: string; agent_id?: string; agent_name?: string; key_id?: string };
  params?: Record<string, unknown>;
  error_code?: string;
}

/** A tail running as a child process. */
interface Tail {
  /** Resolves once the backlog is printed and it follows new events. */
  following: Promise<void>;
  exited: Promise<Run & { ms: number }>;
  stdout(): string;
  interrupt(): void;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/mcp-admin.mjs');
const FETCHERS: FlowFetchers = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cli-audit-e2e', version: '1.0.0' } } };
const HEADER = ['TIME (UTC)', 'TYPE', 'OUTCOME', 'WHO', 'TOOL', 'DETAIL'];
/** Events reach the audit store about a second after they are recorded. */
const DELIVERY_MS = 2500;

let server: Server;
let user: SignedIn;
let session: Record<string, string>;
let agent: { key_id: string; agent_id: string };
let userId = '';
let callId = 100;

function cliEnv(): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, MCP_ADMIN_URL: server.url, MCP_ADMIN_SECRET: server.adminSecret };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Runs the tool to completion. */
function cli(args: string[], env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...cliEnv(), ...env }, cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts `audit tail` in the background. */
function tail(args: string[]): Tail {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, 'audit', 'tail', ...args], { env: cliEnv(), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onFollowing: () => void = () => {};
  const following = new Promise<void>((resolve) => (onFollowing = resolve));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('Following new audit events')) onFollowing();
  });
  const exited = new Promise<Run & { ms: number }>((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - started })));
  // A tail that exits early (an error) stops the wait too.
  void exited.then(() => onFollowing());
  return { following, exited, stdout: () => stdout, interrupt: () => child.kill('SIGINT') };
}

/**
 * The NDJSON lines of a run, parsed, without the admin API reads: every search is itself recorded
 * (`admin.read`, delivered a moment later), so the trail grows as the tests read it; the
 * assertions here are about the other events, which these reads do not change.
 */
function events(run: Run): RawEvent[] {
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RawEvent)
    .filter((e) => e.type !== 'admin.read');
}

/** The rows of a table as cells (columns are separated by two or more spaces). */
function allRows(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/\s{2,}/));
}

/** The rows of a table as cells (columns are separated by two or more spaces), without the admin API reads (as in `events`). */
function rows(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/\s{2,}/))
    .filter((cells) => cells[1] !== 'admin.read');
}

async function mcp(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(server.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${user.accessToken}`, ...headers }, body: JSON.stringify(body) });
}

/** Opens an MCP session with the user's token; returns the headers its requests need. */
async function openSession(): Promise<Record<string, string>> {
  const response = await mcp(INITIALIZE);
  expect(response.status).toBe(200);
  await response.text();
  const headers = { 'mcp-session-id': response.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };
  const ack = await mcp({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  expect(ack.status).toBe(202);
  return headers;
}

/** Calls a tool in the session; returns the HTTP status and the body. */
async function callTool(name: string, args: Record<string, unknown>): Promise<{ status: number; body: string }> {
  const response = await mcp({ jsonrpc: '2.0', id: callId++, method: 'tools/call', params: { name, arguments: args } }, session);
  return { status: response.status, body: await response.text() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = (await startServer());
  // A person with support:read only: one allowed tool call, and one refused for scope.
  user = await signIn(server.url, FETCHERS, { login: 'audit-alice', scope: 'support:read' });
  session = await openSession();
  const allowed = await callTool('find_customers', { query: 'acme' });
  expect(allowed.status).toBe(200);
  expect(allowed.body).toContain('"result"');
  const denied = await callTool('sql_select', { sql: 'SELECT 1' });
  expect(denied.status).toBe(403);
  // A few more calls, so the trail is longer than the ten events a tail starts with.
  for (const [name, args] of [['list_open_tickets', { priority: 'high' }], ['get_customer', { customer_id: 2 }], ['get_customer', { customer_id: 999_999 }]] as const) {
    expect((await callTool(name, args)).status).toBe(200);
  }
  // An agent's key, created and revoked with the tool.
  const created = cli(['keys', 'create', '--agent', 'Audit bot', '--owner', 'ops@example.com', '--scopes', 'support:read', '--json']);
  expect(created.status).toBe(0);
  agent = JSON.parse(created.stdout) as { key_id: string; agent_id: string };
  expect(cli(['keys', 'revoke', agent.key_id]).status).toBe(0);
  await sleep(DELIVERY_MS);
});
afterAll(async () => {
  await server?.close();
});

describe('mcp-admin audit search', () => {
  it('prints a table with the tool calls (allowed and denied) and the key events', () => {
    const run = cli(['audit', 'search']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [header, ...body] = rows(run.stdout);
    expect(header).toEqual(HEADER);
    for (const row of body) {
      expect(row[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(row).toHaveLength(6);
    }
    const call = body.find((r) => r[1] === 'tool.call' && r[4] === 'find_customers');
    expect(call?.slice(1, 3)).toEqual(['tool.call', 'success']);
    expect(call?.[3]).toMatch(/^.{12}…$/);
    expect(call?.[5]).toContain('query="acme"');
    const refused = body.find((r) => r[1] === 'tool.call' && r[4] === 'sql_select');
    expect(refused?.slice(1, 3)).toEqual(['tool.call', 'denied']);
    expect(refused?.[5]).toContain('insufficient_scope');
    expect(refused?.[3]).toBe(call?.[3]);
    const missing = body.find((r) => r[4] === 'get_customer' && r[2] === 'failure');
    expect(missing?.[5]).toMatch(/^not_found; customer_id=999999$/);
    expect(body.find((r) => r[1] === 'key.created')?.slice(2, 5)).toEqual(['success', 'Audit bot', '-']);
    expect(body.find((r) => r[1] === 'key.revoked')?.slice(2, 5)).toEqual(['success', 'Audit bot', '-']);
    for (const type of ['auth.sign_in', 'auth.token_issued', 'client.registered']) expect(body.some((r) => r[1] === type)).toBe(true);
    // Oldest first.
    const times = body.map((r) => r[0] ?? '');
    expect([...times].sort()).toEqual(times);
    // No secret of the session reaches the output.
    expect(run.stdout).not.toContain(user.accessToken);
    expect(run.stdout).not.toContain(server.adminSecret);
  });

  it('--json prints the server NDJSON lines: v1 events with ids in ascending order, the same events as the table', () => {
    const all = events(cli(['audit', 'search', '--json']));
    expect(all.length).toBeGreaterThanOrEqual(12);
    const ids = all.map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of all) expect(e.v).toBe(1);
    const call = all.find((e) => e.type === 'tool.call' && e.tool === 'find_customers');
    expect(call).toMatchObject({ outcome: 'success', params: { query: 'acme' } });
    userId = call?.actor.user_id ?? '';
    expect(userId).not.toBe('');
    expect(all.find((e) => e.type === 'key.revoked')?.actor).toMatchObject({ key_id: agent.key_id, agent_name: 'Audit bot', agent_id: agent.agent_id });
    expect(rows(cli(['audit', 'search']).stdout)).toHaveLength(all.length + 1);

    // The other formats are the server's lines too, for the same events in the same order.
    const ocsf = cli(['audit', 'search', '--format', 'ocsf']);
    expect(ocsf.status).toBe(0);
    const records = ocsf.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { class_uid: number; metadata: { uid: string; event_code: string } }).filter((r) => r.metadata.event_code !== 'admin.read');
    expect(records.map((r) => r.metadata.uid)).toEqual(ids);
    expect(records.find((r) => r.metadata.uid === call?.id)?.class_uid).toBe(6003);
    const ecs = cli(['audit', 'search', '--format', 'ecs', '--tool', 'find_customers']);
    expect(ecs.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { event: { id: string } }).event.id)).toEqual(all.filter((e) => e.tool === 'find_customers').map((e) => e.id));
  });

  it('filters narrow the result: --tool, --outcome, --type, --user, --agent, --since and --until', () => {
    const all = events(cli(['audit', 'search', '--json']));
    const byTool = events(cli(['audit', 'search', '--json', '--tool', 'find_customers']));
    expect(byTool.length).toBeGreaterThan(0);
    expect(byTool.length).toBeLessThan(all.length);
    expect(byTool.every((e) => e.tool === 'find_customers')).toBe(true);
    expect(byTool).toEqual(all.filter((e) => e.tool === 'find_customers'));

    const denied = events(cli(['audit', 'search', '--json', '--outcome', 'denied']));
    expect(denied).toEqual(all.filter((e) => e.outcome === 'denied'));
    expect(denied.some((e) => e.tool === 'sql_select' && e.error_code === 'insufficient_scope')).toBe(true);
    const failed = events(cli(['audit', 'search', '--json', '--outcome', 'failure']));
    expect(failed).toEqual(all.filter((e) => e.outcome === 'failure'));
    expect(failed.map((e) => [e.tool, e.error_code])).toContainEqual(['get_customer', 'not_found']);
    const table = rows(cli(['audit', 'search', '--outcome', 'denied', '--tool', 'sql_select']).stdout);
    expect(table.slice(1).map((r) => r.slice(1, 5))).toEqual([['tool.call', 'denied', expect.stringMatching(/…$/), 'sql_select']]);

    expect(events(cli(['audit', 'search', '--json', '--type', 'key.revoked'])).map((e) => e.actor.key_id)).toEqual([agent.key_id]);
    const mine = events(cli(['audit', 'search', '--json', '--user', userId]));
    expect(mine.some((e) => e.tool === 'find_customers')).toBe(true);
    expect(mine.every((e) => e.actor.user_id === userId)).toBe(true);
    expect(events(cli(['audit', 'search', '--json', '--agent', agent.agent_id])).map((e) => e.type)).toEqual(['key.created', 'key.revoked']);

    expect(events(cli(['audit', 'search', '--json', '--since', '1h']))).toEqual(all);
    const first = all[0]?.time ?? '';
    expect(events(cli(['audit', 'search', '--json', '--until', first]))).toEqual([]);
    expect(events(cli(['audit', 'search', '--json', '--since', new Date(Date.parse(first) + 1).toISOString()]))).toEqual(all.filter((e) => e.time > first));
    const none = cli(['audit', 'search', '--until', '2020-01-01']);
    expect(none).toEqual({ status: 0, stdout: 'No audit events match.\n', stderr: '' });
  });

  it('follows the cursor across pages until --limit, and says where to continue', () => {
    const all = events(cli(['audit', 'search', '--json']));
    expect(events(cli(['audit', 'search', '--json', '--page-size', '2']))).toEqual(all);
    const limited = cli(['audit', 'search', '--json', '--page-size', '2', '--limit', '5']);
    expect(limited.status).toBe(0);
    const firstFive = limited.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as RawEvent);
    expect(firstFive.map((e) => e.id)).toEqual(all.slice(0, 5).map((e) => e.id));
    expect(limited.stderr).toBe(`mcp-admin: more events match than --limit 5: continue with --after ${firstFive[4]?.id}, or narrow the search (--since, --until, filters).\n`);
    // Continuing with --after, three at a time, reads every event exactly once.
    const read: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = cli(['audit', 'search', '--json', '--limit', '3', ...(after ? ['--after', after] : [])]);
      expect(page.status).toBe(0);
      read.push(...page.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as RawEvent).filter((e) => e.type !== 'admin.read').map((e) => e.id));
      after = /--after ([0-9A-Z]{26})/.exec(page.stderr)?.[1];
      if (!after) break;
    }
    expect(read).toEqual(all.map((e) => e.id));
    // Exactly --limit events match: no note.
    // (By type: the reads themselves are recorded, so the whole trail grows while it is read.)
    const calls = events(cli(['audit', 'search', '--json', '--type', 'tool.call']));
    expect(cli(['audit', 'search', '--json', '--type', 'tool.call', '--limit', String(calls.length)]).stderr).toBe('');
  });

  it('knows exactly the event types the server has', () => {
    const help = cli(['audit', 'search', '--help']).stdout;
    const listed = /--type TYPE\s+one of: ([^-]+)--outcome/s.exec(help)?.[1]?.split(/,\s*/).map((t) => t.trim());
    expect(listed).toEqual([...AUDIT_TYPES]);
  });

  it('usage errors exit 2 naming the problem, before any request is made', async () => {
    const closed = `http://127.0.0.1:${(await freePort())}`;
    const cases: Array<[string[], string]> = [
      [['audit', 'search', '--since', 'yesterday'], "--since: 'yesterday' is not a time"],
      [['audit', 'search', '--since', '2026-11-25T10:00:00'], "--since: '2026-11-25T10:00:00' has no time zone"],
      [['audit', 'search', '--since', '2026-02-30'], "--since: '2026-02-30' is not a valid date and time"],
      [['audit', 'search', '--since', '1h', '--until', '2h'], 'must be before --until'],
      [['audit', 'search', '--until', '5 weeks'], "--until: '5 weeks' is not a duration"],
      [['audit', 'search', '--outcome', 'ok'], "--outcome: 'ok' is not success, failure or denied"],
      [['audit', 'search', '--type', 'tool.called'], "--type: unknown event type 'tool.called'"],
      [['audit', 'search', '--format', 'cef'], "--format: 'cef' is not raw, ocsf or ecs"],
      [['audit', 'search', '--limit', '0'], "--limit: '0' must be a whole number from 1 to 100000"],
      [['audit', 'search', '--after', 'not-an-id'], "--after: 'not-an-id' is not an event id"],
      [['audit', 'search', '--tool', 'drop table'], "--tool: 'drop table' is not a tool name"],
      [['audit', 'search', '--interval', '2s'], 'audit search has no option --interval'],
      [['audit', 'tail', '--interval', '0s'], "--interval: '0s' is out of range (1s to 1h)"],
      [['audit', 'tail', '--max-events', 'all'], "--max-events: 'all' must be a whole number"],
      [['audit', 'tail', '--timeout', '30'], "--timeout: '30' is not a duration"],
      [['audit', 'tail', '--since', '1h'], 'audit tail has no option --since'],
      [['audit', 'frobnicate'], "unknown command 'audit frobnicate'"],
    ];
    for (const [args, message] of cases) {
      for (const run of [cli(args), cli(args, { MCP_ADMIN_URL: closed })]) {
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain(message);
        expect(run.stderr).toMatch(/See: mcp-admin audit .*--help\n$/);
        expect(run.status).toBe(2);
      }
    }
  });

  it('a wrong admin secret exits 3, a server that is down exits 1', async () => {
    const refused = cli(['audit', 'search'], { MCP_ADMIN_SECRET: 'wrong-secret-wrong-secret-wrong-secret' });
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('authentication failed');
    const closed = `http://127.0.0.1:${(await freePort())}`;
    const down = cli(['audit', 'tail', '--timeout', '5s'], { MCP_ADMIN_URL: closed });
    expect(down.status).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain(`network error: could not connect to ${closed}`);
  });
});

describe('mcp-admin audit tail', () => {
  it('prints the last events, then a new tool call as it arrives, and exits 0 after --max-events', async () => {
    const storedAll = allRows(cli(['audit', 'search']).stdout).slice(1);
    const stored = storedAll.filter((r) => r[1] !== 'admin.read');
    expect(stored.length).toBeGreaterThan(10);
    const run = tail(['--max-events', '1', '--timeout', '20s']);
    onTestFinished(() => run.interrupt());
    await run.following;
    // The backlog: the header and the last ten events, as `audit search` shows them. Reads are
    // recorded too (admin.read, stored before the answer leaves): the newest event is that
    // search's own read, which its output could not contain.
    const tailed = allRows(run.stdout());
    expect(tailed).toHaveLength(11);
    expect(tailed.slice(0, 10)).toEqual([HEADER, ...storedAll.slice(-9)]);
    expect(tailed[10]?.slice(1, 4)).toEqual(['admin.read', 'success', 'admin bootstrap']);
    const called = await callTool('find_customers', { query: 'tail-probe' });
    expect(called.status).toBe(200);
    const done = await run.exited;
    expect(done.status).toBe(0);
    expect(done.ms).toBeLessThan(15_000);
    const printed = rows(done.stdout);
    expect(printed).toHaveLength(rows(tailed.map((r) => r.join('  ')).join('\n')).length + 1);
    expect(printed.at(-1)?.slice(1, 5)).toEqual(['tool.call', 'success', stored.find((r) => r[4] === 'find_customers')?.[3], 'find_customers']);
    expect(printed.at(-1)?.[5]).toContain('query="tail-probe"');
  }, 40_000);

  it('--json prints each new event once as the server sent it, with filters; Ctrl-C exits 0', async () => {
    const run = tail(['--json', '--lines', '0', '--tool', 'find_customers', '--interval', '1s', '--timeout', '30s']);
    onTestFinished(() => run.interrupt());
    await run.following;
    expect(run.stdout()).toBe('');
    expect((await callTool('find_customers', { query: 'first' })).status).toBe(200);
    expect((await callTool('get_customer', { customer_id: 1 })).status).toBe(200);
    expect((await callTool('find_customers', { query: 'second' })).status).toBe(200);
    // Several polls pass over the same events.
    await sleep(DELIVERY_MS + 3000);
    run.interrupt();
    const done = await run.exited;
    expect(done.status).toBe(0);
    expect(done.ms).toBeLessThan(25_000);
    const lines = done.stdout.trimEnd().split('\n');
    const printed = lines.map((l) => JSON.parse(l) as RawEvent);
    expect(printed.map((e) => e.params?.query)).toEqual(['first', 'second']);
    const stored = cli(['audit', 'search', '--json', '--tool', 'find_customers']).stdout.trimEnd().split('\n');
    expect(stored.slice(-2)).toEqual(lines);
  }, 40_000);

  it('--timeout ends a tail with nothing new with exit 0', async () => {
    const run = tail(['--lines', '0', '--type', 'auth.refresh_reuse', '--timeout', '3s']);
    const done = await run.exited;
    expect(done.status).toBe(0);
    expect(rows(done.stdout)).toEqual([HEADER]);
    expect(done.ms).toBeGreaterThanOrEqual(3000);
    expect(done.ms).toBeLessThan(10_000);
  }, 20_000);
});

describe('mcp-admin audit tail on MySQL: the delivery cursor', () => {
  const suffix = Math.random().toString(16).slice(2, 10);
  const database = `cli_tail_${suffix}`;
  const writerUser = `cli_tail_${suffix}`;
  let mysqlServer: Server;
  let admin: Connection;

  beforeAll(async () => {
    const adminUrl = process.env.TEST_MYSQL_ADMIN_URL;
    const mysqlUrl = process.env.TEST_MYSQL_URL;
    if (!adminUrl || !mysqlUrl) throw new Error('TEST_MYSQL_ADMIN_URL and TEST_MYSQL_URL must be set: run the tests with `npm test`, which starts MariaDB');
    const { writerUrl } = (await seedNamedAuditDb({ adminUrl, database, writerUser })) as { writerUrl: string };
    const a = parseMysqlUrl(adminUrl) as { host: string; port: number; user: string; password: string };
    admin = await mysql.createConnection({ host: a.host, port: a.port, user: a.user, password: a.password, database });
    mysqlServer = await startServer({ mysqlUrl, auditUrl: writerUrl });
  }, 120_000);
  afterAll(async () => {
    await mysqlServer?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(database)}`);
    await admin?.query('DROP USER IF EXISTS ?@?', [writerUser, '%']);
    await admin?.end();
  });

  it('an event delivered late with an older id is still printed, once', async () => {
    const run = spawn(process.execPath, [CLI, 'audit', 'tail', '--json', '--lines', '0', '--type', 'tool.call', '--interval', '1s', '--timeout', '30s'], {
      env: { ...cliEnv(), MCP_ADMIN_URL: mysqlServer.url, MCP_ADMIN_SECRET: mysqlServer.adminSecret },
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    run.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const following = new Promise<void>((resolve) => run.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Following new audit events')) resolve();
    }));
    const exited = new Promise<number | null>((resolve) => run.once('close', resolve));
    onTestFinished(() => void run.kill('SIGINT'));
    await following;
    const at = (ms: number, n: number): AuditEvent => ({ v: 1, id: `${idAt(ms).slice(0, 10)}${'0'.repeat(15)}${n}`, time: new Date(ms).toISOString(), type: 'tool.call', outcome: 'success', actor: { user_id: 'u_tail' }, tool: 'get_customer', params: { n } });
    const insert = (e: AuditEvent) => admin.query('INSERT INTO audit_events (id, time, type, outcome, user_id, agent_id, key_id, client_id, grant_id, session_id, tool, event) VALUES (?)', [[...auditRow(e)]]);
    // A new event, then (as an outbox that waited for the store would) one from an hour ago.
    const fresh = at(Date.now(), 1);
    await insert(fresh);
    await sleep(3500);
    const late = at(Date.now() - 3_600_000, 2);
    await insert(late);
    // Several polls pass over both.
    await sleep(6000);
    run.kill('SIGINT');
    expect(await exited).toBe(0);
    const printed = stdout.trimEnd().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(printed).toEqual([fresh.id, late.id]);
    expect(late.id < fresh.id).toBe(true);
  }, 60_000);
});

/** The smallest event id of a millisecond (as the CLI computes it). */
function idAt(ms: number): string {
  const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let t = Math.floor(ms);
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${time}${'0'.repeat(16)}`;
}
