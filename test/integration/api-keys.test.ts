// API keys at /mcp and the admin API (security checklist 52, issue 4): scopes, revocation, expiry, rotation, exact rate buckets, accountability.
import { evictDurableObject, listDurableObjectIds, runInDurableObject, SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../durable/api-key.ts';
import type { KeyRecord } from '../../src/contracts/api-key.ts';
import type { McpSession } from '../../durable/session.ts';
import { base64url, sha256Base64url } from '../../src/auth/encoding.ts';
import { idKey, mintId } from '../../src/auth/ids.ts';
import { signIn } from '../support/oauth-flow.ts';
import { call, FETCHERS, INITIALIZE, MCP_HEADERS, messages, openSession, ORIGIN, post } from '../support/mcp-http.ts';
import { bearer, expectBearerRefusal } from '../support/gate-assertions.ts';

const RESOURCE_METADATA = `${ORIGIN}/.well-known/oauth-protected-resource/mcp`;
const LONG = 86_400;
const PROTOCOL = { 'mcp-protocol-version': '2025-11-25' } as const;

// ---------- the admin API ----------

/** A created key as POST /admin/keys answers it. */
interface CreatedKey {
  key: string;
  key_id: string;
  agent_id: string;
  agent_name: string;
  owner: string;
  scopes: string[];
  status: 'active' | 'revoked';
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  rate_limit: { requests: number; per_seconds: number };
  tool_limits: Record<string, { requests: number; per_seconds: number }>;
}

/** A request to /admin with the bootstrap credential (unless `authorization` is given; '' sends none). */
function admin(path: string, init: { method?: string; body?: unknown; authorization?: string; contentType?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const authorization = init.authorization ?? `Bearer ${env.ADMIN_SECRET}`;
  if (authorization !== '') headers.authorization = authorization;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
}

/** Creates a key through the admin API (defaults: both scopes, 1000 requests a day). */
async function createKey(body: Record<string, unknown> = {}): Promise<CreatedKey> {
  const response = await SELF.fetch('http://localhost:8787/admin/keys', {
    method: 'POST',
    headers: { authorization: `Bearer ${env.ADMIN_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'Nightly Reporter', owner: 'user-alice', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1000, per_seconds: LONG }, ...body }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as CreatedKey;
}

async function listedKeys(): Promise<Array<Record<string, unknown>>> {
  const response = await admin('/admin/keys');
  expect(response.status).toBe(200);
  return ((await response.json()) as { keys: Array<Record<string, unknown>> }).keys;
}

async function shownKey(keyId: string): Promise<Record<string, unknown>> {
  const response = await admin(`/admin/keys/${keyId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** An admin refusal: JSON {error, error_description}, never cached. Returns the description. */
async function expectAdminError(response: Response, status: number, error: string): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toEqual({ error, error_description: expect.any(String) });
  return String(body.error_description);
}

// ---------- the key's Durable Object ----------

function keyStub(keyId: string) {
  return env.API_KEY.get(env.API_KEY.idFromName(keyId));
}

/** What the key's object has stored: its record, its secrets' hashes and its buckets. */
function keyStore(keyId: string) {
  return runInDurableObject(keyStub(keyId), (_instance: ApiKey, state) => ({
    record: JSON.parse(state.storage.sql.exec<{ state: string }>('SELECT state FROM key WHERE id = 1').one().state) as KeyRecord,
    secrets: state.storage.sql.exec<{ hash: string; created_at: number; retires_at: number | null }>('SELECT hash, created_at, retires_at FROM secrets ORDER BY created_at').toArray(),
    buckets: state.storage.sql.exec<{ name: string; tokens: number; updated_at: number }>('SELECT name, tokens, updated_at FROM buckets ORDER BY name').toArray(),
  }));
}

/** Rewrites the key's stored record (to move its expiry, say). */
function patchKey(keyId: string, patch: Partial<KeyRecord>) {
  return runInDurableObject(keyStub(keyId), (instance: ApiKey, state) => {
    const record = JSON.parse(state.storage.sql.exec<{ state: string }>('SELECT state FROM key WHERE id = 1').one().state) as KeyRecord;
    state.storage.sql.exec('UPDATE key SET state = ? WHERE id = 1', JSON.stringify({ ...record, ...patch }));
    // The object keeps its record in memory (it is the only writer); an edit behind its back needs this.
    instance.reload();
  });
}

/** Empties the key's buckets: the next request finds them full. */
function refill(keyId: string) {
  return runInDurableObject(keyStub(keyId), (instance: ApiKey, state) => {
    state.storage.sql.exec('DELETE FROM buckets');
    instance.reload();
  });
}

async function keyObjectIds(): Promise<string[]> {
  return (await listDurableObjectIds(env.API_KEY)).map((id) => id.toString());
}

/** A key in the right format whose key id the server never minted. */
function madeUpKey(): string {
  return `mcpk_${base64url(crypto.getRandomValues(new Uint8Array(32)))}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

function secretOf(key: string): string {
  return key.slice(key.indexOf('.') + 1);
}

// ---------- /mcp with a key ----------

async function sessionCount(): Promise<number> {
  return (await listDurableObjectIds(env.MCP_SESSION)).length;
}

function sessionView(sessionId: string) {
  return runInDurableObject(env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId)), (instance: McpSession) => instance.inspect());
}

/** The status of a response, its body read to the end. */
async function status(response: Promise<Response>): Promise<number> {
  const r = await response;
  await r.text();
  return r.status;
}

/** Opens a session with a key; returns its id and the headers later requests need. */
async function openKeySession(key: string): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const response = await post(INITIALIZE, bearer(key));
  expect(response.status).toBe(200);
  const sessionId = response.headers.get('mcp-session-id') ?? '';
  expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await response.text();
  const headers = { ...bearer(key), 'mcp-session-id': sessionId, ...PROTOCOL };
  expect(await status(post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers))).toBe(202);
  return { sessionId, headers };
}

function ping(headers: Record<string, string>, id: number | string = 'p'): Promise<Response> {
  return post({ jsonrpc: '2.0', id, method: 'ping' }, headers);
}

function toolCall(headers: Record<string, string>, name: string, args: Record<string, unknown>, id: number | string = 't'): Promise<Response> {
  return post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, headers);
}

/** 401 invalid_token for a key. */
async function expectKeyRefused(response: Response): Promise<void> {
  const params = await expectBearerRefusal(response, 401, 'invalid_token');
  expect(params).toMatchObject({ error: 'invalid_token', scope: 'support:read sql:read' });
}

/** A `"name";r=…;t=…` or `"name";q=…;w=…` header as its parts. */
function rateHeader(value: string | null): { name: string } & Record<string, number | string> {
  const match = /^"([^"]+)"((?:;[a-z]+=\d+)+)$/.exec(value ?? '');
  expect(match, `rate header ${value}`).not.toBeNull();
  const out: { name: string } & Record<string, number | string> = { name: match?.[1] ?? '' };
  for (const part of (match?.[2] ?? '').split(';').filter((p) => p !== '')) {
    const [k, v] = part.split('=');
    out[k as string] = Number(v);
  }
  return out;
}

/** A 429 from the key's buckets: headers and the JSON-RPC error naming the limit. Returns Retry-After in seconds. */
async function expectRateLimited(response: Response, limit: string, policy: { q: number; w: number }): Promise<number> {
  expect(response.status).toBe(429);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('mcp-session-id')).toBeNull();
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(Math.ceil(policy.w / policy.q));
  expect(rateHeader(response.headers.get('ratelimit-policy'))).toEqual({ name: limit, ...policy });
  const rate = rateHeader(response.headers.get('ratelimit'));
  expect(rate).toMatchObject({ name: limit, r: 0 });
  expect(rate.t).toBeGreaterThanOrEqual(1);
  expect(rate.t).toBeLessThanOrEqual(policy.w);
  expect(await response.json()).toEqual({
    jsonrpc: '2.0',
    id: null,
    error: { code: -32029, message: `Too many requests: the ${limit} rate limit is exhausted`, data: { reason: 'rate_limited', limit, retry_after: retryAfter } },
  });
  return retryAfter;
}

function remaining(response: Response): number {
  const rate = rateHeader(response.headers.get('ratelimit'));
  expect(rate.name).toBe('key');
  return Number(rate.r);
}

/** Counts statuses (and drains bodies). */
async function tally(responses: Response[]): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const r of responses) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    await r.text();
  }
  return counts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------- checklist 52 ----------

describe('52: API keys at /mcp', () => {
  it('52: a key without the tool\'s scope → 403 insufficient_scope (scope="sql:read", resource_metadata); the bucket is not charged and the tool never runs', async () => {
    const created = await createKey({ scopes: ['support:read'], rate_limit: { requests: 10, per_seconds: LONG } });
    const { sessionId, headers } = await openKeySession(created.key);
    const charged = await keyStore(created.key_id);
    const before = await sessionView(sessionId);

    for (let i = 0; i < 3; i++) {
      const response = await toolCall(headers, 'sql_select', { sql: 'SELECT 1' }, i);
      const params = await expectBearerRefusal(response, 403, 'insufficient_scope');
      expect(params).toEqual({ error: 'insufficient_scope', scope: 'sql:read', resource_metadata: RESOURCE_METADATA, error_description: 'the tool sql_select needs the scope sql:read' });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope", resource_metadata="[^"]+", scope="sql:read"/);
      expect(response.headers.get('retry-after')).toBeNull();
    }
    // Nothing reached the session (no event, last-seen unchanged) and no token was taken.
    expect(await sessionView(sessionId)).toEqual(before);
    expect((await keyStore(created.key_id)).buckets).toEqual(charged.buckets);

    // The next allowed request sees the two tokens the handshake took, and no more.
    const allowed = await toolCall(headers, 'get_customer', { customer_id: 1 }, 9);
    expect(allowed.status).toBe(200);
    expect(remaining(allowed)).toBe(7);
    expect(rateHeader(allowed.headers.get('ratelimit-policy'))).toEqual({ name: 'key', q: 10, w: LONG });
    expect((await messages(allowed))[0]).toMatchObject({ id: 9, result: { structuredContent: { id: 1 } } });
    expect((await sessionView(sessionId)).served).toBe(before.served + 1);
  });

  it('52: a revoked key → 401 invalid_token on the next request, in its open session and at initialize', async () => {
    const created = await createKey();
    const { sessionId, headers } = await openKeySession(created.key);
    expect(await status(ping(headers))).toBe(200);

    const revoked = await admin(`/admin/keys/${created.key_id}/revoke`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    const before = await sessionView(sessionId);
    const sessionsBefore = await sessionCount();

    await expectKeyRefused(await ping(headers));
    await expectKeyRefused(await toolCall(headers, 'get_customer', { customer_id: 1 }));
    await expectKeyRefused(await post(INITIALIZE, bearer(created.key)));
    expect(await sessionView(sessionId)).toEqual(before);
    expect(await sessionCount()).toBe(sessionsBefore);
  });

  it('52: an expired key → 401 invalid_token, in its open session and at initialize', async () => {
    const created = await createKey({ expires_in: 60 });
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(60_000);
    const { sessionId, headers } = await openKeySession(created.key);
    expect(await status(ping(headers))).toBe(200);

    await patchKey(created.key_id, { expiresAt: Date.now() - 1 });
    const before = await sessionView(sessionId);
    const sessionsBefore = await sessionCount();
    const bucketsBefore = (await keyStore(created.key_id)).buckets;

    await expectKeyRefused(await ping(headers));
    await expectKeyRefused(await post(INITIALIZE, bearer(created.key)));
    expect(await sessionView(sessionId)).toEqual(before);
    expect(await sessionCount()).toBe(sessionsBefore);
    expect((await keyStore(created.key_id)).buckets).toEqual(bucketsBefore);
  });

  it.each([
    ['?api_key=', 'api_key'],
    ['?access_token=', 'access_token'],
  ])('52: a key in the query string (%s) with no Authorization header → 401, no session, the key untouched', async (_what, param) => {
    const created = await createKey();
    const sessionsBefore = await sessionCount();
    const response = await call(`/mcp?${param}=${encodeURIComponent(created.key)}`, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INITIALIZE) });
    const params = await expectBearerRefusal(response, 401, 'unauthorized');
    expect(params).not.toHaveProperty('error');
    expect(await sessionCount()).toBe(sessionsBefore);
    const stored = await keyStore(created.key_id);
    expect(stored.record.lastUsedAt).toBeNull();
    expect(stored.buckets).toEqual([]);
  });

  it('52: after rotation the old key works inside its overlap window and gets 401 once the window has passed', async () => {
    const created = await createKey();
    const old = await openKeySession(created.key);
    const start = Date.now();
    const rotated = await admin(`/admin/keys/${created.key_id}/rotate`, { body: { overlap_seconds: 600 } });
    expect(rotated.status).toBe(200);
    const body = (await rotated.json()) as { key: string; key_id: string; previous_retires_at: string };
    expect(body.key_id).toBe(created.key_id);
    expect(body.key).toMatch(new RegExp(`^mcpk_${created.key_id}\\.[A-Za-z0-9_-]{43}$`));
    expect(body.key).not.toBe(created.key);
    expect(Date.parse(body.previous_retires_at) - start).toBeGreaterThanOrEqual(600_000 - 1000);
    expect(Date.parse(body.previous_retires_at) - start).toBeLessThanOrEqual(600_000 + 5000);
    const shown = (await shownKey(created.key_id)) as { secrets: Array<{ created_at: string; retires_at: string | null }> };
    expect(shown.secrets).toEqual([
      { created_at: created.created_at, retires_at: body.previous_retires_at },
      { created_at: expect.any(String), retires_at: null },
    ]);

    // Inside the window: both secrets work, and the old session goes on with either (same principal).
    expect(await status(ping(old.headers))).toBe(200);
    expect(await status(ping({ ...old.headers, ...bearer(body.key) }))).toBe(200);
    expect(await status(post(INITIALIZE, bearer(created.key)))).toBe(200);

    // The window passes.
    await runInDurableObject(keyStub(created.key_id), (instance: ApiKey, state) => {
      state.storage.sql.exec('UPDATE secrets SET retires_at = ? WHERE retires_at IS NOT NULL', Date.now() - 1);
      instance.reload();
    });
    await expectKeyRefused(await ping(old.headers));
    await expectKeyRefused(await post(INITIALIZE, bearer(created.key)));
    expect(await status(ping({ ...old.headers, ...bearer(body.key) }))).toBe(200);
  });

  it('52: rotation with overlap_seconds 0 retires the old key at once (401) and keeps only the successor', async () => {
    const created = await createKey();
    const rotated = await admin(`/admin/keys/${created.key_id}/rotate`, { body: { overlap_seconds: 0 } });
    expect(rotated.status).toBe(200);
    const successor = ((await rotated.json()) as { key: string }).key;
    await expectKeyRefused(await post(INITIALIZE, bearer(created.key)));
    expect(await status(post(INITIALIZE, bearer(successor)))).toBe(200);
    const stored = await keyStore(created.key_id);
    expect(stored.secrets).toEqual([{ hash: await sha256Base64url(secretOf(successor)), created_at: expect.any(Number), retires_at: null }]);
  });

  it('52: over the key\'s limit → 429 with Retry-After, RateLimit and RateLimit-Policy, and the JSON-RPC error names the limit "key"', async () => {
    const created = await createKey({ rate_limit: { requests: 3, per_seconds: 60 } });
    const sessionsBefore = await sessionCount();
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await post(INITIALIZE, bearer(created.key));
      expect(response.status).toBe(200);
      expect(rateHeader(response.headers.get('ratelimit-policy'))).toEqual({ name: 'key', q: 3, w: 60 });
      seen.push(remaining(response));
      await response.text();
    }
    expect(seen).toEqual([2, 1, 0]);
    const refused = await post(INITIALIZE, bearer(created.key));
    const retryAfter = await expectRateLimited(refused, 'key', { q: 3, w: 60 });
    expect(retryAfter).toBeGreaterThanOrEqual(19);
    expect(await sessionCount()).toBe(sessionsBefore + 3);
  });

  it('52: over a per-tool limit → 429 naming "tool:sql_select"; other tools still run and the key\'s bucket is not charged for the refusal', async () => {
    const created = await createKey({ rate_limit: { requests: 10, per_seconds: LONG }, tool_limits: { sql_select: { requests: 1, per_seconds: 60 } } });
    expect(created.tool_limits).toEqual({ sql_select: { requests: 1, per_seconds: 60 } });
    const { sessionId, headers } = await openKeySession(created.key);
    const first = await toolCall(headers, 'sql_select', { sql: 'SELECT 1 AS one' }, 1);
    expect(first.status).toBe(200);
    expect(remaining(first)).toBe(7);
    expect((await messages(first))[0]).toMatchObject({ id: 1, result: { structuredContent: { rows: [{ one: 1 }] } } });
    const before = await sessionView(sessionId);

    await expectRateLimited(await toolCall(headers, 'sql_select', { sql: 'SELECT 2' }, 2), 'tool:sql_select', { q: 1, w: 60 });
    expect(await sessionView(sessionId)).toEqual(before);
    const stored = await keyStore(created.key_id);
    expect(stored.buckets.map((b) => b.name)).toEqual(['key', 'tool:sql_select']);

    const other = await toolCall(headers, 'get_customer', { customer_id: 2 }, 3);
    expect(other.status).toBe(200);
    expect(remaining(other)).toBe(6);
    expect((await messages(other))[0]).toMatchObject({ id: 3, result: { structuredContent: { id: 2 } } });
  });

  it('a browser client can read Retry-After and the RateLimit headers of a 429 (CORS exposes them)', async () => {
    const created = await createKey({ rate_limit: { requests: 1, per_seconds: 60 } });
    const origin = { origin: 'http://localhost:3000' };
    expect(await status(post(INITIALIZE, { ...bearer(created.key), ...origin }))).toBe(200);
    const refused = await post(INITIALIZE, { ...bearer(created.key), ...origin });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    await refused.text();
    const exposed = (refused.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(['retry-after', 'ratelimit', 'ratelimit-policy']));
  });

  it('a tools/call naming an inherited property of a plain object ("constructor") is not rate-limited by a phantom tool bucket', async () => {
    const created = await createKey();
    const { headers } = await openKeySession(created.key);
    const response = await toolCall(headers, 'constructor', {}, 4);
    expect(response.headers.get('retry-after')).not.toBe('NaN');
    expect(response.status).toBe(200);
    expect((await messages(response))[0]).toMatchObject({ id: 4 });
  });
});

// ---------- exactness ----------

describe('rate buckets across a restart of the key object (issue 14: the reserve written ahead)', () => {
  it('storage holds at most the reserve fewer tokens than the object counted, never more; a restarted object refuses early, never admits too many', async () => {
    // A bucket of 100 over a day: the reserve is 10 tokens, and the bucket does not refill in the test's time.
    const created = await createKey({ rate_limit: { requests: 100, per_seconds: LONG } });
    const { headers } = await openKeySession(created.key);
    const counted: number[] = [];
    for (let i = 0; i < 5; i++) counted.push(remaining(await ping(headers, `r${i}`)));
    const left = counted.at(-1)!;
    expect(counted).toEqual([left + 4, left + 3, left + 2, left + 1, left]);
    const stored = (await keyStore(created.key_id)).buckets[0]!;
    // Written ahead (a take with a reserve) or settled exactly (the object was quiet for a second): never above what is left.
    expect(stored.tokens).toBeLessThanOrEqual(left + 1e-6);
    expect(stored.tokens).toBeGreaterThanOrEqual(left - 10 - 1e-6);

    await evictDurableObject(keyStub(created.key_id));
    const after = remaining(await ping(headers, 'after'));
    expect(after).toBeLessThanOrEqual(left - 1);
    expect(after).toBeGreaterThanOrEqual(left - 1 - 10);
  });

  it('an object quiet for a second stores its buckets exactly: an eviction then loses nothing', async () => {
    const created = await createKey({ rate_limit: { requests: 100, per_seconds: LONG } });
    const { headers } = await openKeySession(created.key);
    const left = remaining(await ping(headers, 'q'));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const stored = (await keyStore(created.key_id)).buckets[0]!;
    expect(Math.floor(stored.tokens)).toBe(left);
    await evictDurableObject(keyStub(created.key_id));
    expect(remaining(await ping(headers, 'q2'))).toBe(left - 1);
  });
});

describe('rate buckets are exact under concurrency', () => {
  it.each([
    [5, 12],
    [10, 30],
  ])('a bucket of %i admits exactly that many of %i concurrent initialize requests, and the refused ones create no session', async (k, n) => {
    const created = await createKey({ rate_limit: { requests: k, per_seconds: LONG } });
    const sessionsBefore = await sessionCount();
    const responses = await Promise.all(Array.from({ length: n }, () => post(INITIALIZE, bearer(created.key))));
    const sessionIds = responses.filter((r) => r.status === 200).map((r) => r.headers.get('mcp-session-id'));
    const refusalRetry = responses.filter((r) => r.status === 429).map((r) => r.headers.get('retry-after'));
    expect(await tally(responses)).toEqual({ 200: k, 429: n - k });
    expect(new Set(sessionIds).size).toBe(k);
    expect(refusalRetry.every((v) => Number(v) >= 1)).toBe(true);
    expect(await sessionCount()).toBe(sessionsBefore + k);
    const stored = await keyStore(created.key_id);
    expect(stored.buckets).toHaveLength(1);
    expect(stored.buckets[0]?.tokens).toBeLessThan(1);
  });

  it.each([
    [5, 12],
    [10, 30],
  ])('a bucket of %i admits exactly that many of %i concurrent pings on an open session', async (k, n) => {
    const created = await createKey({ rate_limit: { requests: k, per_seconds: LONG } });
    const { headers } = await openKeySession(created.key);
    await refill(created.key_id);
    const responses = await Promise.all(Array.from({ length: n }, (_, i) => ping(headers, i)));
    const remainders = responses.filter((r) => r.status === 200).map((r) => remaining(r));
    expect(await tally(responses)).toEqual({ 200: k, 429: n - k });
    // Each admitted request saw a different remainder: k-1 … 0.
    expect(remainders.sort((a, b) => a - b)).toEqual(Array.from({ length: k }, (_, i) => i));
  });

  it('a per-tool bucket of 4 admits exactly 4 of 15 concurrent sql_select calls; the key\'s bucket is charged only for those 4', async () => {
    const created = await createKey({ rate_limit: { requests: 100, per_seconds: LONG }, tool_limits: { sql_select: { requests: 4, per_seconds: LONG } } });
    const { headers } = await openKeySession(created.key);
    const responses = await Promise.all(Array.from({ length: 15 }, (_, i) => toolCall(headers, 'sql_select', { sql: `SELECT ${i} AS n` }, i)));
    const limits: string[] = [];
    for (const r of responses.filter((x) => x.status === 429)) limits.push(((await r.clone().json()) as { error: { data: { limit: string } } }).error.data.limit);
    expect(await tally(responses)).toEqual({ 200: 4, 429: 11 });
    expect(new Set(limits)).toEqual(new Set(['tool:sql_select']));
    const next = await ping(headers);
    expect(next.status).toBe(200);
    expect(remaining(next)).toBe(100 - 2 - 4 - 1);
  });

  it('after the window the bucket admits again (2 per second: 2 admitted, 429, wait 1.1 s, 2 admitted)', async () => {
    const created = await createKey({ rate_limit: { requests: 2, per_seconds: 1 } });
    const first = await Promise.all([0, 1, 2].map(() => post(INITIALIZE, bearer(created.key))));
    const refused = first.find((r) => r.status === 429);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(await tally(first)).toEqual({ 200: 2, 429: 1 });
    await sleep(1100);
    const second = await Promise.all([0, 1, 2].map(() => post(INITIALIZE, bearer(created.key))));
    expect(await tally(second)).toEqual({ 200: 2, 429: 1 });
  });
});

// ---------- keys that are not keys ----------

describe('keys the server did not issue', () => {
  it.each([
    ['no secret', (k: CreatedKey) => `mcpk_${k.key_id}`],
    ['a short secret', (k: CreatedKey) => `mcpk_${k.key_id}.abc`],
    ['a secret one character too long', (k: CreatedKey) => `${k.key}A`],
    ['another prefix', (k: CreatedKey) => k.key.replace(/^mcpk_/, 'mcpx_')],
    ['an upper-case prefix', (k: CreatedKey) => k.key.replace(/^mcpk_/, 'MCPK_')],
    ['a short key id', (k: CreatedKey) => `mcpk_${k.key_id.slice(1)}.${secretOf(k.key)}`],
  ])('a key of the wrong shape (%s) → 401 invalid_token; the real key is untouched', async (_what, shape) => {
    const created = await createKey();
    const sessionsBefore = await sessionCount();
    await expectKeyRefused(await post(INITIALIZE, bearer(shape(created))));
    expect(await sessionCount()).toBe(sessionsBefore);
    const stored = await keyStore(created.key_id);
    expect(stored.record.lastUsedAt).toBeNull();
    expect(stored.buckets).toEqual([]);
  });

  it('a made-up key id → 401 invalid_token, refused by its tag before any Durable Object is reached', async () => {
    const idsBefore = await keyObjectIds();
    const sessionsBefore = await sessionCount();
    for (let i = 0; i < 3; i++) await expectKeyRefused(await post(INITIALIZE, bearer(madeUpKey())));
    expect(await keyObjectIds()).toEqual(idsBefore);
    expect(await sessionCount()).toBe(sessionsBefore);
  });

  it('control: a server-minted key id that was never created is refused by its object (401), and reaching an object does list it', async () => {
    const keyId = await mintId(await idKey(env.ID_SECRET), 'key', crypto.getRandomValues(new Uint8Array(16)));
    const idsBefore = await keyObjectIds();
    await expectKeyRefused(await post(INITIALIZE, bearer(`mcpk_${keyId}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`)));
    expect(await keyObjectIds()).toEqual(expect.arrayContaining([...idsBefore, env.API_KEY.idFromName(keyId).toString()]));
  });

  it('a key id minted for another kind (a session id) → 401 invalid_token, and no key object is reached', async () => {
    const sessionId = await mintId(await idKey(env.ID_SECRET), 'session', crypto.getRandomValues(new Uint8Array(16)));
    const idsBefore = await keyObjectIds();
    await expectKeyRefused(await post(INITIALIZE, bearer(`mcpk_${sessionId}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`)));
    expect(await keyObjectIds()).toEqual(idsBefore);
  });

  it('the right key id with a wrong secret → 401 invalid_token; nothing is taken or recorded', async () => {
    const created = await createKey();
    const wrong = `mcpk_${created.key_id}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
    const sessionsBefore = await sessionCount();
    for (let i = 0; i < 3; i++) await expectKeyRefused(await post(INITIALIZE, bearer(wrong)));
    expect(await sessionCount()).toBe(sessionsBefore);
    const stored = await keyStore(created.key_id);
    expect(stored.record.lastUsedAt).toBeNull();
    expect(stored.buckets).toEqual([]);
    expect(await status(post(INITIALIZE, bearer(created.key)))).toBe(200);
  });
});

// ---------- accountability ----------

describe('accountability', () => {
  it('a session opened with a key is bound to principal key:<key id> with the agent, the owner and the key id', async () => {
    const created = await createKey({ agent_name: 'Billing Bot', agent_id: 'billing-bot-7', owner: 'user-bob', scopes: ['support:read'] });
    expect(created).toMatchObject({ agent_id: 'billing-bot-7', agent_name: 'Billing Bot', owner: 'user-bob', scopes: ['support:read'] });
    const { sessionId } = await openKeySession(created.key);
    const view = await sessionView(sessionId);
    expect(view.meta?.principal).toEqual({
      kind: 'agent',
      id: `key:${created.key_id}`,
      keyId: created.key_id,
      agentId: 'billing-bot-7',
      agentName: 'Billing Bot',
      owner: 'user-bob',
      scopes: ['support:read'],
    });
  });

  it('an agent id defaults to a slug of the agent name', async () => {
    const created = await createKey({ agent_name: '  Nightly Reporter (EU) ' });
    expect(created.agent_name).toBe('Nightly Reporter (EU)');
    expect(created.agent_id).toBe('nightly-reporter-eu');
  });

  it('a user\'s OAuth token cannot use a session opened with a key (404), and the session is untouched', async () => {
    const created = await createKey();
    const { sessionId } = await openKeySession(created.key);
    const before = await sessionView(sessionId);
    // post() adds the shared user's access token.
    const response = await ping({ 'mcp-session-id': sessionId, ...PROTOCOL });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, data: { reason: 'session_not_found' } } });
    expect(await sessionView(sessionId)).toEqual(before);
  });

  it('a key cannot use a user\'s session (404), and the session is untouched', async () => {
    const created = await createKey();
    const { sessionId } = await openSession();
    const before = await sessionView(sessionId);
    expect(before.meta?.principal.kind).toBe('user');
    const response = await ping({ ...bearer(created.key), 'mcp-session-id': sessionId, ...PROTOCOL });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32001, data: { reason: 'session_not_found' } } });
    expect(await sessionView(sessionId)).toEqual(before);
  });

  it('one key cannot use another key\'s session (404)', async () => {
    const a = await createKey({ owner: 'user-alice' });
    const b = await createKey({ owner: 'user-alice' });
    const { sessionId } = await openKeySession(a.key);
    const response = await ping({ ...bearer(b.key), 'mcp-session-id': sessionId, ...PROTOCOL });
    expect(response.status).toBe(404);
    await response.text();
  });
});

// ---------- the admin API ----------

describe('the admin API', () => {
  it.each([
    ['no Authorization header', ''],
    ['a wrong secret', 'Bearer not-the-admin-secret-but-long-enough-000000'],
    ['the secret with a suffix', `Bearer ${env.ADMIN_SECRET}x`],
    ['the secret under Basic', `Basic ${env.ADMIN_SECRET}`],
  ])('%s → 401 with WWW-Authenticate Bearer realm="admin", and nothing is created', async (_what, authorization) => {
    const countBefore = (await listedKeys()).length;
    const idsBefore = await keyObjectIds();
    const response = await admin('/admin/keys', { authorization, body: { agent_name: 'Intruder', owner: 'user-mallory', scopes: ['sql:read'] } });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
    const description = await expectAdminError(response, 401, 'unauthorized');
    expect(description).toBe('a valid admin credential is required');
    expect((await listedKeys()).length).toBe(countBefore);
    expect(await keyObjectIds()).toEqual(idsBefore);

    for (const path of ['/admin/keys', '/admin/clients']) {
      const read = await admin(path, { authorization });
      expect(read.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
      await expectAdminError(read, 401, 'unauthorized');
    }
  });

  it.each([
    ['an unknown scope', { scopes: ['sql:write'] }, 'scopes.0'],
    ['a missing owner', { owner: undefined }, 'owner'],
    ['a negative rate', { rate_limit: { requests: -1, per_seconds: 60 } }, 'rate_limit.requests'],
    ['a zero window', { rate_limit: { requests: 5, per_seconds: 0 } }, 'rate_limit.per_seconds'],
    ['an expiry under a minute', { expires_in: 59 }, 'expires_in'],
    ['a bad tool limit', { tool_limits: { sql_select: { requests: 0, per_seconds: 60 } } }, 'tool_limits.sql_select.requests'],
    ['an unknown field', { color: 'blue' }, 'color'],
    ['no scopes', { scopes: [] }, 'scopes'],
    ['an agent id with spaces', { agent_id: 'two words' }, 'agent_id'],
  ])('POST /admin/keys with %s → 400 invalid_request naming the field; nothing is created', async (_what, patch, field) => {
    const countBefore = (await listedKeys()).length;
    const idsBefore = await keyObjectIds();
    const body = { agent_name: 'Reporter', owner: 'user-alice', scopes: ['support:read'], ...patch };
    const description = await expectAdminError(await admin('/admin/keys', { body }), 400, 'invalid_request');
    expect(description).toContain(field);
    expect((await listedKeys()).length).toBe(countBefore);
    expect(await keyObjectIds()).toEqual(idsBefore);
  });

  it.each([
    ['a body that is not JSON', '{"agent_name": ', 'application/json', 'the body is not JSON'],
    ['a form body', 'agent_name=x&owner=y', 'application/x-www-form-urlencoded', 'the body must be application/json'],
  ])('POST /admin/keys with %s → 400 invalid_request; nothing is created', async (_what, body, contentType, expected) => {
    const countBefore = (await listedKeys()).length;
    const idsBefore = await keyObjectIds();
    expect(await expectAdminError(await admin('/admin/keys', { body, contentType }), 400, 'invalid_request')).toBe(expected);
    expect((await listedKeys()).length).toBe(countBefore);
    expect(await keyObjectIds()).toEqual(idsBefore);
  });

  it('create answers 201 with the key once; list and show never contain the secret or its hash; the object stores only the hash', async () => {
    const before = Date.now();
    const created = await createKey({ agent_name: 'Auditor', scopes: ['sql:read', 'sql:read'], expires_in: 3600, rate_limit: { requests: 7, per_seconds: 70 } });
    expect(created.key).toMatch(/^mcpk_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(created.key.slice(5, 48)).toBe(created.key_id);
    expect(created).toEqual({
      key: created.key,
      key_id: created.key_id,
      agent_id: 'auditor',
      agent_name: 'Auditor',
      owner: 'user-alice',
      scopes: ['sql:read'],
      status: 'active',
      created_at: expect.any(String),
      expires_at: new Date(Date.parse(created.created_at) + 3_600_000).toISOString(),
      last_used_at: null,
      revoked_at: null,
      rate_limit: { requests: 7, per_seconds: 70 },
      tool_limits: {},
    });
    expect(Date.parse(created.created_at)).toBeGreaterThanOrEqual(before);

    const secret = secretOf(created.key);
    const hash = await sha256Base64url(secret);
    const listText = await (await admin('/admin/keys')).text();
    const showText = await (await admin(`/admin/keys/${created.key_id}`)).text();
    for (const text of [listText, showText]) {
      expect(text).toContain(created.key_id);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hash);
      expect(text).not.toContain(created.key);
    }
    const { key: _shownOnce, ...summary } = created;
    expect(JSON.parse(showText)).toEqual({ ...summary, secrets: [{ created_at: created.created_at, retires_at: null }] });
    expect((JSON.parse(listText) as { keys: unknown[] }).keys).toContainEqual(summary);

    const stored = await keyStore(created.key_id);
    expect(stored.secrets).toEqual([{ hash, created_at: Date.parse(created.created_at), retires_at: null }]);
    expect(JSON.stringify(stored.record)).not.toContain(secret);
  });

  it('last_used_at is set after the key is used (show)', async () => {
    const created = await createKey();
    expect((await shownKey(created.key_id)).last_used_at).toBeNull();
    const before = Date.now();
    expect(await status(post(INITIALIZE, bearer(created.key)))).toBe(200);
    const used = Date.parse(String((await shownKey(created.key_id)).last_used_at));
    expect(used).toBeGreaterThanOrEqual(before);
    expect(used).toBeLessThanOrEqual(Date.now());
  });

  it('last_used_at is set after the key is used (list)', async () => {
    const created = await createKey();
    expect(await status(post(INITIALIZE, bearer(created.key)))).toBe(200);
    const listed = (await listedKeys()).find((k) => k.key_id === created.key_id);
    expect(listed?.last_used_at).not.toBeNull();
  });

  it('revoke is idempotent: the second revoke answers the same summary with the first revoked_at', async () => {
    const created = await createKey();
    const first = await admin(`/admin/keys/${created.key_id}/revoke`, { method: 'POST' });
    expect(first.status).toBe(200);
    const one = (await first.json()) as Record<string, unknown>;
    expect(one).toMatchObject({ key_id: created.key_id, status: 'revoked', revoked_at: expect.any(String) });
    expect(one).not.toHaveProperty('key');
    const second = await admin(`/admin/keys/${created.key_id}/revoke`, { method: 'POST' });
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(one);
    expect((await listedKeys()).find((k) => k.key_id === created.key_id)).toEqual(one);
    expect(await shownKey(created.key_id)).toMatchObject(one);
  });

  it('rotate of a revoked key → 409 conflict, and no secret is added', async () => {
    const created = await createKey();
    expect((await admin(`/admin/keys/${created.key_id}/revoke`, { method: 'POST' })).status).toBe(200);
    const secretsBefore = (await keyStore(created.key_id)).secrets;
    expect(await expectAdminError(await admin(`/admin/keys/${created.key_id}/rotate`, { body: {} }), 409, 'conflict')).toBe('the key is revoked');
    expect((await keyStore(created.key_id)).secrets).toEqual(secretsBefore);
  });

  it('rotate refuses an overlap above 7 days and a negative one (400), and changes nothing', async () => {
    const created = await createKey();
    for (const overlap of [7 * 86_400 + 1, -1]) {
      expect(await expectAdminError(await admin(`/admin/keys/${created.key_id}/rotate`, { body: { overlap_seconds: overlap } }), 400, 'invalid_request')).toContain('overlap_seconds');
    }
    expect((await keyStore(created.key_id)).secrets).toHaveLength(1);
  });

  it('an unknown key id → 404 not_found for show, rotate and revoke (made-up and server-minted ids); a made-up id reaches no object', async () => {
    const madeUp = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const minted = await mintId(await idKey(env.ID_SECRET), 'key', crypto.getRandomValues(new Uint8Array(16)));
    const idsBefore = await keyObjectIds();
    for (const id of [madeUp, minted]) {
      await expectAdminError(await admin(`/admin/keys/${id}`), 404, 'not_found');
      await expectAdminError(await admin(`/admin/keys/${id}/rotate`, { body: {} }), 404, 'not_found');
      await expectAdminError(await admin(`/admin/keys/${id}/revoke`, { method: 'POST' }), 404, 'not_found');
      if (id === madeUp) expect(await keyObjectIds()).toEqual(idsBefore);
    }
    expect((await listedKeys()).some((k) => k.key_id === minted || k.key_id === madeUp)).toBe(false);
  });

  it('POST /admin/grants/:gid/revoke of a real grant → 200; that user\'s access token then gets 401 at /mcp, in an open session and at initialize', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'carol' });
    const gid = user.refreshToken.split('.')[0] ?? '';
    expect(gid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const open = await post(INITIALIZE, bearer(user.accessToken));
    expect(open.status).toBe(200);
    const sessionId = open.headers.get('mcp-session-id') ?? '';
    await open.text();
    const headers = { ...bearer(user.accessToken), 'mcp-session-id': sessionId, ...PROTOCOL };
    expect(await status(post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers))).toBe(202);
    expect(await status(ping(headers))).toBe(200);

    const revoked = await admin(`/admin/grants/${gid}/revoke`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ grant_id: gid, revoked: true });

    expect((await expectBearerRefusal(await ping(headers), 401, 'invalid_token')).error).toBe('invalid_token');
    expect((await expectBearerRefusal(await post(INITIALIZE, bearer(user.accessToken)), 401, 'invalid_token')).error).toBe('invalid_token');
    // The grant is gone: revoking it again finds no live grant.
    await expectAdminError(await admin(`/admin/grants/${gid}/revoke`, { method: 'POST' }), 404, 'not_found');
  });

  it('POST /admin/grants/:gid/revoke of a made-up grant id → 404 not_found', async () => {
    const idsBefore = (await listDurableObjectIds(env.AUTH_TXN)).length;
    await expectAdminError(await admin(`/admin/grants/${base64url(crypto.getRandomValues(new Uint8Array(32)))}/revoke`, { method: 'POST' }), 404, 'not_found');
    expect((await listDurableObjectIds(env.AUTH_TXN)).length).toBe(idsBefore);
  });
});
