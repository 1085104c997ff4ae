// Issue 12: an administrator disables a client. /authorize refuses it with an error page, /token refuses its codes, refresh tokens and client_credentials (invalid_client), its live sessions get 401 at once; enabling it again lets new sign-ins through while revoked grants stay revoked.
import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthTransaction } from '../../durable/auth-transaction.ts';
import type { ClientRegistry } from '../../durable/client-registry.ts';
import { call, FETCHERS, ORIGIN, post } from '../support/mcp-http.ts';
import { authorize, CookieJar, pkcePair, registerClient, signIn, tokenRequest, type SignedIn } from '../support/oauth-flow.ts';
import { bearer, expectBearerRefusal, openSessionAs } from '../support/gate-assertions.ts';
import { settleDeliveries } from '../support/settle.ts';

const RESOURCE = `${ORIGIN}/mcp`;
const ADMIN_HEADERS = { authorization: `Bearer ${env.ADMIN_SECRET}`, 'cf-connecting-ip': '203.0.113.12', 'user-agent': 'disable-test/1.0' };

type Reply = Awaited<ReturnType<typeof tokenRequest>>;

function admin(path: string, method: 'GET' | 'POST' = 'GET', headers: Record<string, string> = ADMIN_HEADERS): Promise<Response> {
  return call(path, { method, headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) });
}

async function setDisabled(clientId: string, disabled: boolean): Promise<Record<string, unknown>> {
  const response = await admin(`/admin/clients/${encodeURIComponent(clientId)}/${disabled ? 'disable' : 'enable'}`, 'POST');
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as Record<string, unknown>;
}

function shard(clientId: string): DurableObjectStub<ClientRegistry> {
  return env.CLIENTS.get(env.CLIENTS.idFromName(`client:${clientId}`));
}

async function txnCount(): Promise<number> {
  return (await listDurableObjectIds(env.AUTH_TXN)).length;
}

/** The grant's phase (granted, revoked, …) as its object stores it. */
function grantPhase(grantId: string): Promise<string | null> {
  return runInDurableObject(env.AUTH_TXN.get(env.AUTH_TXN.idFromName(grantId)), (instance: AuthTransaction) => instance.inspect().txn?.phase ?? null);
}

function grantOf(accessToken: string): string {
  const payload = JSON.parse(atob((accessToken.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { gid: string };
  return payload.gid;
}

/** An RFC 6749 §5.2 invalid_client: 401 with a Basic challenge, never cached, no token in it. */
function expectInvalidClient(reply: Reply): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(401);
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
  expect(reply.body.error).toBe('invalid_client');
  expect(reply.body).not.toHaveProperty('access_token');
  expect(reply.body).not.toHaveProperty('refresh_token');
}

/** A tool call in an open session. */
async function toolCall(headers: Record<string, string>, id: number): Promise<Response> {
  return post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 7 } } }, headers);
}

/** The audit events of a type for one client, once the registry shard's outbox has delivered. */
async function eventsFor(type: string, clientId: string): Promise<Array<Record<string, unknown>>> {
  await runDurableObjectAlarm(shard(clientId));
  const response = await admin(`/admin/audit/events?type=${type}&limit=1000`);
  const lines = (await response.text()).split('\n').filter((l) => l !== '');
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => (e.actor as Record<string, unknown>).client_id === clientId);
}

afterAll(async () => {
  await settleDeliveries();
});

describe('disabling a client (dynamically registered, public)', () => {
  let person: SignedIn;

  it('ends its live session at once (401 on the next call), refuses its refresh token and new sessions; the registration is kept and the change audited', async () => {
    person = await signIn(ORIGIN, FETCHERS, { login: 'disable-alice' });
    const session = await openSessionAs(person.accessToken);
    const ok = await toolCall(session.headers, 2);
    expect(ok.status).toBe(200);
    await ok.text();
    const grantId = grantOf(person.accessToken);
    expect(await grantPhase(grantId)).toBe('granted');

    const answer = await setDisabled(person.clientId, true);
    expect(answer).toEqual({ client_id: person.clientId, disabled: true, changed: true, grants_revoked: 1 });

    await expectBearerRefusal(await toolCall(session.headers, 3), 401, 'invalid_token');
    await expectBearerRefusal(await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, bearer(person.accessToken)), 401, 'invalid_token');
    expect(await grantPhase(grantId)).not.toBe('granted');

    const txns = await txnCount();
    expectInvalidClient(await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: person.refreshToken, client_id: person.clientId }));
    expect(await txnCount()).toBe(txns);

    // The registration is kept (the shard still holds it) and listed as disabled.
    const kept = await runInDurableObject(shard(person.clientId), (instance: ClientRegistry) => instance.resolve(person.clientId, Date.now()));
    expect(kept).toMatchObject({ disabled: true, known: true, client: { clientId: person.clientId, metadata: { redirect_uris: [person.redirectUri] } } });
    const listed = (await (await admin('/admin/clients')).json()) as { clients: Array<{ client_id: string; disabled_at: string | null }> };
    expect(listed.clients.find((c) => c.client_id === person.clientId)?.disabled_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await (await admin(`/admin/clients/${person.clientId}`)).json()).toEqual({ client_id: person.clientId, disabled: true });

    const [event] = await eventsFor('client.disabled', person.clientId);
    expect(event).toMatchObject({ type: 'client.disabled', outcome: 'success', actor: { admin: 'bootstrap', client_id: person.clientId }, client_ip: '203.0.113.12', user_agent: 'disable-test/1.0' });
  });

  it('/authorize answers an error page (no redirect to its redirect_uri) and starts no transaction', async () => {
    const { challenge } = await pkcePair();
    const before = await txnCount();
    const query = new URLSearchParams({ response_type: 'code', client_id: person.clientId, redirect_uri: person.redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 's', resource: RESOURCE });
    const response = await call(`/authorize?${query}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const html = await response.text();
    expect(html).toContain('Unknown application');
    expect(html).toContain('disabled by an administrator');
    expect(html).not.toContain(person.redirectUri);
    expect(await txnCount()).toBe(before);
  });

  it('enabling it again lets a new sign-in through; the grant revoked when it was disabled stays revoked', async () => {
    expect(await setDisabled(person.clientId, false)).toEqual({ client_id: person.clientId, disabled: false, changed: true, grants_revoked: 0 });
    const { verifier, challenge } = await pkcePair();
    const back = await authorize(ORIGIN, FETCHERS, { clientId: person.clientId, redirectUri: person.redirectUri, challenge, login: 'disable-alice' });
    const code = back.searchParams.get('code') ?? '';
    const fresh = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'authorization_code', code, redirect_uri: person.redirectUri, code_verifier: verifier, client_id: person.clientId, resource: RESOURCE });
    expect(fresh.status).toBe(200);
    const session = await openSessionAs(String(fresh.body.access_token));
    const ok = await toolCall(session.headers, 2);
    expect(ok.status).toBe(200);
    await ok.text();
    const old = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: person.refreshToken, client_id: person.clientId });
    expect(old.status).toBe(400);
    expect(old.body).toMatchObject({ error: 'invalid_grant' });
    expect(old.body).not.toHaveProperty('access_token');
    expect((await eventsFor('client.enabled', person.clientId)).map((e) => e.actor)).toEqual([{ admin: 'bootstrap', client_id: person.clientId }]);
  });

  it('a code issued before the client was disabled is refused at the exchange (invalid_client) and its grant never becomes usable', async () => {
    const client = await registerClient(ORIGIN, FETCHERS);
    const { verifier, challenge } = await pkcePair();
    const back = await authorize(ORIGIN, FETCHERS, { clientId: client.clientId, redirectUri: client.redirectUri, challenge, login: 'disable-bob', jar: new CookieJar() });
    const code = back.searchParams.get('code') ?? '';
    expect(code).not.toBe('');
    expect((await setDisabled(client.clientId, true)).grants_revoked).toBe(0);
    expectInvalidClient(await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier, client_id: client.clientId, resource: RESOURCE }));
    expect(await grantPhase(code.split('.')[0] ?? '')).not.toBe('granted');
  });

  it('the switch and the grant list live in the client shard: a grant attached while disabled is refused, nothing listed', async () => {
    const client = await registerClient(ORIGIN, FETCHERS);
    await setDisabled(client.clientId, true);
    const attached = await runInDurableObject(shard(client.clientId), (instance: ClientRegistry) => instance.attachGrant(client.clientId, 'G'.repeat(43), Date.now()));
    expect(attached).toBe(false);
    const answer = await setDisabled(client.clientId, true);
    expect(answer).toEqual({ client_id: client.clientId, disabled: true, changed: false, grants_revoked: 0 });
  });
});

describe('disabling a machine client (client_credentials, private_key_jwt)', () => {
  it('its open session gets 401 at the next call and a new token request is invalid_client', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `k-${crypto.randomUUID()}`;
    const created = await call('/admin/clients', { method: 'POST', headers: { ...ADMIN_HEADERS, 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'Disable me', owner: 'u_machine_owner', scope: 'support:read', jwks: { keys: [{ ...(await exportJWK(publicKey)), kid }] } }) });
    expect(created.status).toBe(201);
    const clientId = String(((await created.json()) as { client_id: string }).client_id);
    const assertion = (key: CryptoKey) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: clientId, sub: clientId, aud: `${ORIGIN}/token`, iat: now, exp: now + 120, jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
    };
    const form = async () => ({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(privateKey) });
    const issued = await tokenRequest(ORIGIN, FETCHERS, await form());
    expect(issued.status).toBe(200);
    const session = await openSessionAs(String(issued.body.access_token));
    const ok = await toolCall(session.headers, 2);
    expect(ok.status).toBe(200);
    await ok.text();

    expect(await setDisabled(clientId, true)).toEqual({ client_id: clientId, disabled: true, changed: true, grants_revoked: 1 });
    await expectBearerRefusal(await toolCall(session.headers, 3), 401, 'invalid_token');
    const txns = await txnCount();
    expectInvalidClient(await tokenRequest(ORIGIN, FETCHERS, await form()));
    expect(await txnCount()).toBe(txns);
  });
});

describe('disabling a metadata-document client', () => {
  it('refuses it at /authorize from its cached document, without fetching the document again', async () => {
    const clientId = 'https://app.example.test/oauth/client.json';
    const metadata = { client_name: 'Doc client', redirect_uris: ['https://app.example.test/cb'], token_endpoint_auth_method: 'none' as const, grant_types: ['authorization_code' as const, 'refresh_token' as const], response_types: ['code'] as ['code'] };
    await runInDurableObject(shard(clientId), (instance: ClientRegistry) => instance.putDocument(clientId, metadata, Date.now(), Date.now() + 3600_000));
    await setDisabled(clientId, true);
    const { challenge } = await pkcePair();
    const before = await txnCount();
    const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: 'https://app.example.test/cb', code_challenge: challenge, code_challenge_method: 'S256', resource: RESOURCE });
    const response = await call(`/authorize?${query}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('disabled by an administrator');
    expect(await txnCount()).toBe(before);
  });
});

describe('the admin API for one client', () => {
  it('refuses without the credential (401) and changes nothing; an unknown client is 404', async () => {
    const client = await registerClient(ORIGIN, FETCHERS);
    const refused = await admin(`/admin/clients/${client.clientId}/disable`, 'POST', { 'content-type': 'application/json' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
    expect(await runInDurableObject(shard(client.clientId), (instance: ClientRegistry) => instance.resolve(client.clientId, Date.now()).disabled)).toBe(false);
    const unknown = await admin(`/admin/clients/${'Q'.repeat(32)}/disable`, 'POST');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not_found', error_description: 'no such client' });
  });
});
