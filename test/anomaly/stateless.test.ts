// Issue 13 with issue 11: a stateless 2026-07-28 tools/call feeds the principal's baseline and obeys the anomaly policies exactly like a session call.
import { runDurableObjectAlarm, SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { FETCHERS, MCP_HEADERS, messages, modernEnvelope, ORIGIN } from '../support/mcp-http.ts';
import { signIn, tokenRequest } from '../support/oauth-flow.ts';
import { auditOf, createKey, learn, openWith, toolCall } from './support.ts';

const MODERN = '2026-07-28';
const ENVELOPE = modernEnvelope('vitest-anomaly-modern');

const keyStub = (keyId: string) => env.API_KEY.get(env.API_KEY.idFromName(keyId));
let nextId = 5000;

/** One stateless tools/call (the raw response, not read). */
function modernCall(key: string, name: string, args: Record<string, unknown>): Promise<Response> {
  const headers = { ...MCP_HEADERS, authorization: `Bearer ${key}`, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name };
  return SELF.fetch(`${ORIGIN}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args, _meta: ENVELOPE } }) });
}

/** A stateless tools/call that must be answered with a result. */
async function modernOk(key: string, name: string, args: Record<string, unknown>): Promise<void> {
  const response = await modernCall(key, name, args);
  expect(response.status).toBe(200);
  const reply = (await messages(response)).find((m) => 'result' in m || 'error' in m);
  expect(reply?.error).toBeUndefined();
  expect((reply?.result as { isError?: boolean }).isError).toBeFalsy();
}

/** The habit of support.ts's learn(), statelessly. */
async function modernLearn(key: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) await modernOk(key, 'find_customers', { query: 'Smith' });
    else await modernOk(key, 'get_customer', { customer_id: 1 });
  }
}

describe('stateless 2026-07-28 calls and the behavioural baseline', () => {
  it("each stateless call is counted in the key's object (sent as the answer leaves; no session, no batch to wait for)", async () => {
    const { key, keyId } = await createKey('Modern Batch Agent');
    expect((await keyStub(keyId).baseline()).state).toBeNull();
    await modernLearn(key, 3);
    const view = await keyStub(keyId).baseline();
    expect(view.state?.n).toBe(3);
    expect(view.state?.kind).toBe('agent');
    expect(Object.keys(view.state?.tools ?? {}).sort()).toEqual(['find_customers', 'get_customer']);
    // A habit learnt statelessly is the one a session scores against: a first use alerts there.
    const { headers } = await openWith(key);
    await learn(headers, 3);
    const listed = await toolCall(headers, 'list_tables', {});
    expect(listed.status).toBe(200);
    await listed.text();
    const detected = await auditOf((e) => e.type === 'anomaly.detected' && e.actor.key_id === keyId);
    expect(detected.map((e) => e.tool)).toEqual(['list_tables']);
  });

  it('an unusual stateless call under "alert" is answered, and anomaly.detected names no session', async () => {
    const { key, keyId } = await createKey('Modern Alert Agent');
    await modernLearn(key, 6);
    await modernOk(key, 'list_tables', {});
    const detected = await auditOf((e) => e.type === 'anomaly.detected' && e.actor.key_id === keyId);
    expect(detected.map((e) => [e.tool, e.outcome, (e.params as { action: string }).action, e.session_id])).toEqual([['list_tables', 'success', 'alert', undefined]]);
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId && e.tool === 'list_tables');
    expect(ran.map((e) => e.outcome)).toEqual(['success']);
    expect((await keyStub(keyId).baseline()).state?.n).toBe(7);
  });

  it('block: the unusual stateless call and the next are refused as a session refuses them; no tool runs; anomaly.enforced is audited', async () => {
    const { key, keyId } = await createKey('Modern Block Agent');
    await modernLearn(key, 6);
    const refused = await modernCall(key, 'describe_table', { table: 'customers' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/json');
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(500);
    const body = (await refused.json()) as { error: { code: number; data: { reason: string; until: string } } };
    expect(body.error.code).toBe(-32003);
    expect(body.error.data.reason).toBe('anomaly_blocked');
    // The block is the key's: a stateless call of the habit's own tool and a session call get the same answer.
    const next = await modernCall(key, 'find_customers', { query: 'Smith' });
    const { headers } = await openWith(key);
    const inSession = await toolCall(headers, 'find_customers', { query: 'Smith' });
    expect([next.status, inSession.status]).toEqual([403, 403]);
    expect(next.headers.get('content-type')).toBe(inSession.headers.get('content-type'));
    const [nextBody, sessionBody] = [await next.json(), await inSession.json()];
    expect(nextBody).toEqual(body);
    expect(sessionBody).toEqual(body);
    // No side effect: no tool ran for any refused call.
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId && (e.tool === 'describe_table' || e.outcome !== 'success'));
    expect(ran).toEqual([]);
    const calls = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId);
    expect(calls).toHaveLength(6);
    const enforced = await auditOf((e) => e.type === 'anomaly.enforced' && e.actor.key_id === keyId);
    expect(enforced.map((e) => [e.tool, e.outcome, e.error_code, e.session_id === undefined])).toEqual([
      ['describe_table', 'denied', 'anomaly_blocked', true],
      ['find_customers', 'denied', 'anomaly_blocked', true],
      ['find_customers', 'denied', 'anomaly_blocked', false],
    ]);
    const detected = await auditOf((e) => e.type === 'anomaly.detected' && e.actor.key_id === keyId);
    expect(detected.map((e) => [e.tool, e.outcome, (e.params as { action: string }).action])).toEqual([['describe_table', 'denied', 'block']]);
    expect(enforced[0]?.params).toMatchObject({ action: 'block', cause: detected[0]?.id });
    const view = await keyStub(keyId).baseline();
    expect(view.enforcement).toMatchObject({ action: 'block', event_id: detected[0]?.id });
    expect(new Date(view.enforcement?.until ?? 0).toISOString()).toBe(body.error.data.until);
  });

  it("a block started in a session refuses the key's stateless calls too", async () => {
    const { key, keyId } = await createKey('Session Block Agent');
    const { sessionId, headers } = await openWith(key);
    await learn(headers, 6);
    const refused = await toolCall(headers, 'describe_table', { table: 'customers' });
    expect(refused.status).toBe(403);
    const body = await refused.json();
    // The session sends the block to the key's object with its next batch (its alarm, a second later).
    await runDurableObjectAlarm(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId)));
    const stateless = await modernCall(key, 'get_customer', { customer_id: 1 });
    expect(stateless.status).toBe(403);
    expect(Number(stateless.headers.get('retry-after'))).toBeGreaterThan(500);
    expect(await stateless.json()).toEqual(body);
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId && e.tool === 'get_customer');
    expect(ran).toHaveLength(3);
    const enforced = await auditOf((e) => e.type === 'anomaly.enforced' && e.actor.key_id === keyId && e.session_id === undefined);
    expect(enforced.map((e) => [e.tool, e.error_code])).toEqual([['get_customer', 'anomaly_blocked']]);
  });

  it("throttle: stateless calls take from the key's own bucket (2 calls), then 429 with Retry-After", async () => {
    const { key, keyId } = await createKey('Modern Throttle Agent');
    await modernLearn(key, 6);
    await modernOk(key, 'sql_select', { sql: 'SELECT id, name FROM customers' });
    expect((await keyStub(keyId).baseline()).enforcement?.action).toBe('throttle');
    await modernOk(key, 'get_customer', { customer_id: 2 });
    await modernOk(key, 'find_customers', { query: 'Smith' });
    const limited = await modernCall(key, 'find_customers', { query: 'Smith' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { data: { reason: string; limit: string } } }).error.data).toMatchObject({ reason: 'rate_limited', limit: 'anomaly' });
    const enforced = await auditOf((e) => e.type === 'anomaly.enforced' && e.actor.key_id === keyId);
    expect(enforced.map((e) => [e.tool, e.error_code, e.session_id])).toEqual([['find_customers', 'anomaly_throttled', undefined]]);
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.key_id === keyId && e.tool === 'find_customers');
    expect(ran.length).toBe(4);
  });

  it('a person: stateless calls learn in the grant object; an unusual one under "reauth" gets 401 and ends the grant, as in a session', async () => {
    const person = await signIn(ORIGIN, FETCHERS);
    const grantId = String(decodeJwt(person.accessToken).gid);
    await modernLearn(person.accessToken, 6);
    const view = await env.AUTH_TXN.get(env.AUTH_TXN.idFromName(grantId)).baseline();
    expect(view.state?.n).toBe(6);
    expect(view.state?.kind).toBe('person');
    const refused = await modernCall(person.accessToken, 'describe_table', { table: 'customers' });
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer error="invalid_token"/);
    expect(challenge).toContain('a fresh sign-in is required');
    expect(challenge).toContain(`resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`);
    const refreshed = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: person.refreshToken, client_id: person.clientId });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    const ran = await auditOf((e) => e.type === 'tool.call' && e.actor.grant_id === grantId && e.tool === 'describe_table');
    expect(ran).toEqual([]);
    const enforced = await auditOf((e) => e.type === 'anomaly.enforced' && e.actor.grant_id === grantId);
    expect(enforced.map((e) => [e.tool, e.error_code, e.session_id])).toEqual([['describe_table', 'anomaly_reauth_required', undefined]]);
    expect(enforced[0]?.actor.client_id).toBe(person.clientId);
  });
});
