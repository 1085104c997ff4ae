/** Where the router records a principal's audit events outside a session: that principal's AuditRelay (durable/audit-relay.ts), not the one AuditStore. */
import type { Env } from '../env.ts';
import type { AuditEvent } from './event.ts';

/**
 * Records the event durably in the relay of `principalId` (the user id, or `key:<key id>` for an
 * API key) before the caller answers. The relay is chosen by the authenticated principal, never
 * by anything the client sends.
 */
export async function recordForPrincipal(env: Env, principalId: string, event: AuditEvent): Promise<void> {
  await env.AUDIT_RELAY.get(env.AUDIT_RELAY.idFromName(principalId)).record(event);
}
