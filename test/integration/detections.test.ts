// Issue 16: each detection's scenario played against the server (and a benign look-alike), the trail exported as ECS through the admin API, the rule evaluated on it;
// then the server's own run (POST /admin/detections/run, the AuditStore's scheduled run) fires each scenario once as detection.fired and no look-alike.
import { runDurableObjectAlarm, runInDurableObject, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { AuditStore } from '../../durable/audit-store.ts';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import { toEcs } from '../../src/audit/ecs.ts';
import { newEvent } from '../../src/audit/emit.ts';
import { evaluate } from '../../src/security/detections/evaluate.ts';
import type { Doc, Hit } from '../../src/security/detections/types.ts';
import { callTool, ORIGIN, post, subjectOf } from '../support/mcp-http.ts';
import { signIn, tokenRequest, type FlowFetchers } from '../support/oauth-flow.ts';
import { settleDeliveries } from '../support/settle.ts';
import { admin, counter, createKey, initializeWith, session, eventIdsWhere, expectInServer, firedSince, fromAddress, idOf, inServerExpectations, randomPart, ruleSet, runDetectionsNow, store, trailSince } from '../support/detections.ts';

const started = new Date(Date.now() - 1000).toISOString();
const { exportEcs, hitsOf } = trailSince(started);
const from = (address: string, userAgent = 'scenario/1.0'): FlowFetchers => fromAddress(address, userAgent);

/** What the in-server run must fire, and must not fire for the look-alikes (filled in by the scenarios). */
const x = inServerExpectations();
const ipIs = (address: string) => (d: Doc) => (d['source'] as { ip?: string } | undefined)?.ip === address;

describe('scenarios against the server, the rule on the ECS export', () => {
  it('refresh-token reuse fires; a normal rotation does not', async () => {
    const victim = await signIn(ORIGIN, from('192.0.2.11'), { login: 'det-reuse' });
    const first = await tokenRequest(ORIGIN, from('192.0.2.11'), { grant_type: 'refresh_token', refresh_token: victim.refreshToken, client_id: victim.clientId });
    expect(first.status).toBe(200);
    const replay = await tokenRequest(ORIGIN, from('192.0.2.12'), { grant_type: 'refresh_token', refresh_token: victim.refreshToken, client_id: victim.clientId });
    expect(replay.status).toBe(400);
    const benign = await signIn(ORIGIN, from('192.0.2.13'), { login: 'det-rotate' });
    expect((await tokenRequest(ORIGIN, from('192.0.2.13'), { grant_type: 'refresh_token', refresh_token: benign.refreshToken, client_id: benign.clientId })).status).toBe(200);
    const docs = await exportEcs();
    const hits = evaluate(ruleSet, docs).filter((h) => h.ruleId === idOf('MCP OAuth refresh token reused (grant revoked)'));
    const grantOf = (h: Hit) => docs.find((d) => (d['event'] as { id: string }).id === h.group['event.id'])?.['labels'] as { grant_id?: string } | undefined;
    expect(hits.filter((h) => grantOf(h)?.grant_id === victim.refreshToken.split('.')[0])).toHaveLength(1);
    expect(hits.filter((h) => grantOf(h)?.grant_id === benign.refreshToken.split('.')[0])).toEqual([]);
    const title = 'MCP OAuth refresh token reused (grant revoked)';
    x.fired.push([title, 'event.id', String(hits.find((h) => grantOf(h)?.grant_id === victim.refreshToken.split('.')[0])?.group['event.id'])]);
    x.quietEvents.push([title, await eventIdsWhere(started, (d) => (d['labels'] as { grant_id?: string } | undefined)?.grant_id === benign.refreshToken.split('.')[0])]);
  });

  it('forged bearer tokens from one address (a counted summary of 12) fire credential guessing; 2 from another address do not', async () => {
    for (let i = 0; i < 12; i++) expect(await initializeWith(`Bearer ${randomPart(60)}`, '192.0.2.21')).toBe(401);
    for (let i = 0; i < 2; i++) expect(await initializeWith(`Bearer ${randomPart(60)}`, '192.0.2.22')).toBe(401);
    await counter('192.0.2.21').close(Date.now() + 3_600_000);
    await counter('192.0.2.22').close(Date.now() + 3_600_000);
    const hits = evaluate(ruleSet, await exportEcs()).filter((h) => h.ruleId === idOf('MCP credential guessing from one address'));
    const docs = await exportEcs();
    const ipOf = (h: Hit) => (docs.find((d) => (d['event'] as { id: string }).id === h.group['event.id'])?.['source'] as { ip?: string } | undefined)?.ip;
    expect(hits.filter((h) => ipOf(h) === '192.0.2.21')).toHaveLength(1);
    expect(hits.filter((h) => ipOf(h) === '192.0.2.22')).toEqual([]);
    const title = 'MCP credential guessing from one address';
    x.fired.push([title, 'event.id', String(hits.find((h) => ipOf(h) === '192.0.2.21')?.group['event.id'])]);
    const lookAlike = await eventIdsWhere(started, ipIs('192.0.2.22'));
    expect(lookAlike.length).toBeGreaterThan(0);
    x.quietEvents.push([title, lookAlike]);
  });

  it('ten registrations from one address within an hour fire the registration flood; three do not', async () => {
    const register = (address: string) => SELF.fetch(`${ORIGIN}/register`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': address }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
    for (let i = 0; i < 10; i++) expect((await register('192.0.2.31')).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await register('192.0.2.32')).status).toBe(201);
    const title = 'MCP dynamic client registration flood from one address';
    expect(await hitsOf(title, 'source.ip', '192.0.2.31')).toEqual([expect.objectContaining({ count: 10, level: 'medium' })]);
    expect(await hitsOf(title, 'source.ip', '192.0.2.32')).toEqual([]);
    x.fired.push([title, 'source.ip', '192.0.2.31']);
    x.quiet.push([title, 'source.ip', '192.0.2.32']);
  });

  it('five statements refused by the SQL guard fire for that user; two refusals among valid queries do not', async () => {
    const prober = await signIn(ORIGIN, from('192.0.2.41'), { login: 'det-sqli' });
    const headers = await session(prober.accessToken);
    const probes = ["SELECT 1; DROP TABLE customers", "DELETE FROM customers", 'INSERT INTO customers (name) VALUES (1)', 'UPDATE customers SET name = 1', "SELECT 1 UNION SELECT load_file('/etc/passwd'); SELECT 2"];
    for (const [i, sql] of probes.entries()) expect(await callTool(headers, 'sql_select', { sql }, 100 + i)).toMatchObject({ result: { isError: true } });
    const careful = await signIn(ORIGIN, from('192.0.2.42'), { login: 'det-sql-ok' });
    const other = await session(careful.accessToken);
    for (const [i, sql] of ['SELECT 1', 'DELETE FROM tickets', 'SELECT name FROM customers WHERE id = 2', 'DROP TABLE x'].entries()) await callTool(other, 'sql_select', { sql }, 200 + i);
    const title = 'MCP SQL guard rejections burst (SQL injection probing)';
    const hits = await hitsOf(title, 'user.id', subjectOf(prober.accessToken));
    expect(hits.length).toBeGreaterThanOrEqual(1);
    expect(hits[0]?.count).toBeGreaterThanOrEqual(5);
    expect(await hitsOf(title, 'user.id', subjectOf(careful.accessToken))).toEqual([]);
    x.fired.push([title, 'user.id', subjectOf(prober.accessToken)]);
    x.quiet.push([title, 'user.id', subjectOf(careful.accessToken)]);
  });

  it('five calls refused for scope fire scope probing for that principal; one does not', async () => {
    const narrow = await signIn(ORIGIN, from('192.0.2.51'), { login: 'det-scope', scope: 'support:read' });
    const headers = await session(narrow.accessToken);
    for (let i = 0; i < 5; i++) {
      const response = await post({ jsonrpc: '2.0', id: 300 + i, method: 'tools/call', params: { name: 'sql_select', arguments: { sql: 'SELECT 1' } } }, headers);
      expect(response.status).toBe(403);
      await response.body?.cancel();
    }
    const once = await signIn(ORIGIN, from('192.0.2.52'), { login: 'det-scope-once', scope: 'support:read' });
    const h2 = await session(once.accessToken);
    expect((await post({ jsonrpc: '2.0', id: 400, method: 'tools/call', params: { name: 'sql_select', arguments: { sql: 'SELECT 1' } } }, h2)).status).toBe(403);
    const title = 'MCP scope denials burst for one principal (probing for tools)';
    expect(await hitsOf(title, 'user.id', subjectOf(narrow.accessToken))).toEqual([expect.objectContaining({ count: 5 })]);
    expect(await hitsOf(title, 'user.id', subjectOf(once.accessToken))).toEqual([]);
    x.fired.push([title, 'user.id', subjectOf(narrow.accessToken)]);
    x.quiet.push([title, 'user.id', subjectOf(once.accessToken)]);
  });

  it('an API key used from a second address fires; a key used twice from one address does not', async () => {
    const roaming = await createKey({ agent_name: 'Roaming' });
    const steady = await createKey({ agent_name: 'Steady' });
    expect(await initializeWith(`Bearer ${roaming.key}`, '192.0.2.61')).toBe(200);
    expect(await initializeWith(`Bearer ${roaming.key}`, '198.18.0.99')).toBe(200);
    expect(await initializeWith(`Bearer ${steady.key}`, '192.0.2.62')).toBe(200);
    expect(await initializeWith(`Bearer ${steady.key}`, '192.0.2.62')).toBe(200);
    const title = 'MCP API key used from several addresses';
    expect(await hitsOf(title, 'labels.key_id', roaming.key_id)).toEqual([expect.objectContaining({ count: 2 })]);
    expect(await hitsOf(title, 'labels.key_id', steady.key_id)).toEqual([]);
    x.fired.push([title, 'labels.key_id', roaming.key_id]);
    x.quiet.push([title, 'labels.key_id', steady.key_id]);
  });

  it('a key over its rate limit twenty times in five minutes fires the storm; three refusals do not', async () => {
    const hot = await createKey({ agent_name: 'Hot', rate_limit: { requests: 1, per_seconds: 86_400 } });
    const warm = await createKey({ agent_name: 'Warm', rate_limit: { requests: 1, per_seconds: 86_400 } });
    expect(await initializeWith(`Bearer ${hot.key}`, '192.0.2.71')).toBe(200);
    for (let i = 0; i < 20; i++) expect(await initializeWith(`Bearer ${hot.key}`, '192.0.2.71')).toBe(429);
    expect(await initializeWith(`Bearer ${warm.key}`, '192.0.2.72')).toBe(200);
    for (let i = 0; i < 3; i++) expect(await initializeWith(`Bearer ${warm.key}`, '192.0.2.72')).toBe(429);
    const title = 'MCP rate-limit storm on one API key';
    expect(await hitsOf(title, 'labels.key_id', hot.key_id)).toEqual([expect.objectContaining({ count: 20 })]);
    expect(await hitsOf(title, 'labels.key_id', warm.key_id)).toEqual([]);
    x.fired.push([title, 'labels.key_id', hot.key_id]);
    x.quiet.push([title, 'labels.key_id', warm.key_id]);
  });

  it('three wrong admin secrets in a window fire; one does not', async () => {
    const tryAdmin = (address: string) => SELF.fetch(`${ORIGIN}/admin/keys`, { headers: { authorization: `Bearer ${randomPart(40)}`, 'cf-connecting-ip': address } });
    for (let i = 0; i < 3; i++) expect((await tryAdmin('192.0.2.81')).status).toBe(401);
    expect((await tryAdmin('192.0.2.82')).status).toBe(401);
    await counter('192.0.2.81').close(Date.now() + 3_600_000);
    await counter('192.0.2.82').close(Date.now() + 3_600_000);
    const docs = await exportEcs();
    const ipOf = (h: Hit) => (docs.find((d) => (d['event'] as { id: string }).id === h.group['event.id'])?.['source'] as { ip?: string } | undefined)?.ip;
    const hits = evaluate(ruleSet, docs).filter((h) => h.ruleId === idOf('MCP admin API credential guessing'));
    expect(hits.filter((h) => ipOf(h) === '192.0.2.81')).toHaveLength(1);
    expect(hits.filter((h) => ipOf(h) === '192.0.2.82')).toEqual([]);
    const title = 'MCP admin API credential guessing';
    x.fired.push([title, 'event.id', String(hits.find((h) => ipOf(h) === '192.0.2.81')?.group['event.id'])]);
    const lookAlike = await eventIdsWhere(started, ipIs('192.0.2.82'));
    expect(lookAlike.length).toBeGreaterThan(0);
    x.quietEvents.push([title, lookAlike]);
  });

  it('a key created by an administrator fires the off-hours rule exactly when its time is 22:00-05:59 UTC', async () => {
    const created = await createKey({ agent_name: 'Night Owl' });
    const docs = await exportEcs();
    const doc = docs.find((d) => (d['event'] as { action: string }).action === 'key.created' && (d['labels'] as { key_id?: string } | undefined)?.key_id === created.key_id);
    expect(doc).toBeDefined();
    const id = idOf('MCP API key created or rotated by an administrator at unusual hours');
    const at = (iso: string) => evaluate(ruleSet, [{ ...doc, '@timestamp': iso }]).filter((h) => h.ruleId === id);
    const hour = new Date(String(doc?.['@timestamp'])).getUTCHours();
    expect(evaluate(ruleSet, [doc as Doc]).filter((h) => h.ruleId === id)).toHaveLength(hour >= 22 || hour < 6 ? 1 : 0);
    expect(at('2026-12-07T23:15:00.000Z')).toHaveLength(1);
    expect(at('2026-12-07T12:15:00.000Z')).toEqual([]);
    // Without the administrator (an event that is not an admin change) it never fires.
    const { mcp: _admin, ...noAdmin } = doc as Doc;
    expect(evaluate(ruleSet, [{ ...noAdmin, '@timestamp': '2026-12-07T23:15:00.000Z' }]).filter((h) => h.ruleId === id)).toEqual([]);

    // For the server's own run the clock cannot be moved: the stored event is delivered again (the store's own append,
    // as an outbox delivers) with a new id at an hour of the last day that is at night, and at one in the working day.
    const exported = await SELF.fetch(`${ORIGIN}/admin/audit/events?type=key.created&since=${started}&limit=10000`, { headers: admin });
    const real = (await exported.text()).split('\n').filter((l) => l.trim() !== '').map((l) => AuditEventSchema.parse(JSON.parse(l))).find((e) => e.actor.key_id === created.key_id);
    expect(real?.actor.admin).toBe('bootstrap');
    const pastHour = (hours: number[]) => {
      for (let k = 1; k < 24; k++) {
        const t = Date.now() - k * 3_600_000;
        if (hours.includes(new Date(t).getUTCHours())) return t;
      }
      throw new Error('no such hour in the last day');
    };
    const retimed = (at: number) => ({ ...(real as AuditEvent), id: newEvent({ type: 'key.created', outcome: 'success', actor: {} }, at).id, time: new Date(at).toISOString() });
    const night = retimed(pastHour([22, 23, 0, 1, 2, 3, 4, 5]));
    const day = retimed(pastHour([9, 10, 11, 12, 13, 14, 15, 16]));
    expect(await runInDurableObject(store(), (instance: AuditStore) => instance.append([night, day]))).toBe(2);
    const title = 'MCP API key created or rotated by an administrator at unusual hours';
    x.fired.push([title, 'event.id', night.id]);
    x.quietEvents.push([title, [day.id]]);
    if (hour >= 22 || hour < 6) x.fired.push([title, 'event.id', String(real?.id)]);
    else x.quietEvents.push([title, [String(real?.id)]]);
  });
});

describe('rules over event types other issues record (the events built, not played)', () => {
  const at = (minute: number) => Date.parse('2026-12-07T10:00:00.000Z') + minute * 60_000;
  const doc = (actor: Record<string, string>, tool: string | undefined, minute: number) => toEcs(AuditEventSchema.parse({ ...newEvent({ type: 'tool.call', outcome: 'success', actor, ...(tool ? { tool } : {}) }, at(minute)), type: 'tool.call' }));
  const retype = (d: Doc, action: string) => ({ ...d, event: { ...(d['event'] as object), action } });

  it('tool.integrity_failed and tool.result_flagged fire on each event', () => {
    const integrity = toEcs(newEvent({ type: 'tool.integrity_failed', outcome: 'denied', actor: {}, tool: 'get_customer' }));
    expect(evaluate(ruleSet, [integrity]).map((h) => h.ruleId)).toEqual([idOf('MCP tool definition does not match its signed manifest')]);
    const flagged = retype(doc({ user_id: 'u1' }, 'get_customer', 0), 'tool.result_flagged');
    expect(evaluate(ruleSet, [flagged]).map((h) => h.ruleId)).toEqual([idOf('MCP tool result flagged as possible prompt injection')]);
  });

  it('anomaly.detected for three principals on one tool within 15 minutes fires; two principals, or three spread over an hour, do not', () => {
    const id = idOf('MCP behavioural anomalies on one tool across several principals');
    const anomaly = (user: string, tool: string, minute: number) => retype(doc({ user_id: user }, tool, minute), 'anomaly.detected');
    expect(evaluate(ruleSet, [anomaly('a', 'sql_select', 0), anomaly('b', 'sql_select', 5), anomaly('c', 'sql_select', 9)]).filter((h) => h.ruleId === id)).toEqual([expect.objectContaining({ count: 3, group: { 'mcp.tool': 'sql_select' } })]);
    expect(evaluate(ruleSet, [anomaly('a', 'sql_select', 0), anomaly('b', 'sql_select', 5), anomaly('a', 'sql_select', 9)]).filter((h) => h.ruleId === id)).toEqual([]);
    expect(evaluate(ruleSet, [anomaly('a', 'sql_select', 0), anomaly('b', 'sql_select', 30), anomaly('c', 'sql_select', 60)]).filter((h) => h.ruleId === id)).toEqual([]);
  });
});

describe('in-server evaluation', () => {
  it('the AuditStore run fires each scenario once as detection.fired (with the same rule and group), and a second run fires nothing new', async () => {
    // Nine rules played here: refresh reuse, guessing, registration flood, SQL probing, scope probing, key from two addresses, rate-limit storm, admin guessing, off hours.
    expect(new Set(x.fired.map(([title]) => title)).size).toBe(9);
    await settleDeliveries();
    // The store's alarm in this project (DETECTIONS_ENABLED=false) runs and fires nothing.
    expect(await runDurableObjectAlarm(store())).toBe(true);
    expect(await firedSince(started)).toEqual([]);
    const run = await runDetectionsNow();
    expect(run.hits).toBeGreaterThanOrEqual(x.fired.length);
    const fired = await firedSince(started);
    expectInServer(fired, x);
    expect(run.fired.sort()).toEqual(fired.map((e) => e.id).sort());
    const again = await runDetectionsNow();
    expect(again.fired).toEqual([]);
    expect(again.hits).toBeGreaterThanOrEqual(run.hits);
    expect(await firedSince(started)).toHaveLength(fired.length);
  });

  it('POST /admin/detections/run needs the admin credential and POST; a refused call runs nothing', async () => {
    const firedBefore = (await firedSince(started)).length;
    const before = await runInDurableObject(store(), (i: AuditStore) => i.count());
    const anonymous = await SELF.fetch(`${ORIGIN}/admin/detections/run`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrongMethod = await SELF.fetch(`${ORIGIN}/admin/detections/run`, { headers: admin });
    expect(wrongMethod.status).toBe(405);
    expect(((await wrongMethod.json()) as { error: string }).error).toBe('method_not_allowed');
    await settleDeliveries();
    // Only the wrong method is recorded now (admin.read, failure; the anonymous call goes to a failure summary later): no run, no detection.fired.
    expect(await runInDurableObject(store(), (i: AuditStore) => i.count())).toBe(before + 1);
    expect(await firedSince(started)).toHaveLength(firedBefore);
  });

  it('GET /admin/detections lists the alerting rules; /admin/detections/hits runs them over a range without recording', async () => {
    const list = await SELF.fetch(`${ORIGIN}/admin/detections`, { headers: admin });
    expect(list.status).toBe(200);
    const { rules } = (await list.json()) as { rules: Array<{ id: string; type: string }> };
    expect(rules.map((r) => r.id)).toContain(idOf('MCP rate-limit storm on one API key'));
    expect(rules.find((r) => r.id === idOf('MCP API key used from several addresses'))?.type).toBe('value_count');
    const before = await runInDurableObject(store(), (i: AuditStore) => i.count());
    const hits = await SELF.fetch(`${ORIGIN}/admin/detections/hits?since=${started}`, { headers: admin });
    expect(hits.status).toBe(200);
    const body = (await hits.json()) as { hits: Array<{ rule_id: string }>; events: number };
    expect(body.events).toBeGreaterThan(0);
    expect(body.hits.map((h) => h.rule_id)).toContain(idOf('MCP rate-limit storm on one API key'));
    // Only the read itself is recorded (admin.read), no detection.fired.
    expect(await runInDurableObject(store(), (i: AuditStore) => i.count())).toBe(before + 1);
    const bad = await SELF.fetch(`${ORIGIN}/admin/detections/hits?since=yesterday`, { headers: admin });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_request');
    const anonymous = await SELF.fetch(`${ORIGIN}/admin/detections`);
    expect(anonymous.status).toBe(401);
  });
});
