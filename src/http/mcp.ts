/** The /mcp gate: checks origin, host, protocol version and body, attaches the principal, routes to the session. */
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { verifyAccessToken } from '../auth/access-token.ts';
import { idKey, mintId, verifyId } from '../auth/ids.ts';
import { formatScope, SCOPES } from '../auth/scopes.ts';
import { signingKeys } from '../auth/signing-keys.ts';
import { bearerError, gateError } from '../errors.ts';
import type { Principal } from '../mcp/principal.ts';
import { CATALOG } from '../mcp/server.ts';
import { readMessage } from './body.ts';
import { hostAllowed, originAllowed } from './origin.ts';
import { serverUrls, type ServerUrls } from './urls.ts';

const ALLOWED_METHODS = 'GET, POST, DELETE';
const ALLOWED_HEADERS = 'authorization, content-type, accept, last-event-id, mcp-session-id, mcp-protocol-version';
const EXPOSED_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate';


const TOOL_SCOPES = new Map(CATALOG.map((t) => [t.name, t.scope]));

/**
 * Who is calling: the verified access token in `Authorization: Bearer` (scheme name in any
 * case). Tokens anywhere else (an `access_token` query parameter, a body field) are ignored.
 * Verification needs no I/O: signature, `typ`, issuer, audience (this resource) and expiry.
 */
export async function authenticate(request: Request, env: Env, urls: ServerUrls): Promise<{ ok: true; principal: Principal } | { ok: false; response: Response }> {
  const header = request.headers.get('authorization');
  const match = header ? /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim()) : null;
  // The challenge names every scope the tools use, so a client can ask for them at once (MCP 2025-11-25).
  const scope = formatScope(SCOPES);
  if (!header) return { ok: false, response: bearerError('missing', { resourceMetadata: urls.resourceMetadata, scope }) };
  if (!match?.[1]) return { ok: false, response: bearerError('invalid_token', { resourceMetadata: urls.resourceMetadata, scope, description: 'malformed Authorization header' }) };
  const keys = await signingKeys(env.OAUTH_SIGNING_KEY, env.OAUTH_PREVIOUS_PUBLIC_KEYS);
  const verified = await verifyAccessToken(keys, match[1], { issuer: urls.issuer, resource: urls.resource, now: Date.now() });
  if (!verified.ok) {
    console.log(JSON.stringify({ event: 'token_rejected', reason: verified.reason }));
    return { ok: false, response: bearerError('invalid_token', { resourceMetadata: urls.resourceMetadata, scope, description: 'the access token is invalid or expired' }) };
  }
  const c = verified.claims;
  return {
    ok: true,
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

/** 403 insufficient_scope when the message calls a tool whose scope the token lacks. */
function scopeRefusal(message: unknown, principal: Principal, urls: ServerUrls): Response | null {
  if (typeof message !== 'object' || message === null || !('method' in message) || message.method !== 'tools/call') return null;
  const params = 'params' in message && typeof message.params === 'object' && message.params !== null ? message.params : {};
  const name = 'name' in params && typeof params.name === 'string' ? params.name : '';
  const needed = TOOL_SCOPES.get(name);
  if (!needed || principal.scopes.includes(needed)) return null;
  return bearerError('insufficient_scope', { resourceMetadata: urls.resourceMetadata, scope: needed, description: `the tool ${name} needs the scope ${needed}` });
}

/** Handles every request to /mcp. */
export async function handleMcp(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env);
  const origin = request.headers.get('origin');
  if (!hostAllowed(request.headers.get('host'), config)) return gateError('host_forbidden');
  if (!originAllowed(origin, config)) return gateError('origin_forbidden');
  const cors = corsHeaders(origin);
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: preflightHeaders(cors) });
  const response = await route(request, env, config);
  return withHeaders(response, cors);
}

async function route(request: Request, env: Env, config: Config): Promise<Response> {
  const method = request.method;
  if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') return gateError('method_not_allowed');
  const urls = serverUrls(request, config);
  const auth = await authenticate(request, env, urls);
  if (!auth.ok) return auth.response;
  const principal = auth.principal;
  const version = request.headers.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    return gateError('unsupported_protocol_version', `supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
  }
  const presented = request.headers.get('mcp-session-id');

  let message: unknown;
  if (method === 'POST') {
    const body = await readMessage(request);
    if (!body.ok) return gateError(body.code, body.detail);
    message = body.message;
    const refused = scopeRefusal(message, principal, urls);
    if (refused) return refused;
  }
  const initializing = typeof message === 'object' && message !== null && 'method' in message && message.method === 'initialize';
  let sessionId: string;
  if (initializing) {
    // A client never chooses its session id (no session fixation).
    if (presented !== null) return gateError('already_initialized', 'initialize must not carry Mcp-Session-Id');
    // 128 random bits and a 128-bit tag: ids the server did not mint never reach a Durable Object.
    sessionId = await mintId(await idKey(env.ID_SECRET), 'session', crypto.getRandomValues(new Uint8Array(16)));
  } else {
    if (presented === null) return gateError('session_required');
    if (!(await verifyId(await idKey(env.ID_SECRET), 'session', presented))) return gateError('session_not_found');
    sessionId = presented;
  }
  const stub = env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
  const forwarded = new Request(request.url, { method, headers: request.headers, signal: request.signal });
  return stub.handle(forwarded, { sessionId, principal, message, resourceMetadata: urls.resourceMetadata });
}

function corsHeaders(origin: string | null): Headers {
  const h = new Headers();
  if (origin !== null) {
    h.set('access-control-allow-origin', origin);
    h.set('access-control-expose-headers', EXPOSED_HEADERS);
    h.set('vary', 'Origin');
  }
  return h;
}

function preflightHeaders(cors: Headers): Headers {
  const h = new Headers(cors);
  h.set('access-control-allow-methods', ALLOWED_METHODS);
  h.set('access-control-allow-headers', ALLOWED_HEADERS);
  h.set('access-control-max-age', '600');
  return h;
}

function withHeaders(response: Response, extra: Headers): Response {
  if ([...extra.keys()].length === 0) return response;
  const out = new Response(response.body, response);
  extra.forEach((value, key) => out.headers.set(key, value));
  return out;
}
