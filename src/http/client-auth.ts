/** Authenticates the client at /token and /revoke: client_secret_basic, client_secret_post, none for public clients, or private_key_jwt for machine clients. */
import { ASSERTION_TYPE, claimedClientId, verifyClientAssertion, type AssertionRejection } from '../auth/client-assertion.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { oauthError } from '../errors.ts';
import { findClient } from './clients.ts';
import { lookupMachineClient, verifyClientSecret } from './client-shards.ts';
import { serverUrls } from './urls.ts';
import type { ClientRecord, MachineClient } from '../contracts/client-registry.ts';

/** The authenticated client (an OAuth client, or a machine client that used private_key_jwt), or the response refusing it. */
export type ClientAuth =
  | { ok: true; kind: 'registered'; clientId: string; client: ClientRecord }
  | { ok: true; kind: 'machine'; clientId: string; client: MachineClient }
  | { ok: false; response: Response };

/** Why a private_key_jwt attempt failed: the assertion's own reasons and the request's. Logged only. */
export type AssertionRefusal = AssertionRejection | 'other_credentials' | 'wrong_assertion_type' | 'missing_assertion' | 'client_id_mismatch' | 'unknown_client' | 'client_disabled' | 'jti_replayed';

/**
 * Reads credentials from the Authorization header or the form; two methods at once is
 * invalid_request. A form with client_assertion or client_assertion_type is private_key_jwt.
 */
export async function authenticateClient(request: Request, form: URLSearchParams, env: Env): Promise<ClientAuth> {
  const header = request.headers.get('authorization');
  const postedId = form.get('client_id') || undefined;
  const postedSecret = form.get('client_secret') || undefined;
  const assertion = form.get('client_assertion') || undefined;
  const assertionType = form.get('client_assertion_type') || undefined;
  if (assertion !== undefined || assertionType !== undefined) {
    return authenticateAssertion(request, env, { assertion, assertionType, postedId, otherCredentials: header !== null || postedSecret !== undefined });
  }
  let clientId: string | undefined;
  let secret: string | undefined;
  let method: 'client_secret_basic' | 'client_secret_post' | 'none';
  if (header) {
    if (postedSecret) return refuse('invalid_request', 'use one client authentication method, not two');
    const basic = /^basic +([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
    const decoded = basic?.[1] ? safeAtob(basic[1]) : null;
    const colon = decoded?.indexOf(':') ?? -1;
    if (!decoded || colon < 0) return refuse('invalid_client', 'malformed Basic credentials');
    clientId = safeDecode(decoded.slice(0, colon));
    secret = safeDecode(decoded.slice(colon + 1));
    if (postedId !== undefined && postedId !== clientId) return refuse('invalid_request', 'client_id does not match the Basic credentials');
    method = 'client_secret_basic';
  } else if (postedSecret) {
    clientId = postedId;
    secret = postedSecret;
    method = 'client_secret_post';
  } else {
    clientId = postedId;
    method = 'none';
  }
  if (!clientId) return refuse('invalid_client', 'client authentication failed');
  const found = await findClient(env, loadConfig(env), clientId, Date.now());
  if (!found.ok) return refuse('invalid_client', 'client authentication failed');
  const client = found.client;
  const expected = client.metadata.token_endpoint_auth_method;
  if (expected === 'none') {
    return method === 'none' ? { ok: true, kind: 'registered', clientId, client } : refuse('invalid_client', 'client authentication failed');
  }
  // The client must use the method it registered (RFC 7591 token_endpoint_auth_method).
  if (method !== expected || !secret || !(await verifyClientSecret(env, clientId, secret))) return refuse('invalid_client', 'client authentication failed');
  return { ok: true, kind: 'registered', clientId, client };
}

/**
 * private_key_jwt (RFC 7523 §2.2): the assertion alone authenticates; client_id is optional and
 * must then name the same client. Its signature and claims are checked before its `jti` is
 * spent, so an unsigned or foreign assertion cannot use up a client's ids. Every failure is the
 * same 401 invalid_client; the reason goes to the log.
 */
async function authenticateAssertion(
  request: Request,
  env: Env,
  p: { assertion: string | undefined; assertionType: string | undefined; postedId: string | undefined; otherCredentials: boolean },
): Promise<ClientAuth> {
  const claimed = p.assertion ? claimedClientId(p.assertion) : null;
  const clientId = p.postedId ?? claimed ?? undefined;
  const failed = (reason: AssertionRefusal) => {
    console.log(JSON.stringify({ event: 'client_assertion_refused', client_id: clientId ?? null, reason }));
    return refuse('invalid_client', 'client authentication failed');
  };
  if (p.otherCredentials) return failed('other_credentials');
  if (p.assertionType !== ASSERTION_TYPE) return failed('wrong_assertion_type');
  if (!p.assertion) return failed('missing_assertion');
  if (!clientId) return failed('malformed');
  if (claimed !== null && claimed !== clientId) return failed('client_id_mismatch');
  const found = await lookupMachineClient(env, clientId);
  if (found === 'disabled') return failed('client_disabled');
  if (!found) return failed('unknown_client');
  const client = found.client;
  const { issuer } = serverUrls(request, loadConfig(env));
  const now = Date.now();
  const verified = await verifyClientAssertion(p.assertion, { clientId, keys: client.jwks, audiences: [`${issuer}/token`, issuer], now });
  if (!verified.ok) return failed(verified.reason);
  if (!(await found.holder.useAssertionId(clientId, verified.jti, verified.rememberUntil, now))) return failed('jti_replayed');
  return { ok: true, kind: 'machine', clientId, client };
}

function refuse(code: 'invalid_client' | 'invalid_request', description: string): { ok: false; response: Response } {
  return { ok: false, response: oauthError(code, description) };
}

function safeAtob(value: string): string | null {
  try {
    return atob(value);
  } catch {
    return null;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
