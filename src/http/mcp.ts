/** The /mcp gate: checks origin, host, protocol version and body, attaches the principal, routes to the session. */
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { loadConfig, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { idKey, mintId } from '../auth/ids.ts';
import { knownId } from './known-ids.ts';
import { actorOf, newEvent, requestMeta, type RequestMeta } from '../audit/emit.ts';
import type { McpMessage } from '../mcp/message.ts';
import type { Principal } from '../mcp/principal.ts';
import { gateError } from '../errors.ts';
import { readMessage } from './body.ts';
import { authenticateKey, authenticateToken, readCredential, refuseUnusable, scopeRefusal, calledTool } from './mcp-auth.ts';
import { hostAllowed, originAllowed } from './origin.ts';
import { serverUrls } from './urls.ts';
import { carriesEnvelope, isModernRequest, MODERN_PROTOCOL_VERSION, serveModern } from './mcp-modern.ts';
import { SERVED_VERSIONS } from './mcp-versions.ts';
import { randomBytes } from '../lib/random.ts';
import { noteFailure, tokenHints } from '../audit/failures.ts';
import { recordForPrincipal } from '../audit/relay.ts';

/** One authority: a host name, IPv4 or bracketed IPv6 address, and an optional port. */
// eslint-disable-next-line security/detect-unsafe-regex -- two alternatives of single character classes and a bounded port: no nested repetition
const SINGLE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const ALLOWED_METHODS = 'GET, POST, DELETE';
const ALLOWED_HEADERS = 'authorization, content-type, accept, last-event-id, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name';
const EXPOSED_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate, retry-after, ratelimit, ratelimit-policy';


/** Handles every request to /mcp. */
export async function handleMcp(request: Request, env: Env, ctx?: ExecutionContext): Promise<Response> {
  const config = loadConfig(env);
  const origin = request.headers.get('origin');
  const host = request.headers.get('host');
  // Two Host headers arrive folded into one value ("a, b"): malformed, not merely foreign.
  if (host !== null && !SINGLE_HOST.test(host)) return gateError('host_invalid');
  if (!hostAllowed(host, config)) return gateError('host_forbidden');
  if (!originAllowed(origin, config)) return gateError('origin_forbidden');
  const cors = corsHeaders(origin);
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: preflightHeaders(cors) });
  const response = await route(request, env, config, ctx);
  return withHeaders(response, cors);
}

async function route(request: Request, env: Env, config: Config, ctx?: ExecutionContext): Promise<Response> {
  const method = request.method;
  if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') return gateError('method_not_allowed');
  const urls = serverUrls(request, config);
  const credential = readCredential(request);
  const unusable = refuseUnusable(credential, urls);
  if (unusable) {
    if (credential.kind === 'malformed') await noteFailure(env, 'mcp_token', requestMeta(request), { reason: 'malformed' });
    return unusable;
  }
  // Access tokens are verified before the body is read; API keys after, since their Durable
  // Object checks the scope of the tool called before it takes from the rate buckets.
  let auth = credential.kind === 'token' ? await authenticateToken(credential.token, env, urls) : null;
  if (auth && !auth.ok) {
    if (credential.kind === 'token') await noteFailure(env, 'mcp_token', requestMeta(request), { ...tokenHints(credential.token), reason: auth.failure });
    return auth.response;
  }
  const version = request.headers.get('mcp-protocol-version');
  const badVersion = version !== null && version !== MODERN_PROTOCOL_VERSION && !SUPPORTED_PROTOCOL_VERSIONS.includes(version);
  const versionRefusal = () => gateError('unsupported_protocol_version', `supported: ${SERVED_VERSIONS.join(', ')}`);
  // A POST that carries the 2026-07-28 envelope gets that revision's answer (its id, the supported versions) from the SDK.
  if (badVersion && method !== 'POST') return versionRefusal();
  const presented = request.headers.get('mcp-session-id');

  let message: McpMessage | undefined;
  let copy = method === 'POST' && version === MODERN_PROTOCOL_VERSION ? request.clone() : undefined;
  if (method === 'POST') {
    const body = await readMessage(request);
    if (!body.ok) return badVersion ? versionRefusal() : gateError(body.code, body.detail);
    message = body.message;
  }
  // The copy is kept only for params the 2025 schemas refused (src/http/mcp-modern.ts).
  if (copy && message?.kind !== 'invalid_params') {
    await copy.body?.cancel();
    copy = undefined;
  }
  if (badVersion && !carriesEnvelope(message)) return versionRefusal();
  const meta = requestMeta(request);
  // Only ids the server minted (HMAC tag) ever reach a Durable Object; a valid one also names
  // the session in the audit events of calls refused here.
  const presentedValid = presented !== null && (await knownId(env.ID_SECRET, 'session', presented));
  if (presentedValid) meta.sessionId = presented;
  // A stateless tool call (by its header or envelope) gets the key's baseline view with the key's check: one round trip.
  const statelessCall = config.ANOMALY_ENABLED && message?.kind === 'tool_call' && (version === MODERN_PROTOCOL_VERSION || carriesEnvelope(message));
  if (credential.kind === 'key') auth = await authenticateKey(credential, message, env, urls, meta, statelessCall);
  if (!auth?.ok) return auth?.response ?? gateError('internal');
  const principal = auth.principal;
  const refused = scopeRefusal(message, principal, urls);
  if (refused) {
    await recordDenied(env, config, principal, message, meta);
    return refused;
  }
  // MCP 2026-07-28 is chosen per request (its envelope): served statelessly, with no session.
  if (await isModernRequest(request, message)) return withHeaders(await serveModern(request, env, config, { principal, message, meta, urls, copy, baseline: auth.baseline, waitUntil: ctx ? (p) => ctx.waitUntil(p) : undefined }), new Headers(auth.headers));
  let sessionId: string;
  if (message?.kind === 'invalid_params' && message.method === 'initialize') {
    // Nothing to address yet: a malformed initialize is refused here and creates no session.
    return gateError('invalid_request', `initialize ${message.param} ${message.detail}`);
  }
  if (message?.kind === 'initialize') {
    // A client never chooses its session id (no session fixation).
    if (presented !== null) return gateError('already_initialized', 'initialize must not carry Mcp-Session-Id');
    // 128 random bits and a 128-bit tag: ids the server did not mint never reach a Durable Object.
    sessionId = await mintId(await idKey(env.ID_SECRET), 'session', randomBytes(16));
  } else {
    if (presented === null) return gateError('session_required');
    if (!presentedValid) return gateError('session_not_found');
    sessionId = presented;
  }
  const stub = env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
  const forwarded = new Request(request.url, { method, headers: request.headers, signal: request.signal });
  const response = await stub.handle(forwarded, { sessionId, principal, message, resourceMetadata: urls.resourceMetadata, meta });
  return withHeaders(response, new Headers(auth.headers));
}

/** A tools/call refused for scope is recorded (durably, before the 403) in the principal's relay (src/audit/relay.ts). */
async function recordDenied(env: Env, config: Config, principal: Principal, message: McpMessage | undefined, meta: RequestMeta): Promise<void> {
  if (!config.AUDIT_ENABLED) return;
  const call = calledTool(message);
  const event = newEvent({ type: 'tool.call', outcome: 'denied', actor: actorOf(principal), tool: call?.tool, error_code: 'insufficient_scope', reason: `needs ${call?.scope ?? ''}`, meta });
  await recordForPrincipal(env, principal.id, event);
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
