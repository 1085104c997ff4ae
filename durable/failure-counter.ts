/** One Durable Object per caller address: counts failed credentials and refused registrations per kind and window, and records one event per window. */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { newEvent, RequestMetaSchema, type RequestMeta } from '../src/audit/emit.ts';
import type { AuditEvent } from '../src/audit/event.ts';
import { loadConfig } from '../src/config.ts';
import { FAILURE_KINDS, type FailureCounterObject, type FailureKind, type FailureNote, type FailureWindowView } from '../src/contracts/failure-counter.ts';
import type { Env } from '../src/env.ts';
import { scheduleAlarm } from './alarm.ts';

/** The counter's SQLite table (docs/storage.md is checked against this). */
export const FAILURE_COUNTER_SCHEMA = ['CREATE TABLE IF NOT EXISTS failure_windows (kind TEXT PRIMARY KEY, state TEXT NOT NULL)'];

/** A window is written to storage when it opens and then every CHECKPOINT failures (an eviction loses at most that many from its count). */
const CHECKPOINT = 64;
/** Distinct values kept per list in one window. */
const KEEP = 5;

const WindowSchema = z.object({
  kind: z.enum(FAILURE_KINDS),
  start: z.number(),
  end: z.number(),
  last: z.number(),
  count: z.number().int().min(1),
  keyIds: z.array(z.string()),
  kids: z.array(z.string()),
  algs: z.array(z.string()),
  reasons: z.array(z.string()),
  meta: RequestMetaSchema.optional(),
});
type Window = z.infer<typeof WindowSchema>;

function keep(list: string[], value: string | undefined): void {
  if (value !== undefined && list.length < KEEP && !list.includes(value)) list.push(value);
}

/** The counter of one address (its name). Nothing is stored until the first failure. */
export class FailureCounter extends DurableObject<Env> implements FailureCounterObject {
  /** The open windows by kind; storage holds the same, written at opening and at checkpoints. */
  #open: Map<FailureKind, Window> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of FAILURE_COUNTER_SCHEMA) ctx.storage.sql.exec(statement);
  }

  #windowsMap(): Map<FailureKind, Window> {
    if (this.#open) return this.#open;
    const rows = this.ctx.storage.sql.exec<{ state: string }>('SELECT state FROM failure_windows').toArray();
    this.#open = new Map(rows.map((r) => WindowSchema.parse(JSON.parse(r.state))).map((w) => [w.kind, w]));
    return this.#open;
  }

  #save(w: Window): void {
    this.ctx.storage.sql.exec('INSERT INTO failure_windows (kind, state) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET state = excluded.state', w.kind, JSON.stringify(w));
  }

  /** Counts one failure; a window that has ended is closed first (its event recorded). */
  async note(input: FailureNote): Promise<void> {
    const open = this.#windowsMap();
    let w = open.get(input.kind);
    if (w && input.now >= w.end) {
      await this.#record(w);
      w = undefined;
    }
    if (!w) {
      w = { kind: input.kind, start: input.now, end: input.now + input.windowMs, last: input.now, count: 0, keyIds: [], kids: [], algs: [], reasons: [], ...(input.meta ? { meta: input.meta } : {}) };
      open.set(input.kind, w);
    }
    w.count++;
    w.last = input.now;
    keep(w.keyIds, input.keyId);
    keep(w.kids, input.kid);
    keep(w.algs, input.alg);
    keep(w.reasons, input.reason?.slice(0, 100));
    if (w.count === 1 || w.count % CHECKPOINT === 0) {
      this.#save(w);
      if (w.count === 1) await scheduleAlarm(this.ctx.storage, w.end);
    }
  }

  /** Closes every window that ended by `now`: one event each, with its count. */
  async close(now: number): Promise<number> {
    let closed = 0;
    for (const w of [...this.#windowsMap().values()]) {
      if (w.end > now) continue;
      await this.#record(w);
      closed++;
    }
    return closed;
  }

  /**
   * Records the window's one event in the AuditStore (as the router's own events go: stored, or
   * queued there for MySQL and the webhook), then forgets the window. When the store cannot be
   * reached the window stays and the alarm (retried by the platform) records it later.
   */
  async #record(w: Window): Promise<void> {
    if (loadConfig(this.env).AUDIT_ENABLED) await this.env.AUDIT_STORE.get(this.env.AUDIT_STORE.idFromName('default')).record(this.#event(w));
    this.#windowsMap().delete(w.kind);
    this.ctx.storage.sql.exec('DELETE FROM failure_windows WHERE kind = ?', w.kind);
  }

  #event(w: Window): AuditEvent {
    const meta: RequestMeta | undefined = w.meta ? { ...w.meta, sessionId: undefined } : undefined;
    return newEvent({
        type: w.kind === 'registration_limited' ? 'client.registration_refused' : 'auth.failed',
        outcome: 'denied',
        actor: w.keyIds[0] ? { key_id: w.keyIds[0] } : {},
        error_code: w.kind === 'registration_limited' ? 'rate_limited' : 'invalid_credentials',
        reason: `${w.count} ${w.kind} failure${w.count === 1 ? '' : 's'} from one address in ${Math.round((w.end - w.start) / 1000)} s`,
        params: {
          kind: w.kind,
          count: w.count,
          first_seen: new Date(w.start).toISOString(),
          last_seen: new Date(w.last).toISOString(),
          ...(w.keyIds.length > 0 ? { key_ids: w.keyIds } : {}),
          ...(w.kids.length > 0 ? { kids: w.kids } : {}),
          ...(w.algs.length > 0 ? { algs: w.algs } : {}),
          ...(w.reasons.length > 0 ? { reasons: w.reasons } : {}),
        },
        meta,
      });
  }

  /** The open windows (tests and diagnostics). */
  windows(): FailureWindowView[] {
    return [...this.#windowsMap().values()].map((w) => ({ kind: w.kind, start: w.start, last: w.last, count: w.count }));
  }

  /** Closes the windows that ended and wakes again at the next window's end. */
  override async alarm(): Promise<void> {
    await this.close(Date.now());
    const next = Math.min(...[...this.#windowsMap().values()].map((w) => w.end));
    if (Number.isFinite(next)) await scheduleAlarm(this.ctx.storage, next);
  }
}
