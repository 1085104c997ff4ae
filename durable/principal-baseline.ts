/**
 * The behavioural baseline kept by a principal's own Durable Object (the API key's, or the
 * grant's): one JSON row (the engine's state, bounded under 32 KiB) and the enforcement in force.
 * Sessions score against a snapshot of it and send their observations here in batches.
 */
import { loadConfig } from '../src/config.ts';
import type { BucketState } from '../src/auth/rate-bucket.ts';
import { EnforcementSchema, ObservationBatchSchema, type BaselineView, type Enforcement, type ObservationBatch, type ThrottleRefusal } from '../src/contracts/principal-baseline.ts';
import { anomalyPolicy, anomalySettings } from '../src/mcp/anomaly.ts';
import { enforce, inForce } from '../src/mcp/anomaly-enforce.ts';
import type { AnomalyPolicy } from '../src/mcp/anomaly-policy.ts';
import { newBaseline, observe, type BaselineSettings, type BaselineState } from '../src/security/baseline/index.ts';

/** The baseline table, created by the first batch (docs/storage.md is checked against this). */
export const PRINCIPAL_BASELINE_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS baseline (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, enforcement TEXT, calls INTEGER NOT NULL, updated_at INTEGER NOT NULL)',
];

/** A state larger than this is not stored (the engine's bound is 32 KiB; this only guards against a bug). */
const MAX_STATE_BYTES = 64 * 1024;

/** The baseline of the object whose SQLite it is given. */
export class PrincipalBaseline {
  readonly #sql: SqlStorage;
  readonly #settings: BaselineSettings;
  readonly #policy: AnomalyPolicy;
  /** The throttle bucket of stateless calls (in memory: an evicted object starts a full one), and the enforcement it is for. */
  #throttle: { eventId: string; bucket: BucketState | undefined } | undefined;
  #ready = false;
  /**
   * The view as stored and the state's text, kept after the first read (issue 14): this object is
   * the only writer of its row, so a stateless call's view and each batch no longer read and parse
   * the whole state again. Callers share the view and must not change it (RPC hands out copies).
   */
  #kept: { text: string | null; view: BaselineView } | undefined;

  constructor(sql: SqlStorage, env: object) {
    this.#sql = sql;
    const config = loadConfig(env);
    this.#settings = anomalySettings(config);
    this.#policy = anomalyPolicy(config);
  }

  /** One token from the throttle in force (the same bucket arithmetic as a session's), or the refusal. */
  takeThrottle(now: number): ThrottleRefusal | null {
    const enforcement = inForce(this.view().enforcement, now);
    if (enforcement?.action !== 'throttle') return null;
    if (this.#throttle?.eventId !== enforcement.event_id) this.#throttle = { eventId: enforcement.event_id, bucket: undefined };
    const { refusal, bucket } = enforce(this.#policy, enforcement, now, this.#throttle.bucket);
    this.#throttle.bucket = bucket;
    return refusal ? { action: 'throttle', until: refusal.until, retryAfterSeconds: refusal.retryAfterSeconds } : null;
  }

  /** The stored baseline and enforcement (nothing is created by reading). */
  view(): BaselineView {
    if (this.#kept) return this.#kept.view;
    const row = this.#row();
    const view: BaselineView = row ? { state: JSON.parse(row.state) as BaselineState, enforcement: parseEnforcement(row.enforcement) } : { state: null, enforcement: null };
    this.#kept = { text: row?.state ?? null, view };
    return view;
  }

  /** Folds a batch in, in order, and stores the result; synchronous, so two batches never interleave. */
  observe(raw: ObservationBatch, now: number): BaselineView {
    const batch = ObservationBatchSchema.parse(raw);
    const before = this.view();
    const storedText = this.#kept?.text ?? null;
    // The kept state is folded in place: anything that throws on the way leaves it unknown, so it is read again next time.
    this.#kept = undefined;
    const state = before.state ?? newBaseline(this.#settings);
    for (const call of batch.calls) observe(state, call, this.#settings, batch.kind);
    let enforcement = before.enforcement;
    if (enforcement && enforcement.until <= now) enforcement = null;
    if (batch.enforcement && (!enforcement || batch.enforcement.until > enforcement.until)) enforcement = batch.enforcement;
    const text = JSON.stringify(state);
    if (text.length > MAX_STATE_BYTES) {
      console.error(JSON.stringify({ event: 'baseline_too_large', bytes: text.length }));
      return { state: storedText === null ? null : (JSON.parse(storedText) as BaselineState), enforcement };
    }
    this.#ensure();
    this.#sql.exec(
      'INSERT INTO baseline (id, state, enforcement, calls, updated_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, enforcement = excluded.enforcement, calls = baseline.calls + ?, updated_at = excluded.updated_at',
      text,
      enforcement ? JSON.stringify(enforcement) : null,
      batch.calls.length,
      now,
      batch.calls.length,
    );
    const view = { state, enforcement };
    this.#kept = { text, view };
    return view;
  }

  /** Forgets what was kept (the owner deleted its whole storage): the next read reads storage. */
  forget(): void {
    this.#kept = undefined;
    this.#ready = false;
  }

  #row(): { state: string; enforcement: string | null } | undefined {
    if (!this.#exists()) return undefined;
    return this.#sql.exec<{ state: string; enforcement: string | null }>('SELECT state, enforcement FROM baseline WHERE id = 1').toArray()[0];
  }

  #exists(): boolean {
    if (!this.#ready) this.#ready = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'baseline'").toArray().length > 0;
    return this.#ready;
  }

  #ensure(): void {
    if (this.#exists()) return;
    for (const statement of PRINCIPAL_BASELINE_SCHEMA) this.#sql.exec(statement);
    this.#ready = true;
  }
}

function parseEnforcement(text: string | null): Enforcement | null {
  if (text === null) return null;
  const parsed = EnforcementSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : null;
}
