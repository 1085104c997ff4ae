/**
 * Audit delivery, measured (issue 12): per minute, how many events reached every sink and how late (a histogram of
 * "time delivered − event time"), and the outboxes whose last delivery failed. Pure: the AuditStore keeps the numbers
 * (durable/audit-delivery.ts), the console shows them.
 */

/** Upper bounds (ms) of the lag buckets; the last one is open. */
export const LAG_BOUNDS_MS = [250, 500, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, Number.POSITIVE_INFINITY] as const;

/** The bucket of a lag. */
export function bucketOf(lagMs: number): number {
  const i = LAG_BOUNDS_MS.findIndex((bound) => lagMs <= bound);
  return i < 0 ? LAG_BOUNDS_MS.length - 1 : i;
}

/** Adds lags to a histogram (a new array). */
export function addLags(buckets: readonly number[], lagsMs: readonly number[]): number[] {
  const out = LAG_BOUNDS_MS.map((_, i) => buckets[i] ?? 0);
  for (const lag of lagsMs) {
    const i = bucketOf(Math.max(0, lag));
    out[i] = (out[i] ?? 0) + 1;
  }
  return out;
}

/** The upper bound of the bucket holding quantile `q` (0–1); null for an empty histogram; the open bucket answers `max`. */
export function quantileBound(buckets: readonly number[], q: number, max: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i] ?? 0;
    if (seen >= rank) {
      const bound = LAG_BOUNDS_MS[i] ?? Number.POSITIVE_INFINITY;
      return Number.isFinite(bound) ? Math.min(bound, max) : max;
    }
  }
  return max;
}

/** One minute as stored. */
export interface DeliveryMinute {
  minute: number;
  events: number;
  lagMaxMs: number;
  buckets: number[];
}

/** An outbox whose last delivery failed, as it reported. */
export interface FailingOutbox {
  pending: number;
  error: string;
  at: number;
}

/** What the Overview and `GET /admin/audit/delivery` show. */
export interface DeliveryView {
  window_minutes: number;
  /** Events delivered to every sink in the window. */
  delivered: number;
  /** Delivered per minute, oldest first (the last entry is the current minute). */
  per_minute: number[];
  /** Delivery lag (upper bound of its bucket: 250 ms, 500 ms, 1 s, 1.5 s, 2 s, 3 s, 5 s, …), null with nothing delivered. */
  lag_p50_ms: number | null;
  lag_p95_ms: number | null;
  lag_max_ms: number | null;
  /** Outboxes whose last delivery failed (reported in the last FAILING_FRESH_MS) and the events they hold. */
  failing_outboxes: number;
  pending: number;
  last_error: string | null;
  last_error_at: string | null;
}

/** A failure report older than this is dropped (an outbox retries at least every 60 s while it fails, and reports each time). */
export const FAILING_FRESH_MS = 5 * 60_000;

/** The view of the last `windowMinutes` minutes at `now`. */
export function deliveryView(minutes: readonly DeliveryMinute[], failing: readonly FailingOutbox[], now: number, windowMinutes: number): DeliveryView {
  const current = Math.floor(now / 60_000);
  const inWindow = minutes.filter((m) => m.minute > current - windowMinutes && m.minute <= current);
  const perMinute = Array.from({ length: windowMinutes }, (_, i) => inWindow.find((m) => m.minute === current - windowMinutes + 1 + i)?.events ?? 0);
  const buckets = inWindow.reduce<number[]>((acc, m) => acc.map((n, i) => n + (m.buckets[i] ?? 0)), LAG_BOUNDS_MS.map(() => 0));
  const max = inWindow.reduce((a, m) => Math.max(a, m.lagMaxMs), 0);
  const fresh = failing.filter((f) => now - f.at <= FAILING_FRESH_MS);
  const latest = fresh.reduce<FailingOutbox | null>((a, f) => (a === null || f.at > a.at ? f : a), null);
  return {
    window_minutes: windowMinutes,
    delivered: perMinute.reduce((a, b) => a + b, 0),
    per_minute: perMinute,
    lag_p50_ms: quantileBound(buckets, 0.5, max),
    lag_p95_ms: quantileBound(buckets, 0.95, max),
    lag_max_ms: inWindow.length > 0 && buckets.some((b) => b > 0) ? max : null,
    failing_outboxes: fresh.length,
    pending: fresh.reduce((a, f) => a + f.pending, 0),
    last_error: latest?.error ?? null,
    last_error_at: latest ? new Date(latest.at).toISOString() : null,
  };
}
