/** MySQL adapter of the audit port: the audit_events table in its own database, through AUDIT_HYPERDRIVE (a writer that can only INSERT and SELECT there). */
import type { AuditEvent } from '../audit/event.ts';
import { auditRow, searchLimit, whereClause, type AuditPort, type AuditQuery, type StoredAuditEvent } from './audit-port.ts';
import { run, withConnection, type MysqlTarget } from './mysql-connection.ts';

const INSERT = 'INSERT IGNORE INTO audit_events (id, time, type, outcome, user_id, agent_id, key_id, client_id, grant_id, session_id, tool, event) VALUES ?';

/** Writes and reads the audit trail with one connection per operation; `timeoutMs` bounds the connect and the statement each. */
export class MysqlAuditPort implements AuditPort {
  readonly kind = 'mysql';
  readonly #target: MysqlTarget;
  readonly #timeoutMs: number;

  constructor(target: MysqlTarget, timeoutMs: number) {
    this.#target = target;
    this.#timeoutMs = timeoutMs;
  }

  /** Inserts the batch idempotently (INSERT IGNORE by event id), in one statement with client-side escaping. */
  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => [...auditRow(e)]);
    const timeout = this.#timeoutMs;
    await withConnection(this.#target, timeout, timeout, (conn) =>
      new Promise<void>((resolve, reject) => {
        conn.query({ sql: INSERT, values: [rows], timeout }, (error) => (error ? reject(error) : resolve()));
      }),
    );
  }

  /** Reads events (their JSON and delivery sequence) with a WHERE over fixed column names, in id order or, with a cursor, by `seq`. */
  async search(q: AuditQuery): Promise<StoredAuditEvent[]> {
    const { where, params } = whereClause(q, 'mysql');
    const order = q.cursor !== undefined ? 'seq' : 'id';
    const result = await withConnection(this.#target, this.#timeoutMs, this.#timeoutMs, (conn) =>
      // eslint-disable-next-line house-security/no-string-built-sql -- `where` is built by whereClause from fixed column names with `?` placeholders; order and limit are not input
      run(conn, `SELECT event, seq FROM audit_events ${where} ORDER BY ${order} LIMIT ${searchLimit(q)}`, params, { maxRows: q.limit, timeoutMs: this.#timeoutMs }),
    );
    return result.rows.map((r) => ({ event: String(r.event), seq: Number(r.seq) }));
  }
}
