// The audit outbox in the Workers runtime: events are stored before the response, delivered by the alarm exactly once, exported with a cursor.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AuditRelay } from '../../durable/audit-relay.ts';
import type { AuditStore } from '../../durable/audit-store.ts';
import type { AuthTransaction } from '../../durable/auth-transaction.ts';
import type { McpSession } from '../../durable/session.ts';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import { call, callTool, FETCHERS, INITIALIZE, messages, ORIGIN, post, subjectOf } from '../support/mcp-http.ts';
import { signIn } from '../support/oauth-flow.ts';
import { settleDeliveries } from '../support/settle.ts';

const store = () => env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default'));
const admin = { authorization: `Bearer ${env.ADMIN_SECRET}` };

async function stored(query: string): Promise<AuditEvent[]> {
  const response = await call(`/admin/audit/events?${query}`, { headers: admin });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text === '' ? [] : text.trim().split('\n').map((line) => AuditEventSchema.parse(JSON.parse(line)));
}

/** Opens a session; its `session.opened` event is in its own outbox before the answer (issue 14), and is delivered here so each test counts only its own events. */
async function session(token: string): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const response = await post(INITIALIZE, { authorization: `Bearer ${token}` });
  const sessionId = response.headers.get('mcp-session-id') ?? '';
  await response.text();
  const stub = env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
  expect(await runInDurableObject(stub, (i: McpSession) => i.auditPending())).toBe(1);
  await runDurableObjectAlarm(stub);
  expect(await runInDurableObject(stub, (i: McpSession) => i.auditPending())).toBe(0);
  const headers = { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  return { sessionId, headers };
}

describe('tool calls', () => {
  it('are in the session outbox before the response, then delivered once by the alarm', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'audit-tool' });
    const { sessionId, headers } = await session(user.accessToken);
    const stub = env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
    const reply = await callTool(headers, 'sql_select', { sql: "SELECT name FROM customers WHERE id = 1 OR name = 'password=hunter2'" });
    expect(reply).toMatchObject({ result: { structuredContent: { rowCount: 1 } } });
    expect(await runInDurableObject(stub, (i: McpSession) => i.auditPending())).toBe(1);
    // Counted by this user's tool calls: other objects' alarms deliver their own events meanwhile.
    const mine = `type=tool.call&user=${encodeURIComponent(subjectOf(user.accessToken))}`;
    expect(await stored(mine)).toHaveLength(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (i: McpSession) => i.auditPending())).toBe(0);
    expect(await stored(mine)).toHaveLength(1);
    const [event] = await stored(mine);
    expect(event).toMatchObject({
      type: 'tool.call',
      outcome: 'success',
      tool: 'sql_select',
      session_id: sessionId,
      actor: { user_id: subjectOf(user.accessToken), client_id: user.clientId, grant_id: user.refreshToken.split('.')[0] },
      result: { rows: 1 },
    });
    expect(event?.actor.token_id).toMatch(/.{16,}/);
    expect(event?.latency_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(event?.params)).not.toContain('hunter2');
    expect(JSON.stringify(event)).not.toContain(user.accessToken);
  });

  it('a failing tool call is recorded as a failure with its error code', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'audit-fail' });
    const { sessionId, headers } = await session(user.accessToken);
    await callTool(headers, 'sql_select', { sql: 'DELETE FROM customers' });
    await runDurableObjectAlarm(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId)));
    const events = await stored(`type=tool.call&outcome=failure&user=${encodeURIComponent(subjectOf(user.accessToken))}`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ tool: 'sql_select', error_code: 'sql_rejected', session_id: sessionId });
  });

  it('a call refused for scope is recorded (denied) before the 403', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'audit-scope', scope: 'support:read' });
    const { headers } = await session(user.accessToken);
    const response = await post({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'sql_select', arguments: { sql: 'SELECT 1' } } }, headers);
    expect(response.status).toBe(403);
    // Issue 14: stored in the person's own relay before the 403 (not through the one AuditStore), then delivered by its alarm.
    const relay = env.AUDIT_RELAY.get(env.AUDIT_RELAY.idFromName(subjectOf(user.accessToken)));
    expect(await runInDurableObject(relay, (i: AuditRelay) => i.pending())).toBe(1);
    expect(await stored(`type=tool.call&outcome=denied&user=${encodeURIComponent(subjectOf(user.accessToken))}`)).toEqual([]);
    expect(await runDurableObjectAlarm(relay)).toBe(true);
    expect(await runInDurableObject(relay, (i: AuditRelay) => i.pending())).toBe(0);
    const events = await stored(`type=tool.call&outcome=denied&user=${encodeURIComponent(subjectOf(user.accessToken))}`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ tool: 'sql_select', error_code: 'insufficient_scope', actor: { client_id: user.clientId } });
  });
});

describe('tool calls refused before any tool ran', () => {
  const cases = [
    { name: 'arguments an array (the tools/call params check)', params: { name: 'get_customer', arguments: [1, 'password=hunter2'] }, tool: 'get_customer', code: 'invalid_params', rpc: -32602 },
    { name: 'an unknown tool', params: { name: 'drop_everything', arguments: { token: 'hunter2' } }, tool: 'drop_everything', code: 'unknown_tool', rpc: -32602 },
    { name: 'arguments that fail the input schema (answered by the SDK)', params: { name: 'get_customer', arguments: { customer_id: 'x', password: 'hunter2' } }, tool: 'get_customer', code: 'invalid_params', rpc: undefined },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: one tool.call failure with ${c.code}, the chain and sanitised params`, async () => {
      const user = await signIn(ORIGIN, FETCHERS, { login: `audit-refused-${c.code}-${c.rpc ?? 'sdk'}` });
      const { sessionId, headers } = await session(user.accessToken);
      const response = await post({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: c.params }, { ...headers, 'cf-ray': `ray-${c.code}-${c.rpc ?? 'sdk'}` });
      const reply = (await messages(response)).find((m) => m.id === 11) as { error?: { code: number }; result?: { isError?: boolean } } | undefined;
      if (c.rpc === undefined) expect(reply?.result?.isError).toBe(true);
      else expect(reply?.error?.code).toBe(c.rpc);
      const stub = env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
      expect(await runInDurableObject(stub, (i: McpSession) => i.auditPending())).toBe(1);
      await runDurableObjectAlarm(stub);
      await runDurableObjectAlarm(stub);
      const events = await stored(`type=tool.call&user=${encodeURIComponent(subjectOf(user.accessToken))}`);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        outcome: 'failure',
        tool: c.tool,
        error_code: c.code,
        session_id: sessionId,
        request_id: `ray-${c.code}-${c.rpc ?? 'sdk'}`,
        actor: { user_id: subjectOf(user.accessToken), client_id: user.clientId, grant_id: user.refreshToken.split('.')[0] },
      });
      expect(events[0]?.actor.token_id).toMatch(/.{16,}/);
      expect(events[0]?.params).toBeDefined();
      expect(JSON.stringify(events[0])).not.toContain('hunter2');
    });
  }
});

describe('sign-in', () => {
  it('consent, sign-in, code and token events carry the chain and reach the store', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'audit-signin' });
    const gid = user.refreshToken.split('.')[0] as string;
    const txn = env.AUTH_TXN.get(env.AUTH_TXN.idFromName(gid));
    expect(await runInDurableObject(txn, (i: AuthTransaction) => i.auditPending())).toBeGreaterThanOrEqual(4);
    await runDurableObjectAlarm(txn);
    expect(await runInDurableObject(txn, (i: AuthTransaction) => i.auditPending())).toBe(0);
    const all = (await stored('limit=10000')).filter((e) => e.actor.grant_id === gid);
    expect(all.map((e) => e.type)).toEqual(['auth.consent', 'auth.sign_in', 'auth.code_issued', 'auth.token_issued']);
    expect(all.every((e) => e.actor.client_id === user.clientId)).toBe(true);
    expect(all.slice(1).every((e) => e.actor.user_id === subjectOf(user.accessToken) && e.actor.upstream_subject === 'user-audit-signin')).toBe(true);
  });
});

describe('delivery', () => {
  it('is idempotent: the same batch stored twice is kept once', async () => {
    await settleDeliveries();
    const events = await stored('limit=3');
    expect(events.length).toBeGreaterThan(0);
    const before = await store().count();
    expect(await runInDurableObject(store(), (i: AuditStore) => i.append(events))).toBe(0);
    expect(await store().count()).toBe(before);
  });
});

describe('export', () => {
  it('needs the admin credential', async () => {
    const response = await call('/admin/audit/events', { headers: { authorization: 'Bearer nope' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
  });

  it('refuses bad filters with a message naming them', async () => {
    const response = await call('/admin/audit/events?after=not-an-id&format=xml', { headers: admin });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toContain('after');
    expect(body.error_description).toContain('format');
  });

  it('pages with the cursor in id order, without gaps or repeats', async () => {
    await settleDeliveries();
    const everything = await stored('limit=10000');
    const last = everything.at(-1)?.id ?? '';
    const paged: AuditEvent[] = [];
    let cursor = '';
    for (let i = 0; i < 2 * everything.length + 2; i++) {
      const response = await call(`/admin/audit/events?limit=2${cursor ? `&after=${cursor}` : ''}`, { headers: admin });
      const text = await response.text();
      if (text === '') break;
      paged.push(...text.trim().split('\n').map((line) => AuditEventSchema.parse(JSON.parse(line))));
      cursor = response.headers.get('x-next-cursor') ?? '';
      if (cursor >= last) break;
    }
    // Every read is itself recorded (admin.read, newer ids): the pages up to the snapshot's last id are the snapshot.
    expect(paged.filter((e) => e.id <= last).map((e) => e.id)).toEqual(everything.map((e) => e.id));
    expect(paged.filter((e) => e.id > last).every((e) => e.type === 'admin.read')).toBe(true);
    expect([...paged.map((e) => e.id)].sort()).toEqual(paged.map((e) => e.id));
  });

  it('the delivery cursor returns every delivered event once, in delivery order, including one delivered late with an older id', async () => {
    const read = async (cursor: string) => {
      const response = await call(`/admin/audit/events?cursor=${cursor}&limit=3`, { headers: admin });
      const text = await response.text();
      return { ids: text === '' ? [] : text.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id), next: response.headers.get('x-delivery-cursor') ?? '' };
    };
    // Read before the pull: this read is itself recorded (admin.read), and must not land after the cursor.
    const sample = (await stored('limit=1'))[0]!;
    await settleDeliveries();
    const seen: string[] = [];
    let cursor = '0';
    for (let i = 0; i < 10_000; i++) {
      const page = await read(cursor);
      if (page.ids.length === 0) break;
      seen.push(...page.ids);
      cursor = page.next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(await store().count());
    // An event recorded earlier (older id) but delivered now appears after the cursor.
    const late = { ...sample, id: '00000000000000000000000001' };
    await runInDurableObject(store(), (i: AuditStore) => i.append([late]));
    const after = await read(cursor);
    expect(after.ids).toEqual([late.id]);
  });

  it('admin API requests, reads included, are recorded once with the administrator, route, outcome, address and user agent', async () => {
    const meta = { 'cf-connecting-ip': '203.0.113.7', 'user-agent': 'audit-admin-test/1', 'cf-ray': 'ray-admin-read' };
    const list = await call('/admin/keys', { headers: { ...admin, ...meta } });
    expect(list.status).toBe(200);
    await list.text();
    const missing = await call(`/admin/keys/${'A'.repeat(43)}`, { headers: { ...admin, ...meta, 'cf-ray': 'ray-admin-missing' } });
    expect(missing.status).toBe(404);
    await missing.text();
    const refused = await call('/admin/keys', { headers: { authorization: 'Bearer nope', 'cf-ray': 'ray-admin-refused' } });
    expect(refused.status).toBe(401);
    const reads = (await stored('type=admin.read&limit=10000')).filter((e) => e.request_id?.startsWith('ray-admin-'));
    expect(reads).toHaveLength(2);
    expect(reads[0]).toMatchObject({
      type: 'admin.read',
      outcome: 'success',
      actor: { admin: 'bootstrap' },
      params: { method: 'GET', route: '/admin/keys', status: 200 },
      request_id: 'ray-admin-read',
      client_ip: '203.0.113.7',
      user_agent: 'audit-admin-test/1',
    });
    expect(reads[1]).toMatchObject({ outcome: 'failure', error_code: 'not_found', actor: { admin: 'bootstrap', key_id: 'A'.repeat(43) }, params: { route: '/admin/keys/:id', status: 404 } });
    // The export is recorded too, once per read, after it is read (so not in its own page).
    const before = await stored('type=admin.read&limit=10000');
    const after = await stored('type=admin.read&limit=10000');
    expect(after.length).toBe(before.length + 1);
    expect(after.at(-1)).toMatchObject({ params: { route: '/admin/audit/events', query: { type: 'admin.read', limit: '10000' } } });
    expect(JSON.stringify(after)).not.toContain(env.ADMIN_SECRET);
  });

  it('OCSF and ECS formats carry the same events', async () => {
    const raw = await stored('limit=5');
    const ocsf = (await (await call('/admin/audit/events?limit=5&format=ocsf', { headers: admin })).text()).trim().split('\n').map((l) => JSON.parse(l) as { metadata: { uid: string }; class_uid: number });
    const ecs = (await (await call('/admin/audit/events?limit=5&format=ecs', { headers: admin })).text()).trim().split('\n').map((l) => JSON.parse(l) as { event: { id: string } });
    expect(ocsf.map((o) => o.metadata.uid)).toEqual(raw.map((e) => e.id));
    expect(ecs.map((e) => e.event.id)).toEqual(raw.map((e) => e.id));
  });
});


describe('retention (AUDIT_RETENTION_DAYS, default 400)', () => {
  it('the store purges events older than the retention in bounded batches on its alarm, and keeps the rest', async () => {
    const now = Date.now();
    const day = 86_400_000;
    const sample = (await stored('limit=1'))[0]!;
    const at = (ms: number, i: number) => ({ ...sample, id: `0${String(i).padStart(4, '0')}${'0'.repeat(21)}`.replace(/[ILOU]/g, '0'), time: new Date(ms).toISOString() });
    // 1,001 events past the retention (one batch and one more), two inside it.
    const old = Array.from({ length: 1001 }, (_, i) => at(now - 500 * day - i * 1000, i + 1));
    const kept = [at(now - 399 * day, 2001), at(now - 10 * day, 2002)];
    expect(await runInDurableObject(store(), (i: AuditStore) => i.append([...old, ...kept]))).toBe(1003);
    const ids = () => runInDurableObject(store(), (i: AuditStore) => i.search({ until: new Date(now - 9 * day).toISOString(), limit: 10_000 }).map((r) => (JSON.parse(r.event) as { id: string }).id));
    expect(await ids()).toHaveLength(1003);
    // One run deletes one batch and asks for another.
    expect(await runInDurableObject(store(), (i: AuditStore) => i.purge(now))).toEqual({ deleted: 1000, more: true });
    expect(await ids()).toHaveLength(3);
    // The alarm finishes the job and keeps the events inside the retention.
    expect(await runDurableObjectAlarm(store())).toBe(true);
    expect((await ids()).sort()).toEqual(kept.map((e) => e.id).sort());
    expect(await runInDurableObject(store(), (i: AuditStore) => i.purge(now))).toEqual({ deleted: 0, more: false });
    // While events are stored, a purge stays scheduled.
    expect(await runInDurableObject(store(), (_i: AuditStore, state) => state.storage.getAlarm())).not.toBeNull();
    await runInDurableObject(store(), (_i: AuditStore, state) => {
      state.storage.sql.exec('DELETE FROM audit_events WHERE id IN (?, ?)', kept[0]!.id, kept[1]!.id);
    });
  });
});
