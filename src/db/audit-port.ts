/** The audit store port: where delivered audit events are kept and searched. MySQL (AUDIT_HYPERDRIVE) and the embedded AuditStore implement it. */
import type { AuditEvent } from '../audit/event.ts';
import type { SqlValue } from './port.ts';

/** Filters of an audit search or export; `after` is an event id (a cursor: events sort by id). */
export interface AuditQuery {
  after?: string | undefined;
  /** Delivery-order cursor (the `X-Delivery-Cursor` of the previous page): for continuous export. */
  cursor?: number | undefined;
  since?: string | undefined;
  until?: string | undefined;
  user?: string | undefined;
  agent?: string | undefined;
  tool?: string | undefined;
  type?: string | undefined;
  outcome?: string | undefined;
  limit: number;
}

/** A stored event: its JSON text and its delivery sequence. */
export interface StoredAuditEvent {
  event: string;
  seq: number;
}

/** Keeps the audit trail. Writes are idempotent by event id; failures throw. */
export interface AuditPort {
  readonly kind: 'mysql' | 'embedded';
  /** Stores a batch; an event already stored is ignored (exactly once by id). */
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Events matching the query, in id order or, with `cursor`, in delivery order. */
  search(q: AuditQuery): Promise<StoredAuditEvent[]>;
}

/** A row of the audit table: the indexed columns and the whole event as JSON. */
export type AuditRow = [id: string, time: string, type: string, outcome: string, userId: string | null, agentId: string | null, keyId: string | null, clientId: string | null, grantId: string | null, sessionId: string | null, tool: string | null, event: string];

/** The indexed columns and the JSON of an event, as both stores keep them. */
export function auditRow(e: AuditEvent): AuditRow {
  return [
    e.id,
    e.time.replace('T', ' ').replace('Z', ''),
    e.type,
    e.outcome,
    e.actor.user_id ?? e.actor.owner ?? null,
    e.actor.agent_id ?? null,
    e.actor.key_id ?? null,
    e.actor.client_id ?? null,
    e.actor.grant_id ?? null,
    e.session_id ?? null,
    e.tool ?? null,
    JSON.stringify(e),
  ];
}

/** The row limit of one search, whatever the caller asked: 1 to 10,000. */
export function searchLimit(q: AuditQuery): number {
  return Math.max(1, Math.min(10_000, Math.floor(q.limit)));
}

/** A WHERE clause over the fixed audit columns with `?` placeholders (never user text in the SQL). */
export function whereClause(q: AuditQuery, dialect: 'mysql' | 'sqlite'): { where: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const time = (iso: string) => iso.replace('T', ' ').replace('Z', '');
  const add = (part: string, value: SqlValue) => {
    parts.push(part);
    params.push(value);
  };
  if (q.after) add('id > ?', q.after);
  if (q.cursor !== undefined) {
    parts.push(dialect === 'mysql' ? 'seq > ?' : 'rowid > ?');
    params.push(q.cursor);
    // MySQL may commit a lower sequence after a higher one: serve only rows settled for 2 s.
    if (dialect === 'mysql') parts.push('delivered_at <= NOW(3) - INTERVAL 2 SECOND');
  }
  if (q.since) add('time >= ?', time(q.since));
  if (q.until) add('time < ?', time(q.until));
  if (q.user) add('user_id = ?', q.user);
  if (q.agent) add('agent_id = ?', q.agent);
  if (q.tool) add('tool = ?', q.tool);
  if (q.type) add('type = ?', q.type);
  if (q.outcome) add('outcome = ?', q.outcome);
  return { where: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params };
}
