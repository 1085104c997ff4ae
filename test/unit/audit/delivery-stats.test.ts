// The delivery record's maths (issue 12): lag buckets, quantiles from a histogram, the per-minute view and the failing outboxes.
import { describe, expect, it } from 'vitest';
import { addLags, bucketOf, deliveryView, FAILING_FRESH_MS, LAG_BOUNDS_MS, quantileBound } from '../../../src/audit/delivery-stats.ts';

const T = Date.UTC(2026, 11, 7, 8, 30, 10);
const MINUTE = Math.floor(T / 60_000);

describe('lag buckets', () => {
  it('a lag falls in the first bucket whose bound it does not exceed; huge lags in the open one', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(250)).toBe(0);
    expect(bucketOf(251)).toBe(1);
    expect(bucketOf(1500)).toBe(3);
    expect(bucketOf(1501)).toBe(4);
    expect(bucketOf(10 * 3600_000)).toBe(LAG_BOUNDS_MS.length - 1);
  });
  it('addLags counts into a copy (negative lags from clock skew count as 0)', () => {
    const start = addLags([], [100, 900, 900, -5]);
    expect(start).toEqual([2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(addLags(start, [700_000])).toEqual([2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(start[13]).toBe(0);
  });
});

describe('quantiles', () => {
  it('answer the bound of the bucket holding the rank, never above the max seen', () => {
    const h = addLags([], [100, 200, 1200, 1300, 4000]);
    expect(quantileBound(h, 0.5, 4000)).toBe(1500);
    expect(quantileBound(h, 0.95, 4000)).toBe(4000);
    expect(quantileBound(h, 0.2, 4000)).toBe(250);
    expect(quantileBound([], 0.5, 0)).toBeNull();
    expect(quantileBound(addLags([], [900_000]), 0.5, 900_000)).toBe(900_000);
  });
});

describe('the view', () => {
  it('sums the window per minute (oldest first), merges histograms, and counts only fresh failures', () => {
    const minutes = [
      { minute: MINUTE - 20, events: 50, lagMaxMs: 90_000, buckets: addLags([], [90_000]) },
      { minute: MINUTE - 2, events: 3, lagMaxMs: 1800, buckets: addLags([], [1100, 1200, 1800]) },
      { minute: MINUTE, events: 2, lagMaxMs: 6000, buckets: addLags([], [300, 6000]) },
    ];
    const failing = [
      { pending: 7, error: 'the audit webhook answered 503', at: T - 1000 },
      { pending: 4, error: 'old', at: T - FAILING_FRESH_MS - 1 },
      { pending: 2, error: 'earlier', at: T - 5000 },
    ];
    const v = deliveryView(minutes, failing, T, 15);
    expect(v.per_minute).toHaveLength(15);
    expect(v.per_minute.at(-1)).toBe(2);
    expect(v.per_minute.at(-3)).toBe(3);
    expect(v.delivered).toBe(5);
    expect(v.lag_p50_ms).toBe(1500);
    expect(v.lag_max_ms).toBe(6000);
    expect(v.lag_p95_ms).toBe(6000);
    expect(v).toMatchObject({ failing_outboxes: 2, pending: 9, last_error: 'the audit webhook answered 503', last_error_at: new Date(T - 1000).toISOString() });
  });
  it('with nothing delivered and nothing failing, says so (nulls, zeros)', () => {
    expect(deliveryView([], [], T, 5)).toEqual({ window_minutes: 5, delivered: 0, per_minute: [0, 0, 0, 0, 0], lag_p50_ms: null, lag_p95_ms: null, lag_max_ms: null, failing_outboxes: 0, pending: 0, last_error: null, last_error_at: null });
  });
});
