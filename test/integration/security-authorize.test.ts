// SECURITY-CHECKLIST items 1–20: the authorization endpoint, the consent form and PKCE, over HTTP against the real Worker.
import { listDurableObjectIds, runInDurableObject, SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthTransaction } from '../../durable/auth-transaction.ts';
import { authorize, consentFields, CookieJar, pkcePair, registerClient, tokenRequest, upstreamLogin } from '../support/oauth-flow.ts';
import { FETCHERS, ORIGIN } from '../support/mcp-http.ts';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
/** The redirect URI registerClient() registers. */
const LOOPBACK_REDIRECT = 'http://127.0.0.1:9/callback';
const WEB_REDIRECT = 'https://app.example.com/oauth/cb';
const WEB_REDIRECT_WITH_QUERY = 'https://app.example.com/oauth/q?x=1';
const HOSTILE_NAME = '<script>alert(1)</script><b>x</b>';
const CODE = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/;
const FORM = 'application/x-www-form-urlencoded';

type Client = { clientId: string; redirectUri: string };
type Fields = { txn: string; csrf: string };
let app: Client; // dynamically registered public client, redirect http://127.0.0.1:9/callback
let web: Client; // two https redirect URIs (WEB_REDIRECT, WEB_REDIRECT_WITH_QUERY)
let loopbackCb: Client; // http://127.0.0.1/cb (any port)
let localhostCb: Client; // http://localhost/cb (any port)
let hostile: Client; // client_name with HTML, https redirect

beforeAll(async () => {
  app = await registerClient(ORIGIN, FETCHERS);
  web = await registerClient(ORIGIN, FETCHERS, { redirect_uris: [WEB_REDIRECT, WEB_REDIRECT_WITH_QUERY] });
  loopbackCb = await registerClient(ORIGIN, FETCHERS, { redirect_uris: ['http://127.0.0.1/cb'] });
  localhostCb = await registerClient(ORIGIN, FETCHERS, { redirect_uris: ['http://localhost/cb'] });
  hostile = await registerClient(ORIGIN, FETCHERS, { redirect_uris: [WEB_REDIRECT], client_name: HOSTILE_NAME });
});

/** An /authorize URL for `client`: a valid request unless `overrides` change it (undefined removes a parameter). */
function authorizeUrl(client: Client, overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    state: 'st-1',
    ...overrides,
  };
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, value);
  return `${ORIGIN}/authorize?${query}`;
}

/** A GET that does not follow redirects. */
function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(url, { redirect: 'manual', headers });
}

/** POSTs the consent form (or any body) to /authorize/consent. */
function postConsent(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/authorize/consent`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, ...headers }, body: new URLSearchParams(form).toString() });
}

async function txnCount(): Promise<number> {
  return (await listDurableObjectIds(env.AUTH_TXN)).length;
}

/** The stored state of an existing transaction. */
function inspectTxn(txnId: string): Promise<ReturnType<AuthTransaction['inspect']>> {
  return runInDurableObject(env.AUTH_TXN.get(env.AUTH_TXN.idFromName(txnId)), (instance: AuthTransaction) => instance.inspect());
}

/** Asserts the headers every page carries (item 11) and that it is not a redirect; returns the HTML. */
async function expectPage(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(response.headers.get('x-frame-options')).toBe('DENY');
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('access-control-allow-origin')).toBeNull();
  return response.text();
}

/** Asserts a 400 error page with `title` and `message`, no cookie set, and no transaction created since `before`; returns the HTML. */
async function expectErrorPage(response: Response, expected: { title: string; message: string; before: number }): Promise<string> {
  const html = await expectPage(response, 400);
  expect(response.headers.getSetCookie()).toEqual([]);
  expect(html).toContain(`<h1>${escapeHtml(expected.title)}</h1>`);
  expect(html).toContain(escapeHtml(expected.message));
  expect(html).not.toContain('name="csrf"');
  expect(await txnCount()).toBe(expected.before);
  return html;
}

/** Escapes like src/http/pages.ts, to find page text. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The "Return to the application" link of an error page, or null. */
function clientLink(html: string): URL | null {
  const href = /<a href="([^"]*)">Return to the application<\/a>/.exec(html)?.[1];
  return href === undefined ? null : new URL(href.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))));
}

/** Asserts an error page with no link at all (client or redirect URI not trusted). */
function expectNoLink(html: string): void {
  expect(html).not.toContain('<a ');
  expect(clientLink(html)).toBeNull();
}

/** Asserts the page's link is the client's error response: its redirect URI with error, description, state and iss, and no code. */
function expectErrorLink(html: string, expected: { redirectUri: string; error: string; description: string; state?: string }): URL {
  const link = clientLink(html);
  expect(link).not.toBeNull();
  const url = link as URL;
  expect(`${url.origin}${url.pathname}`).toBe(expected.redirectUri);
  expect(url.searchParams.get('error')).toBe(expected.error);
  expect(url.searchParams.get('error_description')).toBe(expected.description);
  expect(url.searchParams.get('state')).toBe(expected.state ?? null);
  expect(url.searchParams.get('iss')).toBe(ORIGIN);
  expect(url.searchParams.has('code')).toBe(false);
  return url;
}

/** The binding cookie a consent page sets. */
function bindingCookie(response: Response): { name: string; value: string; header: string } {
  const [line] = response.headers.getSetCookie();
  const pair = (line ?? '').split(';', 1)[0] ?? '';
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), header: pair };
}

/** Opens the consent page for `url` (fresh browser unless `jar` is given). */
async function openConsent(url: string, jar = new CookieJar()): Promise<{ jar: CookieJar; txn: string; csrf: string; cookie: string; bindingValue: string; html: string; response: Response }> {
  const response = await get(url, { cookie: jar.header(url) });
  jar.take(response);
  const html = await expectPage(response, 200);
  const { txn, csrf } = consentFields(html);
  const binding = bindingCookie(response);
  expect(binding.name).toBe(`mcp_txn_${txn.slice(0, 22)}`);
  return { jar, txn, csrf, cookie: binding.header, bindingValue: binding.value, html, response };
}

/** Asserts a token error: JSON, no-store, no token in the body. */
function expectTokenError(result: Awaited<ReturnType<typeof tokenRequest>>, error: string, description: string): void {
  expect(result.status).toBe(400);
  expect(result.headers.get('content-type')).toBe('application/json');
  expect(result.headers.get('cache-control')).toBe('no-store');
  expect(result.body).toEqual({ error, error_description: description });
}

/** A fresh code for a fresh public client through the real sign-in, with its PKCE verifier. */
async function freshCode(): Promise<{ client: Client; verifier: string; code: string; txnId: string }> {
  const client = await registerClient(ORIGIN, FETCHERS);
  const { verifier, challenge } = await pkcePair();
  const back = await authorize(ORIGIN, FETCHERS, { clientId: client.clientId, redirectUri: client.redirectUri, challenge });
  const code = back.searchParams.get('code') ?? '';
  expect(code).toMatch(CODE);
  return { client, verifier, code, txnId: code.split('.')[0] ?? '' };
}

/** The authorization_code token request form for `c`, with `verifier` (omitted when undefined). */
function codeForm(c: { client: Client; code: string }, verifier: string | undefined): Record<string, string> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code: c.code, redirect_uri: c.client.redirectUri, client_id: c.client.clientId };
  if (verifier !== undefined) form.code_verifier = verifier;
  return form;
}

/** Asserts a successful token response. */
function expectTokens(result: Awaited<ReturnType<typeof tokenRequest>>): void {
  expect(result.status).toBe(200);
  expect(result.headers.get('cache-control')).toBe('no-store');
  expect(result.body).toMatchObject({ token_type: 'Bearer', access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), refresh_token: expect.stringMatching(CODE) });
}

/** Asserts the code is still redeemable: phase 'code', no refresh token issued. */
async function expectCodeUnspent(txnId: string): Promise<void> {
  const state = await inspectTxn(txnId);
  expect(state.txn?.phase).toBe('code');
  expect(state.refreshTokens).toEqual([]);
}

async function metadata(path = '/.well-known/oauth-authorization-server'): Promise<Record<string, unknown>> {
  const response = await get(`${ORIGIN}${path}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  return (await response.json()) as Record<string, unknown>;
}

describe('authorization endpoint (items 1–14)', () => {
  it.each([
    ['a trailing slash', `${WEB_REDIRECT}/`],
    ['the default port :443', 'https://app.example.com:443/oauth/cb'],
    ['an upper-case host', 'https://APP.EXAMPLE.COM/oauth/cb'],
    ['a mixed-case host', 'https://App.example.com/oauth/cb'],
    ['an upper-case scheme', 'HTTPS://app.example.com/oauth/cb'],
    ['an upper-case path', 'https://app.example.com/OAUTH/cb'],
    ['an extra query', `${WEB_REDIRECT}?x=1`],
    ['an extra parameter added to a registered query', `${WEB_REDIRECT_WITH_QUERY}&next=https://evil.example`],
    ['a changed query value', 'https://app.example.com/oauth/q?x=2'],
    ['the registered query dropped', 'https://app.example.com/oauth/q'],
    ['a fragment', `${WEB_REDIRECT}#x`],
    ['a .. segment that normalises to the registered URI', 'https://app.example.com/evil/../oauth/cb'],
    ['a trailing .. segment', `${WEB_REDIRECT}/../cb`],
    ['a %2E%2E segment', 'https://app.example.com/evil/%2E%2E/oauth/cb'],
    ['a lower-case %2e%2e segment', 'https://app.example.com/evil/%2e%2e/oauth/cb'],
    ['a double-encoded %252E%252E segment', 'https://app.example.com/evil/%252E%252E/oauth/cb'],
    ['a double-encoded slash', 'https://app.example.com/oauth%252Fcb'],
    ['a percent-encoded unreserved character', 'https://app.example.com/oauth/%63b'],
    ['userinfo in front of another host', 'https://app.example.com@evil.example/oauth/cb'],
    ['a longer host ending in the registered one', 'https://app.example.com.evil.example/oauth/cb'],
    ['http instead of https', 'http://app.example.com/oauth/cb'],
  ])('1: a redirect_uri with %s is refused with an error page, no redirect and no transaction', async (_why, redirectUri) => {
    const before = await txnCount();
    const html = await expectErrorPage(await get(authorizeUrl(web, { redirect_uri: redirectUri })), {
      title: 'Invalid redirect URI',
      message: 'redirect_uri does not match a registered redirect URI',
      before,
    });
    expectNoLink(html);
    expect(html).not.toContain('evil.example');
  });

  it('1: the byte-identical registered redirect URIs are accepted (control for the cases above)', async () => {
    const before = await txnCount();
    for (const redirectUri of [WEB_REDIRECT, WEB_REDIRECT_WITH_QUERY]) {
      const { txn } = await openConsent(authorizeUrl(web, { redirect_uri: redirectUri }));
      expect((await inspectTxn(txn)).txn?.redirectUri).toBe(redirectUri);
    }
    expect(await txnCount()).toBe(before + 2);
  });

  it.each([
    ['an unknown client_id', { client_id: 'no-such-client' }, 'Unknown application', 'unknown client_id'],
    ['a missing client_id', { client_id: undefined }, 'Invalid request', 'client_id is missing'],
    ['an empty client_id', { client_id: '' }, 'Invalid request', 'client_id is missing'],
  ])('2: %s gets an error page with no link and no transaction', async (_why, overrides, title, message) => {
    const before = await txnCount();
    const html = await expectErrorPage(await get(authorizeUrl(app, overrides)), { title, message, before });
    expectNoLink(html);
  });

  it('3: with several registered redirect URIs, an omitted redirect_uri gets an error page', async () => {
    const before = await txnCount();
    for (const overrides of [{ redirect_uri: undefined }, { redirect_uri: '' }]) {
      const html = await expectErrorPage(await get(authorizeUrl(web, overrides)), {
        title: 'Invalid redirect URI',
        message: 'redirect_uri is required when the client has several registered redirect URIs',
        before,
      });
      expectNoLink(html);
    }
  });

  it('3: with a single registered redirect URI, an omitted redirect_uri uses it (control)', async () => {
    const { txn } = await openConsent(authorizeUrl(app, { redirect_uri: undefined }));
    expect((await inspectTxn(txn)).txn?.redirectUri).toBe(LOOPBACK_REDIRECT);
  });

  it('4: a registered http://127.0.0.1/cb accepts any port, and the code is delivered to the port asked for', async () => {
    for (const redirectUri of ['http://127.0.0.1/cb', 'http://127.0.0.1:49152/cb', 'http://127.0.0.1:80/cb']) {
      const { txn } = await openConsent(authorizeUrl(loopbackCb, { redirect_uri: redirectUri }));
      expect((await inspectTxn(txn)).txn?.redirectUri).toBe(redirectUri);
    }
    const { verifier, challenge } = await pkcePair();
    const back = await authorize(ORIGIN, FETCHERS, { clientId: loopbackCb.clientId, redirectUri: 'http://127.0.0.1:51234/cb', challenge, state: 'port-test' });
    expect(back.host).toBe('127.0.0.1:51234');
    expect(back.pathname).toBe('/cb');
    expect(back.searchParams.get('state')).toBe('port-test');
    expect(back.searchParams.get('iss')).toBe(ORIGIN);
    const code = back.searchParams.get('code') ?? '';
    expect(code).toMatch(CODE);
    const tokens = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:51234/cb', code_verifier: verifier, client_id: loopbackCb.clientId });
    expectTokens(tokens);
  });

  it.each([
    ['another path', 'loopbackCb', 'http://127.0.0.1:51234/other'],
    ['a trailing slash', 'loopbackCb', 'http://127.0.0.1:51234/cb/'],
    ['another loopback address', 'loopbackCb', 'http://127.0.0.2:51234/cb'],
    ['the IPv6 loopback', 'loopbackCb', 'http://[::1]:51234/cb'],
    ['localhost for a registered 127.0.0.1', 'loopbackCb', 'http://localhost:51234/cb'],
    ['127.0.0.1 for a registered localhost', 'localhostCb', 'http://127.0.0.1:51234/cb'],
    ['https instead of http', 'loopbackCb', 'https://127.0.0.1:51234/cb'],
    ['a host that starts with 127.0.0.1', 'loopbackCb', 'http://127.0.0.1.evil.example/cb'],
    ['a port followed by userinfo', 'loopbackCb', 'http://127.0.0.1:80@evil.example/cb'],
    ['port 0', 'loopbackCb', 'http://127.0.0.1:0/cb'],
    ['a port above 65535', 'loopbackCb', 'http://127.0.0.1:65536/cb'],
    ['a port with a leading zero', 'loopbackCb', 'http://127.0.0.1:080/cb'],
  ] as const)('4: a loopback redirect_uri with %s is refused with an error page', async (_why, registered, redirectUri) => {
    const client = registered === 'loopbackCb' ? loopbackCb : localhostCb;
    const before = await txnCount();
    const html = await expectErrorPage(await get(authorizeUrl(client, { redirect_uri: redirectUri })), {
      title: 'Invalid redirect URI',
      message: 'redirect_uri does not match a registered redirect URI',
      before,
    });
    expectNoLink(html);
  });

  // Repeats are refused before the client is looked up, so even a known client's page has no link.
  it.each(['response_type', 'client_id', 'redirect_uri', 'state', 'scope', 'code_challenge', 'code_challenge_method', 'resource'])(
    '5: a repeated %s parameter is invalid_request on an error page, even with an empty second value',
    async (name) => {
      const before = await txnCount();
      for (const extra of ['again', '']) {
        const base = authorizeUrl(app, name === 'scope' ? { scope: 'support:read' } : name === 'resource' ? { resource: `${ORIGIN}/mcp` } : {});
        const html = await expectErrorPage(await get(`${base}&${name}=${encodeURIComponent(extra)}`), {
          title: 'Invalid request',
          message: `parameter ${name} is repeated`,
          before,
        });
        expectNoLink(html);
      }
    },
  );

  it('5: an empty state counts as absent: the transaction keeps no state and the answer carries none', async () => {
    const { txn, csrf, cookie } = await openConsent(authorizeUrl(app, { state: '' }));
    expect((await inspectTxn(txn)).txn?.clientState).toBeUndefined();
    const denied = await postConsent({ txn, csrf, decision: 'deny' }, { cookie });
    expect(denied.status).toBe(303);
    const location = new URL(denied.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.has('state')).toBe(false);
    expect(location.searchParams.get('iss')).toBe(ORIGIN);
  });

  it.each([
    ['code_challenge', { code_challenge: '' }, 'code_challenge is required (PKCE)'],
    ['code_challenge_method', { code_challenge_method: '' }, 'code_challenge_method is required and must be S256'],
    ['response_type', { response_type: '' }, 'response_type is missing'],
  ])('5: an empty %s counts as absent (invalid_request)', async (_name, overrides, description) => {
    const before = await txnCount();
    const html = await expectErrorPage(await get(authorizeUrl(app, overrides)), { title: 'The application sent an invalid request', message: description, before });
    expectErrorLink(html, { redirectUri: LOOPBACK_REDIRECT, error: 'invalid_request', description, state: 'st-1' });
  });

  it.each([
    ['missing', undefined, 'invalid_request', 'response_type is missing'],
    ['token (implicit grant)', 'token', 'unsupported_response_type', 'only response_type=code is supported'],
    ['code id_token (hybrid)', 'code id_token', 'unsupported_response_type', 'only response_type=code is supported'],
    ['upper-case CODE', 'CODE', 'unsupported_response_type', 'only response_type=code is supported'],
    ['unknown', 'banana', 'unsupported_response_type', 'only response_type=code is supported'],
  ])('6: response_type %s → %s on an error page whose link carries the error (no redirect, no transaction)', async (_why, responseType, error, description) => {
    const before = await txnCount();
    const html = await expectErrorPage(await get(authorizeUrl(app, { response_type: responseType })), { title: 'The application sent an invalid request', message: description, before });
    expectErrorLink(html, { redirectUri: LOOPBACK_REDIRECT, error, description, state: 'st-1' });
  });

  // Decision: nothing is redirected to the client before the person acts; a bad request from a
  // registered client is an error page whose link carries the client's error response.
  it.each([
    ['no code_challenge', { code_challenge: undefined }, 'invalid_request', 'code_challenge is required (PKCE)'],
    ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request', 'code_challenge_method must be S256'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'only response_type=code is supported'],
    ['an unknown scope', { scope: 'support:read admin:all' }, 'invalid_scope', "unknown scope: 'admin:all'"],
    ['a foreign resource', { resource: 'https://evil.example/mcp' }, 'invalid_target', `resource must be ${ORIGIN}/mcp`],
  ])('7: a signed-out person is never bounced to the client on error (%s): 400 page, no Location, the error only as a link', async (_why, overrides, error, description) => {
    const before = await txnCount();
    const response = await get(authorizeUrl(app, overrides));
    expect(response.status).not.toBe(302);
    const html = await expectErrorPage(response, { title: 'The application sent an invalid request', message: description, before });
    expectErrorLink(html, { redirectUri: LOOPBACK_REDIRECT, error, description, state: 'st-1' });
  });

  it('7: client input echoed in the error response is cut short and limited to RFC 6749 error_description characters', async () => {
    const before = await txnCount();
    const scope = `support:read "quoted"\\back\u00e9<tag>${'x'.repeat(3000)}`;
    const html = await expectPage(await get(authorizeUrl(app, { scope })), 400);
    expect(await txnCount()).toBe(before);
    const description = clientLink(html)?.searchParams.get('error_description') ?? '';
    expect(clientLink(html)?.searchParams.get('error')).toBe('invalid_scope');
    expect(description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/);
    expect(description.length).toBeLessThanOrEqual(200);
  });

  it('8: denying consent → 303 to the redirect URI with access_denied, the exact state and iss; no code; the transaction ends', async () => {
    const state = 'a b&c=d/é?#%20+';
    const { txn, csrf, cookie } = await openConsent(authorizeUrl(app, { state }));
    const response = await postConsent({ txn, csrf, decision: 'deny' }, { cookie });
    expect(response.status).toBe(303);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(LOOPBACK_REDIRECT);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.getAll('state')).toEqual([state]);
    expect(location.searchParams.get('iss')).toBe(ORIGIN);
    expect(location.searchParams.has('code')).toBe(false);
    expect(await response.text()).toBe('');
    const after = await inspectTxn(txn);
    expect(after.txn?.phase).toBe('ended');
    expect(after.txn?.codeHash).toBeUndefined();
    // The form cannot be used a second time to approve instead.
    const again = await postConsent({ txn, csrf, decision: 'approve' }, { cookie });
    await expectPage(again, 400);
    expect((await inspectTxn(txn)).txn?.phase).toBe('ended');
  });

  it('9: the metadata says authorization_response_iss_parameter_supported and names the issuer', async () => {
    const meta = await metadata();
    expect(meta.issuer).toBe(ORIGIN);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('9: a code redirect carries iss equal to the metadata issuer', async () => {
    const issuer = (await metadata()).issuer;
    const { challenge } = await pkcePair();
    const back = await authorize(ORIGIN, FETCHERS, { clientId: app.clientId, redirectUri: app.redirectUri, challenge, state: 'iss-code' });
    expect(back.searchParams.get('code')).toMatch(CODE);
    expect(back.searchParams.getAll('iss')).toEqual([issuer]);
  });

  it('9: a consent-denied redirect carries iss equal to the metadata issuer', async () => {
    const issuer = (await metadata()).issuer;
    const { txn, csrf, cookie } = await openConsent(authorizeUrl(app, { state: 'iss-deny' }));
    const response = await postConsent({ txn, csrf, decision: 'deny' }, { cookie });
    expect(new URL(response.headers.get('location') ?? '').searchParams.getAll('iss')).toEqual([issuer]);
  });

  it('9: an upstream-denied sign-in redirects with access_denied, the client state and iss', async () => {
    const issuer = (await metadata()).issuer;
    const { jar, txn, csrf } = await openConsent(authorizeUrl(app, { state: 'iss-upstream' }));
    const approved = await postConsent({ txn, csrf, decision: 'approve' }, { cookie: jar.header(`${ORIGIN}/authorize/consent`) });
    expect(approved.status).toBe(303);
    const callback = await upstreamLogin(approved.headers.get('location') ?? '', 'dora', FETCHERS, jar, 'deny');
    expect(callback.startsWith(`${ORIGIN}/oauth/callback?`)).toBe(true);
    const back = await get(callback, { cookie: jar.header(callback) });
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(LOOPBACK_REDIRECT);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('iss-upstream');
    expect(location.searchParams.getAll('iss')).toEqual([issuer]);
    expect(location.searchParams.has('code')).toBe(false);
    expect((await inspectTxn(txn)).txn?.phase).toBe('ended');
  });

  it('9: error-page links carry iss equal to the metadata issuer', async () => {
    const issuer = (await metadata()).issuer;
    for (const overrides of [{ code_challenge: undefined }, { response_type: 'token' }, { scope: 'nope' }]) {
      const html = await expectPage(await get(authorizeUrl(app, overrides)), 400);
      expect(clientLink(html)?.searchParams.getAll('iss')).toEqual([issuer]);
    }
  });

  it.each([
    ['the consent page', () => get(authorizeUrl(app), { origin: 'https://evil.example' }), 200],
    ['an error page', () => get(authorizeUrl(app, { client_id: 'nope' }), { origin: 'https://evil.example' }), 400],
    ['an error page with a link', () => get(authorizeUrl(app, { code_challenge: undefined }), { origin: 'https://evil.example' }), 400],
    ['a CORS preflight', () => SELF.fetch(`${ORIGIN}/authorize`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } }), 404],
    ['the consent POST', () => postConsent({ txn: 'x', csrf: 'y', decision: 'approve' }, { origin: 'https://evil.example' }), 400],
  ])('10: /authorize sends no Access-Control-Allow-Origin (%s, with an Origin header)', async (_why, send, status) => {
    const response = await send();
    await response.arrayBuffer();
    expect(response.status).toBe(status);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('access-control-allow-methods')).toBeNull();
  });

  it.each([
    ['the consent page', () => get(authorizeUrl(app)), 200],
    ['the unknown-client error page', () => get(authorizeUrl(app, { client_id: 'nope' })), 400],
    ['the bad-redirect error page', () => get(authorizeUrl(web, { redirect_uri: `${WEB_REDIRECT}/` })), 400],
    ['the error page with a link', () => get(authorizeUrl(app, { code_challenge_method: 'plain' })), 400],
    ['the consent-form error page', () => postConsent({ txn: 'A'.repeat(43), csrf: 'x', decision: 'approve' }), 400],
    ['the callback error page', () => get(`${ORIGIN}/oauth/callback?code=x&state=y`), 400],
  ])("11: %s is unframeable: CSP frame-ancestors 'none', X-Frame-Options DENY, Referrer-Policy no-referrer", async (_why, send, status) => {
    const response = await send();
    await expectPage(response, status);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp.split(';').map((d) => d.trim())).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
  });

  it('12: after the consent POST the redirect is 303 (never 307), for approve and for deny', async () => {
    for (const decision of ['approve', 'deny']) {
      const { txn, csrf, cookie } = await openConsent(authorizeUrl(app));
      const response = await postConsent({ txn, csrf, decision }, { cookie });
      expect(response.status).toBe(303);
      expect([307, 308]).not.toContain(response.status);
      expect(response.headers.get('location')).toBeTruthy();
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      const location = new URL(response.headers.get('location') ?? '');
      if (decision === 'approve') {
        expect(location.origin).toBe(new URL(env.UPSTREAM_ISSUER ?? '').origin);
        expect((await inspectTxn(txn)).txn?.phase).toBe('upstream');
      } else {
        expect(`${location.origin}${location.pathname}`).toBe(LOOPBACK_REDIRECT);
      }
    }
  });

  // There is no return-to parameter anywhere: the only destinations are the registered
  // redirect URI and the upstream provider. These tests document that absence.
  it('13: return-to style parameters on /authorize are ignored: consent page, no redirect, nothing stored', async () => {
    const evil = 'https://evil.example/steal';
    const url = `${authorizeUrl(app)}&${new URLSearchParams({ return_to: evil, returnTo: evil, next: evil, redirect: evil, redirect_url: evil, continue: evil, goto: evil })}`;
    const { txn, csrf, cookie, html } = await openConsent(url);
    expect(html).not.toContain('evil.example');
    const stored = (await inspectTxn(txn)).txn;
    expect(JSON.stringify(stored)).not.toContain('evil.example');
    const denied = await postConsent({ txn, csrf, decision: 'deny', next: evil, return_to: evil }, { cookie });
    expect(denied.status).toBe(303);
    expect(denied.headers.get('location')?.startsWith(`${LOOPBACK_REDIRECT}?`)).toBe(true);
    expect(denied.headers.get('location')).not.toContain('evil.example');
  });

  it('13: a next or return_to field in the consent form does not choose where the browser goes', async () => {
    const evil = 'https://evil.example/steal';
    const { txn, csrf, cookie } = await openConsent(authorizeUrl(app));
    const approved = await postConsent({ txn, csrf, decision: 'approve', next: evil, return_to: evil, redirect_uri: evil }, { cookie });
    expect(approved.status).toBe(303);
    const location = new URL(approved.headers.get('location') ?? '');
    expect(location.origin).toBe(new URL(env.UPSTREAM_ISSUER ?? '').origin);
    expect(location.searchParams.get('redirect_uri')).toBe(`${ORIGIN}/oauth/callback`);
    expect(location.toString()).not.toContain('evil.example');
  });

  it('13: /oauth/callback with a return_to is an error page, not a redirect', async () => {
    const html = await expectPage(await get(`${ORIGIN}/oauth/callback?return_to=https://evil.example/steal`), 400);
    expect(html).not.toContain('evil.example');
  });

  describe('14: consent CSRF protection', () => {
    it('14: a consent POST without the binding cookie is refused, and the transaction keeps waiting', async () => {
      const { txn, csrf, cookie } = await openConsent(authorizeUrl(app));
      const html = await expectPage(await postConsent({ txn, csrf, decision: 'approve' }), 400);
      expect(html).toContain('<h1>Session expired</h1>');
      expectNoLink(html);
      expect((await inspectTxn(txn)).txn?.phase).toBe('consent');
      // The real browser can still answer.
      expect((await postConsent({ txn, csrf, decision: 'approve' }, { cookie })).status).toBe(303);
    });

    it("14: a consent POST carrying another transaction's cookie is refused, and the transaction keeps waiting", async () => {
      const victim = await openConsent(authorizeUrl(app));
      const attacker = await openConsent(authorizeUrl(app));
      // The attacker's cookie as the browser would send it (another name): no binding for this txn.
      const byName = await expectPage(await postConsent({ txn: victim.txn, csrf: victim.csrf, decision: 'approve' }, { cookie: attacker.cookie }), 400);
      expect(byName).toContain('<h1>Session expired</h1>');
      // The attacker's binding value placed under the victim's cookie name.
      const forged = `mcp_txn_${victim.txn.slice(0, 22)}=${attacker.bindingValue}`;
      const byValue = await expectPage(await postConsent({ txn: victim.txn, csrf: victim.csrf, decision: 'approve' }, { cookie: forged }), 400);
      expect(byValue).toContain('consent form is not from this browser');
      expectNoLink(byValue);
      expect((await inspectTxn(victim.txn)).txn?.phase).toBe('consent');
      expect((await inspectTxn(attacker.txn)).txn?.phase).toBe('consent');
    });

    it.each([
      ['a wrong csrf', (own: Fields, _other: Fields) => ({ csrf: `${own.csrf.slice(0, -1)}${own.csrf.endsWith('A') ? 'B' : 'A'}` }), 'consent form is not from this browser'],
      ["another transaction's csrf", (_own: Fields, other: Fields) => ({ csrf: other.csrf }), 'consent form is not from this browser'],
      ['no csrf', (_own: Fields, _other: Fields) => ({ csrf: '' }), 'the consent form is incomplete'],
    ])('14: a consent POST with %s is refused with an error page, no redirect, and the transaction keeps waiting', async (_why, change, message) => {
      const own = await openConsent(authorizeUrl(app));
      const other = await openConsent(authorizeUrl(app));
      for (const decision of ['approve', 'deny']) {
        const html = await expectPage(await postConsent({ txn: own.txn, decision, ...change(own, other) }, { cookie: own.cookie }), 400);
        expect(html).toContain(escapeHtml(message));
        expectNoLink(html);
      }
      const state = await inspectTxn(own.txn);
      expect(state.txn?.phase).toBe('consent');
      expect(state.txn?.upstreamStateHash).toBeUndefined();
    });

    it('14: a consent POST that is not a form (JSON, as a cross-site fetch would send) is refused', async () => {
      const { txn, csrf, cookie } = await openConsent(authorizeUrl(app));
      const response = await SELF.fetch(`${ORIGIN}/authorize/consent`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ txn, csrf, decision: 'approve' }) });
      const html = await expectPage(response, 400);
      expect(html).toContain('the consent form was not submitted as a form');
      expect((await inspectTxn(txn)).txn?.phase).toBe('consent');
    });

    it('14: the binding cookie is HttpOnly and SameSite=Lax, and the form fields are 256-bit random values', async () => {
      const { txn, csrf, response } = await openConsent(authorizeUrl(app));
      const [line] = response.headers.getSetCookie();
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Lax/);
      expect(line).toMatch(/; Path=\//);
      expect(txn).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(csrf).not.toBe(txn);
    });
  });

  it('14: the consent page escapes an HTML client_name and marks it as self-asserted', async () => {
    const { html } = await openConsent(authorizeUrl(hostile));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain(`<strong>${escapeHtml(HOSTILE_NAME)}</strong> <span class="muted">(name given by the application)</span>`);
  });

  it("14: the consent page shows the redirect URI's host", async () => {
    const webPage = await openConsent(authorizeUrl(web));
    expect(webPage.html).toContain('you will be sent to <strong>app.example.com</strong>');
    const loopbackPage = await openConsent(authorizeUrl(loopbackCb, { redirect_uri: 'http://127.0.0.1:51234/cb' }));
    expect(loopbackPage.html).toContain('you will be sent to <strong>127.0.0.1:51234</strong>');
  });
});

describe('PKCE (items 15–20)', () => {
  // Decision: at /authorize these are error pages whose link carries invalid_request (item 7 wins over "redirect").
  it.each([
    ['no code_challenge', { code_challenge: undefined }],
    ['no code_challenge but a method', { code_challenge: undefined, code_challenge_method: 'S256' }],
    ['no code_challenge and no method', { code_challenge: undefined, code_challenge_method: undefined }],
  ])('15: %s → invalid_request (error page with the error as a link, no transaction)', async (_why, overrides) => {
    const before = await txnCount();
    const description = 'code_challenge is required (PKCE)';
    const html = await expectErrorPage(await get(authorizeUrl(app, overrides)), { title: 'The application sent an invalid request', message: description, before });
    expectErrorLink(html, { redirectUri: LOOPBACK_REDIRECT, error: 'invalid_request', description, state: 'st-1' });
  });

  it.each([
    ['plain', 'plain', 'code_challenge_method must be S256'],
    ['missing', undefined, 'code_challenge_method is required and must be S256'],
    ['S512', 'S512', 'code_challenge_method must be S256'],
    ['lower-case s256', 's256', 'code_challenge_method must be S256'],
    ['S256 with a trailing space', 'S256 ', 'code_challenge_method must be S256'],
  ])('16: code_challenge_method %s → invalid_request (error page with the error as a link, no transaction)', async (_why, method, description) => {
    const before = await txnCount();
    const html = await expectErrorPage(await get(authorizeUrl(app, { code_challenge_method: method })), { title: 'The application sent an invalid request', message: description, before });
    expectErrorLink(html, { redirectUri: LOOPBACK_REDIRECT, error: 'invalid_request', description, state: 'st-1' });
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['a +', `${'a'.repeat(42)}+`],
    ['a /', `${'a'.repeat(42)}/`],
    ['= padding', `${CHALLENGE}=`],
    ['a space', `${'a'.repeat(42)} `],
    ['a %', `${'a'.repeat(42)}%`],
    ['a non-ASCII letter', `${'a'.repeat(42)}é`],
  ])('17: a code_challenge of %s → invalid_request (error page with the error as a link, no transaction)', async (_why, challenge) => {
    const before = await txnCount();
    const description = 'code_challenge must be 43-128 characters of A-Z a-z 0-9 - . _ ~';
    const html = await expectErrorPage(await get(authorizeUrl(app, { code_challenge: challenge })), { title: 'The application sent an invalid request', message: description, before });
    expectErrorLink(html, { redirectUri: LOOPBACK_REDIRECT, error: 'invalid_request', description, state: 'st-1' });
  });

  it('17: code_challenge of exactly 43 and 128 unreserved characters is accepted (boundaries)', async () => {
    for (const challenge of ['a'.repeat(43), `${'A-Za-z0-9._~'.repeat(10)}${'z'.repeat(8)}`]) {
      const { txn } = await openConsent(authorizeUrl(app, { code_challenge: challenge }));
      expect((await inspectTxn(txn)).txn?.codeChallenge).toBe(challenge);
    }
  });

  it('18: a token request without code_verifier → invalid_grant, no tokens, and the code is not spent', async () => {
    const issued = await freshCode();
    expectTokenError(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued, undefined)), 'invalid_grant', 'code_verifier is required');
    await expectCodeUnspent(issued.txnId);
    expectTokenError(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued, '')), 'invalid_grant', 'code_verifier is required');
    await expectCodeUnspent(issued.txnId);
  });

  it('19: a wrong verifier → invalid_grant, and the right verifier still works afterwards (the code is not burned)', async () => {
    const issued = await freshCode();
    const wrong = (await pkcePair()).verifier;
    expectTokenError(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued, wrong)), 'invalid_grant', 'code_verifier does not match the code_challenge');
    await expectCodeUnspent(issued.txnId);
    // The challenge itself sent as the verifier (a plain downgrade) is just another wrong verifier.
    const challenge = (await inspectTxn(issued.txnId)).txn?.codeChallenge ?? '';
    expectTokenError(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued, challenge)), 'invalid_grant', 'code_verifier does not match the code_challenge');
    await expectCodeUnspent(issued.txnId);
    expectTokens(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued, issued.verifier)));
    expect((await inspectTxn(issued.txnId)).txn?.phase).toBe('granted');
  });

  it('19: a verifier outside 43–128 unreserved characters → invalid_grant without burning the code', async () => {
    const issued = await freshCode();
    for (const verifier of ['a'.repeat(42), 'a'.repeat(129), `${issued.verifier.slice(0, -1)}+`, `${issued.verifier} `, issued.verifier.slice(0, 42)]) {
      expectTokenError(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued, verifier)), 'invalid_grant', 'code_verifier must be 43-128 unreserved characters');
      await expectCodeUnspent(issued.txnId);
    }
    expectTokens(await tokenRequest(ORIGIN, FETCHERS, codeForm(issued, issued.verifier)));
  });

  it.each([
    '/.well-known/oauth-authorization-server',
    '/.well-known/oauth-authorization-server/mcp',
    '/.well-known/openid-configuration',
    '/.well-known/openid-configuration/mcp',
    '/mcp/.well-known/openid-configuration',
  ])("20: %s advertises code_challenge_methods_supported: ['S256'] only", async (path) => {
    const meta = await metadata(path);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.response_types_supported).toEqual(['code']);
  });
});

// The RFC 7636 pair is used for requests that never reach the token endpoint; keep it honest.
it('the fixed PKCE pair used above is the RFC 7636 Appendix B example', async () => {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(VERIFIER)));
  expect(btoa(String.fromCharCode(...digest)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')).toBe(CHALLENGE);
});
