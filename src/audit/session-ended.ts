/** The `session.ended` audit event (issue 12): an administrator ended one MCP session. */
import type { Principal } from '../mcp/principal.ts';
import type { AuditEvent } from './event.ts';
import { actorOf, newEvent, type RequestMeta } from './emit.ts';

/** The event naming the administrator, the session's principal chain and the session; the address and user agent are the administrator's request's. */
export function sessionEndedByAdmin(sessionId: string, principal: Principal, admin: string, meta: RequestMeta | undefined): AuditEvent {
  return newEvent({
    type: 'session.ended',
    outcome: 'success',
    actor: { ...actorOf(principal), admin },
    session_id: sessionId,
    reason: `session ended by ${admin.slice(0, 100)}`,
    meta: meta ? { ...meta, sessionId: undefined } : undefined,
  });
}
