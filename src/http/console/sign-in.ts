/**
 * Administrators sign in through the same upstream OpenID provider as everyone, in a flow of
 * their own (not an OAuth grant for a client): its own state, nonce and PKCE verifier in a
 * signed flow cookie; the provider returns to the usual /oauth/callback, which hands states
 * starting with `adm.` here.
 */
import { newEvent, requestMeta } from '../../audit/emit.ts';
import { adminLabel, isAdministrator, parseAdminUsers } from '../../auth/admin-users.ts';
import { s256Challenge } from '../../auth/pkce.ts';
import { loadConfig } from '../../config.ts';
import type { Env } from '../../env.ts';
import { randomToken } from '../../lib/random.ts';
import { authorizationUrl, discover, signIn, UpstreamError } from '../../upstream/oidc.ts';
import { serverUrls } from '../urls.ts';
import { escapeHtml, pageResponse } from './layout.ts';
import { checkCsrf, clearFlowCookie, clearSessionCookie, flowCookie, readSession, sessionCookie, takeFlow } from './session.ts';

const STATE_PREFIX = 'adm.';

/** True for the state of a console sign-in (the callback routes it here). */
export function isConsoleState(state: string): boolean {
  return state.startsWith(STATE_PREFIX);
}

/** GET /admin/console/signin: a new flow cookie and a redirect to the provider (PKCE S256, state, nonce). */
export async function handleConsoleSignIn(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env);
  const urls = serverUrls(request, config);
  if (!config.UPSTREAM_CLIENT_ID || !env.UPSTREAM_CLIENT_SECRET) return pageResponse(500, 'Sign-in is not configured', '<p>The server has no upstream OpenID client (UPSTREAM_CLIENT_ID, UPSTREAM_CLIENT_SECRET).</p>');
  const now = Date.now();
  const flow = { state: `${STATE_PREFIX}${randomToken()}`, nonce: randomToken(), verifier: randomToken() };
  try {
    const metadata = await discover(config.UPSTREAM_ISSUER, now);
    const location = authorizationUrl(metadata, { clientId: config.UPSTREAM_CLIENT_ID, redirectUri: urls.callback, scope: config.UPSTREAM_SCOPE, state: flow.state, nonce: flow.nonce, challenge: await s256Challenge(flow.verifier) });
    return new Response(null, { status: 302, headers: { location, 'set-cookie': await flowCookie(env, urls.issuer, flow, now), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
  } catch (error) {
    return pageResponse(502, 'Sign-in is unavailable', `<p>${escapeHtml(error instanceof UpstreamError ? error.message : 'the sign-in provider failed')}</p>`);
  }
}

/**
 * The provider's answer to a console sign-in. Whoever signs in gets a console session (so a
 * person who is not an administrator is told so, 403, on every page); administrators are
 * checked against ADMIN_USERS on every request. The answer is a page that moves on to /admin
 * itself: a SameSite=Strict cookie set during a redirect chain that began on another site is
 * not sent on the redirect's next hop.
 */
export async function handleConsoleCallback(request: Request, env: Env, p: { code?: string | undefined; state: string; error?: string | undefined }): Promise<Response> {
  const config = loadConfig(env);
  const urls = serverUrls(request, config);
  const now = Date.now();
  const headers = new Headers({ 'set-cookie': clearFlowCookie(urls.issuer) });
  const flow = await takeFlow(request, env, urls.issuer, p.state, now);
  if (!flow) return pageResponse(400, 'Sign-in failed', '<p>This sign-in was started in another browser, has expired, or was already used. <a href="/admin">Start again</a>.</p>', undefined, undefined, headers);
  if (p.error || !p.code) return pageResponse(403, 'Sign-in cancelled', `<p>The sign-in provider answered ${escapeHtml(p.error ?? 'without a code')}. <a href="/admin">Start again</a>.</p>`, undefined, undefined, headers);
  if (!config.UPSTREAM_CLIENT_ID || !env.UPSTREAM_CLIENT_SECRET) return pageResponse(500, 'Sign-in is not configured', '<p>The server has no upstream OpenID client.</p>', undefined, undefined, headers);
  let identity;
  try {
    const metadata = await discover(config.UPSTREAM_ISSUER, now);
    identity = await signIn(metadata, { clientId: config.UPSTREAM_CLIENT_ID, clientSecret: env.UPSTREAM_CLIENT_SECRET, code: p.code, redirectUri: urls.callback, verifier: flow.verifier, nonce: flow.nonce, now });
  } catch (error) {
    return pageResponse(400, 'Sign-in failed', `<p>${escapeHtml(error instanceof UpstreamError ? error.message : 'the sign-in provider failed')}</p>`, undefined, undefined, headers);
  }
  const person = { subject: identity.subject, email: identity.email, emailVerified: identity.emailVerified };
  const admin = isAdministrator(parseAdminUsers(config.ADMIN_USERS), person);
  const label = adminLabel(person);
  await record(request, env, { user_id: identity.userId, upstream_issuer: identity.issuer, upstream_subject: identity.subject, ...(identity.email ? { email: identity.email } : {}), ...(admin ? { admin: label } : {}) }, admin);
  headers.append('set-cookie', await sessionCookie(env, urls.issuer, { sid: randomToken(), userId: identity.userId, ...person }, now));
  headers.set('refresh', '0; url=/admin');
  const body = admin
    ? '<p>You are signed in. <a href="/admin">Continue to the console</a>.</p>'
    : `<p>You are signed in as ${escapeHtml(label)}, who is not an administrator of this server. An administrator can add you to ADMIN_USERS.</p>`;
  return pageResponse(admin ? 200 : 403, admin ? 'Signed in' : 'Not an administrator', body, undefined, undefined, admin ? headers : new Headers([...headers].filter(([k]) => k !== 'refresh')));
}

/** POST /admin/console/signout (CSRF token required): removes the session cookie. */
export async function handleConsoleSignOut(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env);
  const urls = serverUrls(request, config);
  const session = await readSession(request, env, urls.issuer, Date.now());
  const form = await request.formData().catch(() => null);
  const csrf = form?.get('csrf');
  if (!session || !(await checkCsrf(env, session.sid, typeof csrf === 'string' ? csrf : null))) return pageResponse(403, 'Not signed out', '<p>The sign-out form was not from this session. <a href="/admin">Back to the console</a>.</p>');
  return pageResponse(200, 'Signed out', '<p>You are signed out of the console. <a href="/admin/console/signin">Sign in again</a>.</p>', undefined, undefined, { 'set-cookie': clearSessionCookie(urls.issuer) });
}

async function record(request: Request, env: Env, actor: Record<string, string>, admin: boolean): Promise<void> {
  if (!loadConfig(env).AUDIT_ENABLED) return;
  const event = newEvent({
    type: 'auth.sign_in',
    outcome: admin ? 'success' : 'denied',
    actor,
    params: { console: true, administrator: admin },
    reason: admin ? 'console sign-in of an administrator' : 'console sign-in of a person who is not an administrator',
    meta: requestMeta(request),
  });
  await env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).record(event);
}
