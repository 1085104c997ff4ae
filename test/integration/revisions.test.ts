// Issue 13: a stateless MCP 2026-07-28 request is authenticated, scope-checked, rate-limited and audited exactly like a 2025-11-25 session request; it creates no session object.
import { listDurableObjectIds, runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import { signIn } from '../support/oauth-flow.ts';
import { call, FETCHERS, messages, modernEnvelope, ORIGIN, post, statelessToolCall } from '../support/mcp-http.ts';
import { bearer, expectBearerRefusal, openSessionAs } from '../support/gate-assertions.ts';
import { settleDeliveries } from '../support/settle.ts';
import { POISONED_CUSTOMER } from '../../src/db/poisoned-rows.ts';

const MODERN = '2026-07-28';

/** The per-request envelope of a 2026-07-28 client. */
const ENVELOPE = modernEnvelope('vitest-modern');

type Revision = 'modern' | 'session';

/** One tools/call in a revision: a stateless POST with its envelope and routing headers, or a call inside a fresh session. */
async function toolCall(revision: Revision, credential: string, name: string, args: Record<string, unknown>, id = 7): Promise<Response> {
  if (revision === 'modern') return statelessToolCall(credential, name, args, id);
  const { headers } = await openSessionAs(credential);
  return post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, headers);
}

async function createKey(body: Record<string, unknown>): Promise<{ key: string; key_id: string }> {
  const response = await call('/admin/keys', {
    method: 'POST',
    headers: { authorization: `Bearer ${env.ADMIN_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'Revisions', owner: 'user-revisions', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1000, per_seconds: 86_400 }, ...body }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { key: string; key_id: string };
}

async function toolEvents(filter: (e: AuditEvent) => boolean): Promise<AuditEvent[]> {
  await settleDeliveries();
  const response = await call('/admin/audit/events?type=tool.call&limit=10000', { headers: { authorization: `Bearer ${env.ADMIN_SECRET}` } });
  expect(response.status).toBe(200);
  const text = await response.text();
  return (text === '' ? [] : text.trim().split('\n').map((line) => AuditEventSchema.parse(JSON.parse(line)))).filter(filter);
}

const sessions = async () => (await listDurableObjectIds(env.MCP_SESSION)).length;

describe('choosing the revision per request', () => {
  it('a POST with the 2026-07-28 envelope is answered statelessly: no session id, no session object', async () => {
    const user = await signIn(ORIGIN, FETCHERS);
    const before = await sessions();
    const response = await toolCall('modern', user.accessToken, 'get_customer', { customer_id: 42 });
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    const [reply] = await messages(response);
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 7, result: { structuredContent: { id: 42 } } });
    expect(await sessions()).toBe(before);
  });

  it('server/discover answers for 2026-07-28; an initialize without the envelope still opens a 2025-11-25 session', async () => {
    const user = await signIn(ORIGIN, FETCHERS);
    const discover = await post({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: ENVELOPE } }, { ...bearer(user.accessToken), 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' });
    expect(discover.status).toBe(200);
    const [found] = await messages(discover);
    const result = found?.result as { supportedVersions?: string[]; capabilities?: Record<string, unknown>; _meta?: Record<string, unknown> } | undefined;
    expect(result?._meta?.['io.modelcontextprotocol/serverInfo']).toEqual({ name: 'own-mcp-server', version: '0.1.0' });
    expect(result?.capabilities).toHaveProperty('tools');
    expect(result?.supportedVersions).toEqual(expect.arrayContaining([MODERN]));
    const { sessionId } = await openSessionAs(user.accessToken);
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a 2026-07-28 call that carries a session id is still stateless: no session answers it, its audit event names no session', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'user-modern-with-session' });
    const { sessionId } = await openSessionAs(user.accessToken);
    const body = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 13 }, _meta: ENVELOPE } };
    const response = await post(body, { ...bearer(user.accessToken), 'mcp-session-id': sessionId, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_customer' });
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    expect((await messages(response))[0]).toMatchObject({ id: 3, result: { structuredContent: { id: 13 } } });
    const gid = user.refreshToken.split('.')[0] as string;
    const events = await toolEvents((e) => e.actor.grant_id === gid);
    expect(events.map((e) => [e.outcome, e.tool, e.session_id])).toEqual([['success', 'get_customer', undefined]]);
  });

  it('a stateless call runs the same tool path as a session call: a poisoned demo ticket is flagged and recorded as tool.result_flagged', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'user-modern-scan' });
    const response = await toolCall('modern', user.accessToken, 'list_open_tickets', { customer_id: POISONED_CUSTOMER, limit: 100 });
    expect(response.status).toBe(200);
    const [reply] = await messages(response);
    expect(JSON.stringify(reply?.result)).toContain('io.github.own-mcp-server/untrusted');
    const gid = user.refreshToken.split('.')[0] as string;
    await settleDeliveries();
    const listed = await call('/admin/audit/events?type=tool.result_flagged&limit=10000', { headers: { authorization: `Bearer ${env.ADMIN_SECRET}` } });
    const flagged = (await listed.text()).trim().split('\n').filter((l) => l !== '').map((l) => AuditEventSchema.parse(JSON.parse(l))).filter((e) => e.actor.grant_id === gid);
    expect(flagged.map((e) => [e.type, e.tool, e.session_id])).toEqual([['tool.result_flagged', 'list_open_tickets', undefined]]);
  });

  it('an unknown protocol version is still refused with 400 before any object is reached', async () => {
    const user = await signIn(ORIGIN, FETCHERS);
    const before = await sessions();
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }, { ...bearer(user.accessToken), 'mcp-protocol-version': '2099-01-01' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(MODERN);
    expect(await sessions()).toBe(before);
  });

  it('an unknown version with the 2026-07-28 envelope is answered as that revision says: 400, the request id, the supported versions', async () => {
    const user = await signIn(ORIGIN, FETCHERS);
    const envelope = { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' };
    const response = await post({ jsonrpc: '2.0', id: 301, method: 'tools/list', params: { _meta: envelope } }, { ...bearer(user.accessToken), 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' });
    expect(response.status).toBe(400);
    const [reply] = await messages(response);
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 301, error: { code: -32022 } });
    expect(JSON.stringify((reply?.error as { data?: unknown }).data)).toContain(MODERN);
  });

  it('a method 2026-07-28 removed (initialize, logging/setLevel) is answered -32601 with HTTP 404 and opens no session', async () => {
    const user = await signIn(ORIGIN, FETCHERS);
    const before = await sessions();
    const headers = { ...bearer(user.accessToken), 'mcp-protocol-version': MODERN };
    const init = await post({ jsonrpc: '2.0', id: 5, method: 'initialize', params: { _meta: ENVELOPE } }, { ...headers, 'mcp-method': 'initialize' });
    expect(init.status).toBe(404);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    expect((await messages(init))[0]).toMatchObject({ id: 5, error: { code: -32601 } });
    const level = await post({ jsonrpc: '2.0', id: 6, method: 'logging/setLevel', params: { _meta: ENVELOPE } }, { ...headers, 'mcp-method': 'logging/setLevel' });
    expect(level.status).toBe(404);
    expect((await messages(level))[0]).toMatchObject({ id: 6, error: { code: -32601 } });
    expect(await sessions()).toBe(before);
  });

  it('the /mcp preflight allows the 2026-07-28 routing headers', async () => {
    const response = await call('/mcp', { method: 'OPTIONS', headers: { origin: 'http://localhost:8787', 'access-control-request-method': 'POST', 'access-control-request-headers': 'mcp-method, mcp-name' } });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-headers')).toContain('mcp-method, mcp-name');
  });
});

describe.each<Revision>(['modern', 'session'])('the %s revision at the gate', (revision) => {
  it('no credential → 401 with the resource metadata; nothing runs, nothing is audited', async () => {
    const before = await sessions();
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 1 }, _meta: ENVELOPE } }, { authorization: '', 'mcp-protocol-version': revision === 'modern' ? MODERN : '2025-11-25' });
    await expectBearerRefusal(response, 401, 'unauthorized');
    expect(await sessions()).toBe(before);
  });

  it('a key without the tool scope → 403 insufficient_scope, recorded as a denied tool.call', async () => {
    const key = await createKey({ scopes: ['support:read'] });
    const response = await toolCall(revision, key.key, 'sql_select', { sql: 'SELECT 1' });
    const params = await expectBearerRefusal(response, 403, 'insufficient_scope');
    expect(params.scope).toBe('sql:read');
    const denied = await toolEvents((e) => e.actor.key_id === key.key_id);
    expect(denied.map((e) => [e.outcome, e.tool, e.error_code])).toEqual([['denied', 'sql_select', 'insufficient_scope']]);
  });

  it('over the key rate limit → 429 with Retry-After; the refused call never runs', async () => {
    // A session spends one request on initialize and one on the initialized notification.
    const key = await createKey({ rate_limit: { requests: revision === 'modern' ? 1 : 3, per_seconds: 86_400 } });
    const session = revision === 'session' ? await openSessionAs(key.key) : null;
    const again = (customer: number, id: number) =>
      session ? post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: customer } } }, session.headers) : toolCall(revision, key.key, 'get_customer', { customer_id: customer }, id);
    const first = await again(2, 1);
    expect(first.status).toBe(200);
    await first.text();
    const second = await again(3, 2);
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);
    const ran = await toolEvents((e) => e.actor.key_id === key.key_id && e.outcome === 'success');
    expect(ran.map((e) => e.params)).toEqual([{ customer_id: 2 }]);
  });

  it('a tool call is audited as tool.call with the whole delegation chain (user, client, grant, token)', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: `user-${revision}-audit` });
    const response = await toolCall(revision, user.accessToken, 'get_customer', { customer_id: 11 });
    expect(response.status).toBe(200);
    await response.text();
    const gid = user.refreshToken.split('.')[0] as string;
    const events = await toolEvents((e) => e.actor.grant_id === gid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'tool.call', outcome: 'success', tool: 'get_customer', params: { customer_id: 11 }, actor: { client_id: user.clientId, grant_id: gid } });
    expect(events[0]?.actor.token_id).toMatch(/.{16,}/);
    expect(events[0]?.actor.user_id).toMatch(/.+/);
    if (revision === 'modern') expect(events[0]?.session_id).toBeUndefined();
    else expect(events[0]?.session_id).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('arguments that fail the input schema: an isError answer, one tool.call failure (invalid_params, the reason, sanitised params), the tool never runs', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: `user-${revision}-bad-args` });
    const response = await toolCall(revision, user.accessToken, 'get_customer', { customer_id: 'x', password: 'hunter2' });
    expect(response.status).toBe(200);
    const reply = (await messages(response)).find((m) => m.id === 7) as { result?: { isError?: boolean; content?: Array<{ text?: string }> } } | undefined;
    expect(reply?.result?.isError).toBe(true);
    expect(reply?.result?.content?.[0]?.text).toMatch(/^Input validation error: Invalid arguments for tool get_customer: customer_id: /u);
    const gid = user.refreshToken.split('.')[0] as string;
    const events = await toolEvents((e) => e.actor.grant_id === gid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'tool.call', outcome: 'failure', tool: 'get_customer', error_code: 'invalid_params', reason: expect.stringMatching(/^arguments\.customer_id: /u), latency_ms: 0 });
    expect(events[0]?.result).toBeUndefined();
    expect(JSON.stringify(events[0])).not.toContain('hunter2');
  });

  it("a tool call is fed to the principal's behavioural baseline: the grant's object counts it", async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: `user-${revision}-baseline` });
    const gid = user.refreshToken.split('.')[0] as string;
    const grant = env.AUTH_TXN.get(env.AUTH_TXN.idFromName(gid));
    expect((await grant.baseline()).state).toBeNull();
    const session = revision === 'session' ? await openSessionAs(user.accessToken) : null;
    const body = { jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 13 }, ...(revision === 'modern' ? { _meta: ENVELOPE } : {}) } };
    const response = session ? await post(body, session.headers) : await post(body, { ...bearer(user.accessToken), 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_customer' });
    expect(response.status).toBe(200);
    await response.text();
    // A session sends its observations in a batch from its alarm; a stateless call has sent its own before answering.
    if (session) await runDurableObjectAlarm(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(session.sessionId)));
    const view = await grant.baseline();
    expect(view.state?.n).toBe(1);
    expect(view.state?.kind).toBe('person');
    expect(Object.keys(view.state?.tools ?? {})).toEqual(['get_customer']);
    expect(view.enforcement).toBeNull();
  });

  it('after the grant is revoked the same token gets 401 invalid_token and the tool does not run', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: `user-${revision}-revoked` });
    const gid = user.refreshToken.split('.')[0] as string;
    const session = revision === 'session' ? await openSessionAs(user.accessToken) : null;
    const revoked = await call(`/admin/grants/${gid}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${env.ADMIN_SECRET}` } });
    expect(revoked.status).toBe(200);
    const body = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 12 }, ...(revision === 'modern' ? { _meta: ENVELOPE } : {}) } };
    const response = session ? await post(body, session.headers) : await post(body, { ...bearer(user.accessToken), 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_customer' });
    await expectBearerRefusal(response, 401, 'invalid_token');
    expect(await toolEvents((e) => e.actor.grant_id === gid)).toEqual([]);
  });
});
