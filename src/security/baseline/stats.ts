/** Small numeric helpers of the baseline engine: decay, moving moments, ramps, rounding, hashing (pure). */

/** Multiplier that decays a weight over `dtMs` with the given half-life (1 when dt <= 0). */
export function decayFactor(dtMs: number, halfLifeMs: number): number {
  return dtMs <= 0 ? 1 : Math.pow(0.5, dtMs / halfLifeMs);
}

/** Multiplier of an exponential counter with time constant `tauMs` (a window "of about tau"). */
export function windowFactor(dtMs: number, tauMs: number): number {
  return dtMs <= 0 ? 1 : Math.exp(-dtMs / tauMs);
}

/** Linear ramp from 0 at `lo` to 1 at `hi`, clamped. */
export function ramp(x: number, lo: number, hi: number): number {
  if (!(x > lo)) return 0;
  if (x >= hi) return 1;
  return (x - lo) / (hi - lo);
}

/**
 * Rounds to 4 decimal places (whole numbers from a million up), so state stays small in JSON;
 * a JSON round trip of the rounded value is exact. Cheap: this runs dozens of times per call.
 */
export function r6(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return Math.abs(x) >= 1e6 ? Math.round(x) : Math.round(x * 1e4) / 1e4;
}

/** Exponentially weighted mean and variance: `[mean, variance, observations]`. */
export type Moments = [number, number, number];

/** A fresh `Moments`. */
export function moments(): Moments {
  return [0, 0, 0];
}

/**
 * Adds `x` to exponentially weighted moments: a plain running mean for the first 1/alpha
 * observations, then weight `alpha`, so early habits fade (West's incremental update).
 */
export function pushMoments(m: Moments, x: number, alpha: number): void {
  const n = m[2] + 1;
  const a = Math.max(alpha, 1 / n);
  const diff = x - m[0];
  const incr = a * diff;
  m[0] = r6(m[0] + incr);
  m[1] = r6((1 - a) * (m[1] + diff * incr));
  m[2] = Math.min(n, 1e6);
}

/** Standard deviation of moments, never below `floor`. */
export function sd(m: Moments, floor: number): number {
  return Math.max(Math.sqrt(Math.max(m[1], 0)), floor);
}

/** 32-bit FNV-1a of a string, in base 36: a short, stable key for a remembered value. */
export function hashKey(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** Circular distance between two hours of the day. */
export function hourDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 24;
  return Math.min(d, 24 - d);
}

/** Formats a ratio for a reason ("40×", "2.5×"). */
export function times(x: number): string {
  return x >= 10 ? `${Math.round(x)}×` : `${x.toFixed(1)}×`;
}
