/**
 * The session's side of the behavioural baselines: a snapshot of its principal's baseline
 * (fetched when the session connects or wakes, refreshed by every batch reply), a score for each
 * tool call on the hot path, and the observations queued in the session's memory and sent to the
 * principal's object in batches by the alarm, after the calls were answered. The queue is not
 * written to SQLite (issue 14): an eviction or restart loses the observations not yet sent (about
 * a second's worth, more while the principal's object is unreachable). The baseline learns from
 * them; the audit trail, which records every call durably, does not depend on them.
 */
import type { Config } from '../src/config.ts';
import type { Env } from '../src/env.ts';
import { newEvent, type EventInput, type RequestMeta } from '../src/audit/emit.ts';
import type { AuditEvent } from '../src/audit/event.ts';
import { publishAlert } from '../src/alerts/raise.ts';
import type { BucketState } from '../src/auth/rate-bucket.ts';
import type { BaselineView, Enforcement } from '../src/contracts/principal-baseline.ts';
import { alertOf, anomalyPolicy, anomalySettings, baselineCall, detectedEvent, enforcedEvent, principalKind } from '../src/mcp/anomaly.ts';
import { enforce, startEnforcement, type AnomalyRefusal } from '../src/mcp/anomaly-enforce.ts';
import { actionFor, type AnomalyPolicy } from '../src/mcp/anomaly-policy.ts';
import { principalObject } from '../src/mcp/baseline-owner.ts';
import type { Principal } from '../src/mcp/principal.ts';
import { newBaseline, observe, score, type BaselineCall, type BaselineSettings, type BaselineState } from '../src/security/baseline/index.ts';
import { scheduleAlarm } from './alarm.ts';

/** The session keeps no baseline table of its own any more (docs/storage.md is checked against this). */
export const SESSION_BASELINE_SCHEMA: readonly string[] = [];
/** The table earlier versions queued observations in: its rows are taken into the queue once, then it is dropped. */
const LEGACY_TABLE = 'baseline_outbox';
const FLUSH_DELAY_MS = 1000;
const BATCH = 500;
/** Observations kept while the principal's object cannot be reached; older ones are dropped first. */
const MAX_QUEUED = 5000;

export type { AnomalyRefusal } from '../src/mcp/anomaly-enforce.ts';

/** What the session gives: storage, bindings, settings, and how to record an audit event in its outbox. */
export interface SessionBaselineDeps {
  storage: DurableObjectStorage;
  env: Env;
  config: Config;
  record: (event: AuditEvent) => Promise<unknown>;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** One session's scorer and outbox of observations. */
export class SessionBaseline {
  readonly #deps: SessionBaselineDeps;
  readonly #settings: BaselineSettings;
  readonly #policy: AnomalyPolicy;
  /** undefined until fetched from the principal's object in this object's life. */
  #snapshot: BaselineState | undefined;
  #enforcement: Enforcement | null = null;
  /** An enforcement started here and not yet sent to the principal's object. */
  #newEnforcement: Enforcement | undefined;
  #bucket: BucketState | undefined;
  /** Observations not yet sent to the principal's object, oldest first (at most MAX_QUEUED). */
  #queued: BaselineCall[] = [];
  /** Whether an earlier version's table was looked for (and drained) in this object's life. */
  #legacyChecked = false;

  constructor(deps: SessionBaselineDeps) {
    this.#deps = deps;
    this.#settings = anomalySettings(deps.config);
    this.#policy = anomalyPolicy(deps.config);
  }

  /** Whether baselines are on. */
  get enabled(): boolean {
    return this.#deps.config.ANOMALY_ENABLED;
  }

  /** Fetches the principal's baseline (at initialize, and on the first call after a wake). */
  async connect(principal: Principal): Promise<void> {
    if (!this.enabled) return;
    try {
      this.#apply(await principalObject(this.#deps.env, principal).baseline());
    } catch (error) {
      console.error(JSON.stringify({ event: 'baseline_fetch_failed', error: String(error) }));
      this.#snapshot ??= newBaseline(this.#settings);
    }
  }

  /**
   * Before a tool runs: an enforcement in force refuses (or throttles) the call; otherwise the
   * call is scored on its arguments alone, and when it alerts under a policy stronger than
   * "alert" it is refused here, before any side effect.
   */
  async before(principal: Principal, sessionId: string, tool: string, args: unknown, meta: RequestMeta | undefined): Promise<AnomalyRefusal | null> {
    if (!this.enabled) return null;
    if (this.#snapshot === undefined) await this.connect(principal);
    const now = Date.now();
    const enforcement = this.#enforcement && this.#enforcement.until > now ? this.#enforcement : null;
    if (enforcement) {
      const refusal = this.#enforce(enforcement, now);
      if (refusal) {
        this.#queue(baselineCall({ at: now, tool, args, status: 'denied', meta }));
        await this.#record(enforcedEvent(principal, tool, refusal.action, refusal.until, enforcement.event_id, sessionId, meta));
        return refusal;
      }
      return null;
    }
    const call = baselineCall({ at: now, tool, args, status: 'ok', meta });
    const verdict = score(this.#state(), call, this.#settings);
    const action = actionFor(this.#policy, tool, principalKind(principal));
    if (!verdict.alert || action === 'alert') return null;
    const denied: BaselineCall = { ...call, status: 'denied' };
    const event = await this.#alert(principal, sessionId, denied, verdict, action, meta);
    const started = this.#start(action, now, event.id, verdict.reasons);
    this.#queue(denied);
    const refusal = this.#enforce(started, now);
    if (!refusal) return null;
    await this.#record(enforcedEvent(principal, tool, refusal.action, refusal.until, event.id, sessionId, meta));
    return refusal;
  }

  /** After a tool ran (or was refused for its arguments): score, learn locally, queue for the principal, alert. */
  async after(principal: Principal, sessionId: string | undefined, input: { tool: string; args: unknown; status: BaselineCall['status']; rows?: number | undefined; bytes?: number | undefined; meta?: RequestMeta | undefined }): Promise<void> {
    if (!this.enabled) return;
    if (this.#snapshot === undefined) await this.connect(principal);
    const now = Date.now();
    const call = baselineCall({ at: now, ...input });
    const verdict = score(this.#state(), call, this.#settings);
    this.#queue(call);
    if (!verdict.alert) return;
    const action = actionFor(this.#policy, call.tool, principalKind(principal));
    const event = await this.#alert(principal, sessionId, call, verdict, action, input.meta);
    if (action !== 'alert') this.#start(action, now, event.id, verdict.reasons);
  }

  /** Sends the queued observations to the principal's object; its reply becomes the snapshot. */
  async flush(principal: Principal | undefined): Promise<void> {
    if (!principal) return;
    this.#drainLegacy();
    for (;;) {
      const calls = this.#queued.slice(0, BATCH);
      const enforcement = this.#newEnforcement;
      if (calls.length === 0 && !enforcement) return;
      try {
        const view = await principalObject(this.#deps.env, principal).observeBaseline({ kind: principalKind(principal), calls, ...(enforcement ? { enforcement } : {}) });
        // Calls queued while the batch was away stay queued, and are folded in again on the principal's new state.
        this.#queued = this.#queued.slice(calls.length);
        if (this.#newEnforcement === enforcement) this.#newEnforcement = undefined;
        this.#apply(view);
        for (const call of this.#queued) observe(this.#state(), call, this.#settings, principalKind(principal));
      } catch (error) {
        console.error(JSON.stringify({ event: 'baseline_flush_failed', pending: calls.length, error: String(error) }));
        await scheduleAlarm(this.#deps.storage, Date.now() + 10 * FLUSH_DELAY_MS);
        return;
      }
      if (calls.length < BATCH) {
        if (this.#queued.length > 0) await scheduleAlarm(this.#deps.storage, Date.now() + FLUSH_DELAY_MS);
        return;
      }
    }
  }

  /** Observations waiting to be sent (tests and diagnostics). */
  pending(): number {
    return this.#queued.length;
  }

  /** The session's current view (tests and diagnostics). */
  view(): BaselineView {
    return { state: this.#snapshot ?? null, enforcement: this.#enforcement };
  }

  #apply(view: BaselineView): void {
    this.#snapshot = view.state ?? newBaseline(this.#settings);
    const local = this.#newEnforcement ?? this.#enforcement;
    this.#enforcement = local && (!view.enforcement || local.until > view.enforcement.until) ? local : view.enforcement;
  }

  #state(): BaselineState {
    this.#snapshot ??= newBaseline(this.#settings);
    return this.#snapshot;
  }

  /**
   * Learns the call locally (so the next call is scored against it) and queues it in memory for
   * the principal. The alarm is asked for only when the queue was empty: a queue that holds calls
   * has an alarm due already (set then, or by a flush that left calls behind).
   */
  #queue(call: BaselineCall): void {
    observe(this.#state(), call, this.#settings);
    const wasEmpty = this.#queued.length === 0;
    this.#queued.push(call);
    if (this.#queued.length > MAX_QUEUED) this.#queued.splice(0, this.#queued.length - MAX_QUEUED);
    if (wasEmpty) this.#deps.waitUntil(scheduleAlarm(this.#deps.storage, Date.now() + FLUSH_DELAY_MS));
  }

  async #alert(principal: Principal, sessionId: string | undefined, call: BaselineCall, verdict: ReturnType<typeof score>, action: ReturnType<typeof actionFor>, meta: RequestMeta | undefined): Promise<AuditEvent> {
    const event = newEvent(detectedEvent(principal, call, verdict, action, sessionId, meta));
    if (this.#deps.config.AUDIT_ENABLED) await this.#deps.record(event);
    this.#deps.waitUntil(publishAlert(this.#deps.env, alertOf(principal, call, verdict, action, event.id)));
    return event;
  }

  async #record(input: EventInput): Promise<void> {
    if (this.#deps.config.AUDIT_ENABLED) await this.#deps.record(newEvent(input));
  }

  #start(action: Enforcement['action'], now: number, eventId: string, reasons: readonly string[]): Enforcement {
    const enforcement = startEnforcement(this.#policy, action, now, eventId, reasons);
    this.#enforcement = enforcement;
    this.#newEnforcement = enforcement;
    this.#bucket = undefined;
    this.#deps.waitUntil(scheduleAlarm(this.#deps.storage, now + FLUSH_DELAY_MS));
    return enforcement;
  }

  /** A refusal under the enforcement, or null when a throttled call still has a token. */
  #enforce(enforcement: Enforcement, now: number): AnomalyRefusal | null {
    const { refusal, bucket } = enforce(this.#policy, enforcement, now, this.#bucket);
    this.#bucket = bucket;
    return refusal;
  }

  /** Takes the rows an earlier version left in its table into the queue (oldest first), then drops the table. */
  #drainLegacy(): void {
    if (this.#legacyChecked) return;
    this.#legacyChecked = true;
    const sql = this.#deps.storage.sql;
    if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", LEGACY_TABLE).toArray().length === 0) return;
    const rows = sql.exec<{ call: string }>(`SELECT call FROM ${LEGACY_TABLE} ORDER BY seq`).toArray();
    this.#queued = [...rows.map((r) => JSON.parse(r.call) as BaselineCall), ...this.#queued].slice(-MAX_QUEUED);
    sql.exec(`DROP TABLE ${LEGACY_TABLE}`);
  }
}
