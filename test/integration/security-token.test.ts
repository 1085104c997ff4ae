// Token endpoint, refresh tokens and revocation (SECURITY-CHECKLIST 21–34): replays, races, client binding, entropy, revocation reaching live sessions.
import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { McpSession } from '../../durable/session.ts';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuthTransaction } from '../../durable/auth-transaction.ts';
import { call, FETCHERS, INITIALIZE, ORIGIN, post } from '../support/mcp-http.ts';
import { authorize, pkcePair, registerClient, signIn, tokenRequest, type SignedIn } from '../support/oauth-flow.ts';
import { bearer, openSessionAs } from '../support/gate-assertions.ts';

const RESOURCE = `${ORIGIN}/mcp`;
const RESOURCE_METADATA = `${ORIGIN}/.well-known/oauth-protected-resource/mcp`;
const OPAQUE = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;
const SLOW = { timeout: 60_000 };

type Reply = Awaited<ReturnType<typeof tokenRequest>>;
type Form = Record<string, string>;

/** A client's unredeemed code and what redeeming it needs. */
interface Issued {
  clientId: string;
  clientSecret?: string | undefined;
  redirectUri: string;
  code: string;
  verifier: string;
}

// ---------------------------------------------------------------- flows

/** Registers a client (public unless `metadata` says otherwise) and runs the sign-in up to the code. */
async function issueCode(metadata: Record<string, unknown> = {}, scope?: string): Promise<Issued> {
  const client = await registerClient(ORIGIN, FETCHERS, metadata);
  const { verifier, challenge } = await pkcePair();
  const back = await authorize(ORIGIN, FETCHERS, { clientId: client.clientId, redirectUri: client.redirectUri, challenge, scope });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back}`);
  return { clientId: client.clientId, clientSecret: client.clientSecret, redirectUri: client.redirectUri, code, verifier };
}

/** The authorization_code form a well-behaved public client sends. */
function codeForm(issued: Issued): Form {
  return { grant_type: 'authorization_code', code: issued.code, redirect_uri: issued.redirectUri, code_verifier: issued.verifier, client_id: issued.clientId, resource: RESOURCE };
}

/** POST /token with a raw body (for repeated parameters and other content types). */
async function postToken(body: string, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }): Promise<Reply> {
  const response = await call('/token', { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

/** A refresh_token grant request for a public client. */
function refresh(clientId: string, refreshToken: string, extra: Form = {}): Promise<Reply> {
  return tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
}

/** POST /revoke (RFC 7009) as a public client. */
function revoke(clientId: string, token: string, hint?: string): Promise<Response> {
  const form = new URLSearchParams({ token, client_id: clientId, ...(hint ? { token_type_hint: hint } : {}) });
  return call('/revoke', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
}

function basic(clientId: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`)}` };
}

// ---------------------------------------------------------------- storage views

function txnIdOf(token: string): string {
  return token.split('.')[0] ?? '';
}

function txnStub(txnId: string): DurableObjectStub<AuthTransaction> {
  return env.AUTH_TXN.get(env.AUTH_TXN.idFromName(txnId));
}

/** The grant (authorization transaction) a code or refresh token belongs to, as stored. */
function grantOf(token: string): Promise<ReturnType<AuthTransaction['inspect']>> {
  return runInDurableObject(txnStub(txnIdOf(token)), (instance: AuthTransaction) => instance.inspect());
}

async function txnCount(): Promise<number> {
  return (await listDurableObjectIds(env.AUTH_TXN)).length;
}

// ---------------------------------------------------------------- MCP

/** A ping on an existing session. */
function ping(headers: Record<string, string>): Promise<Response> {
  return post({ jsonrpc: '2.0', id: 5, method: 'ping' }, headers);
}

/** The session answers normally. */
async function expectServed(response: Response): Promise<void> {
  expect(response.status).toBe(200);
  expect(response.headers.get('www-authenticate')).toBeNull();
  await response.text();
}

/** RFC 6750 401 for a token whose grant has ended. */
async function expectInvalidToken(response: Response): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('mcp-session-id')).toBeNull();
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer /);
  expect(challenge).toContain('error="invalid_token"');
  expect(challenge).toContain(`resource_metadata="${RESOURCE_METADATA}"`);
  expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, data: { reason: 'invalid_token' } } });
}

// ---------------------------------------------------------------- token endpoint answers

/** A 200 with a fresh token set, never cached. */
function expectTokens(reply: Reply): { accessToken: string; refreshToken: string; scope: string } {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number), scope: expect.any(String) });
  const accessToken = String(reply.body.access_token);
  const refreshToken = String(reply.body.refresh_token);
  expect(accessToken.split('.')).toHaveLength(3);
  expect(refreshToken).toMatch(OPAQUE);
  return { accessToken, refreshToken, scope: String(reply.body.scope) };
}

/** An RFC 6749 §5.2 error: status, code, never cached, and no token in it. */
function expectOAuthError(reply: Reply, status: number, error: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/json');
  expect(reply.headers.get('cache-control')).toBe('no-store');
  expect(reply.body.error).toBe(error);
  expect(String(reply.body.error_description).length).toBeGreaterThan(5);
  expect(reply.body).not.toHaveProperty('access_token');
  expect(reply.body).not.toHaveProperty('refresh_token');
  if (error === 'invalid_client') expect(reply.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"/);
}

/** The code was not redeemed and nothing was minted from it. */
async function expectCodeUnused(code: string): Promise<void> {
  const grant = await grantOf(code);
  expect(grant.txn?.phase).toBe('code');
  expect(grant.refreshTokens).toEqual([]);
}

/** The grant is live: exactly one active refresh token, not revoked. */
async function expectGrantLive(token: string): Promise<void> {
  const grant = await grantOf(token);
  expect(grant.txn?.phase).toBe('granted');
  expect(grant.txn?.revokedReason).toBeUndefined();
  expect(grant.refreshTokens.filter((t) => t.status === 'active')).toHaveLength(1);
}

/** The grant is revoked for `reason` and no refresh token of it is active. */
async function expectGrantRevoked(token: string, reason: string): Promise<void> {
  const grant = await grantOf(token);
  expect(grant.txn).toMatchObject({ phase: 'revoked', revokedReason: reason });
  expect(grant.refreshTokens.filter((t) => t.status === 'active')).toEqual([]);
}

// ---------------------------------------------------------------- entropy

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function b64urlBytes(value: string): Uint8Array {
  const b64 = value.replaceAll('-', '+').replaceAll('_', '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Asserts that a sample of random values looks like ≥128-bit uniform randomness. */
function expectRandom(kind: string, sample: string[]): void {
  expect(sample.length, kind).toBeGreaterThanOrEqual(20);
  expect(new Set(sample).size, `${kind}: all distinct`).toBe(sample.length);
  const bytes = sample.map((value) => {
    expect(value, `${kind}: base64url`).toMatch(/^[A-Za-z0-9_-]+$/);
    const decoded = b64urlBytes(value);
    expect(decoded.length, `${kind}: ≥ 16 bytes`).toBeGreaterThanOrEqual(16);
    return decoded;
  });
  // Two uniform base64url strings share 6 leading characters (36 bits) with probability ~190 × 2⁻³⁶.
  let longest = 0;
  for (let i = 0; i < sample.length; i++) for (let j = i + 1; j < sample.length; j++) longest = Math.max(longest, commonPrefix(sample[i] ?? '', sample[j] ?? ''));
  expect(longest, `${kind}: longest common prefix`).toBeLessThan(6);
  // Ones make up half the bits (≥ 2,560 bits: 0.45–0.55 is > 5 standard deviations).
  let ones = 0;
  let bits = 0;
  for (const value of bytes) {
    for (const byte of value) {
      for (let bit = 0; bit < 8; bit++) ones += (byte >> bit) & 1;
      bits += 8;
    }
  }
  expect(ones / bits, `${kind}: bit balance`).toBeGreaterThan(0.45);
  expect(ones / bits, `${kind}: bit balance`).toBeLessThan(0.55);
}

async function inBatches<T>(count: number, size: number, make: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  while (out.length < count) out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - out.length) }, make))));
  return out;
}

// ================================================================ Token endpoint

describe('Token endpoint (checklist 21–27)', SLOW, () => {
  it('21: a replayed code → invalid_grant, and the first exchange is revoked: its access token gets 401 at /mcp (live session and new initialize), its refresh token invalid_grant', async () => {
    const issued = await issueCode();
    const first = expectTokens(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued)));
    const session = await openSessionAs(first.accessToken);
    await expectServed(await ping(session.headers));

    const replay = await tokenRequest(ORIGIN, FETCHERS, codeForm(issued));
    expectOAuthError(replay, 400, 'invalid_grant');

    await expectInvalidToken(await ping(session.headers));
    await expectInvalidToken(await post(INITIALIZE, bearer(first.accessToken)));
    expectOAuthError(await refresh(issued.clientId, first.refreshToken), 400, 'invalid_grant');
    await expectGrantRevoked(issued.code, 'authorization code replayed');
    const grant = await grantOf(issued.code);
    expect(grant.refreshTokens).toHaveLength(1); // the replay minted nothing
    expect(grant.sessions).toEqual([session.sessionId]);
  });

  it.each([2, 5, 10])('22: the same code redeemed by %i concurrent requests → exactly one 200, the rest invalid_grant, one token family minted', async (n) => {
    const issued = await issueCode();
    const replies = await Promise.all(Array.from({ length: n }, () => tokenRequest(ORIGIN, FETCHERS, codeForm(issued))));
    const ok = replies.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expectTokens(ok[0] as Reply);
    for (const reply of replies.filter((r) => r.status !== 200)) expectOAuthError(reply, 400, 'invalid_grant');
    const grant = await grantOf(issued.code);
    expect(grant.refreshTokens).toHaveLength(1);
    // The losers are replays of a redeemed code, so (item 21) the grant ends too.
    await expectGrantRevoked(issued.code, 'authorization code replayed');
  });

  it.each([
    ['a public client', {}],
    ['a confidential client with its valid secret', { token_endpoint_auth_method: 'client_secret_basic' }],
  ])("23: client A's code redeemed by client B (%s) → invalid_grant; the code stays unredeemed", async (_label, metadata) => {
    const issued = await issueCode();
    const thief = await registerClient(ORIGIN, FETCHERS, metadata);
    expect(thief.redirectUri).toBe(issued.redirectUri); // only the client differs
    const { client_id: _own, ...form } = codeForm(issued);
    const reply = thief.clientSecret
      ? await tokenRequest(ORIGIN, FETCHERS, form, basic(thief.clientId, thief.clientSecret))
      : await tokenRequest(ORIGIN, FETCHERS, { ...form, client_id: thief.clientId });
    expectOAuthError(reply, 400, 'invalid_grant');
    await expectCodeUnused(issued.code);
  });

  it('23: an expired code (past AUTH_CODE_TTL_SECONDS = 60) → invalid_grant, nothing minted', async () => {
    const issued = await issueCode();
    const stored = await grantOf(issued.code);
    const ttl = (stored.txn?.codeExpiresAt ?? 0) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await runInDurableObject(txnStub(txnIdOf(issued.code)), (_instance: AuthTransaction, state) => {
      const row = state.storage.sql.exec<{ state: string }>('SELECT state FROM txn WHERE id = 1').one();
      const txn = JSON.parse(row.state) as Record<string, unknown>;
      state.storage.sql.exec('UPDATE txn SET state = ? WHERE id = 1', JSON.stringify({ ...txn, codeExpiresAt: Date.now() - 1000 }));
    });
    const reply = await tokenRequest(ORIGIN, FETCHERS, codeForm(issued));
    expectOAuthError(reply, 400, 'invalid_grant');
    await expectCodeUnused(issued.code);
  });

  it.each([
    ['another redirect URI registered by the same client', 'http://127.0.0.1:9/other'],
    ['a trailing slash', 'http://127.0.0.1:9/callback/'],
    ['another loopback port', 'http://127.0.0.1:10/callback'],
    ['an added query', 'http://127.0.0.1:9/callback?x=1'],
    ['no redirect_uri at all', ''],
  ])('23: a redirect_uri different from the authorization request (%s) → invalid_grant, nothing minted', async (_label, redirectUri) => {
    const issued = await issueCode({ redirect_uris: ['http://127.0.0.1:9/callback', 'http://127.0.0.1:9/other'] });
    const { redirect_uri: _right, ...form } = codeForm(issued);
    const reply = await tokenRequest(ORIGIN, FETCHERS, redirectUri ? { ...form, redirect_uri: redirectUri } : form);
    expectOAuthError(reply, 400, 'invalid_grant');
    await expectCodeUnused(issued.code);
  });

  it('24: a client_secret_basic client with bad credentials → 401 invalid_client with WWW-Authenticate, and its code is not burned', async () => {
    const issued = await issueCode({ token_endpoint_auth_method: 'client_secret_basic' });
    const secret = issued.clientSecret ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const other = await registerClient(ORIGIN, FETCHERS, { token_endpoint_auth_method: 'client_secret_basic' });
    const { client_id: _id, ...form } = codeForm(issued);
    const attempts: Array<[string, Form, Record<string, string>]> = [
      ['wrong secret', form, basic(issued.clientId, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)],
      ["another client's secret", form, basic(issued.clientId, other.clientSecret ?? '')],
      ['empty secret', form, basic(issued.clientId, '')],
      ['unknown client id', form, basic('no-such-client', secret)],
      ['malformed Basic', form, { authorization: 'Basic !!!' }],
      ['no authentication at all', { ...form, client_id: issued.clientId }, {}],
    ];
    for (const [label, body, headers] of attempts) {
      const reply = await tokenRequest(ORIGIN, FETCHERS, body, headers);
      expect(reply.status, label).toBe(401);
      expectOAuthError(reply, 401, 'invalid_client');
    }
    await expectCodeUnused(issued.code);
    expectTokens(await tokenRequest(ORIGIN, FETCHERS, form, basic(issued.clientId, secret)));
  });

  it('24: both a Basic header and client_secret in the body (two methods at once) → invalid_request, code not burned', async () => {
    const issued = await issueCode({ token_endpoint_auth_method: 'client_secret_basic' });
    const secret = issued.clientSecret ?? '';
    const reply = await tokenRequest(ORIGIN, FETCHERS, { ...codeForm(issued), client_secret: secret }, basic(issued.clientId, secret));
    expectOAuthError(reply, 400, 'invalid_request');
    await expectCodeUnused(issued.code);
    expectTokens(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued), basic(issued.clientId, secret)));
  });

  it('24: a public client (token_endpoint_auth_method none) that sends a secret → 401 invalid_client, code not burned', async () => {
    const issued = await issueCode();
    const { client_id: _id, ...form } = codeForm(issued);
    expectOAuthError(await tokenRequest(ORIGIN, FETCHERS, { ...codeForm(issued), client_secret: 'made-up' }), 401, 'invalid_client');
    expectOAuthError(await tokenRequest(ORIGIN, FETCHERS, form, basic(issued.clientId, 'made-up')), 401, 'invalid_client');
    await expectCodeUnused(issued.code);
    expectTokens(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued)));
  });

  it('24: a client_secret_post client authenticates with client_secret in the body; a wrong one → 401 invalid_client; refresh needs the secret too', async () => {
    const issued = await issueCode({ token_endpoint_auth_method: 'client_secret_post' });
    const secret = issued.clientSecret ?? '';
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expectOAuthError(await tokenRequest(ORIGIN, FETCHERS, { ...codeForm(issued), client_secret: 'wrong' }), 401, 'invalid_client');
    await expectCodeUnused(issued.code);
    const tokens = expectTokens(await tokenRequest(ORIGIN, FETCHERS, { ...codeForm(issued), client_secret: secret }));
    expectOAuthError(await refresh(issued.clientId, tokens.refreshToken), 401, 'invalid_client');
    await expectGrantLive(tokens.refreshToken);
    expectTokens(await refresh(issued.clientId, tokens.refreshToken, { client_secret: secret }));
  });

  it('25: GET /token → 405 with Allow: POST and an OAuth error body', async () => {
    const response = await call('/token', { method: 'GET' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it.each([
    ['application/json', (f: Form) => JSON.stringify(f)],
    ['text/plain', (f: Form) => new URLSearchParams(f).toString()],
    ['multipart/form-data; boundary=x', (f: Form) => Object.entries(f).map(([k, v]) => `--x\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') + '--x--\r\n'],
  ])('25: a token request whose body is %s (not a form) → 400 invalid_request, code not burned', async (type, encode) => {
    const issued = await issueCode();
    expectOAuthError(await postToken(encode(codeForm(issued)), { 'content-type': type }), 400, 'invalid_request');
    await expectCodeUnused(issued.code);
    expectTokens(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued)));
  });

  it.each([
    ['password', { username: 'alice', password: 'x' }],
    // client_credentials is supported for admin-registered machine clients; an open-registration
    // client asking for it gets unauthorized_client (test/integration/client-credentials.test.ts).
    ['implicit', {}],
    ['urn:ietf:params:oauth:grant-type:device_code', { device_code: 'x' }],
  ])('25: grant_type=%s → 400 unsupported_grant_type, nothing issued', async (grantType, extra) => {
    const client = await registerClient(ORIGIN, FETCHERS);
    const before = await txnCount();
    expectOAuthError(await tokenRequest(ORIGIN, FETCHERS, { grant_type: grantType, client_id: client.clientId, ...extra }), 400, 'unsupported_grant_type');
    expect(await txnCount()).toBe(before);
  });

  it('25: a missing or repeated grant_type → 400 invalid_request, code not burned', async () => {
    const issued = await issueCode();
    const { grant_type: _g, ...withoutGrant } = codeForm(issued);
    expectOAuthError(await tokenRequest(ORIGIN, FETCHERS, withoutGrant), 400, 'invalid_request');
    const repeated = new URLSearchParams(codeForm(issued));
    repeated.append('grant_type', 'authorization_code');
    expectOAuthError(await postToken(repeated.toString()), 400, 'invalid_request');
    await expectCodeUnused(issued.code);
  });

  it('26: token (200), refresh (200) and registration (201 with client_secret) answers carry Cache-Control: no-store', async () => {
    const registration = await call('/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': `203.0.113.${Math.floor(Math.random() * 250)}` },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'] }),
    });
    expect(registration.status).toBe(201);
    expect(registration.headers.get('cache-control')).toBe('no-store');
    expect(registration.headers.get('pragma')).toBe('no-cache');
    expect(await registration.json()).toMatchObject({ client_id: expect.any(String), client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });

    const issued = await issueCode();
    const exchanged = await tokenRequest(ORIGIN, FETCHERS, codeForm(issued));
    const tokens = expectTokens(exchanged); // asserts no-store
    expect(exchanged.headers.get('pragma')).toBe('no-cache');
    const refreshed = await refresh(issued.clientId, tokens.refreshToken);
    expectTokens(refreshed);
    expect(refreshed.headers.get('pragma')).toBe('no-cache');
  });

  it('26: token-endpoint and revocation error answers, and the revocation 200, carry Cache-Control: no-store too', async () => {
    const client = await registerClient(ORIGIN, FETCHERS);
    const replies: Array<[string, Reply]> = [
      ['invalid_grant', await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'authorization_code', code: 'nope', client_id: client.clientId })],
      ['invalid_client', await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'authorization_code', code: 'nope', client_id: 'nobody' })],
      ['unsupported_grant_type', await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'password', client_id: client.clientId })],
      ['invalid_request', await postToken('{}', { 'content-type': 'application/json' })],
    ];
    for (const [error, reply] of replies) {
      expect(reply.headers.get('cache-control'), error).toBe('no-store');
      expect(reply.body.error).toBe(error);
    }
    const revoked = await revoke(client.clientId, 'nonsense');
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('cache-control')).toBe('no-store');
  });

  it('27: codes, refresh tokens, access-token jti, grant ids, client ids, client secrets and session ids are distinct, ≥128-bit and uniformly random (sample of 20 each)', async () => {
    const client = await registerClient(ORIGIN, FETCHERS);
    const codes = await inBatches(20, 5, async () => {
      const { challenge } = await pkcePair();
      const back = await authorize(ORIGIN, FETCHERS, { clientId: client.clientId, redirectUri: client.redirectUri, challenge });
      return back.searchParams.get('code') ?? '';
    });
    for (const code of codes) expect(code).toMatch(OPAQUE);

    const signed = await signIn(ORIGIN, FETCHERS);
    const refreshTokens = [signed.refreshToken];
    const accessTokens = [signed.accessToken];
    while (refreshTokens.length < 20) {
      const next = expectTokens(await refresh(signed.clientId, refreshTokens.at(-1) ?? ''));
      refreshTokens.push(next.refreshToken);
      accessTokens.push(next.accessToken);
    }
    // A grant's refresh tokens share its id (the part before the dot) and nothing else.
    expect(new Set(refreshTokens.map(txnIdOf))).toEqual(new Set([txnIdOf(signed.refreshToken)]));

    const confidential = await inBatches(20, 10, () => registerClient(ORIGIN, FETCHERS, { token_endpoint_auth_method: 'client_secret_basic' }));
    const sessionIds = await inBatches(20, 10, async () => (await openSessionAs(signed.accessToken)).sessionId);

    const samples: Record<string, string[]> = {
      'code secret': codes.map((c) => c.split('.')[1] ?? ''),
      'grant id (code prefix)': codes.map(txnIdOf),
      'refresh token secret': refreshTokens.map((t) => t.split('.')[1] ?? ''),
      'access token jti': accessTokens.map((t) => String(decodeJwt(t).jti)),
      'client id': confidential.map((c) => c.clientId),
      'client secret': confidential.map((c) => c.clientSecret ?? ''),
      'session id': sessionIds,
    };
    for (const [kind, sample] of Object.entries(samples)) expectRandom(kind, sample);
    const all = Object.values(samples).flat();
    expect(new Set(all).size).toBe(all.length); // no value reused across kinds
  });
});

// ================================================================ Refresh tokens

describe('Refresh tokens (checklist 28–31)', SLOW, () => {
  it('28: each refresh returns a new refresh token (same grant id, new secret) and a new access token', async () => {
    const signed = await signIn(ORIGIN, FETCHERS);
    const seen = new Set([signed.refreshToken]);
    const jtis = new Set([decodeJwt(signed.accessToken).jti]);
    let current = signed.refreshToken;
    for (let i = 0; i < 3; i++) {
      const next = expectTokens(await refresh(signed.clientId, current));
      expect(seen.has(next.refreshToken)).toBe(false);
      expect(txnIdOf(next.refreshToken)).toBe(txnIdOf(signed.refreshToken));
      seen.add(next.refreshToken);
      jtis.add(decodeJwt(next.accessToken).jti);
      current = next.refreshToken;
    }
    expect(jtis.size).toBe(4);
    const grant = await grantOf(current);
    expect(grant.txn?.phase).toBe('granted');
    expect(grant.refreshTokens.map((t) => t.status)).toEqual(['rotated', 'rotated', 'rotated', 'active']);
  });

  it('28: replaying a rotated refresh token → invalid_grant and the whole grant is revoked: the newest refresh token fails and its access token gets 401 at /mcp', async () => {
    const signed = await signIn(ORIGIN, FETCHERS);
    const second = expectTokens(await refresh(signed.clientId, signed.refreshToken));
    const newest = expectTokens(await refresh(signed.clientId, second.refreshToken));
    const session = await openSessionAs(newest.accessToken);
    await expectServed(await ping(session.headers));

    expectOAuthError(await refresh(signed.clientId, signed.refreshToken), 400, 'invalid_grant');

    await expectGrantRevoked(signed.refreshToken, 'refresh token reused');
    expect((await grantOf(signed.refreshToken)).refreshTokens).toHaveLength(3); // the replay minted nothing
    expectOAuthError(await refresh(signed.clientId, newest.refreshToken), 400, 'invalid_grant');
    await expectInvalidToken(await ping(session.headers));
    await expectInvalidToken(await post(INITIALIZE, bearer(newest.accessToken)));
    await expectInvalidToken(await post(INITIALIZE, bearer(signed.accessToken)));
  });

  it('29: a refresh asking for more scope than granted → invalid_scope, and the refresh token is not consumed', async () => {
    const signed = await signIn(ORIGIN, FETCHERS, { scope: 'support:read' });
    expect(signed.scope).toBe('support:read');
    for (const scope of ['support:read sql:read', 'sql:read', 'support:read admin']) {
      const reply = await refresh(signed.clientId, signed.refreshToken, { scope });
      expectOAuthError(reply, 400, 'invalid_scope');
    }
    const grant = await grantOf(signed.refreshToken);
    expect(grant.txn).toMatchObject({ phase: 'granted', scope: 'support:read' });
    expect(grant.refreshTokens.map((t) => t.status)).toEqual(['active']);
    const after = expectTokens(await refresh(signed.clientId, signed.refreshToken));
    expect(after.scope).toBe('support:read');
    expect(decodeJwt(after.accessToken).scope).toBe('support:read');
  });

  it('29: a refresh asking for a narrower scope → 200 with the narrower scope in the answer and in the access token', async () => {
    const signed = await signIn(ORIGIN, FETCHERS, { scope: 'support:read sql:read' });
    expect(decodeJwt(signed.accessToken).scope).toBe('support:read sql:read');
    const narrower = expectTokens(await refresh(signed.clientId, signed.refreshToken, { scope: 'support:read' }));
    expect(narrower.scope).toBe('support:read');
    expect(decodeJwt(narrower.accessToken)).toMatchObject({ scope: 'support:read', client_id: signed.clientId, aud: RESOURCE });
    // The narrower token really is narrower at /mcp.
    const session = await openSessionAs(narrower.accessToken);
    const refused = await post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'sql_select', arguments: { sql: 'SELECT 1' } } }, session.headers);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    await refused.text();
  });

  it("30: client B presenting client A's refresh token → invalid_grant; A's grant is untouched", async () => {
    const signed = await signIn(ORIGIN, FETCHERS);
    const thief = await registerClient(ORIGIN, FETCHERS);
    expectOAuthError(await refresh(thief.clientId, signed.refreshToken), 400, 'invalid_grant');
    await expectGrantLive(signed.refreshToken);
    expect((await grantOf(signed.refreshToken)).refreshTokens).toHaveLength(1);
    expectTokens(await refresh(signed.clientId, signed.refreshToken));
  });

  it('30: a refresh with a resource outside the grant → invalid_target, and the refresh token is not consumed', async () => {
    const signed = await signIn(ORIGIN, FETCHERS);
    for (const resource of ['http://localhost:8787/other', 'http://localhost:8787/mcp/', 'https://evil.example/mcp', 'http://localhost:8787']) {
      expectOAuthError(await refresh(signed.clientId, signed.refreshToken, { resource }), 400, 'invalid_target');
    }
    expect((await grantOf(signed.refreshToken)).refreshTokens.map((t) => t.status)).toEqual(['active']);
    const ok = expectTokens(await refresh(signed.clientId, signed.refreshToken, { resource: RESOURCE }));
    expect(decodeJwt(ok.accessToken).aud).toBe(RESOURCE);
  });

  it.each([2, 5])('31: the same refresh token sent by %i concurrent requests → at most one 200, and afterwards at most one token family works', async (n) => {
    const signed = await signIn(ORIGIN, FETCHERS);
    const replies = await Promise.all(Array.from({ length: n }, () => refresh(signed.clientId, signed.refreshToken)));
    const ok = replies.filter((r) => r.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const reply of replies.filter((r) => r.status !== 200)) expectOAuthError(reply, 400, 'invalid_grant');
    let working = 0;
    for (const reply of ok) {
      const next = await refresh(signed.clientId, expectTokens(reply).refreshToken);
      if (next.status === 200) working++;
      else expectOAuthError(next, 400, 'invalid_grant');
    }
    expectOAuthError(await refresh(signed.clientId, signed.refreshToken), 400, 'invalid_grant');
    expect(working).toBeLessThanOrEqual(1);
    const grant = await grantOf(signed.refreshToken);
    expect(grant.refreshTokens.filter((t) => t.status === 'active').length).toBeLessThanOrEqual(1);
  });
});

// ================================================================ Revocation

describe('Revocation (checklist 32–34)', SLOW, () => {
  let victim: Promise<SignedIn> | undefined;
  /** One live grant that the garbage revocations below must leave alone. */
  const bystander = (): Promise<SignedIn> => (victim ??= signIn(ORIGIN, FETCHERS));

  /** A JWT shaped like ours (same claims and kid, naming a real grant) but signed with another key. */
  async function forgedAccessToken(real: string): Promise<string> {
    const { privateKey } = await generateKeyPair('ES256');
    const header = decodeProtectedHeader(real);
    return new SignJWT({ ...decodeJwt(real), jti: 'forged-forged-forged' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...(header.kid ? { kid: header.kid } : {}) }).sign(privateKey);
  }

  const garbage: Array<[string, (s: SignedIn) => Promise<string>]> = [
    ['a random word', async () => 'garbage'],
    ['a JWT-shaped string', async () => 'aaaa.bbbb.cccc'],
    ['an opaque token of no grant', async () => `${'A'.repeat(43)}.${'B'.repeat(43)}`],
    ["a real grant's id with a wrong secret", async (s) => `${txnIdOf(s.refreshToken)}.${'C'.repeat(43)}`],
    ["a JWT naming a real grant but signed with another key", (s) => forgedAccessToken(s.accessToken)],
  ];

  it.each(garbage)('32: revoking an unknown or garbage token (%s) → 200 with an empty body, and nothing is revoked', async (_label, make) => {
    const live = await bystander();
    const response = await revoke(live.clientId, await make(live));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('');
    await expectGrantLive(live.refreshToken);
  });

  it('32: a made-up grant id (opaque token of no grant) at /revoke or /token creates no transaction Durable Object', async () => {
    const live = await bystander();
    const madeUp = () => `${base64url(crypto.getRandomValues(new Uint8Array(32)))}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
    const before = await txnCount();
    const revoked = await revoke(live.clientId, madeUp());
    expect(revoked.status).toBe(200);
    await revoked.text();
    expectOAuthError(await refresh(live.clientId, madeUp()), 400, 'invalid_grant');
    expectOAuthError(await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'authorization_code', code: madeUp(), redirect_uri: live.redirectUri, code_verifier: 'v'.repeat(43), client_id: live.clientId }), 400, 'invalid_grant');
    expect(await txnCount()).toBe(before);
  });

  it.each([
    ['a refresh token sent with token_type_hint=access_token', 'refresh', 'access_token'],
    ['an access token sent with token_type_hint=refresh_token', 'access', 'refresh_token'],
    ['a refresh token with an unknown hint', 'refresh', 'id_token'],
  ] as const)('32: a wrong token_type_hint still revokes (%s)', async (_label, which, hint) => {
    const signed = await signIn(ORIGIN, FETCHERS);
    const session = await openSessionAs(signed.accessToken);
    const response = await revoke(signed.clientId, which === 'refresh' ? signed.refreshToken : signed.accessToken, hint);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    await expectGrantRevoked(signed.refreshToken, 'revoked by the client');
    expectOAuthError(await refresh(signed.clientId, signed.refreshToken), 400, 'invalid_grant');
    await expectInvalidToken(await ping(session.headers));
  });

  it.each([
    ['refresh token', (s: SignedIn) => s.refreshToken],
    ['access token', (s: SignedIn) => s.accessToken],
  ])("33: client B revoking client A's %s → 200 but nothing is revoked (A still refreshes and is served at /mcp)", async (_label, pick) => {
    const signed = await signIn(ORIGIN, FETCHERS);
    const session = await openSessionAs(signed.accessToken);
    const other = await registerClient(ORIGIN, FETCHERS);
    const response = await revoke(other.clientId, pick(signed));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    await expectGrantLive(signed.refreshToken);
    await expectServed(await ping(session.headers));
    expectTokens(await refresh(signed.clientId, signed.refreshToken));
  });

  it("34: revoking a refresh token ends the grant's access tokens: 401 on an existing session and on a new initialize", async () => {
    const signed = await signIn(ORIGIN, FETCHERS);
    const session = await openSessionAs(signed.accessToken);
    await expectServed(await ping(session.headers));
    expect((await grantOf(signed.refreshToken)).sessions).toEqual([session.sessionId]);

    const response = await revoke(signed.clientId, signed.refreshToken, 'refresh_token');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    await expectGrantRevoked(signed.refreshToken, 'revoked by the client');

    await expectInvalidToken(await ping(session.headers));
    await expectInvalidToken(await post(INITIALIZE, bearer(signed.accessToken)));
    expectOAuthError(await refresh(signed.clientId, signed.refreshToken), 400, 'invalid_grant');
  });

  it('34: an initialize refused because the grant was revoked stores no session', async () => {
    const signed = await signIn(ORIGIN, FETCHERS);
    expect((await revoke(signed.clientId, signed.refreshToken)).status).toBe(200);
    const before = new Set((await listDurableObjectIds(env.MCP_SESSION)).map((id) => id.toString()));
    await expectInvalidToken(await post(INITIALIZE, bearer(signed.accessToken)));
    // The object the refused initialize reached (the emulator lists every object reached) holds nothing.
    const reached = (await listDurableObjectIds(env.MCP_SESSION)).filter((id) => !before.has(id.toString()));
    expect(reached.length).toBeLessThanOrEqual(1);
    for (const id of reached) {
      const state = await runInDurableObject(env.MCP_SESSION.get(id), (instance: McpSession) => instance.inspect());
      expect(state).toEqual({ meta: null, events: 0, live: false, served: 0 });
    }
  });
});
