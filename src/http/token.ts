/** POST /token (authorization_code, refresh_token; client_credentials for machine clients) and POST /revoke (RFC 7009). */
import { requestMeta } from '../audit/emit.ts';
import { noteFailure } from '../audit/failures.ts';
import { decodeJwt } from 'jose';
import { idKey, mintId, verifyId } from '../auth/ids.ts';
import { readParams } from '../auth/params.ts';
import { formatScope, isSubset, parseScope } from '../auth/scopes.ts';
import { verifyAccessToken } from '../auth/access-token.ts';
import { signingKeys } from '../auth/signing-keys.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { randomBytes } from '../lib/random.ts';
import { oauthError } from '../errors.ts';
import type { TokenOutcome } from '../contracts/auth-transaction.ts';
import type { MachineClient } from '../contracts/client-registry.ts';
import { txnStub } from './authorize.ts';
import { authenticateClient } from './client-auth.ts';
import { keptForClient } from './client-grants.ts';
import { serverUrls } from './urls.ts';

const OPAQUE = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;
const CLIENT_AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;
const TOKEN_PARAMS = ['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'resource', ...CLIENT_AUTH_PARAMS] as const;
const NO_STORE = { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' };

/** The parameters of a token request. */
type TokenParams = Record<(typeof TOKEN_PARAMS)[number], string | undefined>;

/** Splits a code or refresh token into [whole, grant id, secret] when the grant id is one we minted. */
async function opaque(env: Env, token: string | undefined): Promise<[string, string, string] | null> {
  const parts = token ? OPAQUE.exec(token) : null;
  if (!parts?.[1] || !parts[2]) return null;
  return (await verifyId(await idKey(env.ID_SECRET), 'txn', parts[1])) ? [parts[0], parts[1], parts[2]] : null;
}

/** Reads a form body, or the response refusing anything else. */
async function readForm(request: Request): Promise<{ ok: true; form: URLSearchParams } | { ok: false; response: Response }> {
  if (request.method !== 'POST') return { ok: false, response: oauthError('invalid_request', 'use POST', { status: 405, headers: { allow: 'POST' } }) };
  const type = (request.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return { ok: false, response: oauthError('invalid_request', 'the body must be application/x-www-form-urlencoded') };
  const text = new TextDecoder().decode(await request.arrayBuffer());
  if (text.length > 16 * 1024) return { ok: false, response: oauthError('invalid_request', 'the body is too large') };
  return { ok: true, form: new URLSearchParams(text) };
}

/** POST /token. Every answer carries Cache-Control: no-store. */
export async function handleToken(request: Request, env: Env): Promise<Response> {
  const body = await readForm(request);
  if (!body.ok) return body.response;
  const read = readParams(body.form, TOKEN_PARAMS);
  if (!read.ok) return oauthError('invalid_request', read.description);
  const p = read.params;
  const auth = await authenticateClient(request, body.form, env);
  if (!auth.ok) return auth.response;
  if (auth.kind === 'machine') return machineGrant(request, env, auth.client, p);
  const client = auth.client;
  const now = Date.now();
  let outcome: TokenOutcome;
  if (p.grant_type === 'client_credentials') {
    // Only administrator-registered private_key_jwt clients: an openly registered client never gets a token without a person.
    return oauthError('unauthorized_client', 'the client_credentials grant is only for clients registered by an administrator (private_key_jwt)');
  } else if (p.grant_type === 'authorization_code') {
    const parts = await opaque(env, p.code);
    if (!parts) {
      await noteFailure(env, 'token_code', requestMeta(request), { reason: 'unknown_code' });
      return oauthError('invalid_grant', 'the code is invalid');
    }
    outcome = await txnStub(env, parts[1]).exchangeCode({ code: parts[2], clientId: client.clientId, redirectUri: p.redirect_uri, verifier: p.code_verifier, resource: p.resource, now, meta: requestMeta(request) });
  } else if (p.grant_type === 'refresh_token') {
    if (!client.metadata.grant_types.includes('refresh_token')) return oauthError('unauthorized_client', 'the client did not register the refresh_token grant');
    const parts = await opaque(env, p.refresh_token);
    if (!parts) {
      await noteFailure(env, 'token_refresh', requestMeta(request), { reason: 'unknown_refresh_token' });
      return oauthError('invalid_grant', 'the refresh token is invalid');
    }
    outcome = await txnStub(env, parts[1]).refresh({ token: parts[2], clientId: client.clientId, scope: p.scope, resource: p.resource, now, meta: requestMeta(request) });
  } else if (!p.grant_type) {
    return oauthError('invalid_request', 'grant_type is missing');
  } else {
    return oauthError('unsupported_grant_type', 'supported: authorization_code, refresh_token, client_credentials');
  }
  if (!outcome.ok) return oauthError(outcome.error, outcome.description);
  if (p.grant_type === 'authorization_code' && !(await keptForClient(request, env, client.clientId, p.code))) return oauthError('invalid_client', 'client authentication failed');
  const { ok: _ok, ...tokens } = outcome;
  const issued = client.metadata.grant_types.includes('refresh_token') ? tokens : { ...tokens, refresh_token: undefined };
  return new Response(JSON.stringify(issued), { status: 200, headers: NO_STORE });
}

/**
 * A machine client (authenticated with private_key_jwt) may use client_credentials only. The
 * token's scope is the requested one (a subset of the registered scope) or all of it; the only
 * resource is this server's /mcp. Each issuance is its own grant, so it can be revoked.
 */
async function machineGrant(request: Request, env: Env, client: MachineClient, p: TokenParams): Promise<Response> {
  if (!p.grant_type) return oauthError('invalid_request', 'grant_type is missing');
  if (p.grant_type === 'authorization_code' || p.grant_type === 'refresh_token') return oauthError('unauthorized_client', 'this client may use the client_credentials grant only');
  if (p.grant_type !== 'client_credentials') return oauthError('unsupported_grant_type', 'supported: authorization_code, refresh_token, client_credentials');
  const registered = parseScope(client.scope);
  if (!registered.ok) return oauthError('server_error', 'the client has an unknown scope');
  let scopes = registered.scopes;
  if (p.scope !== undefined) {
    const asked = parseScope(p.scope);
    if (!asked.ok) return oauthError('invalid_scope', 'the requested scope is unknown');
    if (!isSubset(asked.scopes, registered.scopes)) return oauthError('invalid_scope', 'the requested scope exceeds the scope registered for this client');
    if (asked.scopes.length > 0) scopes = asked.scopes;
  }
  const urls = serverUrls(request, loadConfig(env));
  if (p.resource !== undefined && p.resource !== urls.resource) return oauthError('invalid_target', 'resource must be this server\'s MCP endpoint');
  const scope = formatScope(scopes);
  const grantId = await mintId(await idKey(env.ID_SECRET), 'txn', randomBytes(16));
  const outcome = await txnStub(env, grantId).grantClientCredentials(grantId, { issuer: urls.issuer, resource: urls.resource, clientId: client.clientId, owner: client.owner, scope, now: Date.now(), meta: requestMeta(request) });
  if (!outcome.ok) return oauthError(outcome.error, outcome.description);
  if (!(await keptForClient(request, env, client.clientId, grantId))) return oauthError('invalid_client', 'client authentication failed');
  console.log(JSON.stringify({ event: 'client_credentials_issued', client_id: client.clientId, owner: client.owner, grant_id: grantId, scope }));
  const { ok: _ok, ...token } = outcome;
  return new Response(JSON.stringify(token), { status: 200, headers: NO_STORE });
}

/** POST /revoke: 200 for unknown or foreign tokens (RFC 7009 §2.2); the hint is only a hint. */
export async function handleRevoke(request: Request, env: Env): Promise<Response> {
  const body = await readForm(request);
  if (!body.ok) return body.response;
  const read = readParams(body.form, ['token', 'token_type_hint', ...CLIENT_AUTH_PARAMS] as const);
  if (!read.ok) return oauthError('invalid_request', read.description);
  const auth = await authenticateClient(request, body.form, env);
  if (!auth.ok) return auth.response;
  const token = read.params.token;
  if (!token) return oauthError('invalid_request', 'token is missing');
  const clientId = auth.clientId;
  const parts = await opaque(env, token);
  if (parts) {
    await txnStub(env, parts[1]).revokeByClient({ clientId, refreshToken: parts[2], meta: requestMeta(request) });
  } else if (token.split('.').length === 3) {
    const gid = await grantOfAccessToken(request, env, token);
    if (gid) await txnStub(env, gid).revokeByClient({ clientId, meta: requestMeta(request) });
  }
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}

/** The grant id of an access token we signed (expired ones too: revoking them still ends the grant). */
async function grantOfAccessToken(request: Request, env: Env, token: string): Promise<string | null> {
  const urls = serverUrls(request, loadConfig(env));
  const keys = await signingKeys(env.OAUTH_SIGNING_KEY, env.OAUTH_PREVIOUS_PUBLIC_KEYS);
  let exp: number | undefined;
  try {
    exp = decodeJwt(token).exp;
  } catch {
    return null;
  }
  // Verify the signature as of a moment before expiry, so an expired token can still be revoked.
  const at = exp ? Math.min(Date.now(), exp * 1000 - 1000) : Date.now();
  const verified = await verifyAccessToken(keys, token, { issuer: urls.issuer, resource: urls.resource, now: at });
  return verified.ok ? verified.claims.gid : null;
}
