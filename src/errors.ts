/** Closed unions of error codes and the one place each surface maps them to the wire. */

/** Why the `/mcp` HTTP gate refused a request before any MCP processing. */
export type GateErrorCode =
  | 'parse_error'
  | 'invalid_request'
  | 'batch_not_supported'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'session_required'
  | 'session_not_found'
  | 'already_initialized'
  | 'unsupported_protocol_version'
  | 'origin_forbidden'
  | 'host_forbidden'
  | 'internal';

const GATE_WIRE: Record<GateErrorCode, { status: number; rpc: number; message: string }> = {
  parse_error: { status: 400, rpc: -32700, message: 'Parse error: body is not valid JSON' },
  invalid_request: { status: 400, rpc: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message' },
  batch_not_supported: { status: 400, rpc: -32600, message: 'Invalid Request: JSON-RPC batches are not supported' },
  body_too_large: { status: 413, rpc: -32600, message: 'Request body too large' },
  unsupported_media_type: { status: 415, rpc: -32600, message: 'Unsupported Media Type: Content-Type must be application/json' },
  method_not_allowed: { status: 405, rpc: -32000, message: 'Method not allowed: use GET, POST or DELETE' },
  session_required: { status: 400, rpc: -32000, message: 'Bad Request: Mcp-Session-Id header is required' },
  session_not_found: { status: 404, rpc: -32001, message: 'Session not found' },
  already_initialized: { status: 400, rpc: -32600, message: 'Invalid Request: session already initialized' },
  unsupported_protocol_version: { status: 400, rpc: -32000, message: 'Bad Request: unsupported MCP-Protocol-Version' },
  origin_forbidden: { status: 403, rpc: -32000, message: 'Forbidden: Origin not allowed' },
  host_forbidden: { status: 403, rpc: -32000, message: 'Forbidden: Host not allowed' },
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
  | 'invalid_arguments';

/** A failure inside a tool that the client may see; `message` must be safe to show. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly code: ToolErrorCode;
  constructor(code: ToolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
