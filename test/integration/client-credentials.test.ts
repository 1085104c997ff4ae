// Machine-to-machine OAuth: administrator-registered clients, client_credentials with private_key_jwt (RFC 7523 §2.2), tokens at /mcp, and revocation.
import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { base64url, decodeJwt, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuthTransaction } from '../../durable/auth-transaction.ts';
import type { ClientRegistry } from '../../durable/client-registry.ts';
import { call, FETCHERS, INITIALIZE, messages, ORIGIN, post } from '../support/mcp-http.ts';
import { registerClient, tokenRequest } from '../support/oauth-flow.ts';
import { bearer, openSessionAs } from '../support/gate-assertions.ts';

const RESOURCE = `${ORIGIN}/mcp`;
const TOKEN_ENDPOINT = `${ORIGIN}/token`;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const GENERIC = 'client authentication failed';

type Reply = Awaited<ReturnType<typeof tokenRequest>>;
type Alg = 'ES256' | 'RS256' | 'PS256';

/** A registered machine client and its private key. */
interface Machine {
  clientId: string;
  kid: string;
  alg: Alg;
  privateKey: CryptoKey;
  publicJwk: JWK;
  response: Record<string, unknown>;
}

// ---------------------------------------------------------------- storage views

/** The registry's index (it counts every machine client, indexed or older). */
function registryStub(): DurableObjectStub<ClientRegistry> {
  return env.CLIENTS.get(env.CLIENTS.idFromName('default'));
}

/** A client's own shard of the registry. */
function shardStub(clientId: string): DurableObjectStub<ClientRegistry> {
  return env.CLIENTS.get(env.CLIENTS.idFromName(`client:${clientId}`));
}

function machineCount(): Promise<number> {
  return registryStub().machineClientCount();
}

/** The assertion ids remembered for a machine client, in its own shard of the registry (client:<id>). */
function usedIds(clientId: string): Promise<Array<{ client_id: string; jti: string; expires_at: number }>> {
  return runInDurableObject(shardStub(clientId), (instance: ClientRegistry) => instance.assertionIds().filter((r) => r.client_id === clientId));
}

async function txnCount(): Promise<number> {
  return (await listDurableObjectIds(env.AUTH_TXN)).length;
}

function grantView(gid: string): Promise<ReturnType<AuthTransaction['inspect']>> {
  return runInDurableObject(env.AUTH_TXN.get(env.AUTH_TXN.idFromName(gid)), (instance: AuthTransaction) => instance.inspect());
}

// ---------------------------------------------------------------- admin API

function admin(path: string, body?: unknown, authorization = `Bearer ${env.ADMIN_SECRET}`): Promise<Response> {
  return call(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A fresh key pair and its public JWK with a kid. */
async function keyPair(alg: Alg = 'ES256', kid = `k-${crypto.randomUUID()}`): Promise<{ privateKey: CryptoKey; publicJwk: JWK; kid: string }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid }, kid };
}

/** A public RSA JWK of any size (jose refuses to generate keys under 2048 bits; WebCrypto does not). */
async function rsaPublicJwk(bits: number): Promise<JWK> {
  const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const { kty, n, e } = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
  return { kty, n, e };
}

/** Registers a machine client through POST /admin/clients. */
async function registerMachine(options: { scope?: string; alg?: Alg; owner?: string } = {}): Promise<Machine> {
  const alg = options.alg ?? 'ES256';
  const key = await keyPair(alg);
  const response = await admin('/admin/clients', { client_name: 'Nightly report agent', owner: options.owner ?? 'u_owner', scope: options.scope ?? 'support:read sql:read', jwks: { keys: [key.publicJwk] } });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`);
  return { clientId: String(body.client_id), kid: key.kid, alg, privateKey: key.privateKey, publicJwk: key.publicJwk, response: body };
}

// ---------------------------------------------------------------- assertions and /token

/** A client assertion for `m`, valid unless `claims` (null deletes a claim) or `header` say otherwise. */
async function assertion(m: Machine, claims: Record<string, unknown> = {}, options: { key?: CryptoKey; kid?: string | null; alg?: Alg } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = { iss: m.clientId, sub: m.clientId, aud: TOKEN_ENDPOINT, iat: now, exp: now + 120, jti: crypto.randomUUID(), ...claims };
  const payload = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== null)) as JWTPayload;
  const kid = options.kid === undefined ? m.kid : options.kid;
  return new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? m.alg, ...(kid === null ? {} : { kid }) }).sign(options.key ?? m.privateKey);
}

function ccForm(clientAssertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: clientAssertion, ...extra };
}

function token(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
  return tokenRequest(ORIGIN, FETCHERS, form, headers);
}

/** A 200 client_credentials answer: an access token, never a refresh token, never cached. */
function expectAccessToken(reply: Reply, scope: string): string {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.headers.get('pragma')).toBe('no-cache');
  expect(Object.keys(reply.body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
  expect(reply.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number), scope });
  expect(reply.body).not.toHaveProperty('refresh_token');
  return String(reply.body.access_token);
}

/** An RFC 6749 §5.2 error with no token in it. */
function expectOAuthError(reply: Reply, status: number, error: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.body.error).toBe(error);
  expect(typeof reply.body.error_description).toBe('string');
  expect(reply.body).not.toHaveProperty('access_token');
  expect(reply.body).not.toHaveProperty('refresh_token');
}

/** 401 invalid_client with the generic description (the reason is only logged), and no grant created. */
async function expectInvalidClient(reply: Promise<Reply>): Promise<void> {
  const before = await txnCount();
  const answer = await reply;
  expectOAuthError(answer, 401, 'invalid_client');
  expect(answer.body.error_description).toBe(GENERIC);
  expect(answer.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
  expect(await txnCount()).toBe(before);
}

// ---------------------------------------------------------------- MCP

async function expectInvalidToken(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  expect(response.headers.get('mcp-session-id')).toBeNull();
  expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, data: { reason: 'invalid_token' } } });
}

// ================================================================ registration

describe('POST /admin/clients registers machine clients', () => {
  it('201 with the client id, owner, scope, private_key_jwt and client_credentials only; listed with source admin; only public key members stored', async () => {
    const key = await keyPair('ES256', 'first');
    const before = await machineCount();
    const response = await admin('/admin/clients', {
      client_name: 'Billing agent',
      owner: 'u_alice',
      scope: 'sql:read support:read sql:read',
      jwks: { keys: [{ ...key.publicJwk, use: 'sig', alg: 'ES256', key_ops: ['verify'], x5t: 'ignored' }] },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['client_id', 'client_name', 'created_at', 'grant_types', 'owner', 'scope', 'token_endpoint_auth_method']);
    expect(body).toMatchObject({ client_name: 'Billing agent', owner: 'u_alice', scope: 'sql:read support:read', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'] });
    expect(body.client_id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Date(String(body.created_at)).toISOString()).toBe(body.created_at);
    expect(await machineCount()).toBe(before + 1);

    // Stored in the client's own shard of the registry, not in the index.
    const stored = await shardStub(String(body.client_id)).machineClient(String(body.client_id));
    expect(stored?.jwks).toEqual([{ kty: 'EC', crv: 'P-256', x: key.publicJwk.x, y: key.publicJwk.y, kid: 'first', alg: 'ES256' }]);
    // Not an OAuth client: /authorize and the other grants do not know it.
    expect(await shardStub(String(body.client_id)).get(String(body.client_id), Date.now())).toBeNull();
    expect(await registryStub().machineClient(String(body.client_id))).toBeNull();

    const list = (await (await admin('/admin/clients')).json()) as { clients: Array<Record<string, unknown>> };
    expect(list.clients.find((c) => c.client_id === body.client_id)).toMatchObject({ source: 'admin', owner: 'u_alice', scope: 'sql:read support:read', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], redirect_uris: [] });
  });

  it('401 without the admin credential, and nothing stored', async () => {
    const key = await keyPair();
    const before = await machineCount();
    const response = await admin('/admin/clients', { client_name: 'x', owner: 'u_x', scope: 'sql:read', jwks: { keys: [key.publicJwk] } }, 'Bearer not-the-admin-secret-not-the-admin-secret');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
    expect(await response.json()).toMatchObject({ error: 'unauthorized' });
    expect(await machineCount()).toBe(before);
  });

  const ec = async () => (await keyPair('ES256', 'k1')).publicJwk;
  it.each<[string, () => Promise<unknown>, string]>([
    ['private key material (d)', async () => ({ keys: [await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey).then((jwk) => ({ ...jwk, kid: 'k1' }))] }), 'jwks.keys.0.d: private key material'],
    ['a symmetric key (k)', async () => ({ keys: [{ kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', kid: 'k1' }] }), 'jwks.keys.0.k: private key material'],
    ['a missing kid', async () => ({ keys: [{ ...(await ec()), kid: undefined }] }), 'jwks.keys.0.kid'],
    ['an empty kid', async () => ({ keys: [{ ...(await ec()), kid: '' }] }), 'jwks.keys.0.kid'],
    ['a duplicate kid', async () => ({ keys: [await ec(), await ec()] }), 'jwks.keys.1.kid'],
    ['kty OKP (unsupported)', async () => ({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] }), 'jwks.keys.0.kty'],
    ['curve P-384', async () => ({ keys: [{ ...(await exportJWK((await generateKeyPair('ES384', { extractable: true })).publicKey)), kid: 'k1' }] }), 'jwks.keys.0.crv'],
    ['alg HS256 on an EC key', async () => ({ keys: [{ ...(await ec()), alg: 'HS256' }] }), 'jwks.keys.0.alg'],
    ['alg none on an EC key', async () => ({ keys: [{ ...(await ec()), alg: 'none' }] }), 'jwks.keys.0.alg'],
    ['alg ES256 on an RSA key', async () => ({ keys: [{ ...(await keyPair('RS256', 'k1')).publicJwk, alg: 'ES256' }] }), 'jwks.keys.0.alg'],
    ['use enc', async () => ({ keys: [{ ...(await ec()), use: 'enc' }] }), 'jwks.keys.0.use'],
    ['an RSA key of 1024 bits', async () => ({ keys: [{ ...(await rsaPublicJwk(1024)), kid: 'k1' }] }), 'jwks.keys.0.n: the modulus must have 2048 to 8192 bits (has 1024)'],
    ['an RSA key of 2047 bits', async () => ({ keys: [{ ...(await rsaPublicJwk(2048)), n: base64url.encode(new Uint8Array([0x7f, ...new Array<number>(255).fill(0xab)])), kid: 'k1' }] }), 'jwks.keys.0.n: the modulus must have 2048 to 8192 bits (has 2047)'],
    ['a point not on the curve', async () => ({ keys: [{ ...(await ec()), y: (await ec()).x }] }), 'jwks.keys.0: not a usable P-256 public key'],
    ['six keys', async () => ({ keys: await Promise.all([1, 2, 3, 4, 5, 6].map(async (i) => (await keyPair('ES256', `k${i}`)).publicJwk)) }), 'jwks.keys: must hold at most 5 keys'],
    ['no keys', async () => ({ keys: [] }), 'jwks.keys: must hold at least one key'],
    ['keys not an array', async () => ({ keys: {} }), 'jwks.keys'],
    ['a key set that is a string', async () => 'https://agent.example/jwks.json', 'jwks: must be an object'],
  ])('400 invalid_request naming the field for %s, and nothing stored', async (_name, jwks, field) => {
    const before = await machineCount();
    const response = await admin('/admin/clients', { client_name: 'Agent', owner: 'u_owner', scope: 'sql:read', jwks: await jwks() });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('invalid_request');
    expect(String(body.error_description)).toContain(field);
    expect(body).not.toHaveProperty('client_id');
    expect(await machineCount()).toBe(before);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown scope', { scope: 'sql:read sql:write' }, 'scope: unknown scope "sql:write"'],
    ['an empty scope', { scope: '  ' }, 'scope: at least one of'],
    ['no owner', { owner: undefined }, 'owner'],
    ['a blank client_name', { client_name: ' ' }, 'client_name'],
    ['no jwks', { jwks: undefined }, 'jwks'],
    ['a jwks_uri instead of keys', { jwks: undefined, jwks_uri: 'https://agent.example/jwks.json' }, 'jwks_uri'],
    ['an auth method of its own choosing', { token_endpoint_auth_method: 'client_secret_basic' }, 'token_endpoint_auth_method'],
    ['grant types of its own choosing', { grant_types: ['authorization_code'] }, 'grant_types'],
  ])('400 invalid_request naming the field for %s, and nothing stored', async (_name, change, field) => {
    const key = await keyPair();
    const before = await machineCount();
    const body = { client_name: 'Agent', owner: 'u_owner', scope: 'sql:read', jwks: { keys: [key.publicJwk] }, ...change };
    const response = await admin('/admin/clients', JSON.parse(JSON.stringify(body)));
    expect(response.status).toBe(400);
    const answer = (await response.json()) as Record<string, unknown>;
    expect(answer.error).toBe('invalid_request');
    expect(String(answer.error_description)).toContain(field);
    expect(await machineCount()).toBe(before);
  });
});

// ================================================================ the grant

describe('client_credentials with private_key_jwt', () => {
  it('a valid assertion → 200 access token (no refresh token, no-store) for client:<id>, its own grant in the AuthTransaction holding the owner', async () => {
    const m = await registerMachine({ scope: 'support:read sql:read', owner: 'u_bob' });
    const before = await txnCount();
    const reply = await token(ccForm(await assertion(m), { resource: RESOURCE }));
    const access = expectAccessToken(reply, 'support:read sql:read');
    expect(await txnCount()).toBe(before + 1);

    const claims = decodeJwt(access);
    expect(claims).toMatchObject({ iss: ORIGIN, aud: RESOURCE, sub: `client:${m.clientId}`, client_id: m.clientId, scope: 'support:read sql:read' });
    expect(claims.exp! - claims.iat!).toBe(reply.body.expires_in);
    expect(claims).not.toHaveProperty('email');
    const grant = await grantView(String(claims.gid));
    expect(grant.txn).toMatchObject({ id: claims.gid, phase: 'granted', grantType: 'client_credentials', clientId: m.clientId, owner: 'u_bob', scope: 'support:read sql:read', resource: RESOURCE });
    expect(grant.txn?.user).toBeUndefined();
    expect(grant.refreshTokens).toEqual([]);
  });

  it.each<Alg>(['ES256', 'RS256', 'PS256'])('%s assertions are accepted (the client id may also be sent as client_id)', async (alg) => {
    const m = await registerMachine({ alg, scope: 'sql:read' });
    expectAccessToken(await token(ccForm(await assertion(m), { client_id: m.clientId })), 'sql:read');
  });

  it('aud may be the issuer instead of the token endpoint, or an array holding one of them', async () => {
    const m = await registerMachine({ scope: 'sql:read' });
    expectAccessToken(await token(ccForm(await assertion(m, { aud: ORIGIN }))), 'sql:read');
    expectAccessToken(await token(ccForm(await assertion(m, { aud: ['https://other.example', TOKEN_ENDPOINT] }))), 'sql:read');
  });

  it('a requested scope within the registered one narrows the token; absent means all registered', async () => {
    const m = await registerMachine({ scope: 'support:read sql:read' });
    expectAccessToken(await token(ccForm(await assertion(m), { scope: 'sql:read' })), 'sql:read');
    expectAccessToken(await token(ccForm(await assertion(m))), 'support:read sql:read');
  });

  it('the token works at /mcp: initialize 200, a tool within scope runs, a tool outside it → 403 insufficient_scope', async () => {
    const m = await registerMachine({ scope: 'support:read' });
    const access = expectAccessToken(await token(ccForm(await assertion(m))), 'support:read');
    const { headers } = await openSessionAs(access);

    const allowed = await post({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 1 } } }, headers);
    expect(allowed.status).toBe(200);
    expect((await messages(allowed))[0]).toMatchObject({ id: 6, result: { structuredContent: { id: 1 } } });

    const refused = await post({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'sql_select', arguments: { sql: 'SELECT 1' } } }, headers);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope", resource_metadata="[^"]+", scope="sql:read"/);
    expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32003, data: { reason: 'insufficient_scope' } } });
  });

  it('the session is bound to client:<id>, and the grant knows the session (so revocation reaches it)', async () => {
    const m = await registerMachine({ scope: 'support:read' });
    const access = expectAccessToken(await token(ccForm(await assertion(m))), 'support:read');
    const { headers } = await openSessionAs(access);
    const grant = await grantView(String(decodeJwt(access).gid));
    expect(grant.sessions).toEqual([headers['mcp-session-id']]);
  });

  it('admin revoke of the grant → the token gets 401 at /mcp, in its open session and for a new one; a new assertion gets a new grant', async () => {
    const m = await registerMachine({ scope: 'support:read' });
    const access = expectAccessToken(await token(ccForm(await assertion(m))), 'support:read');
    const { headers } = await openSessionAs(access);
    const ping = { jsonrpc: '2.0', id: 3, method: 'ping' };
    const alive = await post(ping, headers);
    expect(alive.status).toBe(200);
    await alive.text();

    const gid = String(decodeJwt(access).gid);
    const revoked = await admin(`/admin/grants/${gid}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ grant_id: gid, revoked: true });
    expect((await grantView(gid)).txn).toMatchObject({ phase: 'revoked', revokedReason: 'revoked by an administrator' });

    await expectInvalidToken(await post(ping, headers));
    await expectInvalidToken(await post(INITIALIZE, bearer(access)));

    const next = expectAccessToken(await token(ccForm(await assertion(m))), 'support:read');
    expect(decodeJwt(next).gid).not.toBe(gid);
    const reopened = await post(INITIALIZE, bearer(next));
    expect(reopened.status).toBe(200);
    await reopened.text();
  });

  it('RFC 7009: the client can revoke its own access token with an assertion at /revoke; the grant ends', async () => {
    const m = await registerMachine({ scope: 'support:read' });
    const access = expectAccessToken(await token(ccForm(await assertion(m))), 'support:read');
    const form = new URLSearchParams({ token: access, client_assertion_type: JWT_BEARER, client_assertion: await assertion(m) });
    const response = await call('/revoke', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(response.status).toBe(200);
    expect((await grantView(String(decodeJwt(access).gid))).txn).toMatchObject({ phase: 'revoked', revokedReason: 'revoked by the client' });
    await expectInvalidToken(await post(INITIALIZE, bearer(access)));
  });
});

// ================================================================ refusals

describe('assertion refusals → 401 invalid_client, generic description, no token, no grant', () => {
  it('signed with a key the client did not register (same kid)', async () => {
    const m = await registerMachine();
    const other = await keyPair();
    await expectInvalidClient(token(ccForm(await assertion(m, {}, { key: other.privateKey }))));
  });

  it('a bad signature does not spend the jti: the honest assertion with that jti still works once', async () => {
    const m = await registerMachine({ scope: 'sql:read' });
    const jti = crypto.randomUUID();
    const forged = await assertion(m, { jti }, { key: (await keyPair()).privateKey });
    await expectInvalidClient(token(ccForm(forged)));
    expect(await usedIds(m.clientId)).toEqual([]);
    expectAccessToken(await token(ccForm(await assertion(m, { jti }))), 'sql:read');
  });

  it('alg none (unsigned)', async () => {
    const m = await registerMachine();
    const now = Math.floor(Date.now() / 1000);
    const unsigned = new UnsecuredJWT({ jti: crypto.randomUUID() }).setIssuer(m.clientId).setSubject(m.clientId).setAudience(TOKEN_ENDPOINT).setIssuedAt(now).setExpirationTime(now + 60).encode();
    await expectInvalidClient(token(ccForm(unsigned)));
    // The same with a kid naming the client's key, and with a stray signature part.
    const [, payload] = unsigned.split('.');
    const header = btoa(JSON.stringify({ alg: 'none', kid: m.kid })).replaceAll('=', '');
    await expectInvalidClient(token(ccForm(`${header}.${payload}.`)));
    await expectInvalidClient(token(ccForm(`${header}.${payload}.AAAA`)));
  });

  it('HS256 with the public key (PEM or JWK text) as the HMAC secret', async () => {
    const m = await registerMachine();
    const pem = await exportSPKI((await importJWK({ ...m.publicJwk, ext: true }, 'ES256')) as CryptoKey);
    for (const secret of [pem, JSON.stringify(m.publicJwk)]) {
      const now = Math.floor(Date.now() / 1000);
      const forged = await new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'HS256', kid: m.kid })
        .setIssuer(m.clientId)
        .setSubject(m.clientId)
        .setAudience(TOKEN_ENDPOINT)
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(new TextEncoder().encode(secret));
      await expectInvalidClient(token(ccForm(forged)));
    }
  });

  it('an alg the key does not fit (RS256 header on an EC client) and an unknown kid', async () => {
    const m = await registerMachine();
    const rsa = await keyPair('RS256');
    await expectInvalidClient(token(ccForm(await assertion(m, {}, { key: rsa.privateKey, alg: 'RS256' }))));
    await expectInvalidClient(token(ccForm(await assertion(m, {}, { kid: 'not-registered' }))));
  });

  it.each<[string, Record<string, unknown>]>([
    ['wrong iss', { iss: 'someone-else' }],
    ['wrong sub', { sub: 'someone-else' }],
    ['no sub', { sub: null }],
    ['wrong aud', { aud: 'https://other.example/token' }],
    ['aud = the MCP resource', { aud: RESOURCE }],
    ['no aud', { aud: null }],
    ['expired (2 minutes ago)', { exp: Math.floor(Date.now() / 1000) - 120 }],
    ['no exp', { exp: null }],
    ['exp 10 minutes ahead', { exp: Math.floor(Date.now() / 1000) + 600 }],
    ['iat 5 minutes in the future', { iat: Math.floor(Date.now() / 1000) + 300 }],
    ['nbf 5 minutes in the future', { nbf: Math.floor(Date.now() / 1000) + 300 }],
    ['no jti', { jti: null }],
    ['an empty jti', { jti: '' }],
    ['a numeric jti', { jti: 42 }],
  ])('%s', async (_name, claims) => {
    const m = await registerMachine();
    await expectInvalidClient(token(ccForm(await assertion(m, claims))));
    expect(await usedIds(m.clientId)).toEqual([]);
  });

  it('a replayed jti: the same assertion twice → 200 then 401; the jti is kept until exp + 60 s', async () => {
    const m = await registerMachine({ scope: 'sql:read' });
    const exp = Math.floor(Date.now() / 1000) + 120;
    const once = await assertion(m, { exp, jti: 'only-once' });
    expectAccessToken(await token(ccForm(once)), 'sql:read');
    await expectInvalidClient(token(ccForm(once)));
    // A new assertion reusing the jti is a replay too.
    await expectInvalidClient(token(ccForm(await assertion(m, { exp: exp + 10, jti: 'only-once' }))));
    expect(await usedIds(m.clientId)).toEqual([{ client_id: m.clientId, jti: 'only-once', expires_at: (exp + 60) * 1000 }]);
  });

  it('the same assertion sent 6 times at once gets exactly one token', async () => {
    const m = await registerMachine({ scope: 'sql:read' });
    const once = await assertion(m);
    const before = await txnCount();
    const replies = await Promise.all(Array.from({ length: 6 }, () => token(ccForm(once))));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    for (const r of replies.filter((x) => x.status === 401)) expect(r.body).toEqual({ error: 'invalid_client', error_description: GENERIC });
    expect(await txnCount()).toBe(before + 1);
  });

  it('the same jti is separate per client', async () => {
    const a = await registerMachine({ scope: 'sql:read' });
    const b = await registerMachine({ scope: 'sql:read' });
    expectAccessToken(await token(ccForm(await assertion(a, { jti: 'shared' }))), 'sql:read');
    expectAccessToken(await token(ccForm(await assertion(b, { jti: 'shared' }))), 'sql:read');
  });

  it("an assertion for another client id: client A's key with iss = sub = B, and A's assertion sent with client_id = B", async () => {
    const a = await registerMachine();
    const b = await registerMachine();
    await expectInvalidClient(token(ccForm(await assertion(a, { iss: b.clientId, sub: b.clientId }))));
    await expectInvalidClient(token(ccForm(await assertion(a), { client_id: b.clientId })));
    expect(await usedIds(a.clientId)).toEqual([]);
    expect(await usedIds(b.clientId)).toEqual([]);
  });

  it('an unknown client id, and an OAuth (DCR) client id, in the assertion', async () => {
    const m = await registerMachine();
    const dcr = await registerClient(ORIGIN, FETCHERS, { token_endpoint_auth_method: 'client_secret_basic' });
    await expectInvalidClient(token(ccForm(await assertion(m, { iss: 'nobody', sub: 'nobody' }))));
    await expectInvalidClient(token(ccForm(await assertion(m, { iss: dcr.clientId, sub: dcr.clientId }))));
  });

  it('a missing or wrong client_assertion_type, and a type with no assertion', async () => {
    const m = await registerMachine();
    const { client_assertion_type: _t, ...withoutType } = ccForm(await assertion(m));
    await expectInvalidClient(token(withoutType));
    await expectInvalidClient(token(ccForm(await assertion(m), { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' })));
    await expectInvalidClient(token({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_id: m.clientId }));
    expect(await usedIds(m.clientId)).toEqual([]);
  });

  it('a client_secret or a Basic header sent too (two methods)', async () => {
    const m = await registerMachine();
    await expectInvalidClient(token(ccForm(await assertion(m), { client_secret: 'anything' })));
    await expectInvalidClient(token(ccForm(await assertion(m)), { authorization: `Basic ${btoa(`${m.clientId}:anything`)}` }));
    expect(await usedIds(m.clientId)).toEqual([]);
  });

  it('a machine client without an assertion (client_id alone) is not a public client', async () => {
    const m = await registerMachine();
    await expectInvalidClient(token({ grant_type: 'client_credentials', client_id: m.clientId }));
  });

  it('a repeated client_assertion → 400 invalid_request', async () => {
    const m = await registerMachine();
    const form = new URLSearchParams(ccForm(await assertion(m)));
    form.append('client_assertion', await assertion(m));
    const response = await call('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: 'parameter client_assertion is repeated' });
    expect(await usedIds(m.clientId)).toEqual([]);
  });
});

describe('request refusals after authentication', () => {
  it('a scope wider than the registered one → 400 invalid_scope, no grant', async () => {
    const m = await registerMachine({ scope: 'support:read' });
    const before = await txnCount();
    expectOAuthError(await token(ccForm(await assertion(m), { scope: 'support:read sql:read' })), 400, 'invalid_scope');
    expectOAuthError(await token(ccForm(await assertion(m), { scope: 'admin' })), 400, 'invalid_scope');
    expect(await txnCount()).toBe(before);
  });

  it.each([`${ORIGIN}/other`, 'https://evil.example/mcp', `${RESOURCE}/`])('resource %s → 400 invalid_target, no grant', async (resource) => {
    const m = await registerMachine();
    const before = await txnCount();
    expectOAuthError(await token(ccForm(await assertion(m), { resource })), 400, 'invalid_target');
    expect(await txnCount()).toBe(before);
  });

  it('a machine client asking authorization_code or refresh_token → 400 unauthorized_client', async () => {
    const m = await registerMachine();
    const before = await txnCount();
    expectOAuthError(await token({ ...ccForm(await assertion(m)), grant_type: 'authorization_code', code: 'x.y', redirect_uri: 'http://127.0.0.1:9/callback', code_verifier: 'v'.repeat(43) }), 400, 'unauthorized_client');
    expectOAuthError(await token({ ...ccForm(await assertion(m)), grant_type: 'refresh_token', refresh_token: 'x.y' }), 400, 'unauthorized_client');
    expect(await txnCount()).toBe(before);
  });

  it('an open DCR client (confidential or public) asking client_credentials → 400 unauthorized_client, no grant', async () => {
    const confidential = await registerClient(ORIGIN, FETCHERS, { token_endpoint_auth_method: 'client_secret_basic' });
    const publicClient = await registerClient(ORIGIN, FETCHERS);
    const before = await txnCount();
    const basic = { authorization: `Basic ${btoa(`${encodeURIComponent(confidential.clientId)}:${encodeURIComponent(confidential.clientSecret ?? '')}`)}` };
    expectOAuthError(await token({ grant_type: 'client_credentials', scope: 'sql:read' }, basic), 400, 'unauthorized_client');
    expectOAuthError(await token({ grant_type: 'client_credentials', client_id: publicClient.clientId }), 400, 'unauthorized_client');
    expect(await txnCount()).toBe(before);
  });

  it('open Dynamic Client Registration cannot create a private_key_jwt or client_credentials client', async () => {
    const key = await keyPair();
    for (const metadata of [{ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } }, { grant_types: ['client_credentials'] }]) {
      const response = await call('/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': `192.0.2.${Math.floor(Math.random() * 250) + 1}` },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/callback'], ...metadata }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_client_metadata' });
    }
  });
});

describe('metadata', () => {
  it('RFC 8414 lists client_credentials, private_key_jwt and the assertion algorithms', async () => {
    const response = await call('/.well-known/oauth-authorization-server');
    expect(response.status).toBe(200);
    const meta = (await response.json()) as Record<string, unknown>;
    expect(meta.grant_types_supported).toEqual(['authorization_code', 'refresh_token', 'client_credentials']);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'PS256']);
    expect(meta.revocation_endpoint_auth_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'PS256']);
  });
});
