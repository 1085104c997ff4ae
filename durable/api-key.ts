/** One Durable Object per API key: hashed secrets (with rotation overlap), scopes, expiry, status, and exact rate buckets. */
import { DurableObject } from 'cloudflare:workers';
import { sha256Base64url, timingSafeEqual } from '../src/auth/encoding.ts';
import { fullBucket, rateLimitHeaders, reservation, take, type BucketState, type RateLimit } from '../src/auth/rate-bucket.ts';
import type { Env } from '../src/env.ts';
import { loadConfig } from '../src/config.ts';
import { newEvent, type EventInput, type RequestMeta } from '../src/audit/emit.ts';
import { KeyRecordSchema, type AdminContext, type ApiKeyObject, type KeyCheck, type KeyCheckInput, type KeyRecord, type KeyView } from '../src/contracts/api-key.ts';
import { randomToken } from '../src/lib/random.ts';
import { AuditOutbox } from './audit-outbox.ts';
import { JsonRow } from './json-row.ts';
import { PrincipalBaseline } from './principal-baseline.ts';
import type { BaselineView, ObservationBatch, ThrottleRefusal } from '../src/contracts/principal-baseline.ts';

/** The key's SQLite tables (docs/storage.md is checked against this). */
export const API_KEY_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS key (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS secrets (hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL, retires_at INTEGER)',
  'CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL)',
];

/** The key, named by its key id. Storage exists only once the key is created. */
export class ApiKey extends DurableObject<Env> implements ApiKeyObject {
  readonly #state: JsonRow<KeyRecord>;
  readonly #outbox: AuditOutbox;
  readonly #baseline: PrincipalBaseline;
  /*
   * Issue 14: what a check reads is kept in memory. This object is the only writer of its
   * storage, so memory and storage agree; a storage failure resets the object, and these with it.
   */
  /** The stored secrets (hash, retirement), read once; dropped whenever this object changes them. */
  #secrets: Array<{ hash: string; retires_at: number | null }> | undefined;
  /** Presented secrets that matched a stored hash, with that hash, so a repeat skips the SHA-256 (the last 4). */
  #verified: Array<{ secret: string; hash: string }> = [];
  /**
   * The rate buckets by name: `kept` is the exact state (every take is counted here, with no await
   * between reading and taking); `stored` is what storage holds, never more tokens than `kept`
   * (src/auth/rate-bucket.ts `reservation`), written ahead by a reserve so most takes write nothing.
   */
  readonly #buckets = new Map<string, { kept: BucketState; stored: BucketState | undefined; limit: RateLimit }>();
  /** Writes the exact state of every bucket a second after the last take (so an idle object is evicted with exact buckets). */
  #settleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#state = new JsonRow(ctx.storage.sql, 'key', KeyRecordSchema);
    this.#outbox = new AuditOutbox(ctx.storage, env, loadConfig(env).AUDIT_OUTBOX_MAX);
    this.#baseline = new PrincipalBaseline(ctx.storage.sql, env);
  }

  /** The key's behavioural baseline (durable/principal-baseline.ts); empty for a key that does not exist. */
  baseline(): BaselineView {
    return this.#state.read() ? this.#baseline.view() : { state: null, enforcement: null };
  }

  /** Folds a session's batch of observations into the key's baseline. */
  observeBaseline(batch: ObservationBatch): BaselineView {
    if (!this.#state.read()) return { state: null, enforcement: null };
    return this.#baseline.observe(batch, Date.now());
  }

  /** A stateless call's token from the key's anomaly throttle, if one is in force. */
  takeThrottle(): ThrottleRefusal | null {
    return this.#state.read() ? this.#baseline.takeThrottle(Date.now()) : null;
  }

  /** Delivers audit events. */
  override async alarm(): Promise<void> {
    await this.#outbox.flush();
  }

  /** Audit events waiting for delivery (tests and diagnostics). */
  auditPending(): number {
    return this.#outbox.count();
  }

  /** Creates the key; returns its first secret (shown once). */
  async create(record: KeyRecord, by?: AdminContext): Promise<{ secret: string } | { error: string }> {
    if (this.#state.read()) return { error: 'key exists' };
    const secret = randomToken();
    const hash = await sha256Base64url(secret);
    for (const statement of API_KEY_SCHEMA) this.ctx.storage.sql.exec(statement);
    this.#state.write(KeyRecordSchema.parse(record));
    this.ctx.storage.sql.exec('INSERT INTO secrets (hash, created_at, retires_at) VALUES (?, ?, NULL)', hash, record.createdAt);
    this.#secrets = undefined;
    await this.#audit(record, { type: 'key.created', outcome: 'success', reason: `scopes ${record.scopes.join(' ')}; expires ${new Date(record.expiresAt).toISOString()}`, ...keyChange(by, { scopes: record.scopes, expires_at: new Date(record.expiresAt).toISOString() }) });
    return { secret };
  }

  /**
   * Checks the secret, status, expiry and (when `neededScope` is given) scope, then takes one
   * token from the key's bucket and, for a tool with its own limit, from that tool's bucket.
   * Nothing is taken when any check fails. There is no await between reading and writing the
   * buckets, so N concurrent requests against a bucket of K admit exactly K.
   */
  async check(input: KeyCheckInput): Promise<KeyCheck> {
    const result = await this.#check(input);
    if (result.ok) return input.withBaseline ? { ...result, baseline: this.#baseline.view() } : result;
    const record = this.#state.read();
    // A wrong secret is only logged: anyone who knows a key id could otherwise fill the outbox.
    if (!record || result.reason === 'invalid') return result;
    if (result.reason === 'insufficient_scope') {
      await this.#audit(record, { type: 'tool.call', outcome: 'denied', tool: input.tool, error_code: 'insufficient_scope', reason: `needs ${input.neededScope ?? ''}`, meta: input.meta });
    } else if (result.reason === 'rate_limited') {
      await this.#audit(record, { type: 'key.rate_limited', outcome: 'denied', tool: input.tool, error_code: 'rate_limited', reason: `limit ${result.limit ?? 'key'}`, meta: input.meta });
    } else {
      await this.#audit(record, { type: 'auth.token_rejected', outcome: 'denied', error_code: result.reason, reason: `API key ${result.reason.replace('_', ' ')}`, meta: input.meta });
    }
    return result;
  }

  async #check(input: Omit<KeyCheckInput, 'meta'>): Promise<KeyCheck> {
    const match = await this.#matchSecret(input.secret);
    const record = this.#state.read();
    if (!record || !match) return { ok: false, reason: 'invalid', headers: {} };
    if (record.status === 'revoked') return { ok: false, reason: 'revoked', headers: {} };
    if (input.now >= record.expiresAt) return { ok: false, reason: 'expired', headers: {} };
    if (match.retires_at !== null && input.now >= match.retires_at) return { ok: false, reason: 'rotated_out', headers: {} };
    if (input.neededScope && !record.scopes.includes(input.neededScope)) return { ok: false, reason: 'insufficient_scope', headers: {} };

    const keyTake = take(record.rate, this.#bucket('key', record.rate, input.now), input.now);
    const headers = rateLimitHeaders('key', record.rate, keyTake.ok ? keyTake.remaining : 0, keyTake.resetSeconds);
    if (!keyTake.ok) return { ok: false, reason: 'rate_limited', limit: 'key', retryAfterSeconds: keyTake.retryAfterSeconds, headers };
    // Own properties only: a tool called `constructor` must not find Object.prototype's.
    const toolRate = input.tool && Object.hasOwn(record.toolRates, input.tool) ? record.toolRates[input.tool] : undefined;
    if (input.tool && toolRate) {
      const toolTake = take(toolRate, this.#bucket(`tool:${input.tool}`, toolRate, input.now), input.now);
      if (!toolTake.ok) {
        return { ok: false, reason: 'rate_limited', limit: `tool:${input.tool}`, retryAfterSeconds: toolTake.retryAfterSeconds, headers: rateLimitHeaders(`tool:${input.tool}`, toolRate, 0, toolTake.resetSeconds) };
      }
      this.#saveBucket(`tool:${input.tool}`, toolTake.state, toolRate);
    }
    this.#saveBucket('key', keyTake.state, record.rate);
    if (record.lastUsedAt === null || input.now - record.lastUsedAt > 1000) this.#state.write({ ...record, lastUsedAt: input.now });
    return { ok: true, record, headers };
  }

  /** The stored secret the presented one hashes to, if any (every comparison constant-time). */
  async #matchSecret(secret: string): Promise<{ hash: string; retires_at: number | null } | undefined> {
    let hash: string | undefined;
    for (const seen of this.#verified) if (timingSafeEqual(seen.secret, secret)) hash = seen.hash;
    hash ??= await sha256Base64url(secret);
    if (!this.#state.read()) return undefined;
    this.#secrets ??= this.ctx.storage.sql.exec<{ hash: string; retires_at: number | null }>('SELECT hash, retires_at FROM secrets').toArray();
    const known = hash;
    const match = this.#secrets.find((s) => timingSafeEqual(s.hash, known));
    if (match && !this.#verified.some((seen) => seen.hash === known)) this.#verified = [...this.#verified.slice(-3), { secret, hash: known }];
    return match;
  }

  /** Forgets what this object keeps in memory; the next call reads storage again (for tests that edit its storage directly). */
  reload(): void {
    this.#state.forget();
    this.#secrets = undefined;
    this.#verified = [];
    this.#buckets.clear();
    this.#baseline.forget();
  }

  /** Issues a successor secret; the current ones keep working for `overlapSeconds`, then fail. */
  async rotate(overlapSeconds: number, now: number, by?: AdminContext): Promise<{ secret: string; previousRetiresAt: number } | { error: 'not_found' | 'revoked' }> {
    const secret = randomToken();
    const hash = await sha256Base64url(secret);
    const record = this.#state.read();
    if (!record) return { error: 'not_found' };
    if (record.status === 'revoked') return { error: 'revoked' };
    const retiresAt = now + overlapSeconds * 1000;
    this.ctx.storage.sql.exec('UPDATE secrets SET retires_at = ? WHERE retires_at IS NULL OR retires_at > ?', retiresAt, retiresAt);
    this.ctx.storage.sql.exec('DELETE FROM secrets WHERE retires_at IS NOT NULL AND retires_at <= ?', now);
    this.ctx.storage.sql.exec('INSERT INTO secrets (hash, created_at, retires_at) VALUES (?, ?, NULL)', hash, now);
    this.#secrets = undefined;
    await this.#audit(record, { type: 'key.rotated', outcome: 'success', reason: `previous secret retires ${new Date(retiresAt).toISOString()}`, ...keyChange(by, { overlap_seconds: overlapSeconds, previous_retires_at: new Date(retiresAt).toISOString(), scopes: record.scopes, expires_at: new Date(record.expiresAt).toISOString() }) });
    return { secret, previousRetiresAt: retiresAt };
  }

  /** Revokes the key: the next request with any of its secrets gets 401. */
  async revoke(now: number, by?: AdminContext): Promise<KeyRecord | null> {
    const record = this.#state.read();
    if (!record) return null;
    const revoked: KeyRecord = { ...record, status: 'revoked', revokedAt: record.revokedAt ?? now };
    this.#state.write(revoked);
    if (record.status !== 'revoked') await this.#audit(revoked, { type: 'key.revoked', outcome: 'success', ...keyChange(by, { scopes: record.scopes, expires_at: new Date(record.expiresAt).toISOString() }) });
    return revoked;
  }

  /** Records an event about this key, attributed to its agent and owner. */
  async #audit(record: KeyRecord, event: Omit<EventInput, 'actor'> & { admin?: string | undefined }): Promise<void> {
    if (!loadConfig(this.env).AUDIT_ENABLED) return;
    const { admin, ...rest } = event;
    await this.#outbox.record(newEvent({ ...rest, actor: { key_id: record.keyId, agent_id: record.agentId, agent_name: record.agentName, owner: record.owner, user_id: record.owner, ...(admin ? { admin } : {}) } }));
  }

  /** The key's record and its secrets' lifetimes (no hashes). */
  show(): KeyView | null {
    const record = this.#state.read();
    if (!record) return null;
    const secrets = this.ctx.storage.sql
      .exec<{ created_at: number; retires_at: number | null }>('SELECT created_at, retires_at FROM secrets ORDER BY created_at')
      .toArray()
      .map((s) => ({ createdAt: s.created_at, retiresAt: s.retires_at }));
    return { record, secrets };
  }

  #bucket(name: string, limit: RateLimit, now: number): BucketState {
    const kept = this.#buckets.get(name);
    if (kept) return kept.kept;
    const row = this.ctx.storage.sql.exec<{ tokens: number; updated_at: number }>('SELECT tokens, updated_at FROM buckets WHERE name = ?', name).toArray()[0];
    const stored = row ? { tokens: row.tokens, updatedAt: row.updated_at } : undefined;
    this.#buckets.set(name, { kept: stored ?? fullBucket(limit, now), stored, limit });
    return stored ?? fullBucket(limit, now);
  }

  /** Counts a take; writes only when storage would otherwise hold more tokens than are left. */
  #saveBucket(name: string, state: BucketState, limit: RateLimit): void {
    const entry = this.#buckets.get(name) ?? { kept: state, stored: undefined, limit };
    entry.kept = state;
    entry.limit = limit;
    this.#buckets.set(name, entry);
    const ahead = reservation(limit, entry.stored, state, state.updatedAt);
    if (ahead) this.#writeBucket(name, entry, ahead);
    if (this.#settleTimer === undefined) this.#settleTimer = setTimeout(() => this.#settle(), 1000);
  }

  /** Stores every bucket's exact state (the object has been quiet for a second, or more takes came meanwhile). */
  #settle(): void {
    this.#settleTimer = undefined;
    for (const [name, entry] of this.#buckets) {
      if (entry.stored?.tokens !== entry.kept.tokens || entry.stored.updatedAt !== entry.kept.updatedAt) this.#writeBucket(name, entry, entry.kept);
    }
  }

  #writeBucket(name: string, entry: { stored: BucketState | undefined }, state: BucketState): void {
    this.ctx.storage.sql.exec(
      'INSERT INTO buckets (name, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at',
      name,
      state.tokens,
      state.updatedAt,
    );
    entry.stored = state;
  }
}

/** The structured part of a key change's event: its parameters, and the administrator and request behind it when known. */
function keyChange(by: AdminContext | undefined, params: Record<string, unknown>): { params: Record<string, unknown>; admin?: string; meta?: RequestMeta } {
  return { params, ...(by ? { admin: by.admin, ...(by.meta ? { meta: by.meta } : {}) } : {}) };
}
