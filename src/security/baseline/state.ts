/** The JSON-serialisable state the engine keeps per principal, and the bounded maps inside it (pure). */
import type { Moments } from './stats.ts';
import { decayFactor, moments, r6 } from './stats.ts';

/** Who a principal is: a person through OAuth, an autonomous agent with an API key, or a machine client. */
export type PrincipalKind = 'person' | 'agent' | 'machine';

/** A bounded map of remembered values: key -> [decayed count, time of last update in ms]. */
export type CountMap = Record<string, [number, number]>;

/** How often a categorical feature sees something new: decayed observations and novelties, and a burst counter. */
export interface Novelty {
  /** Decayed number of observations. */
  o: number;
  /** Decayed number of observations that brought something new. */
  n: number;
  /** Novelties in about the last `burstWindowMs` (an exponential counter). */
  b: number;
  /** Time of the last update. */
  t: number;
}

/** What the engine remembers about one argument key of one tool. */
export interface ArgKeyState {
  /** Decayed peak of |numeric value| and of text length. */
  num: number;
  len: number;
  /** Numeric observations (peaks are scored only after a few). */
  nn: number;
  /** Remembered text values (hashed), null once the key shows too many distinct values to be worth it. */
  vals: CountMap | null;
  nov: Novelty;
  /** Id walk: last id, last step, length of the current run of equal small steps, longest finished run (decayed). */
  seq: [number, number, number, number];
}

/** What the engine remembers about one tool of a principal. */
export interface ToolState {
  n: number;
  first: number;
  last: number;
  /** Peak decay bookkeeping: time the peaks below were last decayed. */
  pt: number;
  /** Day (UTC day number) of the `cur` maxima: peaks learn a day late, so a burst is never its own baseline. */
  epoch: number;
  /** Rate counters per window, their decayed peaks (of past days), today's maxima, and moments of the daily maxima. */
  rate: number[];
  ratePeak: number[];
  rateCur: number[];
  /** Today's maxima of rows, bytes and argument size (folded into the peaks at the next day). */
  cur: [number, number, number];
  rateM: Moments[];
  /** log(seconds between calls of this tool). */
  gap: Moments;
  /** log1p(rows), log1p(bytes), log1p(argument size) and their decayed peaks. */
  rows: Moments;
  rowsPeak: number;
  bytes: Moments;
  bytesPeak: number;
  size: Moments;
  sizePeak: number;
  shapes: CountMap;
  shapeNov: Novelty;
  /** Hashes of every argument key seen (up to MAX_KNOWN_KEYS), and statistics of the first few keys. */
  known: string[];
  keys: Record<string, ArgKeyState>;
}

/** Argument keys remembered per tool for "new argument key"; a tool with more is not checked. */
export const MAX_KNOWN_KEYS = 16;

/** Everything the engine remembers about one principal. Plain JSON: persist it, and a round trip changes no score. */
export interface BaselineState {
  v: 1;
  kind: PrincipalKind | null;
  n: number;
  first: number;
  last: number;
  lastTool: string | null;
  /** Decayed hour-of-day (UTC) and day-of-week profiles, decayed at time `ht`. */
  hours: number[];
  days: number[];
  ht: number;
  /** Principal-wide rate counters, decayed peaks, moments; and rows/bytes volume counters and peaks. */
  pt: number;
  epoch: number;
  rate: number[];
  ratePeak: number[];
  rateCur: number[];
  rateM: Moments[];
  volRows: number[];
  volRowsPeak: number[];
  volRowsCur: number[];
  volBytes: number[];
  volBytesPeak: number[];
  volBytesCur: number[];
  /** The current run of activity (calls less than `runGapMs` apart): its start and calls; decayed peaks of past days' runs and today's longest. */
  run: [number, number];
  runPeak: [number, number];
  runCur: [number, number];
  tools: Record<string, ToolState>;
  toolNov: Novelty;
  trans: CountMap;
  ips: CountMap;
  ipNov: Novelty;
  uas: CountMap;
  uaNov: Novelty;
  sqlTables: CountMap;
  sqlTableNov: Novelty;
  sqlColumns: CountMap;
  sqlColumnNov: Novelty;
  /** Exponentially weighted error and denial rates, and counters of errors and denials in the burst window. */
  errRate: number;
  denyRate: number;
  errBurst: number;
  denyBurst: number;
}

/** A principal never seen before. */
export function emptyState(windows: number, volumeWindows: number): BaselineState {
  return {
    v: 1,
    kind: null,
    n: 0,
    first: 0,
    last: 0,
    lastTool: null,
    hours: new Array<number>(24).fill(0),
    days: new Array<number>(7).fill(0),
    ht: 0,
    pt: 0,
    epoch: 0,
    rate: new Array<number>(windows).fill(0),
    ratePeak: new Array<number>(windows).fill(0),
    rateCur: new Array<number>(windows).fill(0),
    rateM: Array.from({ length: windows }, moments),
    volRows: new Array<number>(volumeWindows).fill(0),
    volRowsPeak: new Array<number>(volumeWindows).fill(0),
    volRowsCur: new Array<number>(volumeWindows).fill(0),
    volBytes: new Array<number>(volumeWindows).fill(0),
    volBytesPeak: new Array<number>(volumeWindows).fill(0),
    volBytesCur: new Array<number>(volumeWindows).fill(0),
    run: [0, 0],
    runPeak: [0, 0],
    runCur: [0, 0],
    tools: {},
    toolNov: novelty(),
    trans: {},
    ips: {},
    ipNov: novelty(),
    uas: {},
    uaNov: novelty(),
    sqlTables: {},
    sqlTableNov: novelty(),
    sqlColumns: {},
    sqlColumnNov: novelty(),
    errRate: 0,
    denyRate: 0,
    errBurst: 0,
    denyBurst: 0,
  };
}

/** A fresh tool record. */
export function emptyTool(now: number, windows: number): ToolState {
  return {
    n: 0,
    first: now,
    last: now,
    pt: now,
    epoch: dayOf(now),
    rate: new Array<number>(windows).fill(0),
    ratePeak: new Array<number>(windows).fill(0),
    rateCur: new Array<number>(windows).fill(0),
    cur: [0, 0, 0],
    rateM: Array.from({ length: windows }, moments),
    gap: moments(),
    rows: moments(),
    rowsPeak: 0,
    bytes: moments(),
    bytesPeak: 0,
    size: moments(),
    sizePeak: 0,
    shapes: {},
    shapeNov: novelty(),
    known: [],
    keys: {},
  };
}

/** The UTC day number of a time: the epoch of the day-late peaks. */
export function dayOf(ms: number): number {
  return Math.floor(ms / 86_400_000);
}

/** A fresh novelty record. */
export function novelty(): Novelty {
  return { o: 0, n: 0, b: 0, t: 0 };
}

/** Decayed count of `key` at `now` (0 when absent). */
export function countOf(map: CountMap, key: string, now: number, halfLifeMs: number): number {
  const entry = map[key];
  return entry ? entry[0] * decayFactor(now - entry[1], halfLifeMs) : 0;
}

/**
 * Adds `weight` to `key`; when the map is full, the entry with the smallest decayed count goes first.
 * The scan is over at most `max` entries: constant work per call.
 */
export function bump(map: CountMap, key: string, weight: number, now: number, halfLifeMs: number, max: number): void {
  const entry = map[key];
  if (entry) {
    map[key] = [r6(entry[0] * decayFactor(now - entry[1], halfLifeMs) + weight), now];
    return;
  }
  const keys = Object.keys(map);
  if (keys.length >= max) {
    let victim = keys[0] as string;
    let least = Infinity;
    for (const k of keys) {
      const c = countOf(map, k, now, halfLifeMs);
      if (c < least) {
        least = c;
        victim = k;
      }
    }
    delete map[victim];
  }
  map[key] = [weight, now];
}

/** Deep copy through JSON: the snapshot a session scores against. */
export function snapshot(state: BaselineState): BaselineState {
  return JSON.parse(JSON.stringify(state)) as BaselineState;
}
