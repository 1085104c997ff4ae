// Issue 12: the open-session index (listed at initialize, removed at DELETE or an administrator's end) and ending one session alone: the ended one answers 404 like an unknown session, the person's other session and grant keep working.
import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import type { McpSession } from '../../durable/session.ts';
import { call, callTool, openSession, post, signedIn } from '../support/mcp-http.ts';
import { settleDeliveries } from '../support/settle.ts';

const ADMIN_HEADERS = { authorization: `Bearer ${env.ADMIN_SECRET}`, 'cf-connecting-ip': '203.0.113.44', 'user-agent': 'session-end-test/1.0' };

interface Listed {
  session_id: string;
  kind: string;
  user_id: string;
  email: string | null;
  client_id: string | null;
  client_name: string | null;
  grant_id: string | null;
  revision: string;
  opened_at: string;
}

async function listed(): Promise<Listed[]> {
  const out: Listed[] = [];
  for (let page = 1; ; page++) {
    const response = await call(`/admin/sessions?page=${page}`, { headers: ADMIN_HEADERS });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { sessions: Listed[]; total: number; page_size: number };
    out.push(...body.sessions);
    if (page * body.page_size >= body.total) return out;
  }
}

function end(sessionId: string, headers: Record<string, string> = ADMIN_HEADERS): Promise<Response> {
  return call(`/admin/sessions/${sessionId}/end`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
}

async function endedAt(sessionId: string): Promise<number | null | undefined> {
  return runInDurableObject(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId)), (instance: McpSession) => instance.inspect().meta?.endedAt);
}

afterAll(async () => {
  await settleDeliveries();
});

describe('the open-session index', () => {
  it('lists a session when it opens (principal, client, revision, opened at) and drops it when the client DELETEs it', async () => {
    const me = await signedIn();
    const before = Date.now();
    const { sessionId, headers } = await openSession();
    const entry = (await listed()).find((s) => s.session_id === sessionId);
    expect(entry).toMatchObject({ kind: 'user', client_id: me.clientId, client_name: 'vitest', revision: '2025-11-25' });
    expect(entry?.user_id).toMatch(/^u_/);
    expect(Date.parse(entry?.opened_at ?? '')).toBeGreaterThanOrEqual(before - 1000);
    const deleted = await call('/mcp', { method: 'DELETE', headers });
    expect(deleted.status).toBe(200);
    expect((await listed()).some((s) => s.session_id === sessionId)).toBe(false);
  });

  it('a bad page number is 400; without the credential the listing is 401', async () => {
    const bad = await call('/admin/sessions?page=0', { headers: ADMIN_HEADERS });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_request', error_description: 'page: a whole number from 1 to 9999' });
    const anonymous = await call('/admin/sessions');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
  });
});

describe('an administrator ends one session', () => {
  it('of two sessions of one person, the ended one gets 404 session_not_found, the other and the grant keep working; it leaves the listing; session.ended names the administrator', async () => {
    const first = await openSession();
    const second = await openSession();
    expect((await callTool(first.headers, 'get_customer', { customer_id: 7 })).result).toBeDefined();

    const response = await end(first.sessionId);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ session_id: first.sessionId, ended: true });
    expect(await endedAt(first.sessionId)).toEqual(expect.any(Number));

    const refused = await post({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 7 } } }, first.headers);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, data: { reason: 'session_not_found' } } });

    const other = await callTool(second.headers, 'get_customer', { customer_id: 7 }, 11);
    expect(other).toMatchObject({ jsonrpc: '2.0', id: 11, result: { structuredContent: { id: 7 } } });
    const third = await openSession();
    expect(third.sessionId).not.toBe(first.sessionId);

    const ids = (await listed()).map((s) => s.session_id);
    expect(ids).not.toContain(first.sessionId);
    expect(ids).toEqual(expect.arrayContaining([second.sessionId, third.sessionId]));

    await runDurableObjectAlarm(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(first.sessionId)));
    const trail = await call(`/admin/audit/events?type=session.ended&limit=100`, { headers: ADMIN_HEADERS });
    const events = (await trail.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.session_id === first.sessionId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'session.ended', outcome: 'success', actor: { admin: 'bootstrap', client_id: (await signedIn()).clientId }, client_ip: '203.0.113.44', user_agent: 'session-end-test/1.0' });

    // Ending it again: not open any more.
    const again = await end(first.sessionId);
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ error: 'not_found', error_description: 'no open session with that id' });
  });

  it('without the admin credential nothing is ended (401), and a made-up session id is 404 without reaching a session object', async () => {
    const mine = await openSession();
    const refused = await end(mine.sessionId, { authorization: 'Bearer not-the-secret-but-long-enough-to-look-like-one' });
    expect(refused.status).toBe(401);
    expect(await endedAt(mine.sessionId)).toBeNull();
    expect((await callTool(mine.headers, 'get_customer', { customer_id: 7 })).result).toBeDefined();

    const objects = (await listDurableObjectIds(env.MCP_SESSION)).length;
    const forged = await end('Z'.repeat(43));
    expect(forged.status).toBe(404);
    expect((await listDurableObjectIds(env.MCP_SESSION)).length).toBe(objects);
  });
});
