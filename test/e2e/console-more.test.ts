// End to end (wrangler dev + headless Chromium), issue 12's last three: an administrator disables a client on the Clients page and the SDK client's next call gets 401; the Sessions page lists the session an SDK client opened and End ends it alone; the Overview shows audit delivery measured, with the SIEM webhook down and back.
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryView } from '../../src/audit/delivery-stats.ts';
import { adminBrowser, axeViolations, pageFetch, signIn, until } from '../support/console.ts';
import { signIn as oauthSignIn, type FlowFetchers } from '../support/oauth-flow.ts';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console-screenshots');
const FETCHERS: FlowFetchers = { server: (u, i) => fetch(u, i), idp: (u, i) => fetch(u, i) };
const SECRET = randomBytes(32).toString('base64url');

let receiver: http.Server;
/** While true the SIEM webhook answers 503. */
let webhookDown = false;
let server: Server;
let browser: Browser;
let adminContext: BrowserContext;
let admin: Page;

function bootstrap(): Record<string, string> {
  return { authorization: `Bearer ${server.adminSecret}` };
}

async function delivery(): Promise<DeliveryView> {
  const r = await fetch(`${server.url}/admin/audit/delivery?minutes=15`, { headers: bootstrap() });
  expect(r.status).toBe(200);
  return (await r.json()) as DeliveryView;
}

async function createKey(agent: string): Promise<string> {
  const r = await fetch(`${server.url}/admin/keys`, { method: 'POST', headers: { ...bootstrap(), 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: agent, owner: 'owner-more', scopes: ['support:read'] }) });
  expect(r.status).toBe(201);
  return String(((await r.json()) as { key: string }).key);
}

async function sdkClient(credential: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'console-more-e2e', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${credential}` } } });
  await client.connect(transport);
  return { client, transport };
}

async function callFails(client: Client): Promise<number | undefined> {
  const error = await client.callTool({ name: 'get_customer', arguments: { customer_id: 7 } }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StreamableHTTPError);
  return (error as StreamableHTTPError).code;
}

async function expectAccessible(name: string): Promise<void> {
  const serious = (await axeViolations(admin)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, name).toEqual([]);
  await admin.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = webhookDown ? 503 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/audit`;
  server = await startServer({ vars: { ADMIN_USERS: 'more-admin@example.test', AUDIT_WEBHOOK_URL: webhook, AUDIT_WEBHOOK_SECRET: SECRET } });
  mkdirSync(SHOTS, { recursive: true });
  ({ browser, context: adminContext, page: admin } = await adminBrowser(server.url, 'more-admin', { viewport: { width: 1280, height: 900 } }));
});

afterAll(async () => {
  await adminContext?.close();
  await browser?.close();
  await server?.close();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

describe('the Clients page disables a client', () => {
  it('an administrator disables the client an SDK client signed in with; its next call gets 401, and the page shows it disabled', async () => {
    const person = await oauthSignIn(server.url, FETCHERS, { login: 'more-person' });
    const { client } = await sdkClient(person.accessToken);
    expect((await client.callTool({ name: 'get_customer', arguments: { customer_id: 7 } })).structuredContent).toMatchObject({ id: 7 });

    await admin.goto(`${server.url}/admin/console/clients`);
    const row = admin.locator('#clients tbody tr', { hasText: person.clientId });
    await expect(row.locator('td').nth(7).textContent()).resolves.toContain('Enabled');
    const posted = admin.waitForResponse((r) => r.url().endsWith('/admin/console/clients/disable'));
    await row.getByRole('button', { name: 'Disable' }).click();
    expect((await posted).status()).toBe(200);
    await expect(admin.locator('h1').textContent()).resolves.toBe('Client disabled');
    await expect(admin.locator('main').textContent()).resolves.toContain('1 live grant(s) revoked');

    expect(await callFails(client)).toBe(401);
    await client.close().catch(() => undefined);

    await admin.goto(`${server.url}/admin/console/clients`);
    await expect(admin.locator('#clients tbody tr', { hasText: person.clientId }).locator('td').nth(7).textContent()).resolves.toContain('Disabled');
    await expectAccessible('clients-disabled');
  });
});

describe('the Sessions page lists open sessions and ends one', () => {
  it('lists the session the SDK client opened; End ends that one (404 next), the other session of the same key keeps working', async () => {
    const key = await createKey('Sessions Agent');
    const one = await sdkClient(key);
    const two = await sdkClient(key);
    const oneId = one.transport.sessionId ?? '';
    const twoId = two.transport.sessionId ?? '';
    expect(oneId).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await admin.goto(`${server.url}/admin/console/sessions`);
    const row = admin.locator('#sessions tbody tr', { hasText: oneId.slice(0, 12) });
    await expect(row.count()).resolves.toBe(1);
    await expect(row.textContent()).resolves.toContain('agent sessions-agent');
    await expect(row.textContent()).resolves.toContain('2025-11-25');
    await expect(admin.locator('main').textContent()).resolves.toContain('stateless 2026-07-28');
    await expectAccessible('sessions-open');

    // Without the page's CSRF token nothing is ended.
    const refused = await pageFetch(admin, '/admin/console/sessions/end', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `session_id=${oneId}` });
    expect(refused.status).toBe(403);
    expect((await one.client.callTool({ name: 'get_customer', arguments: { customer_id: 7 } })).structuredContent).toMatchObject({ id: 7 });

    const posted = admin.waitForResponse((r) => r.url().endsWith('/admin/console/sessions/end'));
    await row.getByRole('button', { name: 'End' }).click();
    expect((await posted).status()).toBe(200);
    await expect(admin.locator('h1').textContent()).resolves.toBe('Session ended');

    expect(await callFails(one.client)).toBe(404);
    expect((await two.client.callTool({ name: 'get_customer', arguments: { customer_id: 8 } })).structuredContent).toMatchObject({ id: 8 });

    await admin.goto(`${server.url}/admin/console/sessions`);
    await expect(admin.locator('#sessions tbody tr', { hasText: oneId.slice(0, 12) }).count()).resolves.toBe(0);
    await expect(admin.locator('#sessions tbody tr', { hasText: twoId.slice(0, 12) }).count()).resolves.toBe(1);
    await one.client.close().catch(() => undefined);
    await two.client.close().catch(() => undefined);
  });
});

describe('the Overview shows audit delivery, measured', () => {
  it('with the SIEM webhook down: the backlog and the last error; back up: the backlog drains and the lag shows the outage', async () => {
    webhookDown = true;
    const key = await createKey('Delivery Agent');
    const { client } = await sdkClient(key);
    await client.callTool({ name: 'get_customer', arguments: { customer_id: 3 } });
    await until(async () => (await delivery()).failing_outboxes > 0, 30_000);
    const failing = await delivery();
    expect(failing.pending).toBeGreaterThan(0);
    expect(failing.last_error).toBe('the audit webhook answered 503');

    await admin.goto(`${server.url}/admin`);
    await expect(admin.locator('#backlog .n').textContent()).resolves.not.toBe('0');
    await expect(admin.locator('#delivery-error').textContent()).resolves.toContain('the audit webhook answered 503');
    await expectAccessible('overview-delivery-failing');

    webhookDown = false;
    await until(async () => (await delivery()).failing_outboxes === 0, 90_000);
    const drained = await delivery();
    // The tool call's event waited for the webhook at least as long as it was down (the outbox's first retry is 2 s after the failure).
    expect(drained.lag_max_ms ?? 0).toBeGreaterThanOrEqual(2000);
    expect(drained.delivered).toBeGreaterThan(0);
    await admin.goto(`${server.url}/admin`);
    await expect(admin.locator('#backlog .n').textContent()).resolves.toBe('0');
    await expect(admin.locator('#lag-max .n').textContent()).resolves.toMatch(/\d/);
    await expectAccessible('overview-delivery');
    await client.close().catch(() => undefined);
  });
});

describe('a person who is not an administrator', () => {
  it('gets 403 on the new pages, API routes and form actions, and nothing changes', async () => {
    const context = await browser.newContext();
    const { page, status } = await signIn(context, server.url, 'more-visitor');
    expect(status).toBe(403);
    for (const p of ['/admin/sessions', '/admin/audit/delivery', `/admin/clients/${'Q'.repeat(32)}`]) {
      expect((await pageFetch(page, p)).status, p).toBe(403);
    }
    const json = { 'content-type': 'application/json' };
    for (const p of [`/admin/clients/${'Q'.repeat(32)}/disable`, `/admin/sessions/${'Q'.repeat(43)}/end`]) {
      expect((await pageFetch(page, p, { method: 'POST', headers: json, body: '{}' })).status, p).toBe(403);
    }
    for (const action of ['clients/disable', 'clients/enable', 'sessions/end']) {
      expect((await pageFetch(page, `/admin/console/${action}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=x' })).status, action).toBe(403);
    }
    await context.close();
  });
});
