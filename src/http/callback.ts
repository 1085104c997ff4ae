/** GET /oauth/callback: the upstream provider's answer. Checks state and browser, signs the person in, issues the code. */
import { requestMeta } from '../audit/emit.ts';
import { idKey, verifyId } from '../auth/ids.ts';
import { readParams } from '../auth/params.ts';
import { signingKeys } from '../auth/signing-keys.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { randomToken } from '../lib/random.ts';
import { discover, signIn, UpstreamError } from '../upstream/oidc.ts';
import { followStep, txnStub } from './authorize.ts';
import { consentedScope, lookupClient, rememberConsent } from './client-shards.ts';
import { bindingCookieName, readCookie, userCookie } from './cookies.ts';
import { consentPage, errorPage } from './pages.ts';
import { serverUrls } from './urls.ts';
import { handleConsoleCallback, isConsoleState } from './console/sign-in.ts';

const STATE = /^([A-Za-z0-9_-]{43})\.[A-Za-z0-9_-]{43}$/;

/** Handles the upstream redirect back to us. */
export async function handleCallback(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env);
  const urls = serverUrls(request, config);
  const read = readParams(new URL(request.url).searchParams, ['code', 'state', 'error'] as const);
  if (!read.ok) return errorPage(400, 'Invalid sign-in response', read.description);
  const { code, state, error } = read.params;
  if (state && isConsoleState(state)) return handleConsoleCallback(request, env, { code, state, error });
  const txnId = state ? STATE.exec(state)?.[1] : undefined;
  if (!state || !txnId || !(await verifyId(await idKey(env.ID_SECRET), 'txn', txnId))) return errorPage(400, 'Invalid sign-in response', 'state is missing or malformed');
  const binding = readCookie(request, bindingCookieName(txnId));
  if (!binding) return errorPage(400, 'Invalid sign-in response', 'this sign-in was started in another browser or has expired');
  const stub = txnStub(env, txnId);
  const now = Date.now();
  const taken = await stub.takeUpstream({ state, binding, now });
  if (!taken.ok) return errorPage(400, 'Invalid sign-in response', taken.reason);

  if (error || !code) {
    // The person declined (or the provider failed) upstream: the client hears access_denied.
    return followStep(await stub.upstreamFailed(`the sign-in provider answered ${error ?? 'without a code'}`, requestMeta(request)), env, config, urls, {}, 302);
  }
  if (!config.UPSTREAM_CLIENT_ID || !env.UPSTREAM_CLIENT_SECRET) return errorPage(500, 'Sign-in is not configured', 'the server has no upstream OpenID client');
  let identity;
  try {
    const metadata = await discover(config.UPSTREAM_ISSUER, now);
    identity = await signIn(metadata, { clientId: config.UPSTREAM_CLIENT_ID, clientSecret: env.UPSTREAM_CLIENT_SECRET, code, redirectUri: urls.callback, verifier: taken.verifier, nonce: taken.nonce, now });
  } catch (e) {
    await stub.upstreamFailed(e instanceof UpstreamError ? e.message : 'the sign-in provider failed', requestMeta(request));
    console.log(JSON.stringify({ event: 'upstream_sign_in_failed', reason: e instanceof UpstreamError ? e.message : String(e) }));
    return errorPage(400, 'Sign-in failed', e instanceof UpstreamError ? e.message : 'the sign-in provider failed');
  }
  const user = { id: identity.userId, issuer: identity.issuer, subject: identity.subject, email: identity.email, name: identity.name };
  const summary = await stub.summary();
  if (!summary) return errorPage(400, 'Sign-in failed', 'the sign-in has expired');
  const consented = await consentedScope(env, user.id, summary.clientId);
  const remembered = consented !== null && summary.scope.split(' ').every((s) => consented.split(' ').includes(s));
  const csrf = randomToken();
  const step = await stub.completeLogin({ user, remembered, csrf, now, meta: requestMeta(request) });
  const keys = await signingKeys(env.OAUTH_SIGNING_KEY, env.OAUTH_PREVIOUS_PUBLIC_KEYS);
  const headers = { 'set-cookie': await userCookie(keys, urls.issuer, user.id, now, urls.issuer.startsWith('https:')) };
  if (step.kind === 'consent') {
    const client = await lookupClient(env, summary.clientId, now);
    return consentPage(
      { clientName: client?.metadata.client_name, clientId: summary.clientId, redirectUri: summary.redirectUri, scopes: summary.scope.split(' '), txn: txnId, csrf: step.csrf, userLabel: user.email ?? user.subject },
      headers,
    );
  }
  if (step.kind === 'code') await rememberConsent(env, user.id, summary.clientId, summary.scope, now);
  return followStep(step, env, config, urls, headers, 302);
}
