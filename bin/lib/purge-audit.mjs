// Retention of the MySQL audit table: deletes events older than the retention, in bounded batches, with an account that may DELETE (never the audit writer).
import mysql from 'mysql2/promise';
import { parseMysqlUrl, UsageError } from './seed-mysql.mjs';

/** Rows deleted per statement: short statements, so the writer's inserts are never held up for long. */
export const PURGE_BATCH = 5000;

/**
 * Deletes the audit events whose `time` is more than `days` days before `now`, `batch` rows at a
 * time (oldest first), until none is left. Returns the number of rows deleted and the cut-off.
 * @param {{ url: string, database?: string, days: number, now?: number, batch?: number }} options
 * @returns {Promise<{ deleted: number, before: string }>}
 */
export async function purgeAudit({ url, database, days, now = Date.now(), batch = PURGE_BATCH }) {
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new UsageError('the retention must be a whole number of days from 1 to 36500');
  const target = parseMysqlUrl(url);
  const db = database ?? (target.database || 'mcp_audit');
  // `time` is stored as UTC without the zone (src/db/audit-port.ts auditRow).
  const before = new Date(now - days * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
  const conn = await mysql.createConnection({ host: target.host, port: target.port, user: target.user, password: target.password, database: db, connectTimeout: 10_000 });
  let deleted = 0;
  try {
    for (;;) {
      const [result] = await conn.query('DELETE FROM audit_events WHERE time < ? ORDER BY time LIMIT ?', [before, batch]);
      const n = Number(/** @type {{ affectedRows: number }} */ (result).affectedRows);
      deleted += n;
      if (n < batch) break;
    }
  } finally {
    await conn.end();
  }
  return { deleted, before: `${before.replace(' ', 'T')}Z` };
}
