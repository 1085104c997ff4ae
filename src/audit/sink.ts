/** Where audit events end up: MySQL (the AUDIT_HYPERDRIVE binding) or, with no MySQL, the embedded AuditStore; plus one JSON log line each (Logpush). */
import { insertAuditRows, selectAuditEvents, type AuditRow } from '../db/mysql.ts';
import type { Env } from '../env.ts';
import type { SqlValue } from '../db/port.ts';
import { AuditEventSchema, type AuditEvent } from './event.ts';

const TIMEOUT_MS = 5000;

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

function mysqlTarget(h: Hyperdrive) {
  return { host: h.host, port: h.port, user: h.user, password: h.password, database: h.database };
}

/**
 * Delivers a batch: to the store (idempotent by event id), then to the webhook when one is
 * configured. Throws when either fails, so the outbox keeps the batch and retries both: the
 * store ignores what it has, and the webhook receiver dedupes by event id (at least once).
 */
export async function deliver(env: Env, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  if (env.AUDIT_HYPERDRIVE) {
    await insertAuditRows(mysqlTarget(env.AUDIT_HYPERDRIVE), events.map(auditRow), TIMEOUT_MS);
  } else {
    await env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).append([...events]);
  }
  if (env.AUDIT_WEBHOOK_URL) await postWebhook(env.AUDIT_WEBHOOK_URL, env.AUDIT_WEBHOOK_SECRET, events);
  for (const e of events) console.log(JSON.stringify({ audit: e }));
}

/**
 * POSTs the batch as NDJSON with `X-Audit-Timestamp` (Unix seconds) and `X-Audit-Signature:
 * sha256=<hex HMAC-SHA-256 of "<timestamp>.<body>" under AUDIT_WEBHOOK_SECRET>`; any non-2xx
 * answer or a 10 s silence is a failure.
 */
export async function postWebhook(url: string, secret: string | undefined, events: readonly AuditEvent[]): Promise<void> {
  if (!secret || secret.length < 32) throw new Error('AUDIT_WEBHOOK_SECRET (32+ characters) is required with AUDIT_WEBHOOK_URL');
  const body = `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}.${body}`)));
  const signature = [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'x-audit-timestamp': timestamp, 'x-audit-signature': `sha256=${signature}` },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the audit webhook answered ${response.status}`);
}

/** Events with their delivery sequence, in id order or (with a cursor) in delivery order. */
export async function readAudit(env: Env, q: AuditQuery): Promise<Array<{ event: AuditEvent; seq: number }>> {
  const rows = env.AUDIT_HYPERDRIVE
    ? await selectAuditEvents(mysqlTarget(env.AUDIT_HYPERDRIVE), ...whereArgs(q), q.limit, TIMEOUT_MS, q.cursor !== undefined)
    : await env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).search(q);
  return rows.map((r) => ({ event: AuditEventSchema.parse(JSON.parse(r.event)), seq: r.seq }));
}

function whereArgs(q: AuditQuery): [string, SqlValue[]] {
  const { where, params } = whereClause(q, 'mysql');
  return [where, params];
}

/** A WHERE clause over the fixed audit columns with `?` placeholders (never user text in the SQL). */
export function whereClause(q: AuditQuery, dialect: 'mysql' | 'sqlite'): { where: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const time = (iso: string) => iso.replace('T', ' ').replace('Z', '');
  if (q.after) (parts.push('id > ?'), params.push(q.after));
  if (q.cursor !== undefined) {
    parts.push(dialect === 'mysql' ? 'seq > ?' : 'rowid > ?');
    params.push(q.cursor);
    // MySQL may commit a lower sequence after a higher one: serve only rows settled for 2 s.
    if (dialect === 'mysql') parts.push('delivered_at <= NOW(3) - INTERVAL 2 SECOND');
  }
  if (q.since) (parts.push('time >= ?'), params.push(time(q.since)));
  if (q.until) (parts.push('time < ?'), params.push(time(q.until)));
  if (q.user) (parts.push('user_id = ?'), params.push(q.user));
  if (q.agent) (parts.push('agent_id = ?'), params.push(q.agent));
  if (q.tool) (parts.push('tool = ?'), params.push(q.tool));
  if (q.type) (parts.push('type = ?'), params.push(q.type));
  if (q.outcome) (parts.push('outcome = ?'), params.push(q.outcome));
  return { where: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params };
}
