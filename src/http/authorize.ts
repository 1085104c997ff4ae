/** GET /authorize and POST /authorize/consent: validate the request, ask consent, send the browser upstream. */
import { requestMeta } from '../audit/emit.ts';
import { sha256Base64url } from '../auth/encoding.ts';
import { idKey, mintId, verifyId } from '../auth/ids.ts';
import { quoteValue } from '../auth/error-text.ts';
import { readParams } from '../auth/params.ts';
import { checkChallengeRequest } from '../auth/pkce.ts';
import { resolveRedirectUri } from '../auth/redirect-uri.ts';
import { formatScope, isSubset, parseScope, SCOPES, type OAuthScope } from '../auth/scopes.ts';
import { signingKeys } from '../auth/signing-keys.ts';
import { loadConfig, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { randomBytes, randomToken } from '../lib/random.ts';
import type { Step } from '../contracts/auth-transaction.ts';
import { authorizationUrl, discover, UpstreamError } from '../upstream/oidc.ts';
import { findClient } from './clients.ts';
import { consentedScope, rememberConsent } from './client-shards.ts';
import { bindingCookieName, readCookie, rememberedUser, setCookie } from './cookies.ts';
import { consentPage, errorPage } from './pages.ts';
import { serverUrls, type ServerUrls } from './urls.ts';

const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'state', 'scope', 'code_challenge', 'code_challenge_method', 'resource'] as const;

/** The client's redirect URI with an OAuth response (code or error), its state and our issuer (RFC 9207). */
export function clientRedirect(redirectUri: string, params: Record<string, string | undefined>, issuer: string): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  url.searchParams.set('iss', issuer);
  return url.toString();
}

/**
 * GET /authorize. Nothing is ever redirected to the client before the person has acted
 * (RFC 9700 §4.11.2): until the client and redirect URI are known every error is a page;
 * after that, an error page offers the client's error response as a link to follow.
 */
export async function handleAuthorize(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env);
  const urls = serverUrls(request, config);
  const now = Date.now();
  const read = readParams(new URL(request.url).searchParams, AUTHORIZE_PARAMS);
  if (!read.ok) return errorPage(400, 'Invalid request', read.description);
  const p = read.params;
  if (!p.client_id) return errorPage(400, 'Invalid request', 'client_id is missing');
  const found = await findClient(env, config, p.client_id, now);
  if (!found.ok) return errorPage(400, 'Unknown application', found.description);
  const client = found.client;
  const resolved = resolveRedirectUri(p.redirect_uri, client.metadata.redirect_uris);
  if (!resolved.ok) return errorPage(400, 'Invalid redirect URI', resolved.description);
  const redirectUri = p.redirect_uri ?? resolved.uri;
  const refuse = (error: string, description: string) =>
    errorPage(400, 'The application sent an invalid request', description, clientRedirect(redirectUri, { error, error_description: description, state: p.state }, urls.issuer));

  if (!p.response_type) return refuse('invalid_request', 'response_type is missing');
  if (p.response_type !== 'code') return refuse('unsupported_response_type', 'only response_type=code is supported');
  const pkce = checkChallengeRequest({ code_challenge: p.code_challenge, code_challenge_method: p.code_challenge_method });
  if (!pkce.ok) return refuse('invalid_request', pkce.description);
  if (p.resource !== undefined && p.resource !== urls.resource) return refuse('invalid_target', `resource must be ${urls.resource}`);
  const scopes = requestedScopes(p.scope, client.metadata.scope);
  if (!scopes.ok) return refuse('invalid_scope', scopes.description);

  const keys = await signingKeys(env.OAUTH_SIGNING_KEY, env.OAUTH_PREVIOUS_PUBLIC_KEYS);
  const knownUser = await rememberedUser(request, keys, urls.issuer, now);
  const scope = formatScope(scopes.scopes);
  const consented = knownUser ? await consentedScope(env, knownUser, client.clientId) : null;
  const consentedScopes = consented === null ? null : parseScope(consented);
  const remembered = consentedScopes?.ok === true && isSubset(scopes.scopes, consentedScopes.scopes);

  const txnId = await mintId(await idKey(env.ID_SECRET), 'txn', randomBytes(16));
  const binding = randomToken();
  const csrf = randomToken();
  const [bindingHash, csrfHash] = await Promise.all([sha256Base64url(binding), sha256Base64url(csrf)]);
  const step = await txnStub(env, txnId).begin(txnId, {
    issuer: urls.issuer,
    resource: urls.resource,
    clientId: client.clientId,
    redirectUri,
    clientState: p.state,
    codeChallenge: pkce.challenge,
    scope,
    bindingHash,
    csrfHash,
    rememberedFor: remembered ? knownUser : undefined,
    now,
  });
  const cookie = setCookie(bindingCookieName(txnId), binding, config.AUTH_TRANSACTION_TTL_SECONDS, urls.issuer.startsWith('https:'));
  if (step.kind === 'consent') {
    return consentPage({ clientName: client.metadata.client_name, clientId: client.clientId, redirectUri, scopes: scopes.scopes, txn: txnId, csrf }, { 'set-cookie': cookie });
  }
  return followStep(step, env, config, urls, { 'set-cookie': cookie }, 302);
}

/** POST /authorize/consent: the consent form (CSRF token + this browser's binding cookie). Redirects are 303. */
export async function handleConsent(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env);
  const urls = serverUrls(request, config);
  const type = (request.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return errorPage(400, 'Invalid request', 'the consent form was not submitted as a form');
  const form = new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer()));
  const read = readParams(form, ['txn', 'csrf', 'decision'] as const);
  if (!read.ok) return errorPage(400, 'Invalid request', read.description);
  const { txn, csrf, decision } = read.params;
  if (!txn || !csrf || (decision !== 'approve' && decision !== 'deny')) return errorPage(400, 'Invalid request', 'the consent form is incomplete');
  if (!(await verifyId(await idKey(env.ID_SECRET), 'txn', txn))) return errorPage(400, 'Invalid request', 'the consent form does not belong to a sign-in of this server');
  const binding = readCookie(request, bindingCookieName(txn));
  if (!binding) return errorPage(400, 'Session expired', 'this sign-in was started in another browser or has expired; start again from the application');
  const stub = txnStub(env, txn);
  const step = await stub.decide({ approve: decision === 'approve', binding, csrf, now: Date.now(), meta: requestMeta(request) });
  if (step.kind === 'code') {
    const summary = await stub.summary();
    if (summary?.user) await rememberConsent(env, summary.user.id, summary.clientId, summary.scope, Date.now());
  }
  return followStep(step, env, config, urls, {}, 303);
}

/** Turns a transaction step into the response: upstream redirect, client redirect, or an error page. */
export async function followStep(step: Step, env: Env, config: Config, urls: ServerUrls, headers: Record<string, string>, status: 302 | 303): Promise<Response> {
  switch (step.kind) {
    case 'upstream': {
      if (!config.UPSTREAM_CLIENT_ID || !env.UPSTREAM_CLIENT_SECRET) return errorPage(500, 'Sign-in is not configured', 'the server has no upstream OpenID client (UPSTREAM_CLIENT_ID, UPSTREAM_CLIENT_SECRET)');
      try {
        const metadata = await discover(config.UPSTREAM_ISSUER, Date.now());
        const location = authorizationUrl(metadata, { clientId: config.UPSTREAM_CLIENT_ID, redirectUri: urls.callback, scope: config.UPSTREAM_SCOPE, state: step.state, nonce: step.nonce, challenge: step.challenge });
        return redirect(location, status, headers);
      } catch (error) {
        return errorPage(502, 'Sign-in is unavailable', error instanceof UpstreamError ? error.message : 'the sign-in provider failed');
      }
    }
    case 'code':
      return redirect(clientRedirect(step.redirectUri, { code: step.code, state: step.clientState }, urls.issuer), status, headers);
    case 'deny':
      return redirect(clientRedirect(step.redirectUri, { error: 'access_denied', error_description: 'the request was denied', state: step.clientState }, urls.issuer), status, headers);
    case 'consent':
      return errorPage(500, 'Unexpected state', 'consent was requested at the wrong step');
    case 'error':
      return errorPage(400, 'This sign-in cannot continue', `${step.reason}; start again from the application`);
  }
}

/** The transaction's Durable Object. */
export function txnStub(env: Env, txnId: string) {
  return env.AUTH_TXN.get(env.AUTH_TXN.idFromName(txnId));
}

function redirect(location: string, status: 302 | 303, headers: Record<string, string>): Response {
  return new Response(null, { status, headers: { ...headers, location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
}

function requestedScopes(requested: string | undefined, registered: string | undefined): { ok: true; scopes: OAuthScope[] } | { ok: false; description: string } {
  const asked = parseScope(requested);
  if (!asked.ok) return { ok: false, description: `unknown scope: ${quoteValue(asked.unknown.join(' '))}` };
  const allowed = registered ? parseScope(registered) : { ok: true as const, scopes: [...SCOPES] };
  if (!allowed.ok) return { ok: false, description: 'the client registered unknown scopes' };
  if (asked.scopes.length === 0) return { ok: true, scopes: allowed.scopes };
  if (!isSubset(asked.scopes, allowed.scopes)) return { ok: false, description: 'scope exceeds what the client registered' };
  return { ok: true, scopes: asked.scopes };
}
