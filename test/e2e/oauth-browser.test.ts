// End to end in Node: the MCP SDK client's own OAuth support signs in through headless Chromium (consent, upstream login, loopback redirect) against wrangler dev, then refreshes, replays and revokes.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { auth, UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { decodeJwt } from 'jose';
import { chromium, type Browser, type BrowserContext, type Page, type Response as PageResponse } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

const OPAQUE = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
/** Self-asserted client name with markup in it: the consent page must show it as text. */
const HOSTILE_NAME = 'Browser E2E <b>client</b> & "friends"';

/** One HTTP exchange the SDK made (registration, token, revocation, /mcp), for checking what went over the wire. */
interface Exchange {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
  status: number;
  responseHeaders: Headers;
  /** The response text, read for the OAuth endpoints only (never for /mcp streams). */
  text?: string;
}

/** The text of a request body as the SDK sends it (a string or form parameters). */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  return '';
}

/** A fetch that records every exchange in `log` (the SDK uses it for discovery, /register, /token and /mcp). */
function recordingFetch(log: Exchange[]): FetchLike {
  return async (input, init) => {
    const url = new URL(String(input));
    const response = await fetch(input, init);
    const exchange: Exchange = { method: init?.method ?? 'GET', url, headers: new Headers(init?.headers), body: bodyText(init?.body), status: response.status, responseHeaders: response.headers };
    if (url.pathname !== '/mcp') exchange.text = await response.clone().text();
    log.push(exchange);
    return response;
  };
}

/** The OAuth requests the SDK sent to `pathname`, as forms (or JSON for /register). */
function sent(log: Exchange[], pathname: string): Exchange[] {
  return log.filter((e) => e.url.pathname === pathname && e.method === 'POST');
}

/** A tiny loopback web server standing in for the client's redirect URI; it hands each authorization response to whoever waits for its state. */
class Loopback {
  readonly #server = http.createServer((req, res) => this.#answer(req, res));
  readonly #arrived = new Map<string, URL>();
  readonly #waiting = new Map<string, (url: URL) => void>();
  port = 0;

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  get redirectUri(): string {
    return `http://127.0.0.1:${this.port}/callback`;
  }

  /** The authorization response carrying `state` (resolves when the browser arrives). */
  responseFor(state: string): Promise<URL> {
    const url = this.#arrived.get(state);
    if (url) return Promise.resolve(url);
    return new Promise((resolve) => this.#waiting.set(state, resolve));
  }

  #answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.redirectUri);
    const state = url.searchParams.get('state') ?? '';
    this.#arrived.set(state, url);
    this.#waiting.get(state)?.(url);
    res.writeHead(url.pathname === '/callback' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><title>Signed in</title><p>You can close this window and return to the application.</p>');
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** One time the SDK sent the person to the authorization endpoint: the URL, the browser tab, and the state it chose. */
interface Attempt {
  url: URL;
  state: string;
  page: Page;
  /** The answer to the tab's first navigation (the /authorize response after any redirects the browser followed). */
  response: PageResponse | null;
  /** Every request the tab made, as `METHOD url`, in order. */
  requests: string[];
}

/** An OAuthClientProvider that keeps everything in memory and opens the authorization URL in a headless Chromium tab. */
class BrowserProvider implements OAuthClientProvider {
  readonly attempts: Attempt[] = [];
  readonly savedClients: OAuthClientInformationMixed[] = [];
  readonly invalidated: string[] = [];
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier: string | undefined;
  #state = '';

  constructor(
    private readonly context: BrowserContext,
    private readonly loopback: Loopback,
    private readonly clientName: string,
  ) {}

  get redirectUrl(): string {
    return this.loopback.redirectUri;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.loopback.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.savedClients.push(info);
    this.#client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new Error('no code verifier saved');
    return this.#verifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    this.invalidated.push(scope);
    if (scope === 'all' || scope === 'client') this.#client = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#verifier = undefined;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    const page = await this.context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    const attempt: Attempt = { url, state: this.#state, page, response: null, requests };
    this.attempts.push(attempt);
    attempt.response = await page.goto(url.href);
  }

  /** The most recent authorization attempt. */
  get last(): Attempt {
    const attempt = this.attempts.at(-1);
    if (!attempt) throw new Error('the SDK never asked for authorization');
    return attempt;
  }

  /** The client id the SDK registered. */
  get clientId(): string {
    if (!this.#client) throw new Error('no client registered');
    return this.#client.client_id;
  }

  /** The current tokens (fails if there are none). */
  get current(): OAuthTokens {
    if (!this.#tokens) throw new Error('no tokens saved');
    return this.#tokens;
  }
}

/** A transport on the MCP URL that signs in with `provider` and records its requests. */
function transportFor(server: Server, provider: BrowserProvider, log: Exchange[]): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(server.mcpUrl), { authProvider: provider, fetch: recordingFetch(log) });
}

function newClient(): Client {
  return new Client({ name: 'oauth-browser-e2e', version: '1.0.0' }, { capabilities: {} });
}

/** POSTs a form to one of the server's OAuth endpoints. */
async function postForm(server: Server, pathname: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

let server: Server;
let loopback: Loopback;
let browser: Browser;
let context: BrowserContext;
let screenshots: string;
// Screenshots go to a temporary folder removed afterwards, or to E2E_SCREENSHOT_DIR (kept) to look at them.
const keepScreenshots = process.env.E2E_SCREENSHOT_DIR;

beforeAll(async () => {
  loopback = new Loopback();
  await loopback.listen();
  server = await startServer();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  context = await browser.newContext();
  screenshots = keepScreenshots ?? mkdtempSync(path.join(os.tmpdir(), 'own-mcp-oauth-browser-'));
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await loopback?.close();
  await server?.close();
  if (!keepScreenshots && screenshots) rmSync(screenshots, { recursive: true, force: true });
});

describe('the SDK client signs in through a browser, refreshes, and loses access when the grant ends', () => {
  const log: Exchange[] = [];
  let provider: BrowserProvider;
  let firstTransport: StreamableHTTPClientTransport;
  let client: Client;
  let code = '';

  beforeAll(() => {
    provider = new BrowserProvider(context, loopback, HOSTILE_NAME);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('20: the first connect is refused with UnauthorizedError after dynamic registration and an authorization URL with PKCE S256 and resource', async () => {
    firstTransport = transportFor(server, provider, log);
    const error = await newClient().connect(firstTransport).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);

    // Dynamic registration (RFC 7591) with our metadata, answered 201 with a client id and no secret for a public client.
    const [registration] = sent(log, '/register');
    expect(registration?.status).toBe(201);
    expect(JSON.parse(registration?.body ?? '{}')).toMatchObject({ redirect_uris: [loopback.redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] });
    expect(provider.savedClients).toHaveLength(1);
    expect(provider.savedClients[0]?.client_id).toMatch(/\S{16,}/);
    expect(provider.savedClients[0]).not.toHaveProperty('client_secret');

    const { url } = provider.last;
    expect(`${url.origin}${url.pathname}`).toBe(`${server.url}/authorize`);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe(provider.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(loopback.redirectUri);
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toBe(s256(provider.codeVerifier()));
    expect(url.searchParams.get('resource')).toBe(`${server.url}/mcp`);
    expect(url.searchParams.get('state')).toBe(provider.last.state);
    expect(provider.tokens()).toBeUndefined();
  });

  it('11, 14: the consent page shows the client name as text and the redirect host, on an unframeable no-store page', async () => {
    const { page, response } = provider.last;
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(provider.last.url.href);
    const headers = response?.headers() ?? {};
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['access-control-allow-origin']).toBeUndefined();

    expect(await page.title()).toBe('Allow access?');
    expect(await page.locator('h1').textContent()).toBe('Allow access to your MCP server?');
    // The self-asserted name is shown verbatim as text: no <b> element was created from it.
    const name = page.locator('main p strong').first();
    expect(await name.textContent()).toBe(HOSTILE_NAME);
    expect(await name.locator('b').count()).toBe(0);
    expect(await page.getByText('(name given by the application)').count()).toBe(1);
    expect(await page.locator('p', { hasText: 'you will be sent to' }).locator('strong').textContent()).toBe(`127.0.0.1:${loopback.port}`);
    expect(await page.locator('main code', { hasText: provider.clientId }).count()).toBe(1);
    expect(await page.locator('button[value=approve]').textContent()).toBe('Allow');
    expect(await page.locator('button[value=deny]').textContent()).toBe('Deny');
    await page.screenshot({ path: path.join(screenshots, 'consent.png'), fullPage: true });
    console.info(`consent page screenshot: ${path.join(screenshots, 'consent.png')}`);
  });

  it('12, 9: Allow answers 303 to the upstream login; after it the browser lands on the loopback with a code, the state and iss', async () => {
    const { page, state } = provider.last;
    const consentAnswer = page.waitForResponse((r) => r.url() === `${server.url}/authorize/consent`);
    await page.locator('button[value=approve]').click();
    const answer = await consentAnswer;
    expect(answer.request().method()).toBe('POST');
    expect(answer.status()).toBe(303);
    expect(answer.headers()['location']).toMatch(new RegExp(`^${server.idp.issuer}/`));

    await page.waitForURL((u) => u.href.startsWith(`${server.idp.issuer}/interaction/`));
    await page.locator('input[name=login]').fill('browser-alice');
    await page.locator('input[name=password]').fill('anything');
    await page.locator('button#sign-in').click();

    const back = await loopback.responseFor(state);
    await page.waitForURL((u) => u.href.startsWith(loopback.redirectUri));
    expect([...back.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('iss')).toBe(server.url);
    code = back.searchParams.get('code') ?? '';
    expect(code).toMatch(OPAQUE);
    expect(await page.textContent('body')).toContain('You can close this window');
  });

  it('finishAuth exchanges the code with the verifier and resource; the second connect lists tools and calls get_customer', async () => {
    await firstTransport.finishAuth(code);
    const [exchange] = sent(log, '/token');
    const form = new URLSearchParams(exchange?.body);
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(form.get('code')).toBe(code);
    expect(form.get('client_id')).toBe(provider.clientId);
    expect(form.get('redirect_uri')).toBe(loopback.redirectUri);
    expect(form.get('resource')).toBe(`${server.url}/mcp`);
    expect(s256(form.get('code_verifier') ?? '')).toBe(provider.attempts[0]?.url.searchParams.get('code_challenge'));
    expect(exchange?.status).toBe(200);

    const tokens = provider.current;
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.refresh_token).toMatch(OPAQUE);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: server.url, aud: server.mcpUrl, client_id: provider.clientId });

    client = newClient();
    await client.connect(transportFor(server, provider, log));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('get_customer');
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 1 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: 1 });
    const mcpCalls = log.filter((e) => e.url.pathname === '/mcp' && e.status === 200);
    expect(mcpCalls.at(-1)?.headers.get('authorization')).toBe(`Bearer ${tokens.access_token}`);
  });

  let rotated = '';

  it('28: the SDK refresh returns a new refresh token and access token, and the session goes on with them', async () => {
    const before = provider.current;
    rotated = before.refresh_token ?? '';
    const refreshesBefore = sent(log, '/token').length;
    expect(await auth(provider, { serverUrl: server.mcpUrl, fetchFn: recordingFetch(log) })).toBe('AUTHORIZED');
    const refresh = sent(log, '/token').at(-1);
    expect(sent(log, '/token')).toHaveLength(refreshesBefore + 1);
    const form = new URLSearchParams(refresh?.body);
    expect(Object.fromEntries(form)).toMatchObject({ grant_type: 'refresh_token', refresh_token: rotated, client_id: provider.clientId, resource: `${server.url}/mcp` });
    expect(refresh?.status).toBe(200);

    const after = provider.current;
    expect(after.refresh_token).toMatch(OPAQUE);
    expect(after.refresh_token).not.toBe(rotated);
    expect(after.access_token).not.toBe(before.access_token);
    expect(decodeJwt(after.access_token).gid).toBe(decodeJwt(before.access_token).gid);

    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 1 } });
    expect(result.structuredContent).toMatchObject({ id: 1 });
    expect(log.filter((e) => e.url.pathname === '/mcp').at(-1)?.headers.get('authorization')).toBe(`Bearer ${after.access_token}`);
  });

  it('28: the rotated refresh token is refused with invalid_grant, and that replay ends the grant: the SDK loses access and its refresh is refused', async () => {
    const current = provider.current.refresh_token ?? '';
    const replay = await postForm(server, '/token', { grant_type: 'refresh_token', refresh_token: rotated, client_id: provider.clientId });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('cache-control')).toBe('no-store');
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });

    const attemptsBefore = provider.attempts.length;
    const accessToken = provider.current.access_token;
    const start = log.length;
    const error = await client.listTools().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    // /mcp said 401 invalid_token to the grant's access token; the SDK tried the current refresh token, was refused, dropped its tokens and asked for a new sign-in.
    const refused = log.slice(start).find((e) => e.url.pathname === '/mcp');
    expect(refused?.status).toBe(401);
    expect(refused?.headers.get('authorization')).toBe(`Bearer ${accessToken}`);
    expect(refused?.responseHeaders.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const refreshes = sent(log.slice(start), '/token');
    expect(refreshes.map((e) => new URLSearchParams(e.body).get('refresh_token'))).toEqual([current]);
    expect(refreshes[0]?.status).toBe(400);
    expect(JSON.parse(refreshes[0]?.text ?? '{}')).toMatchObject({ error: 'invalid_grant' });
    expect(provider.invalidated).toContain('tokens');
    expect(provider.attempts).toHaveLength(attemptsBefore + 1);
  });

  it('51: signing in again needs no click: consent is remembered for this person and client, and the upstream session is reused', async () => {
    const attempt = provider.last;
    const back = await loopback.responseFor(attempt.state);
    expect(back.searchParams.get('iss')).toBe(server.url);
    expect(back.searchParams.get('code')).toMatch(OPAQUE);
    // The tab went /authorize → upstream → /oauth/callback → loopback by redirects alone: no form was posted, no consent page shown.
    expect(attempt.response?.status()).toBe(200);
    expect(attempt.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
    expect(attempt.requests[0]).toBe(`GET ${attempt.url.href}`);
    expect(attempt.requests.some((r) => r.startsWith(`GET ${server.url}/oauth/callback?`))).toBe(true);
    expect(await attempt.page.title()).toBe('Signed in');

    await client.close();
    const transport = transportFor(server, provider, log);
    await transport.finishAuth(back.searchParams.get('code') ?? '');
    client = newClient();
    await client.connect(transport);
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 1 } });
    expect(result.structuredContent).toMatchObject({ id: 1 });
  });

  it('34: revoking the refresh token ends the grant: the next listTools is refused with 401 and the SDK asks for a new sign-in', async () => {
    const refreshToken = provider.current.refresh_token ?? '';
    const revoke = await postForm(server, '/revoke', { token: refreshToken, token_type_hint: 'refresh_token', client_id: provider.clientId });
    expect(revoke.status).toBe(200);
    expect(revoke.headers.get('cache-control')).toBe('no-store');
    expect(await revoke.text()).toBe('');

    const attemptsBefore = provider.attempts.length;
    const accessToken = provider.current.access_token;
    const start = log.length;
    const error = await client.listTools().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    const refused = log.slice(start).find((e) => e.url.pathname === '/mcp');
    expect(refused?.status).toBe(401);
    expect(refused?.headers.get('authorization')).toBe(`Bearer ${accessToken}`);
    // The refused access token belongs to the grant of the revoked refresh token (`<grant id>.<secret>`).
    expect(decodeJwt(accessToken).gid).toBe(refreshToken.split('.')[0]);
    expect(refused?.responseHeaders.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const refreshes = sent(log.slice(start), '/token');
    expect(refreshes.map((e) => [new URLSearchParams(e.body).get('refresh_token'), e.status])).toEqual([[refreshToken, 400]]);
    expect(provider.attempts).toHaveLength(attemptsBefore + 1);

    const again = await postForm(server, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: provider.clientId });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('the person denies consent', () => {
  it('8, 9: Deny answers 303 to the loopback with error=access_denied, the exact state the SDK sent, and iss; no upstream login, no tokens', async () => {
    const log: Exchange[] = [];
    const provider = new BrowserProvider(context, loopback, 'Browser E2E denied client');
    const error = await newClient().connect(transportFor(server, provider, log)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    const { page, state, response } = provider.last;
    expect(response?.status()).toBe(200);
    expect(await page.locator('h1').textContent()).toBe('Allow access to your MCP server?');
    expect(await page.locator('main p strong').first().textContent()).toBe('Browser E2E denied client');

    const consentAnswer = page.waitForResponse((r) => r.url() === `${server.url}/authorize/consent`);
    await page.locator('button[value=deny]').click();
    const answer = await consentAnswer;
    expect(answer.status()).toBe(303);
    const back = await loopback.responseFor(state);
    expect(answer.headers()['location']).toBe(back.href);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('iss')).toBe(server.url);
    expect(back.searchParams.has('code')).toBe(false);
    expect(provider.last.requests.some((r) => r.includes(server.idp.issuer))).toBe(false);
    expect(provider.tokens()).toBeUndefined();
    expect(sent(log, '/token')).toHaveLength(0);
  });
});
