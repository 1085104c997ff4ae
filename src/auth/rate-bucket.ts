/** Token-bucket arithmetic for API-key rate limits. Pure: the caller passes the state and `now`. */

/** A limit: at most `requests` per `perSeconds`, with bursts up to `requests`. */
export interface RateLimit {
  requests: number;
  perSeconds: number;
}

/** A bucket's stored state. */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

/** The outcome of taking one token. */
export type Take =
  | { ok: true; state: BucketState; remaining: number; resetSeconds: number }
  | { ok: false; state: BucketState; retryAfterSeconds: number; resetSeconds: number };

/** A full bucket at `now`. */
export function fullBucket(limit: RateLimit, now: number): BucketState {
  return { tokens: limit.requests, updatedAt: now };
}

/**
 * Refills for the time since the last take, then takes one token if there is one. `remaining`
 * is what is left after this request; `resetSeconds` is how long until the bucket is full;
 * `retryAfterSeconds` how long until one token is back.
 */
export function take(limit: RateLimit, state: BucketState, now: number): Take {
  const rate = limit.requests / (limit.perSeconds * 1000);
  const elapsed = Math.max(0, now - state.updatedAt);
  const tokens = Math.min(limit.requests, state.tokens + elapsed * rate);
  if (tokens >= 1) {
    const left = tokens - 1;
    return { ok: true, state: { tokens: left, updatedAt: now }, remaining: Math.floor(left), resetSeconds: Math.ceil((limit.requests - left) / rate / 1000) };
  }
  return {
    ok: false,
    state: { tokens, updatedAt: now },
    retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rate / 1000)),
    resetSeconds: Math.ceil((limit.requests - tokens) / rate / 1000),
  };
}

/** A bucket's tokens at `now`: its stored tokens refilled for the time since, at most the limit. */
export function levelAt(limit: RateLimit, state: BucketState, now: number): number {
  const rate = limit.requests / (limit.perSeconds * 1000);
  return Math.min(limit.requests, state.tokens + Math.max(0, now - state.updatedAt) * rate);
}

/** The reserve written ahead: a tenth of the bucket, at least one token. */
export function reserveOf(limit: RateLimit): number {
  return Math.max(1, Math.floor(limit.requests / 10));
}

/**
 * What to store after a take so that storage never holds more tokens than the object keeps
 * (issue 14): null while the stored state is still at or below the kept one (nothing to write);
 * otherwise the kept state less a reserve, so the next takes need no write. Both refill at the
 * same rate up to the same limit, so "stored ≤ kept" at a take holds until the next take. An
 * object restored from storage (a crash, an eviction) finds at most the reserve fewer tokens than
 * it had, never more: the bucket can refuse early after a restart, never admit too many.
 */
export function reservation(limit: RateLimit, stored: BucketState | undefined, kept: BucketState, now: number): BucketState | null {
  if (stored && levelAt(limit, stored, now) <= levelAt(limit, kept, now)) return null;
  return { tokens: Math.max(0, levelAt(limit, kept, now) - reserveOf(limit)), updatedAt: now };
}

/** The RateLimit-Policy / RateLimit header values (IETF httpapi ratelimit-headers draft). */
export function rateLimitHeaders(name: string, limit: RateLimit, remaining: number, resetSeconds: number): Record<string, string> {
  return {
    'ratelimit-policy': `"${name}";q=${limit.requests};w=${limit.perSeconds}`,
    ratelimit: `"${name}";r=${Math.max(0, remaining)};t=${Math.max(0, resetSeconds)}`,
  };
}
