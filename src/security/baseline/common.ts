/** Reads shared by scoring and observing: counters brought to `now`, novelty rates, the learning period (pure). */
import type { BaselineSettings } from './settings.ts';
import type { BaselineState, Novelty } from './state.ts';
import { decayFactor, r6, ramp, windowFactor } from './stats.ts';

/** True once the principal has both the minimum calls and the minimum age. */
export function isLearned(state: BaselineState, now: number, settings: BaselineSettings): boolean {
  return state.n >= settings.minCalls && now - state.first >= settings.minAgeMs;
}

/** Counter values after one more event of `add` at `now`, for each window. */
export function countersAfter(counters: readonly number[], last: number, now: number, windows: readonly number[], add: number): number[] {
  return windows.map((tau, i) => (counters[i] ?? 0) * windowFactor(now - last, tau) + add);
}

/** Peaks brought to `now` by the habit half-life. */
export function peaksAt(peaks: readonly number[], pt: number, now: number, halfLifeMs: number): number[] {
  const d = decayFactor(now - pt, halfLifeMs);
  return peaks.map((p) => p * d);
}

/**
 * How surprising something new is for a feature, in [0, 1]: 0 while it is often new (or barely
 * observed), 1 when new things are rarer than 1 in 100. Novelties of the current burst are left
 * out, so an enumeration does not make its own next step look ordinary.
 */
export function noveltyScale(nov: Novelty, now: number, settings: BaselineSettings): number {
  const d = decayFactor(now - nov.t, settings.halfLifeMs);
  const o = nov.o * d;
  if (o < 8) return 0;
  const recent = nov.b * windowFactor(now - nov.t, settings.burstWindowMs);
  const rate = (Math.max(nov.n * d - recent, 0) + 0.5) / (o + 1);
  return ramp(-Math.log10(rate), 1, 2);
}

/** Novelties in the burst window once this call's `k` are added. */
export function burstAfter(nov: Novelty, now: number, settings: BaselineSettings, k: number): number {
  return nov.b * windowFactor(now - nov.t, settings.burstWindowMs) + k;
}

/** Score of `k` new values given the feature's novelty scale and recent burst: one is a hint, three close together are a pattern. */
export function noveltyScore(scale: number, burst: number): number {
  return scale * (burst >= 2.5 ? 0.95 : burst >= 1.5 ? 0.75 : 0.6);
}

/** Updates a novelty record with one observation that brought `k` new things. */
export function pushNovelty(nov: Novelty, k: number, now: number, settings: BaselineSettings): void {
  const d = decayFactor(now - nov.t, settings.halfLifeMs);
  nov.b = r6(nov.b * windowFactor(now - nov.t, settings.burstWindowMs) + k);
  nov.o = r6(nov.o * d + 1);
  nov.n = r6(nov.n * d + (k > 0 ? 1 : 0));
  nov.t = now;
}

/** Names of the windows, for reasons. */
export function windowName(ms: number): string {
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** The network a remembered address belongs to: /24 for IPv4, the first three groups for IPv6. */
export function network(ip: string): string {
  if (ip.includes(':')) return ip.toLowerCase().split(':').slice(0, 3).join(':');
  return ip.split('.').slice(0, 3).join('.');
}
