// Issue 16, the trail's gaps: failed credentials as bounded summaries (one event per address and kind per window, with a count), refused registrations, key changes with their administrator, revocations and codes with their address, the SQL guard's reason, opened sessions.
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import { callTool, INITIALIZE, MCP_HEADERS, ORIGIN, post } from '../support/mcp-http.ts';
import { signIn, tokenRequest, type FlowFetchers } from '../support/oauth-flow.ts';
import { settleDeliveries } from '../support/settle.ts';
import { fromAddress, randomPart } from '../support/detections.ts';

const admin = { authorization: `Bearer ${env.ADMIN_SECRET}` };
const WINDOW_MS = 60_000;
const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** Events of a type from the admin export, parsed. */
async function stored(type: string): Promise<AuditEvent[]> {
  const response = await SELF.fetch(`${ORIGIN}/admin/audit/events?type=${type}&limit=10000`, { headers: admin });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text === '' ? [] : text.trim().split('\n').map((line) => AuditEventSchema.parse(JSON.parse(line)));
}

const counter = (address: string) => {
  const ns = env.FAILURE_COUNTER;
  if (!ns) throw new Error('FAILURE_COUNTER is not bound');
  return ns.get(ns.idFromName(address));
};

const from = (address: string, userAgent: string): FlowFetchers => fromAddress(address, userAgent);

describe('failed credentials are recorded bounded', () => {
  it('a flood of 200 forged bearer tokens from one address makes one auth.failed event with count 200, written when its window closes', async () => {
    const address = '198.51.100.7';
    const jwks = (await (await SELF.fetch(`${ORIGIN}/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    const ownKid = jwks.keys[0]?.kid ?? '';
    expect(ownKid).not.toBe('');
    const payload = b64({ iss: ORIGIN, aud: `${ORIGIN}/mcp`, sub: 'attacker', exp: Math.floor(Date.now() / 1000) + 600 });
    const forged = [
      `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
      `${b64({ alg: 'HS256', typ: 'at+jwt', kid: ownKid })}.${payload}.${randomPart(43)}`,
      `${b64({ alg: 'ES256', typ: 'at+jwt', kid: ownKid })}.${payload}.${randomPart(86)}`,
      randomPart(40),
    ];
    const before = (await stored('auth.failed')).filter((e) => e.client_ip === address);
    for (let i = 0; i < 200; i++) {
      const response = await SELF.fetch(`${ORIGIN}/mcp`, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${forged[i % forged.length] ?? ''}`, 'cf-connecting-ip': address, 'user-agent': 'flood/1.0' },
        body: JSON.stringify(INITIALIZE),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      await response.body?.cancel();
    }
    expect(before).toEqual([]);
    // Counted, not yet written: no event and one open window with the whole count.
    expect(await counter(address).windows()).toEqual([expect.objectContaining({ kind: 'mcp_token', count: 200 })]);
    expect((await stored('auth.failed')).filter((e) => e.client_ip === address)).toEqual([]);
    expect(await counter(address).close(Date.now() + WINDOW_MS)).toBe(1);
    const events = (await stored('auth.failed')).filter((e) => e.client_ip === address);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'denied', error_code: 'invalid_credentials', user_agent: 'flood/1.0', params: { kind: 'mcp_token', count: 200 } });
    const params = events[0]?.params as { kids: string[]; algs: string[]; reasons: string[] };
    expect(params.kids).toEqual([ownKid]);
    expect(params.algs).toEqual(expect.arrayContaining(['none', 'HS256', 'ES256']));
    expect(params.reasons.length).toBeGreaterThan(0);
    expect(await counter(address).windows()).toEqual([]);
    // A second close writes nothing more.
    expect(await counter(address).close(Date.now() + WINDOW_MS)).toBe(0);
    expect((await stored('auth.failed')).filter((e) => e.client_ip === address)).toHaveLength(1);
  });

  it('API keys: an id we never minted and a real key with a wrong secret are counted per address, with the key ids presented', async () => {
    const address = '198.51.100.8';
    const created = await SELF.fetch(`${ORIGIN}/admin/keys`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: 'Gap Agent', owner: 'user-gap', scopes: ['support:read'] }) });
    expect(created.status).toBe(201);
    const { key_id: keyId } = (await created.json()) as { key_id: string };
    const attempts = [`mcpk_${randomPart(43)}.${randomPart(43)}`, `mcpk_${keyId}.${randomPart(43)}`, `mcpk_${keyId}.${randomPart(43)}`];
    for (const key of attempts) {
      const response = await SELF.fetch(`${ORIGIN}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}`, 'cf-connecting-ip': address }, body: JSON.stringify(INITIALIZE) });
      expect(response.status).toBe(401);
      await response.body?.cancel();
    }
    expect(await counter(address).close(Date.now() + WINDOW_MS)).toBe(1);
    const [event, ...more] = (await stored('auth.failed')).filter((e) => e.client_ip === address);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ params: { kind: 'mcp_api_key', count: 3, reasons: ['unknown_key_id', 'wrong_secret'] } });
    expect((event?.params as { key_ids: string[] }).key_ids).toContain(keyId);
    expect(JSON.stringify(event)).not.toContain(attempts[1]?.split('.')[1] ?? 'x');
  });

  it('forged codes and refresh tokens at /token and wrong admin secrets are counted per kind', async () => {
    const address = '198.51.100.9';
    const fetchers = from(address, 'guess/2.0');
    for (let i = 0; i < 5; i++) {
      const r = await tokenRequest(ORIGIN, fetchers, { grant_type: 'authorization_code', code: `${randomPart(43)}.${randomPart(43)}`, client_id: 'x', redirect_uri: 'http://127.0.0.1/cb', code_verifier: randomPart(43) });
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
    for (let i = 0; i < 3; i++) {
      const response = await fetchers.server(`${ORIGIN}/admin/keys`, { headers: { authorization: `Bearer ${randomPart(40)}` } });
      expect(response.status).toBe(401);
      await response.body?.cancel();
    }
    const windows = await counter(address).windows();
    expect(windows.find((w) => w.kind === 'admin_secret')?.count).toBe(3);
    expect(await counter(address).close(Date.now() + WINDOW_MS)).toBeGreaterThanOrEqual(1);
    const events = (await stored('auth.failed')).filter((e) => e.client_ip === address);
    expect(events.find((e) => e.params?.['kind'] === 'admin_secret')).toMatchObject({ user_agent: 'guess/2.0', params: { count: 3, reasons: ['wrong_secret'] } });
    // An unregistered client is refused before the code is read (invalid_client); a registered one reaches the code check.
    const client = await (await fetchers.server(`${ORIGIN}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) })).json() as { client_id: string };
    for (let i = 0; i < 4; i++) {
      const r = await tokenRequest(ORIGIN, fetchers, { grant_type: 'authorization_code', code: `${randomPart(43)}.${randomPart(43)}`, client_id: client.client_id, redirect_uri: 'http://127.0.0.1/cb', code_verifier: randomPart(43) });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('invalid_grant');
    }
    expect(await counter(address).close(Date.now() + WINDOW_MS)).toBe(1);
    const codes = (await stored('auth.failed')).filter((e) => e.client_ip === address && e.params?.['kind'] === 'token_code');
    expect(codes).toHaveLength(1);
    expect(codes[0]?.params).toMatchObject({ count: 4 });
  });

  it('a registration refused by the per-address limit (429) is recorded as client.registration_refused with its count', async () => {
    const address = '198.51.100.10';
    const statuses: number[] = [];
    for (let i = 0; i < 23; i++) {
      const response = await SELF.fetch(`${ORIGIN}/register`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': address }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    expect(await counter(address).close(Date.now() + WINDOW_MS)).toBe(1);
    const refused = (await stored('client.registration_refused')).filter((e) => e.client_ip === address);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ outcome: 'denied', error_code: 'rate_limited', params: { kind: 'registration_limited', count: 3 } });
    await settleDeliveries();
    expect((await stored('client.registered')).filter((e) => e.client_ip === address)).toHaveLength(20);
  });
});

describe('structured security events', () => {
  it('key.created, key.rotated and key.revoked name the administrator, address and user agent, with scopes, expiry and overlap as params', async () => {
    const headers = { ...admin, 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.5', 'user-agent': 'mcp-admin/test' };
    const created = await SELF.fetch(`${ORIGIN}/admin/keys`, { method: 'POST', headers, body: JSON.stringify({ agent_name: 'Structured', owner: 'user-structured', scopes: ['support:read', 'sql:read'], expires_in: 3600 }) });
    expect(created.status).toBe(201);
    const { key_id: keyId, expires_at: expiresAt } = (await created.json()) as { key_id: string; expires_at: string };
    expect((await SELF.fetch(`${ORIGIN}/admin/keys/${keyId}/rotate`, { method: 'POST', headers, body: JSON.stringify({ overlap_seconds: 120 }) })).status).toBe(200);
    expect((await SELF.fetch(`${ORIGIN}/admin/keys/${keyId}/revoke`, { method: 'POST', headers })).status).toBe(200);
    await settleDeliveries();
    const mine = async (type: string) => (await stored(type)).filter((e) => e.actor.key_id === keyId);
    const common = { outcome: 'success', client_ip: '203.0.113.5', user_agent: 'mcp-admin/test', actor: { admin: 'bootstrap', key_id: keyId, owner: 'user-structured' } };
    expect(await mine('key.created')).toEqual([expect.objectContaining({ ...common, actor: expect.objectContaining(common.actor), params: { scopes: ['support:read', 'sql:read'], expires_at: expiresAt } })]);
    const [rotated] = await mine('key.rotated');
    expect(rotated).toMatchObject({ client_ip: '203.0.113.5', actor: { admin: 'bootstrap' }, params: { overlap_seconds: 120, expires_at: expiresAt } });
    expect(typeof rotated?.params?.['previous_retires_at']).toBe('string');
    expect(await mine('key.revoked')).toEqual([expect.objectContaining({ client_ip: '203.0.113.5', user_agent: 'mcp-admin/test', actor: expect.objectContaining({ admin: 'bootstrap' }) })]);
  });

  it('auth.code_issued and auth.revoke carry the address and user agent', async () => {
    const fetchers = from('203.0.113.6', 'client-app/3.1');
    const user = await signIn(ORIGIN, fetchers, { login: 'gaps-revoke' });
    const revoke = await fetchers.server(`${ORIGIN}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: user.refreshToken, client_id: user.clientId }).toString() });
    expect(revoke.status).toBe(200);
    await settleDeliveries();
    const grant = user.refreshToken.split('.')[0];
    const issued = (await stored('auth.code_issued')).filter((e) => e.actor.grant_id === grant);
    const revoked = (await stored('auth.revoke')).filter((e) => e.actor.grant_id === grant);
    expect(issued).toEqual([expect.objectContaining({ client_ip: '203.0.113.6', user_agent: 'client-app/3.1' })]);
    expect(revoked).toEqual([expect.objectContaining({ client_ip: '203.0.113.6', user_agent: 'client-app/3.1', reason: 'revoked by the client' })]);
  });

  it('session.opened records the client name and version, address and user agent; sql_rejected carries the guard reason', async () => {
    const user = await signIn(ORIGIN, from('203.0.113.7', 'x'), { login: 'gaps-session' });
    const init = await post({ ...INITIALIZE, params: { ...INITIALIZE.params, clientInfo: { name: 'Gap Client', version: '9.9' } } }, { authorization: `Bearer ${user.accessToken}`, 'cf-connecting-ip': '203.0.113.7', 'user-agent': 'gap-client/9.9' });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id') ?? '';
    await init.text();
    // Recorded in the session's own outbox before the answer (issue 14); delivered by its alarm.
    await settleDeliveries();
    const opened = (await stored('session.opened')).filter((e) => e.session_id === sessionId);
    expect(opened).toEqual([expect.objectContaining({ outcome: 'success', client_ip: '203.0.113.7', user_agent: 'gap-client/9.9', params: expect.objectContaining({ client_name: 'Gap Client', client_version: '9.9', protocol_version: '2025-11-25' }) })]);
    expect(opened[0]?.actor).toMatchObject({ client_id: user.clientId });
    const headers = { authorization: `Bearer ${user.accessToken}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    const reply = await callTool(headers, 'sql_select', { sql: 'SELECT 1; DROP TABLE customers' });
    expect(reply).toMatchObject({ result: { isError: true } });
    await settleDeliveries();
    const rejected = (await stored('tool.call')).filter((e) => e.session_id === sessionId && e.error_code === 'sql_rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toMatch(/^multiple_statements: /);
  });
});
