/** The embedded audit store (one instance, "default"): used when no MySQL audit database is configured; also the outbox of events the router itself emits. */
import { DurableObject } from 'cloudflare:workers';
import type { AuditEvent } from '../src/audit/event.ts';
import { loadConfig } from '../src/config.ts';
import { postWebhook } from '../src/audit/sink.ts';
import type { AuditStoreObject, DetectionRun } from '../src/contracts/audit-store.ts';
import { auditRow, searchLimit, whereClause, type AuditQuery, type StoredAuditEvent } from '../src/db/audit-port.ts';
import type { Env } from '../src/env.ts';
import { AuditOutbox } from './audit-outbox.ts';
import { scheduleAlarm } from './alarm.ts';
import { DETECTION_SCHEMA, DetectionSchedule } from './detection-schedule.ts';
import { AUDIT_DELIVERY_SCHEMA, noteReport, readDelivery, type DeliveryReport } from './audit-delivery.ts';
import type { DeliveryView } from '../src/audit/delivery-stats.ts';

/** Events deleted by one retention run (the alarm runs again a second later while more are due). */
export const PURGE_BATCH = 1000;
/** How often the retention purge runs while events are stored. */
const PURGE_EVERY_MS = 86_400_000;

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
  ...DETECTION_SCHEMA,
  ...AUDIT_DELIVERY_SCHEMA,
];

/** Stores delivered events (idempotent by id) and answers searches. */
export class AuditStore extends DurableObject<Env> implements AuditStoreObject {
  readonly #outbox: AuditOutbox;
  readonly #detections: DetectionSchedule;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of AUDIT_STORE_SCHEMA) ctx.storage.sql.exec(statement);
    // Without MySQL the store is the sink: its outbox (used when a webhook must also get the
    // router's events) stores here and posts to the webhook, never through its own stub.
    this.#outbox = new AuditOutbox(ctx.storage, env, loadConfig(env).AUDIT_OUTBOX_MAX, env.AUDIT_HYPERDRIVE ? undefined : (events) => this.#deliverHere(events), (r) => Promise.resolve(this.noteDelivery(r)));
    this.#detections = new DetectionSchedule(ctx.storage.sql, env, (event) => this.record(event), (q) => this.search(q));
  }

  /** Runs the detection rules now (the alarm runs them every DETECTIONS_INTERVAL_SECONDS when DETECTIONS_ENABLED, and from here on keeps doing so). */
  async runDetections(now = Date.now()): Promise<DetectionRun> {
    const run = await this.#detections.run(now);
    const next = this.#detections.nextRunAt(Date.now());
    if (next !== null) await scheduleAlarm(this.ctx.storage, next);
    return run;
  }

  /**
   * The Worker's cron (`[triggers]` in wrangler.toml) calls this every few minutes: arms the alarm
   * for the next detection run when detections are on. Without it, a store whose trail is in MySQL
   * would start its schedule only when the router first records something through it.
   */
  async wake(): Promise<void> {
    const next = this.#detections.nextRunAt(Date.now());
    if (next !== null) await scheduleAlarm(this.ctx.storage, next);
  }

  /** Inserts a batch; an event already stored is ignored (exactly once by id). A retention purge is due within a day. */
  async append(events: AuditEvent[]): Promise<number> {
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
    if (inserted > 0) await scheduleAlarm(this.ctx.storage, this.#detections.nextRunAt(Date.now()) ?? Date.now() + PURGE_EVERY_MS);
    return inserted;
  }

  /** Records an event the router emitted: stored here directly, or queued for MySQL or the webhook. */
  async record(event: AuditEvent): Promise<void> {
    if (this.env.AUDIT_HYPERDRIVE || this.env.AUDIT_WEBHOOK_URL) await this.#outbox.record(event);
    else if ((await this.append([event])) > 0) this.noteDelivery({ reporter: 'store', lagsMs: [Date.now() - Date.parse(event.time)], pending: 0, error: null });
  }

  /** Issue 12: an outbox's report of a delivered batch (each event's lag) or of a failed attempt (what it holds, the error). */
  noteDelivery(report: DeliveryReport): void {
    noteReport(this.ctx.storage.sql, report, Date.now());
  }

  /** Issue 12: audit delivery over the last `windowMinutes` minutes (1 to 60): events delivered, their lag, the outboxes failing. */
  deliveryStats(windowMinutes = 15): DeliveryView {
    return readDelivery(this.ctx.storage.sql, Date.now(), Math.max(1, Math.min(60, Math.floor(windowMinutes))));
  }

  /** Delivery of the router's events without MySQL: stored here, then the webhook and the log line (as src/audit/sink.ts deliver). */
  async #deliverHere(events: readonly AuditEvent[]): Promise<void> {
    await this.append([...events]);
    if (this.env.AUDIT_WEBHOOK_URL) await postWebhook(this.env.AUDIT_WEBHOOK_URL, this.env.AUDIT_WEBHOOK_SECRET, events);
    for (const e of events) console.log(JSON.stringify({ audit: e }));
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

  /**
   * Deletes up to PURGE_BATCH events older than AUDIT_RETENTION_DAYS (oldest first); `more` when
   * older ones are left for the next run.
   */
  purge(now = Date.now()): { deleted: number; more: boolean } {
    const days = loadConfig(this.env).AUDIT_RETENTION_DAYS;
    const before = new Date(now - days * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
    const deleted = this.ctx.storage.sql.exec('DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events WHERE time < ? ORDER BY time LIMIT ?)', before, PURGE_BATCH).rowsWritten;
    return { deleted, more: deleted >= PURGE_BATCH };
  }

  /** Delivers the outbox (events for MySQL), then purges a bounded batch past the retention: again in a second if more are left, else within a day while events are stored. */
  override async alarm(): Promise<void> {
    await this.#outbox.flush();
    await this.#detections.runIfDue(Date.now());
    const { more } = this.purge();
    if (more) await scheduleAlarm(this.ctx.storage, Date.now() + 1000);
    else if (this.count() > 0) await scheduleAlarm(this.ctx.storage, Date.now() + PURGE_EVERY_MS);
    // With MySQL holding the trail this store holds none of it (count() is 0): the schedule keeps itself going.
    const detect = this.#detections.nextRunAt(Date.now());
    if (detect !== null && (this.env.AUDIT_HYPERDRIVE || this.count() > 0)) await scheduleAlarm(this.ctx.storage, detect);
  }
}
