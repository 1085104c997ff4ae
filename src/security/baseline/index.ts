/** The behavioural baseline engine: per-principal state in, score and new state out (pure; no I/O, no clock, no randomness). */
export type { BaselineCall } from './features.ts';
export type { BaselineSettings } from './settings.ts';
export { DEFAULT_SETTINGS, withSettings } from './settings.ts';
export type { BaselineState, PrincipalKind } from './state.ts';
export { snapshot } from './state.ts';
export type { Contribution, ScoreResult } from './score.ts';
export { score } from './score.ts';
export { observe } from './observe.ts';
import type { BaselineSettings } from './settings.ts';
import { emptyState } from './state.ts';
import type { BaselineState } from './state.ts';

/** The state of a principal never seen before. */
export function newBaseline(settings: BaselineSettings): BaselineState {
  return emptyState(settings.rateWindowsMs.length, settings.volumeWindowsMs.length);
}
