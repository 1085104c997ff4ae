/** Settings of the baseline engine, with the server's defaults (every duration in milliseconds). */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What the engine can be tuned with; `DEFAULT_SETTINGS` is what the server and the replay command use. */
export interface BaselineSettings {
  /** Learning period, part 1: calls a principal must have made before it can alert. */
  readonly minCalls: number;
  /** Learning period, part 2: time since the principal's first call before it can alert. Both must hold. */
  readonly minAgeMs: number;
  /** Calls of one tool before that tool's own statistics (rows, sizes, rate, gaps) are scored. */
  readonly toolMinCalls: number;
  /** Half-life of every remembered habit (hour profile, peaks, known values, transitions). */
  readonly halfLifeMs: number;
  /** Age of a principal before its hour-of-day profile is scored (a few days of sessions are not yet a habit). */
  readonly hourMinAgeMs: number;
  /** Age of a principal before its day-of-week profile is scored (it needs a couple of weeks). */
  readonly weekdayMinAgeMs: number;
  /** A call alerts when its score is at least this (and the learning period is over). */
  readonly alertThreshold: number;
  /** Time constants of the call-rate windows ("calls in about the last minute", ...). */
  readonly rateWindowsMs: readonly number[];
  /** Smallest "usual peak" of each rate window, so a quiet principal's few calls never look like a burst. */
  readonly rateFloors: readonly number[];
  /** Time constants of the rows/bytes volume windows. */
  readonly volumeWindowsMs: readonly number[];
  /** Time constant of the novelty burst counter (new tables, new values, denials close together). */
  readonly burstWindowMs: number;
  /** Calls closer than this belong to one run of activity; a run far longer than usual is slow exfiltration. */
  readonly runGapMs: number;
  /** Smallest usual run (duration, calls), so short-lived principals are not flagged for an ordinary session. */
  readonly runFloor: readonly [number, number];
  /** A gap longer than this starts a new sequence (for tool-to-tool transitions). */
  readonly sessionGapMs: number;
  /** Weight of one observation in the exponentially weighted moments (after the first 1/alpha). */
  readonly alpha: number;
  /** Bounds that keep a principal's state small (see docs/anomaly.md for the resulting size). */
  readonly maxTools: number;
  readonly maxArgKeys: number;
  readonly maxValuesPerKey: number;
  readonly maxShapes: number;
  readonly maxSqlTables: number;
  readonly maxSqlColumns: number;
  readonly maxIps: number;
  readonly maxUserAgents: number;
  readonly maxTransitions: number;
}

/** The server's defaults: learn for 3 days and 20 calls, habits fade with a 3-week half-life. */
export const DEFAULT_SETTINGS: BaselineSettings = Object.freeze({
  minCalls: 20,
  minAgeMs: 3 * DAY,
  toolMinCalls: 10,
  halfLifeMs: 21 * DAY,
  hourMinAgeMs: 7 * DAY,
  weekdayMinAgeMs: 13 * DAY,
  alertThreshold: 0.8,
  rateWindowsMs: Object.freeze([MINUTE, 10 * MINUTE, HOUR, 6 * HOUR]),
  rateFloors: Object.freeze([6, 15, 30, 60]),
  volumeWindowsMs: Object.freeze([10 * MINUTE, HOUR, 6 * HOUR]),
  burstWindowMs: 30 * MINUTE,
  runGapMs: 15 * MINUTE,
  runFloor: Object.freeze<[number, number]>([45 * MINUTE, 40]),
  sessionGapMs: 30 * MINUTE,
  alpha: 0.02,
  maxTools: 12,
  maxArgKeys: 6,
  maxValuesPerKey: 8,
  maxShapes: 8,
  maxSqlTables: 48,
  maxSqlColumns: 96,
  maxIps: 16,
  maxUserAgents: 8,
  maxTransitions: 64,
});

/** Settings with some defaults replaced (for tests and for a live evaluation that learns in minutes). */
export function withSettings(overrides: Partial<BaselineSettings>): BaselineSettings {
  return Object.freeze({ ...DEFAULT_SETTINGS, ...overrides });
}
