// Helpers of the console's browser tests: a signed-in administrator's browser, sign in through the local provider, read a page's CSRF token, run axe-core in the page.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AXE = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

/** Signs `login` in to the console of `baseUrl` through the local provider; returns the tab on the page the sign-in ends on (status of that answer too). */
export async function signIn(context: BrowserContext, baseUrl: string, login: string): Promise<{ page: Page; status: number | undefined }> {
  const page = await context.newPage();
  const first = await page.goto(`${baseUrl}/admin`);
  expect(first?.status()).toBe(401);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('anything');
  const callback = page.waitForResponse((r) => new URL(r.url()).pathname === '/oauth/callback');
  await page.locator('button#sign-in').click();
  const answer = await callback;
  return { page, status: answer.status() };
}

/**
 * Headless Chromium with one context in which `login` is signed in to the console of `baseUrl`:
 * the sign-in answered 200 and the tab is on /admin. The browser is closed if that fails.
 */
export async function adminBrowser(baseUrl: string, login: string, options: BrowserContextOptions = {}): Promise<{ browser: Browser; context: BrowserContext; page: Page }> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext(options);
    const signedIn = await signIn(context, baseUrl, login);
    expect(signedIn.status).toBe(200);
    await signedIn.page.waitForURL(`${baseUrl}/admin`);
    return { browser, context, page: signedIn.page };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

/** The CSRF token the console put in the page. */
export async function csrfOf(page: Page): Promise<string> {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return token ?? '';
}

/** One axe-core violation, as the tests report it. */
export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/** Runs axe-core in the page (evaluated through the debugging protocol, so the page's CSP does not block it). */
export async function axeViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const g = globalThis as unknown as { document: unknown; axe: { run: (ctx: unknown, options: object) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: unknown[] }> }> } };
    const result = await g.axe.run(g.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
}

/** In-page fetch (the browser's own cookies and Origin), answering status and body text. */
export function pageFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string }> {
  return page.evaluate(async ({ url, init }) => {
    const r = await fetch(url, init);
    return { status: r.status, text: await r.text() };
  }, { url, init });
}

/** Waits (polling) until `check` answers true or `ms` pass; for deliveries that happen in the background (audit outboxes). */
export async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
