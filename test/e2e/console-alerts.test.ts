// End to end (wrangler dev + headless Chromium): a live alert from the alert hub appears on the console's Alerts page without a reload, and is acknowledged there.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminBrowser } from '../support/console.ts';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

let server: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function rpc(headers: Record<string, string>, id: number, name: string, args: Record<string, unknown>): Promise<Response> {
  return fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) });
}

describe('the Alerts page follows the alert hub live', () => {
  beforeAll(async () => {
    // Baselines that learn within the test (the settings of issue 11's own end-to-end test).
    server = await startServer({ vars: { ADMIN_USERS: 'alerts-admin@example.test', ANOMALY_MIN_CALLS: '5', ANOMALY_MIN_LEARNING_SECONDS: '0', ANOMALY_TOOL_MIN_CALLS: '3' } });
    ({ browser, context, page } = await adminBrowser(server.url, 'alerts-admin'));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });

  it('an anomaly raised after the page loaded appears in its table without a reload, and is acknowledged from it', async () => {
    const loaded = await page.goto(`${server.url}/admin/console/alerts`);
    expect(loaded?.status()).toBe(200);
    await expect(page.locator('#alerts').getAttribute('data-live')).resolves.toBe('true');
    // The page's WebSocket received the hub's state.
    await page.locator('#live-status', { hasText: 'Live: updated' }).waitFor();
    let navigations = 0;
    page.on('framenavigated', () => (navigations += 1));

    const created = await fetch(`${server.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent_name: 'Alerts Agent', owner: 'owner@example.test', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1000, per_seconds: 3600 } }),
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(server.mcpUrl, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'agent', version: '1' } } }) });
    expect(init.status).toBe(200);
    await init.text();
    const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '', 'mcp-protocol-version': '2025-11-25' };
    for (let i = 1; i <= 8; i++) await (await rpc(session, i, 'sql_select', { sql: `SELECT id, name FROM customers WHERE id = ${i}` })).text();
    await (await rpc(session, 50, 'sql_select', { sql: 'SELECT id, name FROM customers WHERE id > 0' })).text();

    const row = page.locator('#alerts tbody tr[data-alert-id]').first();
    await row.waitFor({ timeout: 30_000 });
    expect(navigations).toBe(0);
    await expect(row.textContent()).resolves.toMatch(/anomaly/);
    await expect(page.locator('#open-count').textContent()).resolves.toBe('1');

    const acked = page.waitForResponse((r) => r.url().endsWith('/admin/console/alerts/ack'));
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    expect((await acked).status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toBe('Alert acknowledged');
  });
});
