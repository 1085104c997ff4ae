// End to end in Node: the admin console in headless Chromium against wrangler dev, signed in through the local OpenID provider; keys, audit, refusals, CSRF, accessibility and screenshots.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminBrowser, axeViolations, csrfOf, pageFetch, signIn, until } from '../support/console.ts';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

/** Screenshots of every page (git-ignored; docs/console.png is one of them, committed by hand). */
const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console-screenshots');
const ADMIN = 'console-admin';
const ADMIN_EMAIL = 'console-admin@example.test';
const PAGES = ['overview', 'keys', 'clients', 'sessions', 'audit', 'alerts', 'tools'] as const;

interface RawEvent {
  id: string;
  type: string;
  outcome: string;
  tool?: string;
  actor: Record<string, string | undefined>;
  params?: Record<string, unknown>;
}

let server: Server;
let browser: Browser;
let adminContext: BrowserContext;
let admin: Page;

/** The audit trail through the bootstrap credential (the automation path, unchanged). */
async function trail(query: string): Promise<RawEvent[]> {
  const r = await fetch(`${server.url}/admin/audit/events?${query}`, { headers: { authorization: `Bearer ${server.adminSecret}` } });
  expect(r.status).toBe(200);
  return (await r.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as RawEvent);
}

async function keyCount(): Promise<number> {
  const r = await fetch(`${server.url}/admin/keys`, { headers: { authorization: `Bearer ${server.adminSecret}` } });
  return ((await r.json()) as { keys: unknown[] }).keys.length;
}

beforeAll(async () => {
  // One administrator by verified email, one by upstream subject (the local provider's sub is user-<login>).
  server = await startServer({ vars: { ADMIN_USERS: `${ADMIN_EMAIL}, user-console-second` } });
  mkdirSync(SHOTS, { recursive: true });
  ({ browser, context: adminContext, page: admin } = await adminBrowser(server.url, ADMIN, { viewport: { width: 1280, height: 900 } }));
});

afterAll(async () => {
  await adminContext?.close();
  await browser?.close();
  await server?.close();
});

describe('an administrator signs in through the local provider', () => {
  it('lands on the Overview with a short-lived, HttpOnly, SameSite=Strict session cookie; the sign-in is audited naming them', async () => {
    await expect(admin.locator('h1').textContent()).resolves.toBe('Overview');
    const cookies = await adminContext.cookies(server.url);
    const session = cookies.find((c) => c.name === 'mcp_admin');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect((session?.expires ?? 0) * 1000 - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    expect(cookies.find((c) => c.name === 'mcp_admin_flow')).toBeUndefined();
    await until(async () => (await trail('type=auth.sign_in')).some((e) => e.actor.admin === ADMIN_EMAIL));
    const signIns = (await trail('type=auth.sign_in')).filter((e) => e.actor.email === ADMIN_EMAIL);
    expect(signIns[0]).toMatchObject({ outcome: 'success', actor: { admin: ADMIN_EMAIL, upstream_subject: `user-${ADMIN}` }, params: { console: true, administrator: true } });
  });

  it('every page is served with a strict CSP (no inline script), unframeable, never cached', async () => {
    const response = await admin.goto(`${server.url}/admin/console/keys`);
    const headers = response?.headers() ?? {};
    expect(response?.status()).toBe(200);
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['cache-control']).toBe('no-store');
    expect(await admin.locator('script:not([src])').count()).toBe(0);
  });

  it('creates a key (shown once), uses it from the MCP SDK client, finds the call on the Audit page, revokes it, and the next call gets 401', async () => {
    await admin.goto(`${server.url}/admin/console/keys`);
    await admin.locator('#agent_name').fill('Console Agent <b>');
    await admin.locator('#owner').fill('owner-console');
    const created = admin.waitForResponse((r) => r.url().endsWith('/admin/console/keys/create'));
    await admin.getByRole('button', { name: 'Create key' }).click();
    expect((await created).status()).toBe(201);
    const key = (await admin.locator('#new-key').textContent()) ?? '';
    expect(key).toMatch(/^mcpk_/);
    // The self-asserted name is text, not markup.
    await expect(admin.locator('main').textContent()).resolves.toContain('Console Agent <b>');
    await admin.screenshot({ path: path.join(SHOTS, 'key-created.png') });

    const client = new Client({ name: 'console-e2e', version: '1.0.0' }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    await client.connect(transport);
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 7 } });
    expect(result.structuredContent).toMatchObject({ id: 7 });

    // The call reaches the trail through the session's outbox; the Audit page, filtered by the agent, shows it.
    await until(async () => (await trail('type=tool.call&agent=console-agent-b')).length > 0);
    await admin.goto(`${server.url}/admin/console/audit?agent=console-agent-b&type=tool.call`);
    const rows = admin.locator('#audit-rows tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().textContent()).resolves.toContain('get_customer');
    await expect(rows.first().textContent()).resolves.toContain('agent console-agent-b');

    await admin.goto(`${server.url}/admin/console/keys`);
    const row = admin.locator('#keys tbody tr', { hasText: 'Console Agent <b>' });
    await expect(row.locator('td').nth(6).textContent()).resolves.not.toBe('—'); // last use is shown
    const revoked = admin.waitForResponse((r) => r.url().endsWith('/admin/console/keys/revoke'));
    await row.getByRole('button', { name: 'Revoke' }).click();
    expect((await revoked).status()).toBe(200);
    await expect(admin.locator('h1').textContent()).resolves.toBe('Key revoked');

    const error = await client.callTool({ name: 'get_customer', arguments: { customer_id: 7 } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    await client.close().catch(() => undefined);

    // Both changes are in the trail naming the administrator (besides the key's own key.created / key.revoked).
    await until(async () => (await trail('type=admin.action')).filter((e) => e.actor.admin === ADMIN_EMAIL).length >= 2);
    const actions = (await trail('type=admin.action')).filter((e) => e.actor.admin === ADMIN_EMAIL);
    expect(actions.map((e) => [e.outcome, e.params?.route])).toEqual([
      ['success', '/admin/keys'],
      ['success', '/admin/keys/:id/revoke'],
    ]);
    // And so are the page views (reads).
    const reads = (await trail('type=admin.read')).filter((e) => e.actor.admin === ADMIN_EMAIL).map((e) => e.params?.route);
    expect(reads).toEqual(expect.arrayContaining(['/admin', '/admin/console/keys', '/admin/console/audit']));
  });

  it('a change posted without its CSRF token is refused (403) with nothing changed, on the console form and on the admin API', async () => {
    await admin.goto(`${server.url}/admin/console/keys`);
    const before = await keyCount();
    const form = await pageFetch(admin, '/admin/console/keys/create', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'agent_name=csrf&owner=csrf&scopes=support%3Aread' });
    expect(form.status).toBe(403);
    expect(form.text).toContain('nothing was done');
    const wrong = await pageFetch(admin, '/admin/console/keys/create', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${'A'.repeat(43)}&agent_name=csrf&owner=csrf&scopes=support%3Aread` });
    expect(wrong.status).toBe(403);
    const body = JSON.stringify({ agent_name: 'csrf', owner: 'csrf', scopes: ['support:read'] });
    const api = await pageFetch(admin, '/admin/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(api.status).toBe(403);
    expect(JSON.parse(api.text)).toEqual({ error: 'forbidden', error_description: 'the CSRF token is missing or wrong' });
    expect(await keyCount()).toBe(before);
    // With the page's token the same request goes through: the session is what the API accepted.
    const ok = await pageFetch(admin, '/admin/keys', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': await csrfOf(admin) }, body });
    expect(ok.status).toBe(201);
    expect(await keyCount()).toBe(before + 1);
  });

  it('every page has no serious or critical axe-core violation; a screenshot of each is written', async () => {
    for (const name of PAGES) {
      const response = await admin.goto(`${server.url}/admin/console/${name}`);
      expect(response?.status(), name).toBe(200);
      const serious = (await axeViolations(admin)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious, name).toEqual([]);
      await admin.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    }
  });

  it('signing out ends the console session in this browser (401 sign-in page after it)', async () => {
    const context = await browser.newContext();
    const { page } = await signIn(context, server.url, 'console-second');
    await page.waitForURL(`${server.url}/admin`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Signed out');
    expect((await page.goto(`${server.url}/admin`))?.status()).toBe(401);
    await context.close();
  });
});

describe('a person who is not an administrator', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await browser.newContext();
    const signedIn = await signIn(context, server.url, 'console-visitor');
    expect(signedIn.status).toBe(403);
    page = signedIn.page;
  });
  afterAll(async () => {
    await context?.close();
  });

  it('gets 403 on every console page', async () => {
    for (const p of ['/admin', ...PAGES.map((n) => `/admin/console/${n}`)]) {
      const response = await page.goto(`${server.url}${p}`);
      expect(response?.status(), p).toBe(403);
      await expect(page.locator('h1').textContent()).resolves.toBe('Not an administrator');
      expect(await page.locator('nav').count()).toBe(0);
    }
  });

  it('gets 403 on every admin API endpoint, reads and changes, and nothing changes', async () => {
    const before = await keyCount();
    const reads = ['/admin/keys', '/admin/clients', '/admin/audit/events', `/admin/keys/${'A'.repeat(43)}`, '/admin/alerts'];
    for (const p of reads) {
      const r = await pageFetch(page, p);
      expect(r.status, p).toBe(403);
      expect(JSON.parse(r.text), p).toEqual({ error: 'forbidden', error_description: 'console-visitor@example.test is not an administrator (ADMIN_USERS)' });
    }
    const json = { 'content-type': 'application/json' };
    for (const [p, body] of [
      ['/admin/keys', { agent_name: 'x', owner: 'x', scopes: ['support:read'] }],
      ['/admin/clients', { client_name: 'x', owner: 'x', scope: 'support:read', jwks: { keys: [] } }],
      [`/admin/grants/${'A'.repeat(43)}/revoke`, {}],
    ] as const) {
      expect((await pageFetch(page, p, { method: 'POST', headers: json, body: JSON.stringify(body) })).status, p).toBe(403);
    }
    for (const action of ['keys/create', 'keys/revoke', 'clients/create', 'grants/revoke', 'alerts/ack']) {
      expect((await pageFetch(page, `/admin/console/${action}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'agent_name=x' })).status, action).toBe(403);
    }
    expect(await keyCount()).toBe(before);
    // Their sign-in is in the trail, refused.
    const signIns = (await trail('type=auth.sign_in')).filter((e) => e.actor.email === 'console-visitor@example.test');
    expect(signIns.map((e) => [e.outcome, e.actor.admin])).toEqual([['denied', undefined]]);
  });
});
