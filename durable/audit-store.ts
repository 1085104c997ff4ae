/** The embedded audit store (one instance, "default"): used when no MySQL audit database is configured; also the outbox of events the router itself emits. */
import { DurableObject } from 'cloudflare:workers';
import type { AuditEvent } from '../src/audit/event.ts';
import { loadConfig } from '../src/config.ts';
import type { AuditStoreObject } from '../src/contracts/audit-store.ts';
import { auditRow, searchLimit, whereClause, type AuditQuery, type StoredAuditEvent } from '../src/db/audit-port.ts';
import type { Env } from '../src/env.ts';
import { AuditOutbox } from './audit-outbox.ts';

/** The store's SQLite tables (docs/storage.md is checked against this). */
export const AUDIT_STORE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS audit_events (
    id TEXT PRIMARY KEY, time TEXT NOT NULL, type TEXT NOT NULL, outcome TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, key_id TEXT, client_id TEXT, grant_id TEXT, session_id TEXT, tool TEXT,
    event TEXT NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS audit_time ON audit_events (time)',
  'CREATE INDEX IF NOT EXISTS audit_user ON audit_events (user_id, time)',
  'CREATE INDEX IF NOT EXISTS audit_agent ON audit_events (agent_id, time)',
  'CREATE INDEX IF NOT EXISTS audit_tool ON audit_events (tool, time)',
];

/** Stores delivered events (idempotent by id) and answers searches. */
export class AuditStore extends DurableObject<Env> implements AuditStoreObject {
  readonly #outbox: AuditOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of AUDIT_STORE_SCHEMA) ctx.storage.sql.exec(statement);
    this.#outbox = new AuditOutbox(ctx.storage, env, loadConfig(env).AUDIT_OUTBOX_MAX);
  }

  /** Inserts a batch; an event already stored is ignored (exactly once by id). */
  append(events: AuditEvent[]): number {
    let inserted = 0;
    this.ctx.storage.transactionSync(() => {
      for (const e of events) {
        const cursor = this.ctx.storage.sql.exec(
          'INSERT OR IGNORE INTO audit_events (id, time, type, outcome, user_id, agent_id, key_id, client_id, grant_id, session_id, tool, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          ...auditRow(e),
        );
        inserted += cursor.rowsWritten > 0 ? 1 : 0;
      }
    });
    return inserted;
  }

  /** Records an event the router emitted: stored here directly, or queued for MySQL. */
  async record(event: AuditEvent): Promise<void> {
    if (this.env.AUDIT_HYPERDRIVE) await this.#outbox.record(event);
    else this.append([event]);
  }

  /** Events matching the query as JSON text with their delivery sequence (the rowid), in id or delivery order. */
  search(q: AuditQuery): StoredAuditEvent[] {
    const { where, params } = whereClause(q, 'sqlite');
    const order = q.cursor !== undefined ? 'rowid' : 'id';
    // eslint-disable-next-line house-security/no-string-built-sql -- `where` is built by whereClause from fixed column names with `?` placeholders; order and limit are not input
    return this.ctx.storage.sql.exec<{ event: string; seq: number }>(`SELECT event, rowid AS seq FROM audit_events ${where} ORDER BY ${order} LIMIT ${searchLimit(q)}`, ...params).toArray();
  }

  /** How many events are stored (tests and diagnostics). */
  count(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events').one().n;
  }

  override async alarm(): Promise<void> {
    await this.#outbox.flush();
  }
}
