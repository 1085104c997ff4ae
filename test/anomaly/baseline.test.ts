// Baselines in the principal's own object: batched observations from the session, persistence across eviction and restart, alerts and policies.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../durable/api-key.ts';
import { PrincipalBaseline } from '../../durable/principal-baseline.ts';
import type { McpSession } from '../../durable/session.ts';
import { auditOf, createKey, hubClient, learn, okCall, openWith, toolCall } from './support.ts';

const keyStub = (keyId: string) => env.API_KEY.get(env.API_KEY.idFromName(keyId));
const sessionStub = (sessionId: string) => env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));

describe('baseline in the API key object', () => {
  it('the session sends its observations in a batch after answering; the key object keeps them', async () => {
    const { key, keyId } = await createKey('Batch Agent');
    const { sessionId, headers } = await openWith(key);
    expect((await keyStub(keyId).baseline()).state).toBeNull();
    await learn(headers, 4);
    // Answered, not yet sent: queued in the session (in memory since issue 14).
    expect((await keyStub(keyId).baseline()).state).toBeNull();
    expect(await runInDurableObject(sessionStub(sessionId), (s: McpSession) => s.baselinePending())).toBe(4);
    await runDurableObjectAlarm(sessionStub(sessionId));
    expect(await runInDurableObject(sessionStub(sessionId), (s: McpSession) => s.baselinePending())).toBe(0);
    const view = await keyStub(keyId).baseline();
    expect(view.state?.n).toBe(4);
    expect(view.state?.kind).toBe('agent');
    expect(Object.keys(view.state?.tools ?? {}).sort()).toEqual(['find_customers', 'get_customer']);
  });

  it("observations an earlier version queued in the session's baseline_outbox table are sent by the next flush, then the table is dropped", async () => {
    const { key, keyId } = await createKey('Legacy Queue Agent');
    const { sessionId, headers } = await openWith(key);
    await learn(headers, 2);
    const legacyCall = { at: Date.now(), tool: 'get_customer', args: { customer_id: 7 }, status: 'ok', rows: 1, bytes: 100 };
    await runInDurableObject(sessionStub(sessionId), (_s: McpSession, state) => {
      state.storage.sql.exec('CREATE TABLE baseline_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, call TEXT NOT NULL)');
      for (let i = 0; i < 3; i++) state.storage.sql.exec('INSERT INTO baseline_outbox (call) VALUES (?)', JSON.stringify(legacyCall));
    });
    await runDurableObjectAlarm(sessionStub(sessionId));
    expect((await keyStub(keyId).baseline()).state?.n).toBe(5);
    const tables = await runInDurableObject(sessionStub(sessionId), (_s: McpSession, state) => state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name = 'baseline_outbox'").toArray());
    expect(tables).toEqual([]);
    expect(await runInDurableObject(sessionStub(sessionId), (s: McpSession) => s.baselinePending())).toBe(0);
  });

  it('survives eviction and a restart of the key object (state read back from its SQLite)', async () => {
    const { key, keyId } = await createKey('Durable Agent');
    const { sessionId, headers } = await openWith(key);
    await learn(headers, 6);
    await runDurableObjectAlarm(sessionStub(sessionId));
    const before = await keyStub(keyId).baseline();
    expect(before.state?.n).toBe(6);
    await evictDurableObject(keyStub(keyId));
    const after = await keyStub(keyId).baseline();
    expect(after).toEqual(before);
    // A fresh reader over the same storage (what a restarted object builds) sees the same state.
    const reread = await runInDurableObject(keyStub(keyId), (_i: ApiKey, state) => new PrincipalBaseline(state.storage.sql, env).view());
    expect(reread).toEqual(before);
    expect(JSON.stringify(before.state).length).toBeLessThan(32 * 1024);
    // A session opened after the eviction scores against the stored baseline: a first use alerts at once.
    const second = await openWith(key);
    await okCall(second.headers, 'list_tables', {});
    const detected = await auditOf((e) => e.type === 'anomaly.detected' && e.actor.key_id === keyId);
    expect(detected.map((e) => e.tool)).toEqual(['list_tables']);
  });

  it('the view kept in memory is what storage holds, after each batch and after an eviction (issue 14)', async () => {
    const { keyId } = await createKey('Kept Agent');
    const stub = keyStub(keyId);
    const stored = () => runInDurableObject(stub, (_i: ApiKey, state) => state.storage.sql.exec<{ state: string }>('SELECT state FROM baseline WHERE id = 1').toArray().map((r) => JSON.parse(r.state) as unknown)[0] ?? null);
    expect((await stub.baseline()).state).toBeNull();
    const tools = ['find_customers', 'get_customer', 'find_customers'];
    for (const [i, tool] of tools.entries()) {
      const returned = await stub.observeBaseline({ kind: 'agent', calls: [{ at: Date.now() + i, tool, args: { customer_id: i }, status: 'ok' }] });
      expect(returned.state?.n).toBe(i + 1);
      expect(returned.state).toEqual(await stored());
      expect((await stub.baseline()).state).toEqual(await stored());
    }
    const before = await stub.baseline();
    await evictDurableObject(stub);
    expect(await stub.baseline()).toEqual(before);
    const after = await stub.observeBaseline({ kind: 'agent', calls: [{ at: Date.now() + 10, tool: 'get_customer', args: {}, status: 'ok' }] });
    expect(after.state?.n).toBe(4);
    expect(after.state).toEqual(await stored());
  });

  it("reload() forgets the kept baseline too: what storage holds is read again", async () => {
    const { keyId } = await createKey('Reload Agent');
    const stub = keyStub(keyId);
    await stub.observeBaseline({ kind: 'agent', calls: [{ at: Date.now(), tool: 'get_customer', args: {}, status: 'ok' }] });
    expect((await stub.baseline()).state?.n).toBe(1);
    await runInDurableObject(stub, (instance: ApiKey, state) => {
      state.storage.sql.exec('DELETE FROM baseline');
      instance.reload();
    });
    expect(await stub.baseline()).toEqual({ state: null, enforcement: null });
  });

  it('a key that does not exist keeps no baseline', async () => {
    const stub = keyStub('x'.repeat(43));
    const view = await stub.observeBaseline({ kind: 'agent', calls: [{ at: Date.now(), tool: 'find_customers', args: {}, status: 'ok' }] });
    expect(view).toEqual({ state: null, enforcement: null });
    expect(await runInDurableObject(stub, (_i: ApiKey, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'baseline'").toArray().length)).toBe(0);
  });
});

describe('alerts and policies', () => {
  it('alert only: the call is answered; anomaly.detected carries the chain, score and reasons; the hub gets it', async () => {
    const client = await hubClient();
    const { key, keyId } = await createKey('Alert Agent');
    const { sessionId, headers } = await openWith(key);
    await learn(headers, 6);
    const result = await okCall(headers, 'list_tables', {});
    expect(result.isError).toBeFalsy();
    const pushed = await client.next((s) => s.alerts.some((a) => a.actor.key_id === keyId));
    const alert = pushed.alerts.find((a) => a.actor.key_id === keyId);
    expect(alert?.source).toBe('anomaly');
    expect(alert?.tool).toBe('list_tables');
    expect(alert?.reasons.join(' ')).toContain('first use of list_tables');
    const [event] = await auditOf((e) => e.type === 'anomaly.detected' && e.actor.key_id === keyId);
    expect(event?.outcome).toBe('success');
    expect(event?.session_id).toBe(sessionId);
    expect(event?.actor).toMatchObject({ key_id: keyId, agent_name: 'Alert Agent', owner: 'user-anomaly' });
    expect((event?.params as { score: number }).score).toBeGreaterThanOrEqual(0.8);
    expect((event?.params as { action: string }).action).toBe('alert');
    expect(alert?.event_id).toBe(event?.id);
    const calls = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId && e.tool === 'list_tables');
    expect(calls.map((e) => e.outcome)).toEqual(['success']);
    client.close();
  });

  it('block: the unusual call is refused with anomaly_blocked before the tool runs, and so is the next call', async () => {
    const { key, keyId } = await createKey('Block Agent');
    const { headers } = await openWith(key);
    await learn(headers, 6);
    const refused = await toolCall(headers, 'describe_table', { table: 'customers' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(500);
    const body = (await refused.json()) as { error: { code: number; data: { reason: string } } };
    expect(body.error.code).toBe(-32003);
    expect(body.error.data.reason).toBe('anomaly_blocked');
    // The habit's own tool is refused too while the block lasts.
    const next = await toolCall(headers, 'find_customers', { query: 'Smith' });
    expect(next.status).toBe(403);
    expect(((await next.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe('anomaly_blocked');
    // No side effect: the tool never ran, so no tool.call was recorded for either refused call.
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId && (e.tool === 'describe_table' || e.session_id === undefined));
    expect(ran).toEqual([]);
    const enforced = await auditOf((e) => e.type === 'anomaly.enforced' && e.actor.key_id === keyId);
    expect(enforced.map((e) => [e.tool, e.outcome, e.error_code])).toEqual([
      ['describe_table', 'denied', 'anomaly_blocked'],
      ['find_customers', 'denied', 'anomaly_blocked'],
    ]);
    const detected = await auditOf((e) => e.type === 'anomaly.detected' && e.actor.key_id === keyId);
    expect(detected.map((e) => [e.tool, e.outcome, (e.params as { action: string }).action])).toEqual([['describe_table', 'denied', 'block']]);
    // The key's own object knows the block, so a new session is refused as well.
    const view = await keyStub(keyId).baseline();
    expect(view.enforcement?.action).toBe('block');
    const other = await openWith(key);
    const again = await toolCall(other.headers, 'find_customers', { query: 'Smith' });
    expect(again.status).toBe(403);
  });

  it('throttle: the principal gets a tighter bucket (2 calls) for a while, then 429 with Retry-After', async () => {
    const { key, keyId } = await createKey('Throttle Agent');
    const { headers } = await openWith(key);
    await learn(headers, 6);
    await okCall(headers, 'sql_select', { sql: 'SELECT id, name FROM customers' });
    await okCall(headers, 'get_customer', { customer_id: 2 });
    const limited = await toolCall(headers, 'find_customers', { query: 'Smith' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { data: { reason: string; limit: string } } }).error.data).toMatchObject({ reason: 'rate_limited', limit: 'anomaly' });
    const enforced = await auditOf((e) => e.type === 'anomaly.enforced' && e.actor.key_id === keyId);
    expect(enforced.map((e) => [e.tool, e.error_code])).toEqual([['find_customers', 'anomaly_throttled']]);
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId && e.tool === 'find_customers');
    expect(ran.length).toBe(3);
  });
});
