/**
 * The AuditStore's record of audit delivery (issue 12): each outbox reports each batch it delivered to every sink
 * (the lag of each event) and each failed attempt (what it still holds, the error); durable/audit-store.ts keeps them
 * here for an hour. The maths is src/audit/delivery-stats.ts.
 */
import { addLags, deliveryView, type DeliveryView } from '../src/audit/delivery-stats.ts';

/** The tables (docs/storage.md lists them under AuditStore). */
export const AUDIT_DELIVERY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS delivery_minutes (
    minute INTEGER PRIMARY KEY,
    events INTEGER NOT NULL,
    lag_max_ms INTEGER NOT NULL,
    buckets TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS delivery_failures (
    reporter TEXT PRIMARY KEY,
    pending INTEGER NOT NULL,
    error TEXT NOT NULL,
    at INTEGER NOT NULL
  )`,
];

const KEEP_MINUTES = 60;

/** What an outbox reports after a delivery attempt: the lags of a delivered batch, or the error and what it still holds. */
export interface DeliveryReport {
  /** A random id per outbox life (stale ones age out). */
  reporter: string;
  lagsMs: number[];
  pending: number;
  error: string | null;
}

/** Folds one report in (no await: atomic). */
export function noteReport(sql: SqlStorage, report: DeliveryReport, now: number): void {
  if (report.lagsMs.length > 0) {
    const minute = Math.floor(now / 60_000);
    const row = sql.exec<{ events: number; lag_max_ms: number; buckets: string }>('SELECT events, lag_max_ms, buckets FROM delivery_minutes WHERE minute = ?', minute).toArray()[0];
    const buckets = addLags(row ? (JSON.parse(row.buckets) as number[]) : [], report.lagsMs);
    const max = Math.max(row?.lag_max_ms ?? 0, ...report.lagsMs.map((l) => Math.max(0, Math.round(l))));
    sql.exec('INSERT OR REPLACE INTO delivery_minutes (minute, events, lag_max_ms, buckets) VALUES (?, ?, ?, ?)', minute, (row?.events ?? 0) + report.lagsMs.length, max, JSON.stringify(buckets));
    sql.exec('DELETE FROM delivery_minutes WHERE minute <= ?', minute - KEEP_MINUTES);
  }
  sql.exec('DELETE FROM delivery_failures WHERE at < ?', now - KEEP_MINUTES * 60_000);
  if (report.error === null) sql.exec('DELETE FROM delivery_failures WHERE reporter = ?', report.reporter);
  else sql.exec('INSERT OR REPLACE INTO delivery_failures (reporter, pending, error, at) VALUES (?, ?, ?, ?)', report.reporter.slice(0, 100), report.pending, report.error.slice(0, 300), now);
}

/** The view of the last `windowMinutes` minutes. */
export function readDelivery(sql: SqlStorage, now: number, windowMinutes: number): DeliveryView {
  const minutes = sql
    .exec<{ minute: number; events: number; lag_max_ms: number; buckets: string }>('SELECT minute, events, lag_max_ms, buckets FROM delivery_minutes WHERE minute > ?', Math.floor(now / 60_000) - windowMinutes)
    .toArray()
    .map((r) => ({ minute: r.minute, events: r.events, lagMaxMs: r.lag_max_ms, buckets: JSON.parse(r.buckets) as number[] }));
  const failing = sql.exec<{ pending: number; error: string; at: number }>('SELECT pending, error, at FROM delivery_failures').toArray();
  return deliveryView(minutes, failing, now, windowMinutes);
}
