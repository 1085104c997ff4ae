/** The in-server detections inside the AuditStore: run on its alarm every DETECTIONS_INTERVAL_SECONDS, each new hit once (a `detection.fired` event and an alert). */
import { AuditEventSchema, type AuditEvent } from '../src/audit/event.ts';
import { publishAlert } from '../src/alerts/raise.ts';
import { loadConfig } from '../src/config.ts';
import type { DetectionRun } from '../src/contracts/audit-store.ts';
import { findHits, firedEvent, hitAlert, hitKey, lookbackMs, portReader, type AuditReader } from '../src/detections/run.ts';
import type { Env } from '../src/env.ts';
import { searchLimit, type AuditQuery, type StoredAuditEvent } from '../src/db/audit-port.ts';

/** The hits already fired, and when the detections last ran (docs/storage.md is checked against this). */
export const DETECTION_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS detections_fired (hit_key TEXT PRIMARY KEY, fired_at INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS detections_runs (id INTEGER PRIMARY KEY CHECK (id = 1), last_run_at INTEGER NOT NULL)',
];

/** Fired keys are kept this long past the longest timespan (a hit never comes back after its window left the lookback). */
const KEEP_MS = 2 * 86_400_000;
/** After a failed run (the audit database down), the next attempt waits this long at most (the interval when shorter). */
const RETRY_MS = 60_000;

/** Runs the rules for the AuditStore (which keeps the state in its SQLite and records the events). */
export class DetectionSchedule {
  readonly #sql: SqlStorage;
  readonly #env: Env;
  readonly #record: (event: AuditEvent) => Promise<void>;
  readonly #read: AuditReader;
  /** Not before this time after a failed run (kept in memory: an evicted store tries once more at once). */
  #retryAt = 0;

  /** `search` is the store's own search, used when the trail is embedded (no MySQL). */
  constructor(sql: SqlStorage, env: Env, record: (event: AuditEvent) => Promise<void>, search: (q: AuditQuery) => StoredAuditEvent[]) {
    this.#sql = sql;
    this.#env = env;
    this.#record = record;
    for (const statement of DETECTION_SCHEMA) sql.exec(statement);
    this.#read = env.AUDIT_HYPERDRIVE ? portReader(env) : (q) => Promise.resolve(search({ ...q, limit: searchLimit(q) }).map((r) => AuditEventSchema.parse(JSON.parse(r.event))));
  }

  /** When the next run is due (ms), or null when detections are off. */
  nextRunAt(now: number): number | null {
    const config = loadConfig(this.#env);
    if (!config.DETECTIONS_ENABLED) return null;
    const last = this.#sql.exec<{ last_run_at: number }>('SELECT last_run_at FROM detections_runs WHERE id = 1').toArray()[0]?.last_run_at;
    return Math.max(last === undefined ? now : last + config.DETECTIONS_INTERVAL_SECONDS * 1000, this.#retryAt);
  }

  /**
   * Runs when due (the alarm's call). A failed run (the audit database unreachable) never fails the
   * alarm, which also delivers and purges: it is logged and tried again within a minute, over the
   * range as it is then.
   */
  async runIfDue(now: number): Promise<DetectionRun | null> {
    const due = this.nextRunAt(now);
    if (due === null || now < due) return null;
    try {
      return await this.run(now);
    } catch (error) {
      this.#retryAt = now + Math.min(RETRY_MS, loadConfig(this.#env).DETECTIONS_INTERVAL_SECONDS * 1000);
      const code = (error as { code?: unknown } | null)?.code;
      console.error(JSON.stringify({ event: 'detections_failed', reason: typeof code === 'string' ? code : error instanceof Error ? error.name : 'error', retry_at: new Date(this.#retryAt).toISOString() }));
      return null;
    }
  }

  /**
   * Evaluates every rule over [now − (longest timespan + interval), now): each hit not fired
   * before becomes a `detection.fired` event (recorded like the router's events) and an alert
   * for the hub (source `detection`).
   */
  async run(now: number): Promise<DetectionRun> {
    const config = loadConfig(this.#env);
    const since = new Date(now - lookbackMs() - config.DETECTIONS_INTERVAL_SECONDS * 1000).toISOString();
    const until = new Date(now).toISOString();
    const { hits, events, truncated } = await findHits(this.#read, since, until);
    const fired: string[] = [];
    for (const hit of hits) {
      const key = hitKey(hit);
      const inserted = this.#sql.exec('INSERT OR IGNORE INTO detections_fired (hit_key, fired_at) VALUES (?, ?)', key, now).rowsWritten;
      if (inserted === 0) continue;
      const event = firedEvent(hit);
      if (config.AUDIT_ENABLED) await this.#record(event);
      await publishAlert(this.#env, hitAlert(hit, event));
      fired.push(event.id);
    }
    this.#sql.exec('DELETE FROM detections_fired WHERE fired_at < ?', now - KEEP_MS);
    this.#sql.exec('INSERT INTO detections_runs (id, last_run_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_run_at = excluded.last_run_at', now);
    if (truncated) console.error(JSON.stringify({ event: 'detections_truncated', since, until, events }));
    return { since, until, events, hits: hits.length, fired };
  }
}
