// Checklist 39 end to end: Client ID Metadata Documents fetched by the real server from a real document server on 127.0.0.1.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';
import { authorize, consentFields, pkcePair, tokenRequest, type FlowFetchers } from '../support/oauth-flow.ts';

const FETCHERS: FlowFetchers = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

// ---------- the document server: each test serves its own paths, and every request and connection is counted ----------

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: string) => void;

const handlers = new Map<string, Handler>();
const hits = new Map<string, number>();
const sockets = new Set<Socket>();
let connections = 0;
let docBase = '';

const docServer = http.createServer((req, res) => {
  const path = req.url ?? '/';
  hits.set(path, (hits.get(path) ?? 0) + 1);
  const handler = handlers.get(path);
  if (!handler) {
    res.writeHead(404).end();
    return;
  }
  handler(req, res, `${docBase}${path}`);
});
docServer.on('connection', (socket: Socket) => {
  connections++;
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

let counter = 0;

/** Serves `handler` at a new path; returns the document URL (the client_id). */
function serve(name: string, handler: Handler): string {
  const path = `/clients/${name}-${++counter}.json`;
  handlers.set(path, handler);
  return `${docBase}${path}`;
}

function hitsOf(url: string): number {
  return hits.get(new URL(url).pathname) ?? 0;
}

/** A well-formed public client's metadata document for `url`. */
function documentFor(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { client_id: url, client_name: 'CIMD <b>test</b> client', redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...extra };
}

function json(body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', ...headers }).end(JSON.stringify(body));
  };
}

/** A valid document served with `headers`. */
function valid(headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Handler {
  return (req, res, url) => json(documentFor(url, extra), headers)(req, res, url);
}

// ---------- requests to our server ----------

async function authorizeUrl(server: Server, clientId: string, redirectUri = REDIRECT_URI): Promise<string> {
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: (await pkcePair()).challenge, code_challenge_method: 'S256', state: 'cimd-state', resource: `${server.url}/mcp` });
  return `${server.url}/authorize?${query}`;
}

async function startAuthorize(server: Server, clientId: string, redirectUri?: string): Promise<Response> {
  return fetch(await authorizeUrl(server, clientId, redirectUri), { redirect: 'manual' });
}

/** An error page: 4xx HTML, no redirect, no cookie (so no transaction was bound to this browser). Returns the HTML. */
async function expectErrorPage(response: Response, status = 400): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('set-cookie')).toBeNull();
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-store');
  return response.text();
}

beforeAll(async () => {
  await new Promise<void>((resolve) => docServer.listen(0, '127.0.0.1', resolve));
  docBase = `http://127.0.0.1:${(docServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => docServer.close(() => resolve()));
});

// =====================================================================================

describe('39: metadata documents in development (loopback documents allowed)', () => {
  let server: Server;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('39: a valid document is fetched once and the consent page shows its (escaped) client name and URL', async () => {
    const clientId = serve('valid', valid());
    const response = await startAuthorize(server, clientId);
    expect(response.status).toBe(200);
    expect(response.headers.get('location')).toBeNull();
    const html = await response.text();
    consentFields(html);
    expect(html).toContain('CIMD &#60;b&#62;test&#60;/b&#62; client');
    expect(html).not.toContain('<b>test</b>');
    expect(html).toContain(clientId);
    expect(hitsOf(clientId)).toBe(1);
  });

  it('39: within the document\'s max-age a second /authorize does not fetch it again', async () => {
    const clientId = serve('cached', valid({ 'cache-control': 'public, max-age=300' }));
    for (let i = 0; i < 3; i++) {
      const response = await startAuthorize(server, clientId);
      expect(response.status).toBe(200);
      consentFields(await response.text());
    }
    expect(hitsOf(clientId)).toBe(1);
  });

  it('39: a document whose client_id differs from its URL → 400 error page; nothing is cached (the next request fetches again)', async () => {
    const clientId = serve('mismatch', (req, res, url) => json(documentFor(`${url}?other`))(req, res, url));
    for (let i = 1; i <= 2; i++) {
      const html = await expectErrorPage(await startAuthorize(server, clientId));
      expect(html).toContain('client_id does not equal its URL');
      expect(html).not.toContain('Return to the application');
      expect(hitsOf(clientId)).toBe(i);
    }
  });

  it.each([
    ['a trailing slash', (url: string) => `${url}/`],
    ['an upper-case scheme', (url: string) => url.replace(/^http:/, 'HTTP:')],
    ['an empty fragment', (url: string) => `${url}#`],
    ['another path on the same host', (url: string) => url.replace('/clients/', '/other/')],
  ])('39: a document whose client_id is its URL with %s → 400 (exact match only)', async (_what, alter) => {
    const clientId = serve('near-miss', (req, res, url) => json(documentFor(alter(url)))(req, res, url));
    const html = await expectErrorPage(await startAuthorize(server, clientId));
    expect(html).toContain('client_id does not equal its URL');
  });

  it('39: a document larger than 5 KiB → 400 error page', async () => {
    const clientId = serve('large', valid({}, { padding: 'p'.repeat(6 * 1024) }));
    const html = await expectErrorPage(await startAuthorize(server, clientId));
    expect(html).toContain('too large');
  });

  it('39: a document answered with a redirect is not followed → 400 error page, and the target is never fetched', async () => {
    const target = serve('redirect-target', valid());
    const clientId = serve('redirect', (_req, res) => {
      res.writeHead(302, { location: target }).end();
    });
    const html = await expectErrorPage(await startAuthorize(server, clientId));
    expect(html).toContain('answered 302');
    expect(hitsOf(clientId)).toBe(1);
    expect(hitsOf(target)).toBe(0);
  });

  it('39: a redirect_uri the document does not list → 400 error page with no link back', async () => {
    const clientId = serve('unlisted', valid());
    const html = await expectErrorPage(await startAuthorize(server, clientId, 'http://127.0.0.1:9/elsewhere'));
    expect(html).toContain('Invalid redirect URI');
    expect(html).not.toContain('Return to the application');
  });

  it.each([
    ['not served as application/json', (_req: http.IncomingMessage, res: http.ServerResponse, url: string) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(JSON.stringify(documentFor(url)));
    }, 'not application/json'],
    ['not JSON', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":');
    }, 'not JSON'],
    ['a 404', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    }, 'answered 404'],
    ['a confidential client (client_secret_basic)', (req: http.IncomingMessage, res: http.ServerResponse, url: string) => json(documentFor(url, { token_endpoint_auth_method: 'client_secret_basic' }))(req, res, url), 'must be public'],
    ['a javascript: redirect URI', (req: http.IncomingMessage, res: http.ServerResponse, url: string) => json(documentFor(url, { redirect_uris: ['javascript:alert(1)'] }))(req, res, url), 'scheme is not allowed'],
  ] as Array<[string, Handler, string]>)('39: a document %s → 400 error page', async (_what, handler, reason) => {
    const clientId = serve('bad', handler);
    const html = await expectErrorPage(await startAuthorize(server, clientId));
    expect(html).toContain(reason);
  });

  it('39: a document that never arrives is abandoned at the time limit (about 3 s) with an error page', async () => {
    const clientId = serve('slow', () => {
      // Never answer; the socket is destroyed in afterAll.
    });
    const started = Date.now();
    const html = await expectErrorPage(await startAuthorize(server, clientId));
    const elapsed = Date.now() - started;
    expect(html).toContain('could not be fetched');
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    expect(elapsed).toBeLessThan(8000);
  });

  it('39: a metadata-document client signs in end to end, and its token works at /mcp', async () => {
    const clientId = serve('full', valid());
    const { verifier, challenge } = await pkcePair();
    const back = await authorize(server.url, FETCHERS, { clientId, redirectUri: REDIRECT_URI, challenge, state: 'cimd-full' });
    expect(back.searchParams.get('state')).toBe('cimd-full');
    const code = back.searchParams.get('code') ?? '';
    const token = await tokenRequest(server.url, FETCHERS, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: clientId, resource: `${server.url}/mcp` });
    expect(token.status).toBe(200);
    expect(token.headers.get('cache-control')).toBe('no-store');
    const accessToken = String(token.body.access_token);
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    expect(claims.client_id).toBe(clientId);
    const mcp = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cimd', version: '1' } } }),
    });
    expect(mcp.status).toBe(200);
    expect(mcp.headers.get('mcp-session-id')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await mcp.text();
    expect(hitsOf(clientId)).toBe(1);
  });
});

describe('39: metadata documents in production (ALLOW_LOCALHOST=false): no private or loopback targets', () => {
  let server: Server;

  beforeAll(async () => {
    server = await startServer({ vars: { ALLOW_LOCALHOST: 'false' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('39: https client_ids naming loopback, private, link-local or internal hosts are refused before any connection is made', async () => {
    const port = new URL(docBase).port;
    const targets = [
      `https://127.0.0.1:${port}/clients/x.json`,
      `https://localhost:${port}/clients/x.json`,
      `https://app.localhost:${port}/clients/x.json`,
      `https://[::1]:${port}/clients/x.json`,
      `https://[::ffff:127.0.0.1]:${port}/clients/x.json`,
      `https://2130706433:${port}/clients/x.json`,
      `https://0x7f.1:${port}/clients/x.json`,
      'https://10.0.0.1/clients/x.json',
      'https://192.168.1.1/clients/x.json',
      'https://169.254.169.254/latest/meta-data/client.json',
      'https://metadata.google.internal/computeMetadata/v1/client.json',
    ];
    const before = connections;
    for (const clientId of targets) {
      const html = await expectErrorPage(await startAuthorize(server, clientId));
      expect([clientId, html.includes('client metadata document host is not allowed')]).toEqual([clientId, true]);
    }
    expect(connections).toBe(before);
  });

  it('39: an http loopback client_id is not a metadata document at all in production → unknown client, no connection', async () => {
    const clientId = serve('prod-http', valid());
    const before = connections;
    const html = await expectErrorPage(await startAuthorize(server, clientId));
    expect(html).toContain('unknown client_id');
    expect(connections).toBe(before);
    expect(hitsOf(clientId)).toBe(0);
  });
});
