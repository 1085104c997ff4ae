// End to end on MySQL: a realistic mix of people and agents, then every action is checked to appear exactly once in mcp_audit.audit_events with its chain, no secret anywhere, and valid OCSF/ECS exports.
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containsSecretLike } from '../../src/audit/redact.ts';
import { missingOcsfFields } from '../../src/audit/ocsf.ts';
import { signIn, tokenRequest, type FlowFetchers, type SignedIn } from '../support/oauth-flow.ts';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

/** What POST /admin/keys (and /rotate) answers, the fields used here. */
interface CreatedKey {
  key: string;
  key_id: string;
  agent_id: string;
}

type JsonObject = Record<string, unknown>;

/** Marks a ledger field whose value is not checked (it may be present or absent). */
const ANY = Symbol('any');
type Want = string | undefined | typeof ANY;

/** The chain fields compared between the ledger and the stored events. */
const CHAIN = ['user_id', 'agent_id', 'key_id', 'client_id', 'grant_id', 'session_id', 'tool', 'token_id', 'error_code', 'request_id'] as const;
type ChainField = (typeof CHAIN)[number];

/** One action this test caused, and the event it must leave: unnamed chain fields must be absent. */
interface LedgerEntry {
  what: string;
  type: string;
  outcome: 'success' | 'failure' | 'denied';
  chain: Partial<Record<ChainField, Want>>;
  /** Checked with toMatchObject against the stored params, when given. */
  params?: JsonObject;
}

/** A stored row: the indexed columns and the parsed event. */
interface Stored {
  id: string;
  type: string;
  outcome: string;
  columns: Record<'user_id' | 'agent_id' | 'key_id' | 'client_id' | 'grant_id' | 'session_id' | 'tool', string | null>;
  event: JsonObject;
  text: string;
}

const FETCHERS: FlowFetchers = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
const RUN = `mix-${randomBytes(6).toString('hex')}`;
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'audit-mix', version: '1.0.0' } } };

let server: Server;
let db: Connection;
let rays = 0;
const ledger: LedgerEntry[] = [];
/** Every credential and secret literal this test saw or made up: none may appear in any stored or exported event. */
const secrets = new Map<string, string>();

function secret(label: string, value: string): void {
  expect(value.length).toBeGreaterThan(8);
  secrets.set(value, label);
}

/** Remembers a refresh token (`<grant id>.<secret>`): the whole token and its secret part are secrets, the grant id is not. */
function refreshSecret(label: string, token: string): void {
  secret(label, token);
  secret(`${label} (secret part)`, token.split('.')[1] ?? '');
}

/** Remembers an access token (a JWT): the whole token and its signature. */
function accessSecret(label: string, token: string): void {
  secret(label, token);
  secret(`${label} (signature)`, token.split('.')[2] ?? '');
}

/** Remembers an API key (`mcpk_<key id>.<secret>`): the whole key and its secret part. */
function keySecret(label: string, key: string): void {
  secret(label, key);
  secret(`${label} (secret part)`, key.split('.')[1] ?? '');
}

/** A fresh request tag, sent as cf-ray, which the server records as the event's request_id. */
function ray(): string {
  rays += 1;
  return `${RUN}-r${rays}`;
}

function record(entry: LedgerEntry): void {
  ledger.push(entry);
}

async function admin(path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The JSON-RPC messages of an MCP response (JSON or SSE). */
function rpcMessages(contentType: string, text: string): JsonObject[] {
  if (contentType.startsWith('application/json')) return text.trim() === '' ? [] : [JSON.parse(text) as JsonObject];
  const out: JsonObject[] = [];
  for (const block of text.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('');
    if (data.trim() !== '') out.push(JSON.parse(data) as JsonObject);
  }
  return out;
}

/** One MCP session over plain HTTP; every request carries a fresh cf-ray tag. */
class Mcp {
  sessionId = '';
  #id = 0;
  constructor(public credential: string) {}

  async post(body: JsonObject, tag: string): Promise<{ status: number; text: string; messages: JsonObject[]; headers: Headers }> {
    const headers: Record<string, string> = { ...MCP_HEADERS, authorization: `Bearer ${this.credential}`, 'cf-ray': tag, 'user-agent': 'audit-mix/1.0' };
    if (this.sessionId) Object.assign(headers, { 'mcp-session-id': this.sessionId, 'mcp-protocol-version': '2025-11-25' });
    const response = await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify(body) });
    const text = await response.text();
    const messages = response.status === 200 ? rpcMessages(response.headers.get('content-type') ?? '', text) : [];
    return { status: response.status, text, messages, headers: response.headers };
  }

  /** initialize and notifications/initialized (neither is audited). */
  async open(): Promise<this> {
    const init = await this.post(INITIALIZE, ray());
    expect(init.status).toBe(200);
    this.sessionId = init.headers.get('mcp-session-id') ?? '';
    expect(this.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ack = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' }, ray());
    expect(ack.status).toBe(202);
    return this;
  }

  /** tools/call; returns the HTTP status, the JSON-RPC result (on 200) and the request tag. */
  async call(tool: string, args: JsonObject): Promise<{ status: number; result?: JsonObject; text: string; tag: string }> {
    this.#id += 1;
    const tag = ray();
    const answer = await this.post({ jsonrpc: '2.0', id: this.#id, method: 'tools/call', params: { name: tool, arguments: args } }, tag);
    const reply = answer.messages.find((m) => m.id === this.#id);
    return { status: answer.status, text: answer.text, tag, ...(reply ? { result: reply.result as JsonObject } : {}) };
  }
}

/** The ids of a signed-in person's grant, read from the access token the server issued. */
function claimsOf(tokens: SignedIn | { accessToken: string }): { user: string; client: string; grant: string; jti: string } {
  const c = decodeJwt(tokens.accessToken);
  return { user: String(c.sub), client: String(c.client_id), grant: String(c.gid), jti: String(c.jti) };
}

/** The five events of a sign-in: registration, consent, upstream sign-in, code, token. */
function recordSignIn(who: string, ids: { user: string; client: string; grant: string; jti: string }): void {
  record({ what: `${who}: client registered`, type: 'client.registered', outcome: 'success', chain: { client_id: ids.client, request_id: ANY } });
  record({ what: `${who}: consent`, type: 'auth.consent', outcome: 'success', chain: { client_id: ids.client, grant_id: ids.grant, request_id: ANY } });
  record({ what: `${who}: upstream sign-in`, type: 'auth.sign_in', outcome: 'success', chain: { user_id: ids.user, client_id: ids.client, grant_id: ids.grant, request_id: ANY } });
  record({ what: `${who}: code issued`, type: 'auth.code_issued', outcome: 'success', chain: { user_id: ids.user, client_id: ids.client, grant_id: ids.grant, request_id: ANY } });
  record({ what: `${who}: token issued`, type: 'auth.token_issued', outcome: 'success', chain: { user_id: ids.user, client_id: ids.client, grant_id: ids.grant, token_id: ids.jti, request_id: ANY } });
}

function userToolChain(ids: { user: string; client: string; grant: string; jti: string }, session: string, tool: string, tag: string): LedgerEntry['chain'] {
  return { user_id: ids.user, client_id: ids.client, grant_id: ids.grant, token_id: ids.jti, session_id: session, tool, request_id: tag };
}

function agentChain(key: CreatedKey, owner: string): LedgerEntry['chain'] {
  return { user_id: owner, agent_id: key.agent_id, key_id: key.key_id };
}

/** A chain field of a stored event: the MySQL column where there is one (checked against the JSON), else the JSON. */
function chainValue(s: Stored, field: ChainField): string | undefined {
  const actor = (s.event.actor ?? {}) as Record<string, unknown>;
  switch (field) {
    case 'user_id':
    case 'agent_id':
    case 'key_id':
    case 'client_id':
    case 'grant_id':
    case 'session_id':
    case 'tool':
      return s.columns[field] ?? undefined;
    case 'token_id':
      return typeof actor.token_id === 'string' ? actor.token_id : undefined;
    default: {
      const value = s.event[field];
      return typeof value === 'string' ? value : undefined;
    }
  }
}

function typeMatches(entry: LedgerEntry, s: Stored): boolean {
  return entry.type === s.type && entry.outcome === s.outcome;
}

/** The chain fields of a stored event that differ from the ledger entry (`field: want ≠ got`). */
function chainDiff(entry: LedgerEntry, s: Stored): string[] {
  const diff: string[] = [];
  for (const field of CHAIN) {
    const want = Object.hasOwn(entry.chain, field) ? entry.chain[field] : undefined;
    if (want === ANY) continue;
    const got = chainValue(s, field);
    if (got !== want) diff.push(`${field}: want ${want ?? '(absent)'}, got ${got ?? '(absent)'}`);
  }
  return diff;
}

/**
 * The stored events that record a ledger action. An action sent with a request tag is found by
 * its tag (the request id), type and outcome, so a wrong chain shows up as a chain difference,
 * not as a loss; an action without a tag (admin calls, steps inside the sign-in) by its whole chain.
 */
function recordsOf(entry: LedgerEntry, stored: readonly Stored[]): Stored[] {
  const tag = entry.chain.request_id;
  if (typeof tag === 'string') return stored.filter((s) => typeMatches(entry, s) && s.event.request_id === tag);
  return stored.filter((s) => typeMatches(entry, s) && chainDiff(entry, s).length === 0);
}

/** Every row of the audit table (the admin user reads it; other test files' events are there too). */
async function allRows(): Promise<Stored[]> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT id, type, outcome, user_id, agent_id, key_id, client_id, grant_id, session_id, tool, event FROM mcp_audit.audit_events ORDER BY id');
  return rows.map((r) => ({
    id: String(r.id),
    type: String(r.type),
    outcome: String(r.outcome),
    columns: { user_id: r.user_id, agent_id: r.agent_id, key_id: r.key_id, client_id: r.client_id, grant_id: r.grant_id, session_id: r.session_id, tool: r.tool },
    event: JSON.parse(String(r.event)) as JsonObject,
    text: JSON.stringify(r),
  }));
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>(sql, params);
  return Number(rows[0]?.n ?? 0);
}

/** Every record of the export in one format, paged with the cursor. */
async function exportAll(format: 'raw' | 'ocsf' | 'ecs'): Promise<{ text: string; records: JsonObject[] }> {
  let after = '';
  let text = '';
  const records: JsonObject[] = [];
  for (let page = 0; page < 100; page++) {
    const response = await admin(`/admin/audit/events?format=${format}&limit=10000${after ? `&after=${after}` : ''}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const body = await response.text();
    if (body === '') return { text, records };
    text += body;
    for (const line of body.split('\n').filter((l) => l !== '')) records.push(JSON.parse(line) as JsonObject);
    const next = response.headers.get('x-next-cursor');
    expect(next).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    after = next ?? '';
  }
  throw new Error('the export did not end within 100 pages');
}

/** The secrets found in a text, by label. */
function leaks(text: string): string[] {
  return [...secrets].filter(([value]) => text.includes(value)).map(([, label]) => label);
}

/** An event without its identifiers (random ids look like credentials to the rule by design). */
function content(event: JsonObject): JsonObject {
  const { id: _id, request_id: _request, session_id: _session, actor, ...rest } = event;
  const { user_id: _u, client_id: _c, key_id: _k, token_id: _t, grant_id: _g, upstream_subject: _s, ...chain } = (actor ?? {}) as JsonObject;
  // A detection names the events it counted, the value it grouped by (a key id, a client id, an
  // event id) and its rule's public Sigma id (a UUID from detections/*.yml): identifiers like the
  // ones removed above, not secrets; the rest of it is checked.
  if (event.type === 'detection.fired' && typeof rest.params === 'object' && rest.params !== null) {
    const { event_ids: _events, group: _group, rule_id: _rule, ...params } = rest.params as JsonObject;
    return { ...rest, params, actor: chain };
  }
  // A failure summary names the key ids and token `kid`s that were presented (the id half of a key,
  // never its secret; every e2e server on this MariaDB writes such summaries): identifiers too.
  if (event.type === 'auth.failed' && typeof rest.params === 'object' && rest.params !== null) {
    const { key_ids: _keys, kids: _kids, ...params } = rest.params as JsonObject;
    return { ...rest, params, actor: chain };
  }
  return { ...rest, actor: chain };
}

function at(record: JsonObject, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) current = typeof current === 'object' && current !== null ? (current as JsonObject)[part] : undefined;
  return current;
}

describe('the audit trail on MySQL after a realistic mix of people and agents', () => {
  let mine: Stored[] = [];
  let all: Stored[] = [];

  beforeAll(async () => {
    const mysqlUrl = process.env.TEST_MYSQL_URL;
    const auditUrl = process.env.TEST_MYSQL_AUDIT_URL;
    const adminUrl = process.env.TEST_MYSQL_ADMIN_URL;
    if (!mysqlUrl || !auditUrl || !adminUrl) throw new Error('TEST_MYSQL_URL, TEST_MYSQL_AUDIT_URL and TEST_MYSQL_ADMIN_URL must be set: run the tests with `npm test`, which starts MariaDB');
    const a = new URL(adminUrl);
    db = await mysql.createConnection({ host: a.hostname, port: Number(a.port || 3306), user: decodeURIComponent(a.username), password: decodeURIComponent(a.password) });
    server = (await startServer({ mysqlUrl, auditUrl }));
    secret('admin secret', server.adminSecret);
  });

  afterAll(async () => {
    await server?.close();
    await db?.end();
  });

  it('runs the mix: every allowed and refused action answers as expected', async () => {
    // Two people. Alice may use every tool; Bob signs in for support:read only.
    const alice = await signIn(server.url, FETCHERS, { login: 'alice' });
    const a1 = claimsOf(alice);
    accessSecret('alice access token 1', alice.accessToken);
    refreshSecret('alice refresh token 1', alice.refreshToken);
    recordSignIn('alice', a1);
    const bob = await signIn(server.url, FETCHERS, { login: 'bob', scope: 'support:read' });
    expect(bob.scope).toBe('support:read');
    const b1 = claimsOf(bob);
    accessSecret('bob access token', bob.accessToken);
    refreshSecret('bob refresh token', bob.refreshToken);
    recordSignIn('bob', b1);

    // Two agents acting for Alice: A with both scopes, B with support:read and a small bucket.
    const createKey = async (body: JsonObject): Promise<CreatedKey> => {
      const response = await admin('/admin/keys', { owner: a1.user, ...body });
      expect(response.status).toBe(201);
      return (await response.json()) as CreatedKey;
    };
    const keyA = await createKey({ agent_name: `Audit Mix A ${RUN}`, agent_id: `${RUN}-a`, scopes: ['support:read', 'sql:read'] });
    keySecret('agent A key', keyA.key);
    record({ what: 'agent A key created', type: 'key.created', outcome: 'success', chain: { ...agentChain(keyA, a1.user), request_id: ANY } });
    const keyB = await createKey({ agent_name: `Audit Mix B ${RUN}`, agent_id: `${RUN}-b`, scopes: ['support:read'], rate_limit: { requests: 6, per_seconds: 3600 } });
    keySecret('agent B key', keyB.key);
    record({ what: 'agent B key created', type: 'key.created', outcome: 'success', chain: { ...agentChain(keyB, a1.user), request_id: ANY } });

    // The literals a person might paste into SQL: both must be redacted in the stored event.
    const password = `S3cr3t!${randomBytes(6).toString('hex')}`;
    const token = `ghp_${randomBytes(27).toString('base64').replace(/[^A-Za-z0-9]/g, '')}9Q`;
    secret('password literal in SQL', password);
    secret('token literal in SQL', token);
    const literalSql = `SELECT id, name FROM customers WHERE id = 5 OR @password = '${password}' OR email = '${token}'`;

    // Alice: three allowed calls in her first session.
    const s1 = await new Mcp(alice.accessToken).open();
    let r = await s1.call('get_customer', { customer_id: 42 });
    expect(r.status).toBe(200);
    expect(r.result?.isError).toBeFalsy();
    record({ what: 'alice get_customer 42', type: 'tool.call', outcome: 'success', chain: userToolChain(a1, s1.sessionId, 'get_customer', r.tag), params: { customer_id: 42 } });
    r = await s1.call('find_customers', { query: 'Wayne', limit: 3 });
    expect(r.status).toBe(200);
    expect(r.result?.isError).toBeFalsy();
    record({ what: 'alice find_customers', type: 'tool.call', outcome: 'success', chain: userToolChain(a1, s1.sessionId, 'find_customers', r.tag), params: { query: 'Wayne', limit: 3 } });
    r = await s1.call('sql_select', { sql: literalSql });
    expect(r.status).toBe(200);
    expect(r.result?.isError).toBeFalsy();
    expect(r.result?.structuredContent).toMatchObject({ rowCount: 1, rows: [{ id: 5 }] });
    record({ what: 'alice sql_select with secret literals', type: 'tool.call', outcome: 'success', chain: userToolChain(a1, s1.sessionId, 'sql_select', r.tag) });

    // Bob: an allowed call, then sql_select without sql:read → 403.
    const s3 = await new Mcp(bob.accessToken).open();
    r = await s3.call('get_customer', { customer_id: 11 });
    expect(r.status).toBe(200);
    expect(r.result?.isError).toBeFalsy();
    record({ what: 'bob get_customer 11', type: 'tool.call', outcome: 'success', chain: userToolChain(b1, s3.sessionId, 'get_customer', r.tag), params: { customer_id: 11 } });
    r = await s3.call('sql_select', { sql: 'SELECT 1' });
    expect(r.status).toBe(403);
    expect(r.text).toContain('insufficient_scope');
    record({ what: 'bob sql_select denied (support:read only)', type: 'tool.call', outcome: 'denied', chain: { ...userToolChain(b1, s3.sessionId, 'sql_select', r.tag), error_code: 'insufficient_scope' } });

    // Agent A: allowed calls, a rotation, the new key, then revocation and a refused use.
    const sa = await new Mcp(keyA.key).open();
    r = await sa.call('get_customer', { customer_id: 77 });
    expect(r.status).toBe(200);
    expect(r.result?.isError).toBeFalsy();
    record({ what: 'agent A get_customer 77', type: 'tool.call', outcome: 'success', chain: { ...agentChain(keyA, a1.user), session_id: sa.sessionId, tool: 'get_customer', request_id: r.tag }, params: { customer_id: 77 } });
    const agentPassword = `Pa55-${randomBytes(6).toString('hex')}`;
    secret('agent password literal in SQL', agentPassword);
    r = await sa.call('sql_select', { sql: `SELECT COUNT(*) AS n FROM customers WHERE id < 10 OR @db_password = '${agentPassword}'` });
    expect(r.status).toBe(200);
    expect(r.result?.isError).toBeFalsy();
    record({ what: 'agent A sql_select with a password literal', type: 'tool.call', outcome: 'success', chain: { ...agentChain(keyA, a1.user), session_id: sa.sessionId, tool: 'sql_select', request_id: r.tag } });
    const rotated = await admin(`/admin/keys/${keyA.key_id}/rotate`, { overlap_seconds: 3600 });
    expect(rotated.status).toBe(200);
    const keyA2 = (await rotated.json()) as CreatedKey;
    expect(keyA2.key_id).toBe(keyA.key_id);
    expect(keyA2.key).not.toBe(keyA.key);
    keySecret('agent A rotated key', keyA2.key);
    record({ what: 'agent A key rotated', type: 'key.rotated', outcome: 'success', chain: { ...agentChain(keyA, a1.user), request_id: ANY } });
    sa.credential = keyA2.key;
    r = await sa.call('get_customer', { customer_id: 78 });
    expect(r.status).toBe(200);
    record({ what: 'agent A get_customer 78 with the rotated key', type: 'tool.call', outcome: 'success', chain: { ...agentChain(keyA, a1.user), session_id: sa.sessionId, tool: 'get_customer', request_id: r.tag }, params: { customer_id: 78 } });
    const revoked = await admin(`/admin/keys/${keyA.key_id}/revoke`, {});
    expect(revoked.status).toBe(200);
    record({ what: 'agent A key revoked', type: 'key.revoked', outcome: 'success', chain: { ...agentChain(keyA, a1.user), request_id: ANY } });
    r = await sa.call('get_customer', { customer_id: 79 });
    expect(r.status).toBe(401);
    record({ what: 'agent A uses its revoked key', type: 'auth.token_rejected', outcome: 'denied', chain: { ...agentChain(keyA, a1.user), session_id: sa.sessionId, error_code: 'revoked', request_id: r.tag } });

    // Agent B: sql_select without sql:read → 403 (takes no token), then calls until its bucket of 6 is empty → 429.
    const sb = await new Mcp(keyB.key).open(); // 2 tokens
    r = await sb.call('sql_select', { sql: 'SELECT 1' });
    expect(r.status).toBe(403);
    record({ what: 'agent B sql_select denied (no sql:read)', type: 'tool.call', outcome: 'denied', chain: { ...agentChain(keyB, a1.user), session_id: sb.sessionId, tool: 'sql_select', error_code: 'insufficient_scope', request_id: r.tag } });
    for (const id of [21, 22, 23, 24]) {
      r = await sb.call('get_customer', { customer_id: id });
      expect(r.status).toBe(200);
      record({ what: `agent B get_customer ${id}`, type: 'tool.call', outcome: 'success', chain: { ...agentChain(keyB, a1.user), session_id: sb.sessionId, tool: 'get_customer', request_id: r.tag }, params: { customer_id: id } });
    }
    for (const id of [25, 26]) {
      r = await sb.call('get_customer', { customer_id: id });
      expect(r.status).toBe(429);
      record({ what: `agent B over its rate limit (${id})`, type: 'key.rate_limited', outcome: 'denied', chain: { ...agentChain(keyB, a1.user), session_id: sb.sessionId, tool: 'get_customer', error_code: 'rate_limited', request_id: r.tag } });
    }

    // Alice refreshes, works in a new session with the new token, then the old refresh token is replayed.
    let tag = ray();
    const refreshed = await tokenRequest(server.url, FETCHERS, { grant_type: 'refresh_token', refresh_token: alice.refreshToken, client_id: alice.clientId }, { 'cf-ray': tag });
    expect(refreshed.status).toBe(200);
    const alice2 = { accessToken: String(refreshed.body.access_token), refreshToken: String(refreshed.body.refresh_token) };
    accessSecret('alice access token 2', alice2.accessToken);
    refreshSecret('alice refresh token 2', alice2.refreshToken);
    const a2 = claimsOf(alice2);
    expect(a2).toMatchObject({ user: a1.user, client: a1.client, grant: a1.grant });
    record({ what: 'alice refresh', type: 'auth.refresh', outcome: 'success', chain: { user_id: a1.user, client_id: a1.client, grant_id: a1.grant, token_id: a2.jti, request_id: tag } });
    // A client that refreshed goes on in its session with the new token: the event names the token used.
    s1.credential = alice2.accessToken;
    r = await s1.call('get_customer', { customer_id: 4 });
    expect(r.status).toBe(200);
    record({ what: 'alice get_customer 4 in her first session with the refreshed token', type: 'tool.call', outcome: 'success', chain: userToolChain(a2, s1.sessionId, 'get_customer', r.tag), params: { customer_id: 4 } });
    const s2 = await new Mcp(alice2.accessToken).open();
    r = await s2.call('get_customer', { customer_id: 2 });
    expect(r.status).toBe(200);
    record({ what: 'alice get_customer 2 with the refreshed token', type: 'tool.call', outcome: 'success', chain: userToolChain(a2, s2.sessionId, 'get_customer', r.tag), params: { customer_id: 2 } });

    tag = ray();
    const replay = await tokenRequest(server.url, FETCHERS, { grant_type: 'refresh_token', refresh_token: alice.refreshToken, client_id: alice.clientId }, { 'cf-ray': tag });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    record({ what: 'alice grant revoked on refresh-token reuse', type: 'auth.revoke', outcome: 'success', chain: { user_id: a1.user, client_id: a1.client, grant_id: a1.grant, request_id: tag } });
    record({ what: 'alice refresh-token reuse', type: 'auth.refresh_reuse', outcome: 'denied', chain: { user_id: a1.user, client_id: a1.client, grant_id: a1.grant, error_code: 'invalid_grant', request_id: tag } });
    // The grant is gone: the newest refresh token is refused too.
    tag = ray();
    const after = await tokenRequest(server.url, FETCHERS, { grant_type: 'refresh_token', refresh_token: alice2.refreshToken, client_id: alice.clientId }, { 'cf-ray': tag });
    expect(after.status).toBe(400);
    expect(after.body.error).toBe('invalid_grant');
    record({ what: 'alice refresh after the grant was revoked', type: 'auth.refresh', outcome: 'failure', chain: { user_id: a1.user, client_id: a1.client, grant_id: a1.grant, error_code: 'invalid_grant', request_id: tag } });
    // And a tool call with the (unexpired) access token of the revoked grant is refused and audited.
    r = await s2.call('get_customer', { customer_id: 3 });
    expect(r.status).toBe(401);
    record({ what: 'alice tool call with a token of the revoked grant', type: 'auth.token_rejected', outcome: 'denied', chain: { user_id: a1.user, client_id: a1.client, grant_id: a1.grant, token_id: a2.jti, session_id: s2.sessionId, tool: 'get_customer', error_code: 'invalid_token', request_id: r.tag } });
  }, 120_000);

  it('delivery settles: the audit table stops changing and holds this mix\'s events', async () => {
    expect(ledger.length).toBeGreaterThanOrEqual(36);
    // My events: those naming one of my clients or keys (other test files share the table).
    const clients = [...new Set(ledger.map((e) => e.chain.client_id).filter((v): v is string => typeof v === 'string'))];
    const keys = [...new Set(ledger.map((e) => e.chain.key_id).filter((v): v is string => typeof v === 'string'))];
    const mineSql = 'SELECT COUNT(*) AS n FROM mcp_audit.audit_events WHERE client_id IN (?) OR key_id IN (?)';
    // Settled: the whole ledger is there and nothing changed for 3 s, or nothing changed for 15 s
    // (events arrive about 1 s after they are recorded; what is missing then is reported below).
    const deadline = Date.now() + 60_000;
    let last = -1;
    let stableSince = Date.now();
    let settled = false;
    while (!settled && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const total = await count('SELECT COUNT(*) AS n FROM mcp_audit.audit_events');
      const own = await count(mineSql, [clients, keys]);
      if (total !== last) {
        last = total;
        stableSince = Date.now();
      }
      settled = Date.now() - stableSince >= (own >= ledger.length ? 3000 : 15_000);
    }
    expect(settled).toBe(true);
    all = await allRows();
    mine = all.filter((s) => (s.columns.client_id !== null && clients.includes(s.columns.client_id)) || (s.columns.key_id !== null && keys.includes(s.columns.key_id)));
    expect(mine.length).toBeGreaterThan(0);
  }, 90_000);

  it('every ledger action appears exactly once (nothing lost, nothing duplicated), and nothing else is attributed to these principals', () => {
    const problems: string[] = [];
    const claimed = new Map<string, string>();
    for (const entry of ledger) {
      const found = recordsOf(entry, mine);
      if (found.length !== 1) problems.push(`${entry.what}: expected exactly 1 ${entry.type}/${entry.outcome} event, found ${found.length}`);
      for (const s of found) {
        if (claimed.has(s.id)) problems.push(`${entry.what}: event ${s.id} also records ${claimed.get(s.id) ?? ''}`);
        claimed.set(s.id, entry.what);
      }
    }
    // Opening a session is recorded once per session (issue 16): one session.opened for each
    // session this mix used, naming the principal that opened it.
    const sessions = new Map<string, LedgerEntry['chain']>();
    for (const e of ledger) if (typeof e.chain.session_id === 'string' && !sessions.has(e.chain.session_id)) sessions.set(e.chain.session_id, e.chain);
    for (const [sid, chain] of sessions) {
      const opened = mine.filter((s) => s.type === 'session.opened' && chainValue(s, 'session_id') === sid);
      if (opened.length !== 1) problems.push(`session ${sid}: expected exactly 1 session.opened event, found ${opened.length}`);
      for (const s of opened) {
        claimed.set(s.id, `session ${sid} opened`);
        for (const f of ['user_id', 'agent_id', 'key_id', 'client_id', 'grant_id'] as const) {
          if (chain[f] !== undefined && chain[f] !== ANY && chainValue(s, f) !== chain[f]) problems.push(`session ${sid} opened: ${f} want ${String(chain[f])}, got ${chainValue(s, f) ?? '(absent)'}`);
        }
      }
    }
    for (const s of mine.filter((m) => !claimed.has(m.id))) {
      const chain = Object.fromEntries(CHAIN.map((f) => [f, chainValue(s, f)]).filter(([, v]) => v !== undefined));
      problems.push(`unexpected event ${s.type}/${s.outcome} ${JSON.stringify(chain)} reason=${JSON.stringify(s.event.reason ?? '')}`);
    }
    expect(problems).toEqual([]);
  });

  it('each recorded action carries its whole chain: user, agent, key, client, grant, session, tool, token, error code, request', () => {
    const problems: string[] = [];
    for (const entry of ledger) {
      for (const s of recordsOf(entry, mine)) {
        for (const d of chainDiff(entry, s)) problems.push(`${entry.what} (${s.type}): ${d}`);
        if (entry.params) expect(s.event.params, entry.what).toMatchObject(entry.params);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the indexed columns agree with the event JSON, and event ids are unique', async () => {
    for (const s of mine) {
      const actor = s.event.actor as JsonObject;
      expect(s.event).toMatchObject({ v: 1, id: s.id, type: s.type, outcome: s.outcome });
      expect(s.columns.user_id ?? undefined).toBe(actor.user_id ?? actor.owner);
      for (const f of ['agent_id', 'key_id', 'client_id', 'grant_id'] as const) expect(s.columns[f] ?? undefined, f).toBe(actor[f]);
      expect(s.columns.session_id ?? undefined).toBe(s.event.session_id);
      expect(s.columns.tool ?? undefined).toBe(s.event.tool);
    }
    expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
    const [dupes] = await db.query<RowDataPacket[]>('SELECT id, COUNT(*) AS n FROM mcp_audit.audit_events GROUP BY id HAVING COUNT(*) > 1');
    expect(dupes).toEqual([]);
  });

  it('no secret appears in any stored event; the SQL literals are redacted; no stored event content looks like a credential', () => {
    expect(secrets.size).toBeGreaterThan(20);
    const found = all.flatMap((s) => leaks(s.text).map((label) => `${label} in stored event ${s.id} (${s.type})`));
    expect(found).toEqual([]);
    const sqlEvents = mine.filter((s) => s.type === 'tool.call' && s.columns.tool === 'sql_select' && s.outcome === 'success');
    expect(sqlEvents).toHaveLength(2);
    for (const s of sqlEvents) {
      const sql = String((s.event.params as JsonObject).sql);
      expect(sql).toContain('[REDACTED]');
      expect(sql).toMatch(/^SELECT /);
    }
    for (const s of all) expect(containsSecretLike(content(s.event)), `event ${s.id} (${s.type}): ${JSON.stringify(content(s.event))}`).toBe(false);
  });

  it('the NDJSON export in raw, OCSF and ECS has every event of the ledger once and no secret', async () => {
    const ids = new Set(mine.map((s) => s.id));
    for (const format of ['raw', 'ocsf', 'ecs'] as const) {
      const { text, records } = await exportAll(format);
      expect(leaks(text), `${format} export`).toEqual([]);
      const exportedIds = records.map((r) => String(format === 'raw' ? r.id : format === 'ocsf' ? at(r, 'metadata.uid') : at(r, 'event.id')));
      expect(exportedIds.filter((id) => ids.has(id)).sort(), `${format} export`).toEqual([...ids].sort());
      expect(new Set(exportedIds).size, `${format} export ids are unique`).toBe(exportedIds.length);
    }
  });

  it('every OCSF record has its required fields; tool calls are class 6003 and auth events 3002', async () => {
    const { records } = await exportAll('ocsf');
    expect(records.length).toBeGreaterThanOrEqual(mine.length);
    for (const record of records) {
      const type = String(at(record, 'metadata.event_code'));
      expect(missingOcsfFields(record), `${type} ${String(at(record, 'metadata.uid'))}`).toEqual([]);
      if (type === 'tool.call') expect(record.class_uid).toBe(6003);
      if (type.startsWith('auth.')) expect(record.class_uid).toBe(3002);
    }
    const types = new Set(records.filter((r) => mine.some((s) => s.id === at(r, 'metadata.uid'))).map((r) => String(at(r, 'metadata.event_code'))));
    expect(types).toEqual(new Set(mine.map((s) => s.type)));
    expect(types.size).toBeGreaterThanOrEqual(13);
  });

  it('every ECS record has @timestamp, event.id and event.outcome', async () => {
    const { records } = await exportAll('ecs');
    expect(records.length).toBeGreaterThanOrEqual(mine.length);
    for (const record of records) {
      expect(Number.isNaN(Date.parse(String(record['@timestamp'])))).toBe(false);
      expect(at(record, 'event.id')).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(['success', 'failure']).toContain(at(record, 'event.outcome'));
    }
    for (const s of mine) {
      const doc = records.find((r) => at(r, 'event.id') === s.id);
      expect(at(doc ?? {}, 'event.outcome')).toBe(s.outcome === 'success' ? 'success' : 'failure');
    }
  });
});
