/** What the router may ask of an MCP session's Durable Object (McpSession implements it). */
import type { RequestMeta } from '../audit/emit.ts';
import type { Principal } from '../mcp/principal.ts';

/** What the gate tells the session about a request, besides the request itself. */
export interface SessionCall {
  sessionId: string;
  principal: Principal;
  /** The parsed JSON-RPC message of a POST (the gate has read and checked the body). */
  message?: unknown;
  /** The RFC 9728 metadata URL, for a 401 when the grant turns out to be revoked. */
  resourceMetadata: string;
  /** Request id, client address and user agent, for the audit trail. */
  meta?: RequestMeta | undefined;
}

/** One Durable Object per MCP session, named by the session id. */
export interface McpSessionObject extends Rpc.DurableObjectBranded {
  /** Serves one HTTP request of this session (POST, GET or DELETE on /mcp). */
  handle(request: Request, call: SessionCall): Promise<Response>;
  /** Called by a grant's Durable Object when it is revoked: its tokens stop working at once. */
  grantRevoked(grantId: string): void;
  /** Audit events waiting for delivery (tests and diagnostics). */
  auditPending(): number;
}
