// Local OpenID Connect provider (panva oidc-provider) standing in for Google in development and tests (`--selftest` checks a full code flow).
/*
 * What a client sees (issuer is http://127.0.0.1:<port>, no path):
 *   discovery       GET  /.well-known/openid-configuration
 *   authorization   GET  /auth        (response_type=code only; PKCE S256 required; state, nonce passed through)
 *   token           POST /token       (client_secret_basic or client_secret_post)
 *   userinfo        GET  /me          (Bearer access token)
 *   jwks            GET  /jwks        (one RS256 key, generated at start)
 *   The authorization response also carries `iss` (RFC 9207), which oidc-provider always adds.
 *
 * The login page (our own, no provider consent page ever appears):
 *   GET  /interaction/<uid>   HTML page with
 *     form#login (method=post, action=/interaction/<uid>)
 *     input[name=login]       any non-empty login name works; sub = "user-<login>",
 *                             email = "<login>@example.test" (or the login itself if it contains "@")
 *     input[name=password]    ignored
 *     button#sign-in          (type=submit, name=action, value=login; also the Enter-key default) → code to redirect_uri
 *     button[name=deny]       (type=submit, value=yes) → error=access_denied (with the original state) to redirect_uri
 *     p#login-error           only when the login name was empty (the page is shown again)
 *   POST /interaction/<uid>   the form submission; answers 303 to /auth/<uid>, which answers 303 to redirect_uri.
 *   Grants for the requested scopes are created on sign-in, so the provider never asks for consent.
 *   Error pages (expired interaction, bad request that cannot go back to the client): h1 "Sign-in error",
 *   p#error (the error code), p#error-description.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const SCOPE = 'openid email profile';
const MAX_FORM_BYTES = 64 * 1024;
const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/?$/;
/** The provider's per-route error events (besides `server_error`), printed when `verbose` is on. */
const ERROR_EVENTS = ['authorization.error', 'grant.error', 'userinfo.error', 'end_session.error', 'jwks.error', 'discovery.error', 'pushed_authorization_request.error'];

/**
 * @typedef {object} IdpClient
 * @property {string} client_id
 * @property {string} client_secret
 * @property {string[]} redirect_uris
 */

/**
 * @typedef {object} IdpAccount  the claims released for one login name
 * @property {string} sub
 * @property {string} email
 * @property {boolean} email_verified
 * @property {string} name
 */

/**
 * @typedef {object} Idp
 * @property {string} issuer  e.g. http://127.0.0.1:8788 (no trailing slash)
 * @property {number} port
 * @property {() => Promise<void>} stop  closes the server and every open connection; safe to call twice
 * @property {Map<string, IdpAccount>} accounts  login name → claims; filled on first sign-in, or set entries beforehand to choose claims
 */

/**
 * The account a login name stands for: sub `user-<login>`, email `<login>@example.test`
 * (or the login itself when it already looks like an email address), verified, name = login.
 * @param {string} login
 * @returns {IdpAccount}
 */
export function defaultAccount(login) {
  return {
    sub: `user-${login}`,
    email: login.includes('@') ? login : `${login}@example.test`,
    email_verified: true,
    name: login,
  };
}

/** The models whose entries a grant revocation removes (as in oidc-provider's own memory adapter). */
const GRANT_MEMBERS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/**
 * A per-provider in-memory adapter (oidc-provider's own keeps module-global storage and warns at start).
 * @returns {new (model: string) => object}
 */
function memoryAdapter() {
  /** @type {Map<string, { value: any, expiresAt: number }>} */
  const store = new Map();
  let writes = 0;
  /** @param {string} key */
  const get = (key) => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.value;
  };
  /**
   * @param {string} key
   * @param {any} value
   * @param {number | undefined} expiresIn seconds
   */
  const set = (key, value, expiresIn) => {
    store.set(key, { value, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
    if (++writes % 200 === 0) {
      const now = Date.now();
      for (const [k, entry] of store) if (entry.expiresAt <= now) store.delete(k);
    }
  };
  return class MemoryAdapter {
    /** @param {string} model */
    constructor(model) {
      this.model = model;
    }

    /** @param {string} id */
    key(id) {
      return `${this.model}:${id}`;
    }

    /**
     * @param {string} id
     * @param {any} payload
     * @param {number} [expiresIn]
     */
    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      set(key, payload, expiresIn);
      if (this.model === 'Session' && payload.uid) set(`sessionUid:${payload.uid}`, id, expiresIn);
      if (payload.userCode) set(`userCode:${payload.userCode}`, id, expiresIn);
      if (payload.grantId && GRANT_MEMBERS.has(this.model)) {
        const grantKey = `grant:${this.model}:${payload.grantId}`;
        const members = new Set(get(grantKey) ?? []);
        members.add(key);
        set(grantKey, members, undefined);
      }
    }

    /** @param {string} id */
    async find(id) {
      return get(this.key(id));
    }

    /** @param {string} uid */
    async findByUid(uid) {
      const id = get(`sessionUid:${uid}`);
      return id === undefined ? undefined : this.find(id);
    }

    /** @param {string} userCode */
    async findByUserCode(userCode) {
      const id = get(`userCode:${userCode}`);
      return id === undefined ? undefined : this.find(id);
    }

    /** @param {string} id */
    async consume(id) {
      const payload = get(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    /** @param {string} id */
    async destroy(id) {
      store.delete(this.key(id));
    }

    /** Called once per token model when a grant is revoked: removes that model's tokens of the grant (never interactions or sessions). @param {string} grantId */
    async revokeByGrantId(grantId) {
      const grantKey = `grant:${this.model}:${grantId}`;
      for (const key of get(grantKey) ?? []) store.delete(key);
      store.delete(grantKey);
    }
  };
}

/** @param {unknown} value */
function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * @param {string} title
 * @param {string} body
 */
function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}label,input,button{display:block;width:100%;box-sizing:border-box;margin:.25rem 0}input{padding:.4rem}button{padding:.5rem;margin-top:.75rem}.error{color:#b00020}small{color:#555}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/**
 * @param {{ uid: string, clientId: string, login?: string, error?: string }} options
 */
function loginPage({ uid, clientId, login = '', error }) {
  return page('Sign in — local OpenID provider', `<h1>Sign in</h1>
<p><small>Local OpenID provider for development and tests: any login name works, the password is ignored.
Signing in to <code>${escapeHtml(clientId)}</code>.</small></p>
${error ? `<p id="login-error" class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escapeHtml(uid)}" autocomplete="off">
<label for="login-name">Login name</label>
<input id="login-name" name="login" type="text" value="${escapeHtml(login)}" autofocus>
<label for="login-password">Password</label>
<input id="login-password" name="password" type="password">
<button id="sign-in" type="submit" name="action" value="login">Sign in</button>
<button id="deny" type="submit" name="deny" value="yes">Deny</button>
</form>`);
}

/**
 * @param {string} error
 * @param {string} [description]
 */
function errorPage(error, description) {
  return page('Sign-in error — local OpenID provider', `<h1>Sign-in error</h1>
<p id="error">${escapeHtml(error)}</p>
${description ? `<p id="error-description">${escapeHtml(description)}</p>` : ''}`);
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {string} html
 */
function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'");
  res.end(html);
}

/**
 * Reads an application/x-www-form-urlencoded body (at most 64 KiB).
 * @param {http.IncomingMessage} req
 * @returns {Promise<URLSearchParams>}
 */
async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw Object.assign(new Error('form too large'), { status: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Creates (or completes) the grant for what the interaction asked for, so no consent prompt is needed.
 * @param {Provider} provider
 * @param {any} details  from provider.interactionDetails
 * @param {string} accountId
 * @param {boolean} reuse  extend the interaction's existing grant (consent prompt) instead of starting a new one (login)
 * @returns {Promise<string>} the grant id
 */
async function approveGrant(provider, details, accountId, reuse) {
  const { params, prompt } = details;
  let grant = reuse && details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  if (!grant) grant = new provider.Grant({ accountId, clientId: params.client_id });
  if (typeof params.scope === 'string' && params.scope) grant.addOIDCScope(params.scope);
  const missing = prompt?.details ?? {};
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) grant.addResourceScope(indicator, /** @type {string[]} */ (scopes).join(' '));
  }
  return grant.save();
}

/**
 * GET/POST /interaction/<uid>: our login page and its submission.
 * @param {Provider} provider
 * @param {Map<string, IdpAccount>} accounts
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {string} uid
 */
async function handleInteraction(provider, accounts, req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (error) {
    sendHtml(res, 400, errorPage('invalid_request', `This sign-in request has expired or its cookie is missing; start again from the application. (${/** @type {Error} */ (error).message})`));
    return;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, errorPage('invalid_request', 'This page does not belong to the current sign-in request; start again from the application.'));
    return;
  }
  const promptName = details.prompt?.name;
  const clientId = String(details.params.client_id ?? '');

  if (req.method === 'GET' || req.method === 'HEAD') {
    if (promptName === 'login') {
      sendHtml(res, 200, loginPage({ uid, clientId, login: typeof details.params.login_hint === 'string' ? details.params.login_hint : '' }));
      return;
    }
    if (promptName === 'consent' && details.session?.accountId) {
      const grantId = await approveGrant(provider, details, details.session.accountId, true);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    sendHtml(res, 400, errorPage('invalid_request', `unsupported prompt ${promptName}`));
    return;
  }

  if (req.method !== 'POST') {
    res.setHeader('Allow', 'GET, HEAD, POST');
    sendHtml(res, 405, errorPage('invalid_request', 'method not allowed'));
    return;
  }
  const form = await readForm(req);
  if (form.has('deny')) {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user denied the request.' }, { mergeWithLastSubmission: false });
    return;
  }
  if (promptName === 'consent' && details.session?.accountId) {
    const grantId = await approveGrant(provider, details, details.session.accountId, true);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (promptName !== 'login') {
    sendHtml(res, 400, errorPage('invalid_request', `unsupported prompt ${promptName}`));
    return;
  }
  const login = (form.get('login') ?? '').trim();
  if (!login) {
    sendHtml(res, 200, loginPage({ uid, clientId, error: 'Enter a login name (any name works).' }));
    return;
  }
  let account = accounts.get(login);
  if (!account) {
    account = defaultAccount(login);
    accounts.set(login, account);
  }
  const grantId = await approveGrant(provider, details, account.sub, false);
  await provider.interactionFinished(req, res, { login: { accountId: account.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

/**
 * @param {unknown} clients
 * @returns {IdpClient[]}
 */
function checkClients(clients) {
  if (!Array.isArray(clients) || clients.length === 0) throw new TypeError('startIdp: clients must be a non-empty array');
  return clients.map((client, i) => {
    const { client_id: id, client_secret: secret, redirect_uris: uris } = client ?? {};
    if (typeof id !== 'string' || !id) throw new TypeError(`startIdp: clients[${i}].client_id must be a non-empty string`);
    if (typeof secret !== 'string' || !secret) throw new TypeError(`startIdp: clients[${i}].client_secret must be a non-empty string`);
    if (!Array.isArray(uris) || uris.length === 0 || !uris.every((u) => typeof u === 'string' && URL.canParse(u))) {
      throw new TypeError(`startIdp: clients[${i}].redirect_uris must be a non-empty array of absolute URLs`);
    }
    return { client_id: id, client_secret: secret, redirect_uris: [...uris] };
  });
}

/**
 * Starts a local OpenID Connect provider (panva oidc-provider) for confidential clients using the
 * authorization code flow with PKCE S256, with our own login page (see the comment at the top of this file).
 * @param {object} options
 * @param {IdpClient[]} options.clients  the registered clients (client_secret_basic or client_secret_post)
 * @param {number} [options.port]  port to listen on (default: a free one)
 * @param {string} [options.host]  address to listen on and to name in the issuer (default 127.0.0.1)
 * @param {Iterable<[string, IdpAccount]>} [options.accounts]  login name → claims to use instead of {@link defaultAccount}
 * @param {boolean} [options.verbose]  also print errors the provider sends to clients (invalid_grant, invalid_request, …); server errors are always printed
 * @returns {Promise<Idp>}
 */
export async function startIdp({ clients, port = 0, host = '127.0.0.1', accounts: seed, verbose = false }) {
  const registered = checkClients(clients);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`startIdp: bad port ${port}`);

  /** @type {Map<string, IdpAccount>} */
  const accounts = new Map(seed ?? []);
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), alg: 'RS256', use: 'sig' };
  jwk.kid = await jose.calculateJwkThumbprint(jwk);

  /** @type {((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined} */
  let handler;
  const server = http.createServer((req, res) => {
    if (handler) handler(req, res);
    else sendHtml(res, 503, errorPage('temporarily_unavailable', 'starting'));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;

  /** @param {string} id */
  const accountBySub = (id) => {
    for (const account of accounts.values()) if (account.sub === id) return account;
    return id.startsWith('user-') && id.length > 5 ? defaultAccount(id.slice(5)) : undefined;
  };

  let provider;
  try {
    provider = new Provider(issuer, {
      adapter: memoryAdapter(),
      clients: registered.map((c) => ({
        ...c,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too: the provider treats the two as one
      })),
      clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
      responseTypes: ['code'],
      // oidc-provider 9 has no pkce.methods option: S256 is the only code_challenge_method it accepts.
      pkce: { required: () => true },
      scopes: ['openid', 'email', 'profile'],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      // Like Google: the scope's claims go into the ID token too, not only to userinfo.
      conformIdTokenClaims: false,
      allowOmittingSingleRegisteredRedirectUri: false,
      jwks: { keys: [jwk] },
      cookies: { keys: [crypto.randomBytes(32).toString('base64url'), crypto.randomBytes(32).toString('base64url')] },
      ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: async (ctx, form) => {
            ctx.type = 'html';
            ctx.body = page('Sign out — local OpenID provider', `<h1>Sign out?</h1>${form}<button id="logout" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
          },
          postLogoutSuccessSource: async (ctx) => {
            ctx.type = 'html';
            ctx.body = page('Signed out — local OpenID provider', '<h1>Signed out</h1>');
          },
        },
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: async (_ctx, id) => {
        const account = accountBySub(id);
        if (!account) return undefined;
        return { accountId: account.sub, claims: async () => ({ ...account }) };
      },
      renderError: async (ctx, out) => {
        ctx.type = 'html';
        ctx.body = errorPage(String(out.error ?? 'error'), out.error_description ? String(out.error_description) : undefined);
      },
      clientBasedCORS: () => false,
    });
  } catch (error) {
    server.close();
    throw error;
  }
  provider.proxy = false;
  provider.on('server_error', (_ctx, error) => console.error('local-idp: server_error:', error));
  if (verbose) {
    for (const event of ERROR_EVENTS) {
      provider.on(event, (_ctx, error) => console.error(`local-idp: ${event}: ${error.error ?? error.name}: ${error.error_description ?? error.message}${error.error_detail ? ` (${error.error_detail})` : ''}`));
    }
  }

  const callback = provider.callback();
  const live = provider;
  handler = (req, res) => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const match = INTERACTION_PATH.exec(pathname);
    if (!match) {
      callback(req, res);
      return;
    }
    handleInteraction(live, accounts, req, res, /** @type {string} */ (match[1])).catch((error) => {
      console.error('local-idp: interaction failed:', error);
      if (!res.headersSent) sendHtml(res, error.status ?? 500, errorPage('server_error', error.message));
      else res.end();
    });
  };

  /** @type {Promise<void> | undefined} */
  let stopping;
  return {
    issuer,
    port: actualPort,
    accounts,
    stop() {
      stopping ??= new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// `node test/support/idp.mjs --selftest`

/** A minimal cookie jar: enough for the provider's cookies (host-only, path-scoped, expiring). */
class CookieJar {
  /** @type {Map<string, { name: string, value: string, path: string, expires: number }>} */
  cookies = new Map();

  /** @param {Response} response */
  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), path: '/', expires: Infinity };
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const value = rest.join('=');
        if (/^path$/i.test(key) && value.startsWith('/')) cookie.path = value;
        else if (/^max-age$/i.test(key)) cookie.expires = Date.now() + Number(value) * 1000;
        else if (/^expires$/i.test(key) && cookie.expires === Infinity) cookie.expires = Date.parse(value);
      }
      const key = `${cookie.name}\u0000${cookie.path}`;
      if (!(cookie.expires > Date.now())) this.cookies.delete(key);
      else this.cookies.set(key, cookie);
    }
  }

  /** @param {string} url */
  header(url) {
    const { pathname } = new URL(url);
    const now = Date.now();
    return [...this.cookies.values()]
      .filter((c) => c.expires > now && (pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

/** @param {string} text */
function unescapeHtml(text) {
  return text.replace(/&#(\d+);|&#x([0-9a-f]+);|&(amp|lt|gt|quot);/gi, (_, dec, hex, named) =>
    dec ? String.fromCharCode(Number(dec)) : hex ? String.fromCharCode(parseInt(hex, 16)) : { amp: '&', lt: '<', gt: '>', quot: '"' }[/** @type {'amp'} */ (named.toLowerCase())]);
}

/**
 * Follows redirects (and self-submitting forms) by hand (keeping cookies) until a page, or a redirect to `stopAt`.
 * @param {CookieJar} jar
 * @param {string} url
 * @param {string} stopAt
 * @param {RequestInit} [init]  for the first request only
 * @returns {Promise<{ landed: URL } | { page: Response, url: string }>}
 */
async function browse(jar, url, stopAt, init = {}) {
  let current = url;
  let request = init;
  for (let hop = 0; hop < 10; hop++) {
    const headers = new Headers(request.headers);
    const cookie = jar.header(current);
    if (cookie) headers.set('Cookie', cookie);
    headers.set('Accept', 'text/html');
    const response = await fetch(current, { ...request, headers, redirect: 'manual' });
    // IDP_TRACE=1 prints every hop (method, URL, cookies sent, status, Location, cookies set) to stderr.
    if (process.env.IDP_TRACE) process.stderr.write(`  ${request.method ?? 'GET'} ${current} [${cookie}] → ${response.status} ${response.headers.get('location') ?? ''} ${JSON.stringify(response.headers.getSetCookie())}\n`);
    jar.store(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      const next = new URL(location, current).href;
      if (next.startsWith(stopAt)) return { landed: new URL(next) };
      current = next;
      request = {};
      continue;
    }
    // oidc-provider's self-submitting form (form_post page, e.g. the logout step when another account signs in): submit it like a browser would.
    const html = response.status === 200 && /text\/html/.test(response.headers.get('content-type') ?? '') ? await response.text() : undefined;
    const autoForm = html && /document\.forms\[0\]\.submit\(\)/.test(html) ? /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html) : null;
    if (autoForm) {
      const fields = new URLSearchParams();
      for (const input of (autoForm[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)) fields.append(unescapeHtml(input[1] ?? ''), unescapeHtml(input[2] ?? ''));
      current = new URL(unescapeHtml(autoForm[1] ?? ''), current).href;
      request = { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: fields.toString() };
      continue;
    }
    return { page: html === undefined ? response : new Response(html, { status: response.status, headers: response.headers }), url: current };
  }
  throw new Error(`more than 10 redirects from ${url}`);
}

/** `node test/support/idp.mjs --selftest`: discovery, code flows over plain HTTP, refusals, and (with Chromium) the page in a browser. */
async function selftest() {
  const started = Date.now();
  let failures = 0;
  /** @param {string} message */
  const say = (message) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
  /**
   * @param {string} name
   * @param {() => Promise<string | void>} fn
   */
  const step = async (name, fn) => {
    try {
      const detail = await fn();
      say(`ok   ${name}${detail ? ` — ${detail}` : ''}`);
    } catch (error) {
      failures++;
      say(`FAIL ${name} — ${/** @type {Error} */ (error).stack ?? error}`);
    }
  };
  /**
   * @param {unknown} condition
   * @param {string} message
   * @returns {asserts condition}
   */
  const check = (condition, message) => {
    if (!condition) throw new Error(message);
  };

  const client = { client_id: 'selftest-client', client_secret: crypto.randomBytes(18).toString('base64url'), redirect_uris: ['http://127.0.0.1:9/oauth/callback'] };
  const redirectUri = /** @type {string} */ (client.redirect_uris[0]);
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;
  const idp = await startIdp({ clients: [client], accounts: [['zed', { sub: 'google-1234567890', email: 'zed@corp.test', email_verified: false, name: 'Zed Example' }]] });
  say(`local OpenID provider: ${idp.issuer}`);

  /** @type {any} */
  let meta = {};
  /** @type {ReturnType<typeof jose.createRemoteJWKSet> | undefined} */
  let jwks;

  /** A fresh authorization request: its URL and the secrets the client keeps. */
  const authorization = (/** @type {Record<string, string | undefined>} */ overrides = {}) => {
    const verifier = crypto.randomBytes(32).toString('base64url');
    const state = crypto.randomBytes(12).toString('base64url');
    const nonce = crypto.randomBytes(12).toString('base64url');
    const params = {
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      scope: SCOPE,
      state,
      nonce,
      code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...overrides,
    };
    const url = new URL(meta.authorization_endpoint);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    return { url: url.href, verifier, state, nonce };
  };

  /**
   * Goes to the login page and submits it.
   * @param {CookieJar} jar
   * @param {string} url
   * @param {Record<string, string>} fields
   */
  const signIn = async (jar, url, fields) => {
    const first = await browse(jar, url, redirectUri);
    check('page' in first, `expected the login page, got a redirect to ${'landed' in first ? first.landed : ''}`);
    const html = await first.page.text();
    check(first.page.status === 200, `login page status ${first.page.status}: ${html.slice(0, 300)}`);
    for (const needle of ['name="login"', 'name="password"', 'id="sign-in"', 'name="deny"']) check(html.includes(needle), `login page lacks ${needle}`);
    const action = /<form id="login" method="post" action="([^"]+)"/.exec(html)?.[1];
    check(action, 'login page has no form#login action');
    const target = new URL(unescapeHtml(action), first.url).href;
    const after = await browse(jar, target, redirectUri, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    check('landed' in after, `expected a redirect to ${redirectUri}, got page ${'page' in after ? `${after.page.status} ${await after.page.text()}` : ''}`);
    return { loginPath: new URL(first.url).pathname, landed: after.landed };
  };

  /**
   * @param {Record<string, string>} body
   * @param {Record<string, string>} [headers]
   */
  const tokenRequest = async (body, headers = {}) => {
    const response = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
      body: new URLSearchParams(body).toString(),
    });
    return { status: response.status, json: /** @type {any} */ (await response.json()) };
  };

  /**
   * @param {string} idToken
   * @param {string} nonce
   */
  const verifyIdToken = async (idToken, nonce) => {
    check(jwks, 'no JWKS');
    const { payload, protectedHeader } = await jose.jwtVerify(idToken, jwks, { issuer: idp.issuer, audience: client.client_id, algorithms: ['RS256'] });
    check(payload.nonce === nonce, `nonce ${payload.nonce} !== ${nonce}`);
    return { payload, protectedHeader };
  };

  try {
    await step('discovery', async () => {
      const response = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
      check(response.ok, `status ${response.status}`);
      meta = await response.json();
      check(meta.issuer === idp.issuer, `issuer ${meta.issuer}`);
      for (const key of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) check(typeof meta[key] === 'string' && meta[key].startsWith(idp.issuer), `${key}: ${meta[key]}`);
      check(JSON.stringify(meta.code_challenge_methods_supported) === '["S256"]', `code_challenge_methods_supported ${JSON.stringify(meta.code_challenge_methods_supported)}`);
      check(JSON.stringify(meta.response_types_supported) === '["code"]', `response_types_supported ${JSON.stringify(meta.response_types_supported)}`);
      for (const m of ['client_secret_basic', 'client_secret_post']) check(meta.token_endpoint_auth_methods_supported?.includes(m), `token_endpoint_auth_methods_supported lacks ${m}`);
      for (const s of SCOPE.split(' ')) check(meta.scopes_supported?.includes(s), `scopes_supported lacks ${s}`);
      jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
      return `authorization ${meta.authorization_endpoint}, token ${meta.token_endpoint}, userinfo ${meta.userinfo_endpoint}, jwks ${meta.jwks_uri}; scopes ${meta.scopes_supported.join(' ')}; claims ${meta.claims_supported.join(' ')}`;
    });

    const session = new CookieJar();
    await step('code flow (login "alice", client_secret_basic)', async () => {
      const request = authorization();
      const { loginPath, landed } = await signIn(session, request.url, { login: 'alice', password: 'anything' });
      check(!landed.searchParams.has('error'), `error ${landed.searchParams.get('error')}: ${landed.searchParams.get('error_description')}`);
      const code = landed.searchParams.get('code');
      check(code, `no code in ${landed}`);
      check(landed.searchParams.get('state') === request.state, `state ${landed.searchParams.get('state')} !== ${request.state}`);
      check(landed.searchParams.get('iss') === idp.issuer, `iss ${landed.searchParams.get('iss')}`);
      say(`     login page ${loginPath}; callback ${landed.origin}${landed.pathname}?${[...landed.searchParams.keys()].join('&')}`);

      const token = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: request.verifier }, { Authorization: basic });
      check(token.status === 200, `token status ${token.status}: ${JSON.stringify(token.json)}`);
      check(token.json.token_type === 'Bearer' && token.json.access_token && token.json.id_token, `token response ${JSON.stringify(token.json)}`);
      const { payload, protectedHeader } = await verifyIdToken(token.json.id_token, request.nonce);
      check(protectedHeader.alg === 'RS256', `alg ${protectedHeader.alg}`);
      check(payload.sub === 'user-alice' && payload.email === 'alice@example.test' && payload.email_verified === true && payload.name === 'alice', `claims ${JSON.stringify(payload)}`);
      say(`     token response keys: ${Object.keys(token.json).join(', ')} (scope "${token.json.scope}", expires_in ${token.json.expires_in})`);
      say(`     ID token header ${JSON.stringify(protectedHeader)}`);
      say(`     ID token claims ${JSON.stringify(payload)}`);

      const userinfo = await fetch(meta.userinfo_endpoint, { headers: { Authorization: `Bearer ${token.json.access_token}` } });
      check(userinfo.ok, `userinfo status ${userinfo.status}`);
      const info = await userinfo.json();
      check(info.sub === payload.sub && info.email === payload.email, `userinfo ${JSON.stringify(info)}`);
      say(`     userinfo ${JSON.stringify(info)}`);

      const replay = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: request.verifier }, { Authorization: basic });
      check(replay.status === 400 && replay.json.error === 'invalid_grant', `code replay: ${replay.status} ${JSON.stringify(replay.json)}`);
      return 'ID token verified against the JWKS (iss, aud, nonce); code replay refused with invalid_grant';
    });

    await step('code flow (fresh browser, login "bob@corp.test", client_secret_post; wrong secret first)', async () => {
      const request = authorization();
      const { landed } = await signIn(new CookieJar(), request.url, { login: 'bob@corp.test', password: '' });
      const code = landed.searchParams.get('code');
      check(code && landed.searchParams.get('state') === request.state, `callback ${landed}`);
      const body = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: request.verifier, client_id: client.client_id };
      const wrong = await tokenRequest({ ...body, client_secret: 'wrong' });
      check(wrong.status === 401 && wrong.json.error === 'invalid_client', `wrong secret: ${wrong.status} ${JSON.stringify(wrong.json)}`);
      const token = await tokenRequest({ ...body, client_secret: client.client_secret });
      check(token.status === 200, `token status ${token.status}: ${JSON.stringify(token.json)}`);
      const { payload } = await verifyIdToken(token.json.id_token, request.nonce);
      check(payload.sub === 'user-bob@corp.test' && payload.email === 'bob@corp.test', `claims ${JSON.stringify(payload)}`);
      return `wrong secret → 401 invalid_client; then sub ${payload.sub}, email ${payload.email}`;
    });

    await step('seeded account (accounts option)', async () => {
      const request = authorization();
      const { landed } = await signIn(new CookieJar(), request.url, { login: 'zed', password: '' });
      const code = landed.searchParams.get('code');
      check(code, `callback ${landed}`);
      const token = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: request.verifier }, { Authorization: basic });
      check(token.status === 200, `token status ${token.status}: ${JSON.stringify(token.json)}`);
      const { payload } = await verifyIdToken(token.json.id_token, request.nonce);
      check(payload.sub === 'google-1234567890' && payload.email === 'zed@corp.test' && payload.email_verified === false && payload.name === 'Zed Example', `claims ${JSON.stringify(payload)}`);
      return `sub ${payload.sub}, email ${payload.email}, email_verified ${payload.email_verified}`;
    });

    await step('existing session (alice again): no login page; wrong code_verifier refused', async () => {
      const request = authorization();
      const result = await browse(session, request.url, redirectUri);
      check('landed' in result, `expected a direct redirect, got page ${'page' in result ? result.page.status : ''}`);
      const code = result.landed.searchParams.get('code');
      check(code, `callback ${result.landed}`);
      const token = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: crypto.randomBytes(32).toString('base64url') }, { Authorization: basic });
      check(token.status === 400 && token.json.error === 'invalid_grant', `wrong verifier: ${token.status} ${JSON.stringify(token.json)}`);
      return `wrong verifier → ${token.json.error} (${token.json.error_description})`;
    });

    await step('prompt=login shows the login page despite the session; another account takes over', async () => {
      const request = authorization({ prompt: 'login' });
      const { landed } = await signIn(session, request.url, { login: 'dave', password: 'x' });
      const code = landed.searchParams.get('code');
      check(code && landed.searchParams.get('state') === request.state, `callback ${landed}`);
      const token = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: request.verifier }, { Authorization: basic });
      check(token.status === 200, `token status ${token.status}: ${JSON.stringify(token.json)}`);
      const { payload } = await verifyIdToken(token.json.id_token, request.nonce);
      check(payload.sub === 'user-dave', `sub ${payload.sub}`);
      return `sub ${payload.sub} (the provider first ends alice's session through a self-submitting form to /session/end/confirm)`;
    });

    for (const [name, overrides] of /** @type {const} */ ([
      ['no code_challenge', { code_challenge: undefined, code_challenge_method: undefined }],
      ['code_challenge_method=plain', { code_challenge_method: 'plain' }],
    ])) {
      await step(`authorization request with ${name} is refused`, async () => {
        const request = authorization(overrides);
        const result = await browse(new CookieJar(), request.url, redirectUri);
        if ('landed' in result) {
          const { searchParams } = result.landed;
          check(searchParams.get('error') === 'invalid_request' && !searchParams.has('code'), `callback ${result.landed}`);
          check(searchParams.get('state') === request.state, `state ${searchParams.get('state')}`);
          return `error=invalid_request to the redirect_uri: ${searchParams.get('error_description')}`;
        }
        const html = await result.page.text();
        check(result.page.status >= 400, `status ${result.page.status}`);
        return `error page ${result.page.status}: ${unescapeHtml(/<p id="error">([^<]*)/.exec(html)?.[1] ?? '')}`;
      });
    }

    await step('unregistered redirect_uri shows an error page (no redirect)', async () => {
      const request = authorization({ redirect_uri: 'http://127.0.0.1:9/elsewhere' });
      const result = await browse(new CookieJar(), request.url, 'http://127.0.0.1:9/');
      check('page' in result && result.page.status === 400, `expected an error page, got ${'landed' in result ? result.landed : result.page.status}`);
      const html = await result.page.text();
      return `${result.page.status}: ${unescapeHtml(/<p id="error">([^<]*)/.exec(html)?.[1] ?? '')} — ${unescapeHtml(/<p id="error-description">([^<]*)/.exec(html)?.[1] ?? '')}`;
    });

    await step('deny button yields error=access_denied with the original state', async () => {
      const request = authorization();
      const { landed } = await signIn(new CookieJar(), request.url, { login: 'mallory', password: '', deny: 'yes' });
      check(landed.searchParams.get('error') === 'access_denied', `callback ${landed}`);
      check(landed.searchParams.get('state') === request.state, `state ${landed.searchParams.get('state')} !== ${request.state}`);
      check(!landed.searchParams.has('code'), 'a code came with the denial');
      return `${landed.origin}${landed.pathname}?${landed.searchParams}`;
    });

    await step('empty login name shows the page again with p#login-error', async () => {
      const request = authorization();
      const jar = new CookieJar();
      const first = await browse(jar, request.url, redirectUri);
      check('page' in first, 'no login page');
      await first.page.text();
      const again = await browse(jar, first.url, redirectUri, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'login=+&password=' });
      check('page' in again && again.page.status === 200, 'expected the login page again');
      const html = await again.page.text();
      check(html.includes('id="login-error"'), 'no p#login-error');
    });

    await step('browser (Chromium via playwright-core)', async () => {
      const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
      if (!fs.existsSync(executablePath)) return `skipped: no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`;
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      try {
        /**
         * Opens a new authorization URL in `context` (default: a fresh one), does `act` on the login page,
         * and resolves with the callback URL (intercepted, never fetched).
         * @param {(p: import('playwright-core').Page) => Promise<void>} act
         * @param {{ context?: import('playwright-core').BrowserContext, overrides?: Record<string, string> }} [options]
         */
        const run = async (act, { context: given, overrides } = {}) => {
          const context = given ?? (await browser.newContext());
          try {
            const page = await context.newPage();
            /** @type {(url: URL) => void} */
            let resolveCallback = () => {};
            const callback = new Promise((resolve) => (resolveCallback = resolve));
            await page.route((url) => url.href.startsWith(redirectUri), async (route) => {
              resolveCallback(new URL(route.request().url()));
              await route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback reached' });
            });
            const request = authorization(overrides);
            await page.goto(request.url);
            await page.waitForSelector('input[name=login]', { timeout: 10_000 });
            await act(page);
            const landed = /** @type {URL} */ (await Promise.race([callback, new Promise((_, reject) => setTimeout(() => reject(new Error('no callback within 10 s')), 10_000))]));
            return { landed, request };
          } finally {
            if (!given) await context.close();
          }
        };
        /** @param {string} login */
        const signInAs = (login) => async (/** @type {import('playwright-core').Page} */ page) => {
          await page.fill('input[name=login]', login);
          await page.fill('input[name=password]', 'secret');
          await page.click('#sign-in');
        };
        const ok = await run(signInAs('carol'));
        const code = ok.landed.searchParams.get('code');
        check(code && ok.landed.searchParams.get('state') === ok.request.state, `callback ${ok.landed}`);
        const token = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: ok.request.verifier }, { Authorization: basic });
        check(token.status === 200, `token status ${token.status}: ${JSON.stringify(token.json)}`);
        const { payload } = await verifyIdToken(token.json.id_token, ok.request.nonce);
        check(payload.sub === 'user-carol', `sub ${payload.sub}`);
        const denied = await run(async (page) => {
          await page.click('button[name=deny]');
        });
        check(denied.landed.searchParams.get('error') === 'access_denied' && denied.landed.searchParams.get('state') === denied.request.state, `deny callback ${denied.landed}`);
        const context = await browser.newContext();
        let switched;
        try {
          await run(signInAs('erin'), { context });
          switched = await run(signInAs('frank'), { context, overrides: { prompt: 'login' } });
        } finally {
          await context.close();
        }
        const switchedCode = switched.landed.searchParams.get('code');
        check(switchedCode, `account switch callback ${switched.landed}`);
        const switchedToken = await tokenRequest({ grant_type: 'authorization_code', code: switchedCode, redirect_uri: redirectUri, code_verifier: switched.request.verifier }, { Authorization: basic });
        check(switchedToken.status === 200, `token status ${switchedToken.status}: ${JSON.stringify(switchedToken.json)}`);
        const switchedSub = (await verifyIdToken(switchedToken.json.id_token, switched.request.nonce)).payload.sub;
        check(switchedSub === 'user-frank', `sub ${switchedSub}`);
        return `Chromium ${browser.version()}: filled input[name=login] and input[name=password], clicked #sign-in → code → ID token sub ${payload.sub}; clicked button[name=deny] → error=access_denied; erin then prompt=login as frank in one context → sub ${switchedSub}`;
      } finally {
        await browser.close();
      }
    });
  } finally {
    await step('stop()', async () => {
      await idp.stop();
      const refused = await fetch(`${idp.issuer}/.well-known/openid-configuration`).then(() => false, () => true);
      check(refused, 'still answering after stop()');
      return 'server closed, connections refused';
    });
  }
  say(failures ? `selftest FAILED (${failures} failure${failures > 1 ? 's' : ''})` : 'selftest passed');
  process.exitCode = failures ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--selftest')) {
    await selftest();
  } else {
    process.stderr.write('usage: node test/support/idp.mjs --selftest   (to run the provider, see bin/local-idp.mjs)\n');
    process.exitCode = 2;
  }
}
