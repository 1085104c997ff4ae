/** The `session.opened` audit event (issue 16): who opened an MCP session, with which client, from where. */
import type { SessionCall } from '../mcp/message.ts';
import type { AuditEvent } from './event.ts';
import { actorOf, newEvent } from './emit.ts';
import { sanitizeReason } from './redact.ts';

/** The event for a session whose initialize succeeded: the principal's chain, the client's self-declared name and version, the address and user agent. */
export function sessionOpened(call: SessionCall, init: { protocolVersion: string; clientInfo?: { name?: unknown; version?: unknown } | undefined }, protocolVersion: string): AuditEvent {
  const text = (v: unknown) => (typeof v === 'string' ? sanitizeReason(v.slice(0, 100)) : undefined);
  const name = text(init.clientInfo?.name);
  const version = text(init.clientInfo?.version);
  return newEvent({
    type: 'session.opened',
    outcome: 'success',
    actor: actorOf(call.principal),
    session_id: call.sessionId,
    params: { ...(name ? { client_name: name } : {}), ...(version ? { client_version: version } : {}), protocol_version: protocolVersion, requested_protocol_version: text(init.protocolVersion) },
    meta: call.meta,
  });
}
