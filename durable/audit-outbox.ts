/** The audit outbox inside an emitting Durable Object: events are written here before the response, then delivered in batches by the alarm. */
import { AuditEventSchema, type AuditEvent } from '../src/audit/event.ts';
import { deliver } from '../src/audit/sink.ts';
import type { Env } from '../src/env.ts';
import { scheduleAlarm } from './alarm.ts';
import type { DeliveryReport } from './audit-delivery.ts';

/**
 * The outbox table, created on the first event (docs/storage.md is checked against this). One
 * B-tree only (issue 14): `seq` is the rowid (no AUTOINCREMENT, whose counter table is a second
 * page written per event) and `id` has no index (a third): event ids are fresh UUIDs, and every
 * sink ignores an id it already holds. Objects created before keep their older table, which works
 * the same.
 */
export const AUDIT_OUTBOX_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS audit_outbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, event TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)',
];
const BATCH = 200;
const FLUSH_DELAY_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

/** Result of one delivery attempt. */
export interface FlushResult {
  delivered: number;
  pending: number;
  error?: string;
}

/** The outbox of one Durable Object. Nothing is stored until the first event. */
export class AuditOutbox {
  readonly #storage: DurableObjectStorage;
  readonly #max: number;
  #ready = false;
  #failures = 0;
  /** Pending rows, counted once per object life and then kept up to date (not a COUNT per event). */
  #pending: number | null = null;
  #flushing: Promise<FlushResult> | null = null;

  readonly #send: (events: readonly AuditEvent[]) => Promise<void>;
  /** Issue 12: where delivered batches and failed attempts are reported (the AuditStore's delivery record), best effort. */
  readonly #report: (report: DeliveryReport) => Promise<void>;
  readonly #reporter = crypto.randomUUID();

  /** `send` delivers a batch (default: the audit port, the webhook and the log line, src/audit/sink.ts); `report` tells the AuditStore how delivery goes. */
  constructor(storage: DurableObjectStorage, env: Env, max: number, send?: (events: readonly AuditEvent[]) => Promise<void>, report?: (report: DeliveryReport) => Promise<void>) {
    this.#storage = storage;
    this.#max = max;
    this.#send = send ?? ((events) => deliver(env, events));
    this.#report = report ?? ((r) => env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).noteDelivery(r));
  }

  /** Reports one attempt; a report that fails is dropped (the delivery itself is what matters). */
  async #tell(lagsMs: number[], pending: number, error: string | null): Promise<void> {
    await this.#report({ reporter: this.#reporter, lagsMs, pending, error }).catch(() => undefined);
  }

  /**
   * Records an event durably (a synchronous SQLite write, committed before the response) and
   * makes sure the alarm will deliver it. When the outbox is full the oldest events are kept
   * and the new one is refused with a loud log line: nothing already recorded is dropped.
   */
  async record(event: AuditEvent): Promise<boolean> {
    const sql = this.#storage.sql;
    this.#ensure();
    const pending = this.count();
    if (pending >= this.#max) {
      console.error(JSON.stringify({ event: 'audit_outbox_full', pending, max: this.#max, dropped: event.id, type: event.type }));
      return false;
    }
    if (pending + 1 >= this.#max * 0.8 && pending % 100 === 0) {
      console.error(JSON.stringify({ event: 'audit_outbox_near_full', pending: pending + 1, max: this.#max }));
    }
    const written = sql.exec('INSERT OR IGNORE INTO audit_outbox (id, event) VALUES (?, ?)', event.id, JSON.stringify(event)).rowsWritten;
    this.#pending = pending + (written > 0 ? 1 : 0);
    await scheduleAlarm(this.#storage, Date.now() + FLUSH_DELAY_MS);
    return true;
  }

  /** Events waiting for delivery. */
  count(): number {
    if (!this.#exists()) return 0;
    this.#pending ??= this.#storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM audit_outbox').one().n;
    return this.#pending;
  }

  /**
   * Delivers pending events in batches (idempotent by event id at the sink), deleting each
   * batch only after the sink confirmed it. On failure the events stay and the alarm is set
   * again with exponential backoff.
   */
  flush(): Promise<FlushResult> {
    // One flush at a time: a second one deleting by `seq` after the first emptied the table could
    // delete a row inserted meanwhile (rowids restart once the table is empty).
    this.#flushing ??= this.#flushOnce().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  async #flushOnce(): Promise<FlushResult> {
    if (!this.#exists()) return { delivered: 0, pending: 0 };
    let delivered = 0;
    for (;;) {
      const rows = this.#storage.sql.exec<{ seq: number; event: string }>('SELECT seq, event FROM audit_outbox ORDER BY seq LIMIT ?', BATCH).toArray();
      if (rows.length === 0) break;
      const events = rows.map((r) => AuditEventSchema.parse(JSON.parse(r.event)));
      try {
        await this.#send(events);
      } catch (error) {
        this.#failures++;
        const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.#failures, 6));
        const pending = this.count();
        console.error(JSON.stringify({ event: 'audit_delivery_failed', pending, retry_in_ms: wait, error: error instanceof Error ? error.message : String(error) }));
        await scheduleAlarm(this.#storage, Date.now() + wait);
        await this.#tell([], pending, error instanceof Error ? error.message : String(error));
        return { delivered, pending, error: error instanceof Error ? error.message : String(error) };
      }
      const last = rows.at(-1)?.seq ?? 0;
      this.#storage.sql.exec('DELETE FROM audit_outbox WHERE seq <= ?', last);
      this.#pending = null;
      delivered += rows.length;
      this.#failures = 0;
      const at = Date.now();
      await this.#tell(events.map((e) => at - Date.parse(e.time)), this.count(), null);
    }
    return { delivered, pending: 0 };
  }

  #exists(): boolean {
    if (!this.#ready) this.#ready = this.#storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_outbox'").toArray().length > 0;
    return this.#ready;
  }

  #ensure(): void {
    if (this.#exists()) return;
    for (const statement of AUDIT_OUTBOX_SCHEMA) this.#storage.sql.exec(statement);
    this.#ready = true;
  }
}
