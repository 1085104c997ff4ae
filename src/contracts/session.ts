/** What the router may ask of an MCP session's Durable Object (McpSession implements it). */
import type { SessionCall } from '../mcp/message.ts';
import type { RequestMeta } from '../audit/emit.ts';

/** What the gate tells the session about a request (its typed message, principal, audit metadata). */
export type { SessionCall } from '../mcp/message.ts';

/** One Durable Object per MCP session, named by the session id. */
export interface McpSessionObject extends Rpc.DurableObjectBranded {
  /** Serves one HTTP request of this session (POST, GET or DELETE on /mcp). */
  handle(request: Request, call: SessionCall): Promise<Response>;
  /** Called by a grant's Durable Object when it is revoked: its tokens stop working at once. */
  grantRevoked(grantId: string): void;
  /** Audit events waiting for delivery (tests and diagnostics). */
  auditPending(): number;
  /** Issue 12: an administrator ends this session alone; false when it is not open. */
  endByAdmin(admin: string, meta?: RequestMeta): Promise<boolean>;
}
