// Issue 16 end to end: the in-server detections on their own schedule, on MariaDB. A server on the mysql environment (the
// audit trail in MariaDB, read back through the audit port) with DETECTIONS_INTERVAL_SECONDS=10 fires an event_count, a
// value_count, a temporal and a single-event rule after their scenarios are played, with nothing calling the run: each
// once, and again once after a later run; their look-alikes never. A server with DETECTIONS_ENABLED=false fires none.
// The MariaDB server's trail is read straight from mcp_audit.audit_events (an admin read would be recorded by the router and
// wake the AuditStore, which would hide a schedule that does not keep itself going).
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import { RULES } from '../../src/security/detections/rules.generated.ts';
import type { AlertView } from '../../src/contracts/alert-hub.ts';
import { signIn, tokenRequest, type FlowFetchers } from '../support/oauth-flow.ts';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'detections-schedule', version: '1.0.0' } } };
/** How long a detection may take to show: a failure window (2 s), the outbox delays, and up to two runs 10 s apart. */
const DEADLINE_MS = 60_000;

const REGISTRATION_FLOOD = 'MCP dynamic client registration flood from one address';
const KEY_ADDRESSES = 'MCP API key used from several addresses';
const GUESS_THEN_SESSION = 'MCP API key guessing followed by a session from the same address';
const REFRESH_REUSE = 'MCP OAuth refresh token reused (grant revoked)';

let mysqlServer: Server;
let disabledServer: Server;
let db: Connection;
const started = new Date(Date.now() - 1000).toISOString();

function idOf(title: string): string {
  const rule = RULES.find((r) => r.title === title);
  if (!rule) throw new Error(`no rule titled ${title}`);
  return rule.id;
}

function adminFetch(server: Server, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${server.adminSecret}`, ...(init.headers as Record<string, string> | undefined) } });
}

/** Fetchers that send every request to `server` from `address` (as Cloudflare would report it). */
function from(address: string): FlowFetchers {
  return {
    server: (url, init) => {
      const headers = new Headers(init?.headers);
      headers.set('cf-connecting-ip', address);
      return fetch(url, { ...init, headers });
    },
    idp: (url, init) => fetch(url, init),
  };
}

async function register(server: Server, address: string): Promise<number> {
  const response = await fetch(`${server.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': address }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
  await response.body?.cancel();
  return response.status;
}

async function createKey(server: Server, agentName: string): Promise<{ key: string; key_id: string }> {
  const response = await adminFetch(server, '/admin/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: agentName, owner: 'user-schedule', scopes: ['support:read'] }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { key: string; key_id: string };
}

async function initializeWith(server: Server, authorization: string, address: string): Promise<number> {
  const response = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization, 'cf-connecting-ip': address }, body: JSON.stringify(INITIALIZE) });
  await response.body?.cancel();
  return response.status;
}

/** A signed-in person whose refresh token is rotated, then (when `replay`) the rotated one replayed: the grant is revoked for reuse. Returns the grant id. */
async function refreshScenario(server: Server, address: string, login: string, replay: boolean): Promise<string> {
  const person = await signIn(server.url, from(address), { login });
  const rotated = await tokenRequest(server.url, from(address), { grant_type: 'refresh_token', refresh_token: person.refreshToken, client_id: person.clientId });
  expect(rotated.status).toBe(200);
  if (replay) {
    const again = await tokenRequest(server.url, from(address), { grant_type: 'refresh_token', refresh_token: person.refreshToken, client_id: person.clientId });
    expect(again.status).toBe(400);
    expect(again.body['error']).toBe('invalid_grant');
  }
  return person.refreshToken.split('.')[0] ?? '';
}

/** The stored events of one type since the test started, through the admin export (on the mysql environment: read from MariaDB). */
async function stored(server: Server, type: string): Promise<AuditEvent[]> {
  const response = await adminFetch(server, `/admin/audit/events?type=${type}&since=${started}&limit=10000`);
  expect(response.status).toBe(200);
  return (await response.text()).split('\n').filter((l) => l.trim() !== '').map((l) => AuditEventSchema.parse(JSON.parse(l)));
}

/** The events of one type (or with the given ids) stored in MariaDB since the test started, read directly. */
async function fromMariaDb(where: { type: string } | { ids: unknown }): Promise<AuditEvent[]> {
  const since = started.replace('T', ' ').replace('Z', '');
  const [rows] = 'type' in where
    ? await db.query<RowDataPacket[]>('SELECT event FROM mcp_audit.audit_events WHERE type = ? AND time >= ? ORDER BY id', [where.type, since])
    : await db.query<RowDataPacket[]>('SELECT event FROM mcp_audit.audit_events WHERE id IN (?) ORDER BY time, id', [Array.isArray(where.ids) && where.ids.length > 0 ? where.ids.map(String) : ['-']]);
  return rows.map((r) => AuditEventSchema.parse(JSON.parse(String(r['event']))));
}

/** The detection.fired events of a rule whose group has `field` = `value`. */
const firedFor = (fired: AuditEvent[], title: string, field: string, value: string) => fired.filter((e) => e.params?.['rule_id'] === idOf(title) && (e.params['group'] as Record<string, string>)[field] === value);

/**
 * Polls MariaDB's detection.fired events until `done` holds for them (the deadline fails the test with what was seen).
 * Other e2e files' servers share this MariaDB and run their own detections, so `done` must name this test's own groups.
 */
async function waitForFired(done: (fired: AuditEvent[]) => boolean | Promise<boolean>): Promise<AuditEvent[]> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const fired = await fromMariaDb({ type: 'detection.fired' });
    if (await done(fired)) return fired;
    if (Date.now() > deadline) throw new Error(`detections did not fire in time; fired so far: ${JSON.stringify(fired.map((e) => e.params?.['rule_title']))}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

beforeAll(async () => {
  const mysqlUrl = process.env.TEST_MYSQL_URL;
  const auditUrl = process.env.TEST_MYSQL_AUDIT_URL;
  const adminUrl = process.env.TEST_MYSQL_ADMIN_URL;
  if (!mysqlUrl || !auditUrl || !adminUrl) throw new Error('TEST_MYSQL_URL, TEST_MYSQL_AUDIT_URL and TEST_MYSQL_ADMIN_URL must be set: run the tests with `npm test`, which starts MariaDB');
  const a = new URL(adminUrl);
  db = await mysql.createConnection({ host: a.hostname, port: Number(a.port || 3306), user: decodeURIComponent(a.username), password: decodeURIComponent(a.password) });
  [mysqlServer, disabledServer] = await Promise.all([
    startServer({ mysqlUrl, auditUrl, vars: { DETECTIONS_INTERVAL_SECONDS: '10', FAILURE_AUDIT_WINDOW_SECONDS: '2' } }),
    startServer({ vars: { DETECTIONS_ENABLED: 'false', DETECTIONS_INTERVAL_SECONDS: '10' } }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([mysqlServer?.close(), disabledServer?.close()]);
  await db?.end();
});

describe('the detections schedule', () => {
  let disabledGrant = '';

  it('a disabled server records the scenario (played first, before the enabled server plays anything)', async () => {
    disabledGrant = await refreshScenario(disabledServer, '192.0.2.140', 'sched-disabled', true);
    expect(disabledGrant).not.toBe('');
  });

  it('on MariaDB, an event_count, a value_count, a temporal and a single-event rule fire on their own, once each; their look-alikes do not', async () => {
    const server = mysqlServer;
    // event_count: ten registrations from one address within the hour; three from another.
    for (let i = 0; i < 10; i++) expect(await register(server, '192.0.2.131')).toBe(201);
    for (let i = 0; i < 3; i++) expect(await register(server, '192.0.2.132')).toBe(201);
    // value_count: one key opening sessions from two addresses; another from one address twice.
    const roaming = await createKey(server, 'Schedule Roaming');
    const steady = await createKey(server, 'Schedule Steady');
    expect(await initializeWith(server, `Bearer ${roaming.key}`, '192.0.2.133')).toBe(200);
    expect(await initializeWith(server, `Bearer ${roaming.key}`, '198.18.0.133')).toBe(200);
    expect(await initializeWith(server, `Bearer ${steady.key}`, '192.0.2.134')).toBe(200);
    expect(await initializeWith(server, `Bearer ${steady.key}`, '192.0.2.134')).toBe(200);
    // temporal: a wrong secret for a key, then a session with the key, from one address; a session alone from another.
    const guessed = await createKey(server, 'Schedule Guessed');
    expect(await initializeWith(server, `Bearer mcpk_${guessed.key_id}.${'A'.repeat(43)}`, '192.0.2.135')).toBe(401);
    expect(await initializeWith(server, `Bearer ${guessed.key}`, '192.0.2.135')).toBe(200);
    expect(await initializeWith(server, `Bearer ${guessed.key}`, '192.0.2.136')).toBe(200);
    // single event: a rotated refresh token replayed; a normal rotation.
    const reusedGrant = await refreshScenario(server, '192.0.2.137', 'sched-reuse', true);
    const rotatedGrant = await refreshScenario(server, '192.0.2.138', 'sched-rotate', false);

    const grantsOf = async (e: AuditEvent) => (await fromMariaDb({ ids: e.params?.['event_ids'] })).map((x) => x.actor.grant_id);
    const reuseFired = async (fired: AuditEvent[], grant: string) => {
      const out: AuditEvent[] = [];
      for (const e of fired.filter((f) => f.params?.['rule_id'] === idOf(REFRESH_REUSE))) if ((await grantsOf(e)).includes(grant)) out.push(e);
      return out;
    };
    const fired = await waitForFired(async (f) =>
      firedFor(f, REGISTRATION_FLOOD, 'source.ip', '192.0.2.131').length > 0 &&
      firedFor(f, KEY_ADDRESSES, 'labels.key_id', roaming.key_id).length > 0 &&
      firedFor(f, GUESS_THEN_SESSION, 'source.ip', '192.0.2.135').length > 0 &&
      (await reuseFired(f, reusedGrant)).length > 0,
    );
    expect(firedFor(fired, REGISTRATION_FLOOD, 'source.ip', '192.0.2.131')).toEqual([expect.objectContaining({ outcome: 'success', params: expect.objectContaining({ rule_title: REGISTRATION_FLOOD, count: 10 }) })]);
    expect(firedFor(fired, KEY_ADDRESSES, 'labels.key_id', roaming.key_id)).toEqual([expect.objectContaining({ actor: { key_id: roaming.key_id }, params: expect.objectContaining({ count: 2 }) })]);
    expect(firedFor(fired, GUESS_THEN_SESSION, 'source.ip', '192.0.2.135')).toHaveLength(1);
    expect(await reuseFired(fired, reusedGrant)).toHaveLength(1);
    // The look-alikes: below the threshold, one address, no failure first, no replay.
    expect(firedFor(fired, REGISTRATION_FLOOD, 'source.ip', '192.0.2.132')).toEqual([]);
    expect(firedFor(fired, KEY_ADDRESSES, 'labels.key_id', steady.key_id)).toEqual([]);
    expect(firedFor(fired, GUESS_THEN_SESSION, 'source.ip', '192.0.2.136')).toEqual([]);
    expect(await reuseFired(fired, rotatedGrant)).toEqual([]);
    // The fired events are in MariaDB with their evidence: each names stored events of its rule's group.
    const flood = firedFor(fired, REGISTRATION_FLOOD, 'source.ip', '192.0.2.131')[0];
    const evidence = await fromMariaDb({ ids: flood?.params?.['event_ids'] });
    expect(evidence.map((e) => [e.type, e.client_ip])).toEqual(Array.from({ length: 10 }, () => ['client.registered', '192.0.2.131']));

    // A later run (it fires a second reuse played now) finds the first hits again and fires none of them twice.
    const laterGrant = await refreshScenario(server, '192.0.2.139', 'sched-reuse-later', true);
    const later = await waitForFired(async (f) => (await reuseFired(f, laterGrant)).length > 0);
    expect(await reuseFired(later, laterGrant)).toHaveLength(1);
    expect(firedFor(later, REGISTRATION_FLOOD, 'source.ip', '192.0.2.131')).toHaveLength(1);
    expect(firedFor(later, KEY_ADDRESSES, 'labels.key_id', roaming.key_id)).toHaveLength(1);
    expect(firedFor(later, GUESS_THEN_SESSION, 'source.ip', '192.0.2.135')).toHaveLength(1);
    expect(await reuseFired(later, reusedGrant)).toHaveLength(1);

    // Each hit reached the alert hub once (source detection, the rule's level).
    const alerts = (await (await adminFetch(server, '/admin/alerts?limit=100')).json()) as { alerts: AlertView[] };
    const floodAlerts = alerts.alerts.filter((a) => a.source === 'detection' && a.rule === idOf(REGISTRATION_FLOOD) && a.group.includes('source.ip=192.0.2.131'));
    expect(floodAlerts).toEqual([expect.objectContaining({ severity: 'medium', count: 1 })]);
    expect(alerts.alerts.filter((a) => a.source === 'detection' && a.group.includes('192.0.2.132'))).toEqual([]);
  }, 180_000);

  it('the disabled server fired nothing although its trail holds a hit (its scenario was played before the enabled server fired twice)', async () => {
    const hits = await adminFetch(disabledServer, `/admin/detections/hits?since=${started}`);
    expect(hits.status).toBe(200);
    const body = (await hits.json()) as { hits: Array<{ rule_id: string }> };
    expect(body.hits.filter((h) => h.rule_id === idOf(REFRESH_REUSE))).toHaveLength(1);
    expect(await stored(disabledServer, 'detection.fired')).toEqual([]);
    const alerts = (await (await adminFetch(disabledServer, '/admin/alerts?limit=100')).json()) as { alerts: AlertView[] };
    expect(alerts.alerts.filter((a) => a.source === 'detection')).toEqual([]);
  });
});
