/** What the router asks of an AuditRelay Durable Object (one per principal; durable/audit-relay.ts implements it). */
import type { AuditEvent } from '../audit/event.ts';

/** The audit outbox of one principal's requests that reach no session (issue 14: no global singleton on a request path). */
export interface AuditRelayObject extends Rpc.DurableObjectBranded {
  /** Stores the event durably (committed before the answer), for delivery in a batch by the alarm; false when the outbox is full (logged loudly). */
  record(event: AuditEvent): Promise<boolean>;
  /** Events waiting for delivery (tests and diagnostics). */
  pending(): number;
}
