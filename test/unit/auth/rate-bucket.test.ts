// The token bucket's arithmetic, and the reserve written ahead (issue 14): storage never holds more tokens than the object keeps.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullBucket, levelAt, reservation, reserveOf, take, type BucketState, type RateLimit } from '../../../src/auth/rate-bucket.ts';

const LIMIT: RateLimit = { requests: 50, perSeconds: 60 };

describe('reservation', () => {
  it('writes the kept state less a tenth of the bucket at the first take, then nothing until the reserve is used', () => {
    let kept = fullBucket(LIMIT, 0);
    let stored: BucketState | undefined;
    const writes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const t = take(LIMIT, kept, 0);
      if (!t.ok) throw new Error('refused');
      kept = t.state;
      const ahead = reservation(LIMIT, stored, kept, 0);
      if (ahead) {
        writes.push(i);
        stored = ahead;
      }
    }
    expect(reserveOf(LIMIT)).toBe(5);
    // Take 0 writes 49 - 5 = 44; takes 1..5 bring the kept 48..44 (no write); take 6 (43) writes 38; take 11 (38) none.
    expect(writes).toEqual([0, 6]);
    expect(stored).toEqual({ tokens: 38, updatedAt: 0 });
    expect(kept.tokens).toBe(38);
  });

  it('a bucket of one token writes at every take (the reserve is at least one)', () => {
    const limit = { requests: 1, perSeconds: 1 };
    const kept = take(limit, fullBucket(limit, 0), 0);
    expect(kept.ok).toBe(true);
    expect(reservation(limit, undefined, kept.state, 0)).toEqual({ tokens: 0, updatedAt: 0 });
  });

  it('property: whatever the takes and pauses, storage never holds more tokens than the object keeps, and at most the reserve fewer', () => {
    fc.assert(
      fc.property(
        fc.record({ requests: fc.integer({ min: 1, max: 1000 }), perSeconds: fc.integer({ min: 1, max: 3600 }) }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 200 }),
        (limit, pauses) => {
          let now = 1_000_000;
          let kept = fullBucket(limit, now);
          let stored: BucketState | undefined;
          for (const pause of pauses) {
            now += pause;
            const t = take(limit, kept, now);
            if (!t.ok) continue;
            kept = t.state;
            stored = reservation(limit, stored, kept, now) ?? stored;
            const storedLevel = stored ? levelAt(limit, stored, now) : limit.requests;
            const keptLevel = levelAt(limit, kept, now);
            expect(storedLevel).toBeLessThanOrEqual(keptLevel + 1e-9);
            expect(keptLevel - storedLevel).toBeLessThanOrEqual(reserveOf(limit) + 1e-9);
          }
        },
      ),
    );
  });
});
