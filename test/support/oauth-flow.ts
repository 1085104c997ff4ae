// The whole OAuth sign-in over plain HTTP (no browser): register, authorize, consent, upstream login, callback, token. Runs in workerd and Node.

/** How to reach the two servers: ours (SELF.fetch in workerd, fetch in Node) and the upstream provider. */
export interface FlowFetchers {
  server: (url: string, init?: RequestInit) => Promise<Response>;
  idp: (url: string, init?: RequestInit) => Promise<Response>;
}

/** A signed-in client: its registration and the tokens it got. */
export interface SignedIn {
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  accessToken: string;
  refreshToken: string;
  scope: string;
  expiresIn: number;
}

/** A tiny cookie jar that honours cookie paths (the upstream provider scopes its cookies by path). */
export class CookieJar {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  /** Stores the cookies a response sets. */
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = (pair ?? '').indexOf('=');
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const path = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.#cookies.delete(`${name}@${path}`);
      else this.#cookies.set(`${name}@${path}`, { value, path });
    }
  }

  /** The Cookie header for a URL path. */
  header(url: string): string {
    const path = new URL(url).pathname;
    return [...this.#cookies.entries()]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([key, c]) => `${key.slice(0, key.lastIndexOf('@'))}=${c.value}`)
      .join('; ');
  }
}

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** A PKCE verifier and its S256 challenge. */
export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return { verifier, challenge: b64url(digest) };
}

/** Registers a client with Dynamic Client Registration; a random address keeps tests clear of the rate limit. */
export async function registerClient(
  server: string,
  fetchers: FlowFetchers,
  metadata: Record<string, unknown> = {},
): Promise<{ clientId: string; clientSecret?: string; redirectUri: string; response: Record<string, unknown> }> {
  const redirectUri = 'http://127.0.0.1:9/callback';
  const body = { redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'Test client', ...metadata };
  const response = await fetchers.server(`${server}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': `198.51.100.${Math.floor(Math.random() * 250)}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${JSON.stringify(json)}`);
  return { clientId: String(json.client_id), ...(typeof json.client_secret === 'string' ? { clientSecret: json.client_secret } : {}), redirectUri: (body.redirect_uris)[0] as string, response: json };
}

/** Reads the consent form's hidden fields. */
export function consentFields(html: string): { txn: string; csrf: string } {
  const txn = /name="txn" value="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!txn || !csrf) throw new Error(`not a consent page: ${html.slice(0, 300)}`);
  return { txn, csrf };
}

/** Signs in at the upstream provider's login form, following its redirects until it sends the browser back to us. */
export async function upstreamLogin(startUrl: string, login: string, fetchers: FlowFetchers, jar: CookieJar, action: 'login' | 'deny' = 'login'): Promise<string> {
  let url = startUrl;
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetchers.idp(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
    jar.take(response);
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location') ?? '', url).toString();
      if (!location.startsWith(new URL(startUrl).origin)) return location;
      url = location;
      continue;
    }
    const html = await response.text();
    if (response.status !== 200 || !html.includes('name="login"')) throw new Error(`unexpected upstream page ${response.status}: ${html.slice(0, 300)}`);
    const form = new URLSearchParams(action === 'login' ? { login, password: 'x', action: 'login' } : { login, deny: 'yes' });
    const posted = await fetchers.idp(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(url) }, body: form.toString() });
    jar.take(posted);
    url = new URL(posted.headers.get('location') ?? '', url).toString();
    if (!url.startsWith(new URL(startUrl).origin)) return url;
  }
  throw new Error('too many upstream redirects');
}

/** Runs /authorize → consent → upstream login → callback and returns the client's redirect (code or error). */
export async function authorize(
  server: string,
  fetchers: FlowFetchers,
  p: { clientId: string; redirectUri: string; challenge: string; scope?: string; state?: string; login?: string; jar?: CookieJar },
): Promise<URL> {
  const jar = p.jar ?? new CookieJar();
  const query = new URLSearchParams({ response_type: 'code', client_id: p.clientId, redirect_uri: p.redirectUri, code_challenge: p.challenge, code_challenge_method: 'S256', state: p.state ?? 'st-1', resource: `${server}/mcp` });
  if (p.scope) query.set('scope', p.scope);
  const authUrl = `${server}/authorize?${query}`;
  const page = await fetchers.server(authUrl, { redirect: 'manual', headers: { cookie: jar.header(authUrl) } });
  jar.take(page);
  let upstream: string;
  if (page.status === 200) {
    const fields = consentFields(await page.text());
    const consent = await fetchers.server(`${server}/authorize/consent`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(`${server}/authorize/consent`) },
      body: new URLSearchParams({ ...fields, decision: 'approve' }).toString(),
    });
    if (consent.status !== 303) throw new Error(`consent failed: ${consent.status} ${await consent.text()}`);
    upstream = consent.headers.get('location') ?? '';
  } else if (page.status === 302) {
    upstream = page.headers.get('location') ?? '';
  } else {
    throw new Error(`authorize failed: ${page.status} ${await page.text()}`);
  }
  const callback = await upstreamLogin(upstream, p.login ?? 'alice', fetchers, jar);
  const back = await fetchers.server(callback, { redirect: 'manual', headers: { cookie: jar.header(callback) } });
  jar.take(back);
  if (back.status !== 302) throw new Error(`callback failed: ${back.status} ${await back.text()}`);
  return new URL(back.headers.get('location') ?? '');
}

/** POSTs a form to /token and returns status and JSON. */
export async function tokenRequest(server: string, fetchers: FlowFetchers, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetchers.server(`${server}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

/** The whole flow: a new public client signs in as `login` and gets tokens. */
export async function signIn(server: string, fetchers: FlowFetchers, options: { login?: string; scope?: string } = {}): Promise<SignedIn> {
  const client = await registerClient(server, fetchers);
  const { verifier, challenge } = await pkcePair();
  const back = await authorize(server, fetchers, { clientId: client.clientId, redirectUri: client.redirectUri, challenge, scope: options.scope, login: options.login });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back}`);
  const token = await tokenRequest(server, fetchers, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier, client_id: client.clientId, resource: `${server}/mcp` });
  if (token.status !== 200) throw new Error(`token failed: ${token.status} ${JSON.stringify(token.body)}`);
  return {
    clientId: client.clientId,
    redirectUri: client.redirectUri,
    accessToken: String(token.body.access_token),
    refreshToken: String(token.body.refresh_token),
    scope: String(token.body.scope),
    expiresIn: Number(token.body.expires_in),
  };
}

/** Plays the person for an authorization URL someone else built: consent, upstream login, then follows the final redirect. */
export async function playPerson(authorizationUrl: string, fetchers: FlowFetchers, login = 'conformance'): Promise<void> {
  const jar = new CookieJar();
  const server = new URL(authorizationUrl).origin;
  const page = await fetchers.server(authorizationUrl, { redirect: 'manual' });
  jar.take(page);
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${await page.text()}`);
  const consent = await fetchers.server(`${server}/authorize/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(`${server}/authorize/consent`) },
    body: new URLSearchParams({ ...consentFields(await page.text()), decision: 'approve' }).toString(),
  });
  const callback = await upstreamLogin(consent.headers.get('location') ?? '', login, fetchers, jar);
  const back = await fetchers.server(callback, { redirect: 'manual', headers: { cookie: jar.header(callback) } });
  const location = back.headers.get('location');
  if (back.status !== 302 || !location) throw new Error(`callback answered ${back.status}`);
  await fetch(location);
}
