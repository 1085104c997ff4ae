/** Closed unions of error codes and the one place each surface maps them to the wire. */

/** Why the `/mcp` HTTP gate refused a request before any MCP processing. */
export type GateErrorCode =
  | 'parse_error'
  | 'invalid_request'
  | 'batch_not_supported'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'nesting_too_deep'
  | 'request_id_in_use'
  | 'method_not_allowed'
  | 'session_required'
  | 'session_not_found'
  | 'already_initialized'
  | 'unsupported_protocol_version'
  | 'origin_forbidden'
  | 'host_forbidden'
  | 'host_invalid'
  | 'internal';

/** The deepest nesting of arrays and objects a POST body may have. */
export const MAX_JSON_DEPTH = 64;

const GATE_WIRE: Record<GateErrorCode, { status: number; rpc: number; message: string }> = {
  parse_error: { status: 400, rpc: -32700, message: 'Parse error: body is not valid JSON' },
  invalid_request: { status: 400, rpc: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message' },
  batch_not_supported: { status: 400, rpc: -32600, message: 'Invalid Request: JSON-RPC batches are not supported' },
  body_too_large: { status: 413, rpc: -32600, message: 'Request body too large' },
  unsupported_media_type: { status: 415, rpc: -32600, message: 'Unsupported Media Type: Content-Type must be application/json' },
  nesting_too_deep: { status: 400, rpc: -32600, message: `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels` },
  request_id_in_use: { status: 409, rpc: -32600, message: 'Invalid Request: request id already in use by a request in flight' },
  method_not_allowed: { status: 405, rpc: -32000, message: 'Method not allowed: use GET, POST or DELETE' },
  session_required: { status: 400, rpc: -32000, message: 'Bad Request: Mcp-Session-Id header is required' },
  session_not_found: { status: 404, rpc: -32001, message: 'Session not found' },
  already_initialized: { status: 400, rpc: -32600, message: 'Invalid Request: session already initialized' },
  unsupported_protocol_version: { status: 400, rpc: -32000, message: 'Bad Request: unsupported MCP-Protocol-Version' },
  origin_forbidden: { status: 403, rpc: -32000, message: 'Forbidden: Origin not allowed' },
  host_forbidden: { status: 403, rpc: -32000, message: 'Forbidden: Host not allowed' },
  host_invalid: { status: 400, rpc: -32600, message: 'Bad Request: the Host header must be one host[:port]' },
  internal: { status: 500, rpc: -32603, message: 'Internal error' },
};

/** A gate refusal: JSON-RPC error body with `id: null`, the mapped status, plus optional headers. */
export function gateError(code: GateErrorCode, detail?: string, headers?: HeadersInit): Response {
  const wire = GATE_WIRE[code];
  const message = detail ? `${wire.message} (${detail})` : wire.message;
  const h = new Headers(headers);
  h.set('content-type', 'application/json');
  if (code === 'method_not_allowed') h.set('allow', 'GET, POST, DELETE');
  return new Response(
    JSON.stringify({ jsonrpc: '2.0', error: { code: wire.rpc, message, data: { reason: code } }, id: null }),
    { status: wire.status, headers: h },
  );
}

/** Why a tool call failed; reaches the client as an `isError` tool result naming the code. */
export type ToolErrorCode =
  | 'sql_rejected'
  | 'db_unavailable'
  | 'db_timeout'
  | 'db_query_failed'
  | 'not_found'
  | 'invalid_arguments'
  | 'result_blocked'
  | 'internal_error';

/** A failure inside a tool that the client may see; `message` must be safe to show. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly code: ToolErrorCode;
  constructor(code: ToolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** A tool failure as data: the code stays a member of the union all the way to the audit trail. */
export interface ToolFailure {
  code: ToolErrorCode;
  message: string;
}

/** The one wire form of a tool failure: an `isError` result whose text starts with the code. */
export function toolFailureResult(failure: ToolFailure): { isError: true; content: Array<{ type: 'text'; text: string }> } {
  return { isError: true, content: [{ type: 'text', text: `${failure.code}: ${failure.message}` }] };
}

/** Why a request inside an MCP session is answered with a JSON-RPC error instead of being served. */
export type RpcErrorCode = 'invalid_params' | 'unknown_tool';

const RPC_WIRE: Record<RpcErrorCode, { rpc: number; message: string }> = {
  invalid_params: { rpc: -32602, message: 'Invalid params' },
  unknown_tool: { rpc: -32602, message: 'Invalid params: unknown tool' },
};

/** A JSON-RPC error response to one request (`id` its id), as a 200 `application/json` answer to its POST. */
export function rpcError(code: RpcErrorCode, id: string | number, detail: string, data: Record<string, unknown> = {}): Response {
  const wire = RPC_WIRE[code];
  const body = { jsonrpc: '2.0', id, error: { code: wire.rpc, message: `${wire.message}: ${detail}`, data: { reason: code, ...data } } };
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

/** Why the admin API refused a request. */
export type AdminErrorCode = 'unauthorized' | 'invalid_request' | 'not_found' | 'conflict' | 'method_not_allowed';

const ADMIN_STATUS: Record<AdminErrorCode, number> = { unauthorized: 401, invalid_request: 400, not_found: 404, conflict: 409, method_not_allowed: 405 };

/** The admin API's one error form: `{error, error_description}`, never cached. */
export function adminError(code: AdminErrorCode, description: string): Response {
  const headers = new Headers({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  if (code === 'unauthorized') headers.set('www-authenticate', 'Bearer realm="admin"');
  return new Response(JSON.stringify({ error: code, error_description: description }), { status: ADMIN_STATUS[code], headers });
}

/** RFC 6749 / 7009 / 7591 / 8707 error codes used by the authorization server's endpoints. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata';

const OAUTH_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
};

/** A JSON OAuth error (token, revocation, registration endpoints): never cached. */
export function oauthError(code: OAuthErrorCode, description: string, init: { status?: number; headers?: HeadersInit } = {}): Response {
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/json');
  headers.set('cache-control', 'no-store');
  headers.set('pragma', 'no-cache');
  if (code === 'invalid_client' && !headers.has('www-authenticate')) headers.set('www-authenticate', 'Basic realm="token", charset="UTF-8"');
  return new Response(JSON.stringify({ error: code, error_description: description }), { status: init.status ?? OAUTH_STATUS[code], headers });
}

/** Why the resource server (/mcp) refused a bearer credential. */
export type BearerErrorCode = 'missing' | 'invalid_token' | 'insufficient_scope';

/** RFC 6750 §3 challenge: 401 (no or bad token) or 403 (scope), with the RFC 9728 metadata URL. */
export function bearerError(code: BearerErrorCode, params: { resourceMetadata: string; scope?: string; description?: string }): Response {
  const parts = [`resource_metadata="${params.resourceMetadata}"`];
  if (code !== 'missing') parts.unshift(`error="${code}"`);
  if (params.scope) parts.push(`scope="${params.scope}"`);
  if (params.description && code !== 'missing') parts.push(`error_description="${params.description.replaceAll('"', "'")}"`);
  const status = code === 'insufficient_scope' ? 403 : 401;
  const rpc = code === 'insufficient_scope' ? -32003 : -32001;
  const message = code === 'missing' ? 'Unauthorized: a bearer token is required' : code === 'invalid_token' ? 'Unauthorized: invalid token' : 'Forbidden: insufficient scope';
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: rpc, message, data: { reason: code === 'missing' ? 'unauthorized' : code } }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer ${parts.join(', ')}`, 'cache-control': 'no-store' },
  });
}

/** 429 for an API key over one of its limits: Retry-After, RateLimit headers, and which limit in the JSON-RPC error. */
export function rateLimited(limit: string, retryAfterSeconds: number, headers: Record<string, string>): Response {
  const body = { jsonrpc: '2.0', error: { code: -32029, message: `Too many requests: the ${limit} rate limit is exhausted`, data: { reason: 'rate_limited', limit, retry_after: retryAfterSeconds } }, id: null };
  return new Response(JSON.stringify(body), { status: 429, headers: { ...headers, 'content-type': 'application/json', 'retry-after': String(retryAfterSeconds), 'cache-control': 'no-store' } });
}
