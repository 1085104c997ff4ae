// End to end on the real server (wrangler dev, embedded database): sign in with OAuth, refresh, use an API key, call the admin API, and fail a few times on purpose; then no credential used may appear in any line the server process printed or in any stored audit event (exported with the admin API).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentFields, CookieJar, pkcePair, registerClient, tokenRequest, upstreamLogin, type FlowFetchers } from '../support/oauth-flow.ts';
import { startServer, type ServerHandle } from '../support/server.mjs';

const FETCHERS: FlowFetchers = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'no-secrets', version: '1.0.0' } } };

let server: ServerHandle;
/** Every byte the server process wrote to stdout and stderr, from its start. */
let log = '';
/** Every credential this test used or was given, with a label: none may show in the log or the audit trail. */
const credentials = new Map<string, string>();

function credential(label: string, value: string | undefined | null): string {
  expect(value, label).toBeTruthy();
  const v = String(value);
  expect(v.length, `${label} is long enough to search for`).toBeGreaterThanOrEqual(16);
  credentials.set(v, label);
  return v;
}

/** Remembers a `<id>.<secret>` credential (refresh token, API key): the whole of it and its secret part. */
function dotted(label: string, value: string): string {
  credential(label, value);
  credential(`${label} (secret part)`, value.slice(value.indexOf('.') + 1));
  return value;
}

/** Remembers a JWT: the whole token and its signature. */
function jwt(label: string, value: string): string {
  credential(label, value);
  credential(`${label} (signature)`, value.split('.')[2]);
  return value;
}

/** Each credential found in a text, by label (also URL-encoded, as it would be in a logged URL or form). */
function leaks(text: string): string[] {
  const found: string[] = [];
  for (const [value, label] of credentials) if (text.includes(value) || text.includes(encodeURIComponent(value))) found.push(label);
  return found;
}

async function admin(path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** One MCP request; returns the status and the text. */
async function mcp(bearer: string, body: unknown, session?: string): Promise<{ status: number; text: string; session: string }> {
  const headers: Record<string, string> = { ...MCP_HEADERS, authorization: `Bearer ${bearer}` };
  if (session) Object.assign(headers, { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' });
  const response = await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text(), session: response.headers.get('mcp-session-id') ?? session ?? '' };
}

/** Opens a session and calls one tool. */
async function useTool(bearer: string, tool: string, args: Record<string, unknown>): Promise<string> {
  const init = await mcp(bearer, INITIALIZE);
  expect(init.status).toBe(200);
  expect((await mcp(bearer, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.session)).status).toBe(202);
  const call = await mcp(bearer, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } }, init.session);
  expect(call.status).toBe(200);
  return call.text;
}

/** The whole audit trail as NDJSON, paged with the cursor. */
async function exportAudit(format: 'raw' | 'ocsf' | 'ecs'): Promise<string> {
  let after = '';
  let text = '';
  for (let page = 0; page < 50; page++) {
    const response = await admin(`/admin/audit/events?format=${format}&limit=10000${after ? `&after=${after}` : ''}`);
    expect(response.status).toBe(200);
    const body = await response.text();
    if (body === '') return text;
    text += body;
    after = response.headers.get('x-next-cursor') ?? '';
  }
  throw new Error('the export did not end');
}

beforeAll(async () => {
  // onOutput sees every chunk from the process's start; 'log' shows the Worker's console output.
  server = await startServer({ logLevel: 'log', onOutput: (text) => (log += text) });
  credential('admin secret', server.adminSecret);
  credential('ID secret', server.secretVars.ID_SECRET);
  credential('upstream client secret', server.secretVars.UPSTREAM_CLIENT_SECRET);
  // The private part of the token signing key (a JWK).
  credential('signing key (d)', (JSON.parse(server.secretVars.OAUTH_SIGNING_KEY ?? '{}') as { d?: string }).d);
});

afterAll(async () => {
  await server?.close();
});

describe('no credential in the server log or the audit trail', () => {
  let userId = '';
  let keyId = '';

  it('a confidential client signs in (code + PKCE), refreshes, and calls a tool', async () => {
    const client = await registerClient(server.url, FETCHERS, { token_endpoint_auth_method: 'client_secret_post' });
    const clientSecret = credential('client secret', client.clientSecret);
    const { verifier, challenge } = await pkcePair();
    credential('PKCE code verifier', verifier);
    const jar = new CookieJar();
    const state = `st-${randomBytes(8).toString('hex')}`;
    const query = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: client.redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state, resource: server.mcpUrl, scope: 'support:read sql:read' });
    const page = await fetch(`${server.url}/authorize?${query}`, { redirect: 'manual' });
    jar.take(page);
    expect(page.status).toBe(200);
    const consent = await fetch(`${server.url}/authorize/consent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(`${server.url}/authorize/consent`) },
      body: new URLSearchParams({ ...consentFields(await page.text()), decision: 'approve' }).toString(),
    });
    expect(consent.status).toBe(303);
    jar.take(consent);
    const callback = await upstreamLogin(consent.headers.get('location') ?? '', 'carol', FETCHERS, jar);
    // The upstream provider's code, on its way to our callback.
    credential('upstream authorization code', new URL(callback).searchParams.get('code'));
    const back = await fetch(callback, { redirect: 'manual', headers: { cookie: jar.header(callback) } });
    expect(back.status).toBe(302);
    const code = credential('authorization code', new URL(back.headers.get('location') ?? '').searchParams.get('code'));

    const token = await tokenRequest(server.url, FETCHERS, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier, client_id: client.clientId, client_secret: clientSecret, resource: server.mcpUrl });
    expect(token.status).toBe(200);
    const access = jwt('access token', String(token.body.access_token));
    const refresh = dotted('refresh token', String(token.body.refresh_token));
    userId = String(JSON.parse(Buffer.from(access.split('.')[1] ?? '', 'base64url').toString('utf8')).sub);
    expect(await useTool(access, 'get_customer', { customer_id: 7 })).toContain('"id":7');

    const refreshed = await tokenRequest(server.url, FETCHERS, { grant_type: 'refresh_token', refresh_token: refresh, client_id: client.clientId, client_secret: clientSecret });
    expect(refreshed.status).toBe(200);
    const access2 = jwt('refreshed access token', String(refreshed.body.access_token));
    dotted('rotated refresh token', String(refreshed.body.refresh_token));
    expect(await useTool(access2, 'sql_select', { sql: 'SELECT id FROM customers WHERE id = 3' })).toContain('"id":3');

    // Failures log and audit their reasons: a replayed refresh token, a code used twice, a wrong client secret.
    expect((await tokenRequest(server.url, FETCHERS, { grant_type: 'refresh_token', refresh_token: refresh, client_id: client.clientId, client_secret: clientSecret })).status).toBe(400);
    expect((await tokenRequest(server.url, FETCHERS, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier, client_id: client.clientId, client_secret: clientSecret })).status).toBe(400);
    const wrongSecret = credential('a wrong client secret', `${clientSecret.slice(0, -4)}AAAA`);
    expect((await tokenRequest(server.url, FETCHERS, { grant_type: 'refresh_token', refresh_token: refresh, client_id: client.clientId, client_secret: wrongSecret })).status).toBe(401);
    // After the reuse the grant is revoked: the refreshed access token is refused at /mcp.
    expect((await mcp(access2, INITIALIZE)).status).toBe(401);
  });

  it('an agent with an API key calls a tool; the key is rotated and revoked; a forged key is refused', async () => {
    const created = await admin('/admin/keys', { agent_name: 'No Secrets Agent', owner: userId || 'carol', scopes: ['support:read'] });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { key: string; key_id: string };
    keyId = body.key_id;
    const key = dotted('API key', body.key);
    expect(await useTool(key, 'get_customer', { customer_id: 9 })).toContain('"id":9');
    const rotated = await admin(`/admin/keys/${keyId}/rotate`, { overlap_seconds: 0 });
    expect(rotated.status).toBe(200);
    const key2 = dotted('rotated API key', ((await rotated.json()) as { key: string }).key);
    expect(await useTool(key2, 'get_customer', { customer_id: 10 })).toContain('"id":10');
    expect((await mcp(key, INITIALIZE)).status).toBe(401);
    const forged = credential('forged API key', `${key2.slice(0, key2.indexOf('.') + 1)}${randomBytes(32).toString('base64url')}`);
    expect((await mcp(forged, INITIALIZE)).status).toBe(401);
    expect((await admin(`/admin/keys/${keyId}/revoke`, {})).status).toBe(200);
    expect((await mcp(key2, INITIALIZE)).status).toBe(401);
    // A wrong admin credential is refused too.
    const wrongAdmin = credential('a wrong admin secret', randomBytes(32).toString('base64url'));
    expect((await fetch(`${server.url}/admin/keys`, { headers: { authorization: `Bearer ${wrongAdmin}` } })).status).toBe(401);
  });

  it('the audit trail recorded the work and holds none of the credentials (raw, OCSF, ECS)', async () => {
    let raw = '';
    // The outboxes flush in the background: wait until the key's revocation has arrived.
    for (let i = 0; i < 50; i++) {
      raw = await exportAudit('raw');
      if (raw.includes('"key.revoked"') && raw.includes(`"auth.refresh_reuse"`)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const type of ['auth.token_issued', 'auth.refresh', 'auth.refresh_reuse', 'auth.revoke', 'auth.token_rejected', 'tool.call', 'key.created', 'key.rotated', 'key.revoked']) expect(raw, `an ${type} event`).toContain(`"${type}"`);
    expect(raw).toContain(keyId);
    expect(leaks(raw), 'raw export').toEqual([]);
    expect(leaks(await exportAudit('ocsf')), 'OCSF export').toEqual([]);
    expect(leaks(await exportAudit('ecs')), 'ECS export').toEqual([]);
  });

  it('the server log holds the audit lines and the refusals, and none of the credentials', async () => {
    // The search finds what it looks for, and the Worker's console output reached the capture (else this test would prove nothing).
    expect(leaks(`x=${server.adminSecret};`)).toEqual(['admin secret']);
    expect(log).toContain('"audit":');
    expect(log).toContain(keyId);
    expect(log.split('\n').length).toBeGreaterThan(20);
    const leaked = log.split('\n').flatMap((line, n) => leaks(line).map((label) => `line ${n + 1}: ${label}`));
    expect(leaked).toEqual([]);
  });
});
