/** The /mcp gate: checks origin, host, protocol version and body, attaches the principal, routes to the session. */
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig, type Config } from '../config.ts';
import type { Env } from '../env.ts';
import { gateError } from '../errors.ts';
import { ANONYMOUS, type Principal } from '../mcp/principal.ts';
import { readMessage } from './body.ts';
import { hostAllowed, originAllowed } from './origin.ts';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const ALLOWED_METHODS = 'GET, POST, DELETE';
const ALLOWED_HEADERS = 'authorization, content-type, accept, last-event-id, mcp-session-id, mcp-protocol-version';
const EXPOSED_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate';

/** A fresh session id: 256 random bits, base64url (43 characters). Names the session's Durable Object. */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Who is calling. Authentication slots in here (next: OAuth access tokens, API keys). */
export function authenticate(_request: Request): Principal {
  return ANONYMOUS;
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

async function route(request: Request, env: Env, _config: Config): Promise<Response> {
  const method = request.method;
  if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') return gateError('method_not_allowed');
  const version = request.headers.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    return gateError('unsupported_protocol_version', `supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
  }
  const principal = authenticate(request);
  const presented = request.headers.get('mcp-session-id');

  let message: unknown;
  if (method === 'POST') {
    const body = await readMessage(request);
    if (!body.ok) return gateError(body.code, body.detail);
    message = body.message;
  }
  const initializing = typeof message === 'object' && message !== null && 'method' in message && message.method === 'initialize';
  let sessionId: string;
  if (initializing) {
    // A client never chooses its session id (no session fixation).
    if (presented !== null) return gateError('already_initialized', 'initialize must not carry Mcp-Session-Id');
    sessionId = newSessionId();
  } else {
    if (presented === null) return gateError('session_required');
    if (!SESSION_ID.test(presented)) return gateError('session_not_found');
    sessionId = presented;
  }
  const stub = env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
  const forwarded = new Request(request.url, { method, headers: request.headers, signal: request.signal });
  return stub.handle(forwarded, { sessionId, principal, message });
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
