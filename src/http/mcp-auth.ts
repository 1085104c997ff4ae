/** Authentication at /mcp: an OAuth access token (verified without I/O) or an API key (checked by its Durable Object, with its rate buckets). */
import { verifyAccessToken } from '../auth/access-token.ts';
import { parseApiKey } from '../auth/api-key-format.ts';
import { knownId } from './known-ids.ts';
import { formatScope, SCOPES } from '../auth/scopes.ts';
import { signingKeys } from '../auth/signing-keys.ts';
import { VerifiedTokens } from '../auth/verified-tokens.ts';
import type { Env } from '../env.ts';
import type { BaselineView } from '../contracts/principal-baseline.ts';
import type { RequestMeta } from '../audit/emit.ts';
import { noteFailure } from '../audit/failures.ts';
import { bearerError, rateLimited } from '../errors.ts';
import type { McpMessage } from '../mcp/message.ts';
import type { Principal } from '../mcp/principal.ts';
import { CATALOG } from '../mcp/server.ts';
import type { ServerUrls } from './urls.ts';

const TOOL_SCOPES = new Map(CATALOG.map((t) => [t.name, t.scope]));
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** Tokens verified in this isolate, until their `exp` (issue 14: the ES256 check once per token, not per request). */
const VERIFIED = new VerifiedTokens(verifyAccessToken);

/** The credential in `Authorization: Bearer` (scheme name in any case); anywhere else it is ignored. */
export type Credential = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; token: string } | { kind: 'key'; keyId: string; secret: string };

/** Who is calling, with headers to add to the response (rate limits), or the refusal. */
export type Authenticated = { ok: true; principal: Principal; headers: Record<string, string>; baseline?: BaselineView | undefined } | { ok: false; response: Response; failure?: string };

/** Reads the credential without checking it. */
export function readCredential(request: Request): Credential {
  const header = request.headers.get('authorization');
  if (!header) return { kind: 'none' };
  const value = BEARER.exec(header.trim())?.[1];
  if (!value) return { kind: 'malformed' };
  const key = parseApiKey(value);
  return key ? { kind: 'key', ...key } : { kind: 'token', token: value };
}

/** The tool a message calls and the scope it needs (undefined for a tool not in the catalog), if it is a tools/call. */
export function calledTool(message: McpMessage | undefined): { tool: string; scope: string | undefined } | null {
  if (message?.kind !== 'tool_call') return null;
  return { tool: message.name, scope: TOOL_SCOPES.get(message.name) };
}

function challenge(urls: ServerUrls, code: 'missing' | 'invalid_token', description?: string): Response {
  // The challenge names every scope the tools use, so a client can ask for them at once (MCP 2025-11-25).
  return bearerError(code, { resourceMetadata: urls.resourceMetadata, scope: formatScope(SCOPES), ...(description ? { description } : {}) });
}

/** Refuses a missing or malformed credential before anything else is read. */
export function refuseUnusable(credential: Credential, urls: ServerUrls): Response | null {
  if (credential.kind === 'none') return challenge(urls, 'missing');
  if (credential.kind === 'malformed') return challenge(urls, 'invalid_token', 'malformed Authorization header');
  return null;
}

/**
 * Verifies an access token: signature, `typ`, issuer, audience (this resource) and expiry; no I/O.
 * A token verified before in this isolate is taken from the cache until its expiry; the grant's
 * status is still checked on every request after this (session, or the stateless path).
 */
export async function authenticateToken(token: string, env: Env, urls: ServerUrls): Promise<Authenticated> {
  const keys = await signingKeys(env.OAUTH_SIGNING_KEY, env.OAUTH_PREVIOUS_PUBLIC_KEYS);
  const verified = await VERIFIED.verify(keys, token, { issuer: urls.issuer, resource: urls.resource, now: Date.now() });
  if (!verified.ok) {
    console.log(JSON.stringify({ event: 'token_rejected', reason: verified.reason }));
    return { ok: false, response: challenge(urls, 'invalid_token', 'the access token is invalid or expired'), failure: verified.reason };
  }
  const c = verified.claims;
  return {
    ok: true,
    headers: {},
    principal: {
      kind: 'user',
      id: c.sub,
      clientId: c.client_id,
      grantId: c.gid,
      tokenId: c.jti,
      scopes: c.scope.split(' ').filter((x) => x !== ''),
      ...(c.idp_iss && c.idp_sub ? { upstream: { issuer: c.idp_iss, subject: c.idp_sub } } : {}),
      ...(c.email ? { email: c.email } : {}),
    },
  };
}

/**
 * Checks an API key in its Durable Object: secret, status, expiry, rotation window, the scope
 * of the tool called, then the rate buckets (the key's, and the tool's if it has one).
 * `withBaseline` (a stateless tool call): the key's baseline view comes back in the same answer.
 */
export async function authenticateKey(credential: { keyId: string; secret: string }, message: McpMessage | undefined, env: Env, urls: ServerUrls, meta?: RequestMeta, withBaseline = false): Promise<Authenticated> {
  if (!(await knownId(env.ID_SECRET, 'key', credential.keyId))) {
    await noteFailure(env, 'mcp_api_key', meta, { keyId: credential.keyId, reason: 'unknown_key_id' });
    return { ok: false, response: challenge(urls, 'invalid_token', 'the API key is not valid') };
  }
  const call = calledTool(message);
  const stub = env.API_KEY.get(env.API_KEY.idFromName(credential.keyId));
  const result = await stub.check({ secret: credential.secret, tool: call?.tool, neededScope: call?.scope, now: Date.now(), meta, ...(withBaseline && call ? { withBaseline } : {}) });
  if (result.ok) {
    const r = result.record;
    return { ok: true, headers: result.headers, baseline: result.baseline as BaselineView | undefined, principal: { kind: 'agent', id: `key:${r.keyId}`, keyId: r.keyId, agentId: r.agentId, agentName: r.agentName, owner: r.owner, scopes: r.scopes } };
  }
  console.log(JSON.stringify({ event: 'api_key_refused', key_id: credential.keyId, reason: result.reason }));
  // A wrong secret is not recorded by the key's object (anyone knowing a key id could fill it): counted per address here.
  if (result.reason === 'invalid') await noteFailure(env, 'mcp_api_key', meta, { keyId: credential.keyId, reason: 'wrong_secret' });
  if (result.reason === 'insufficient_scope' && call?.scope) return { ok: false, response: scopeChallenge(call.tool, call.scope, urls) };
  if (result.reason === 'rate_limited') return { ok: false, response: rateLimited(result.limit ?? 'key', result.retryAfterSeconds ?? 1, result.headers) };
  return { ok: false, response: challenge(urls, 'invalid_token', 'the API key is not valid') };
}

/** 403 insufficient_scope for a tools/call the principal's scopes do not cover (step-up). */
export function scopeRefusal(message: McpMessage | undefined, principal: Principal, urls: ServerUrls): Response | null {
  const call = calledTool(message);
  if (!call?.scope || principal.scopes.includes(call.scope)) return null;
  return scopeChallenge(call.tool, call.scope, urls);
}

function scopeChallenge(tool: string, scope: string, urls: ServerUrls): Response {
  return bearerError('insufficient_scope', { resourceMetadata: urls.resourceMetadata, scope, description: `the tool ${tool} needs the scope ${scope}` });
}
