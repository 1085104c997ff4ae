/** Scoring: how unlike its principal one call is, read-only against a snapshot of the principal's state (pure). */
import type { BaselineCall } from './features.ts';
import { argFeatures, isIdKey, MAX_NAME } from './features.ts';
import type { BaselineSettings } from './settings.ts';
import type { BaselineState, ToolState } from './state.ts';
import { countOf, MAX_KNOWN_KEYS } from './state.ts';
import { burstAfter, countersAfter, isLearned, network, noveltyScale, noveltyScore, peaksAt, windowName } from './common.ts';
import { decayFactor, hashKey, hourDistance, ramp, sd, times } from './stats.ts';

/** One feature's share of a score: its name, its strength in [0, 1], and a sentence for a security person. */
export interface Contribution {
  readonly feature: string;
  readonly strength: number;
  readonly reason: string;
}

/** The verdict on one call. */
export interface ScoreResult {
  /** In [0, 1]: the noisy-OR of the contributions that count. */
  readonly score: number;
  /** True when the score reaches the threshold and the principal's learning period is over. */
  readonly alert: boolean;
  /** The contributions' sentences, strongest first. */
  readonly reasons: string[];
  /** Still in the learning period (scores are computed, alerts are not raised). */
  readonly learning: boolean;
  readonly contributions: readonly Contribution[];
}

/** Contributions weaker than this are noise and neither count nor show. */
const MIN_STRENGTH = 0.25;
const MAX_REASONS = 5;
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SYSTEM_SCHEMA = /^(information_schema|mysql|performance_schema|sys)(\.|$)/;

/** Scores one call against `state` without changing it. `call.at` is the clock. */
export function score(state: BaselineState, call: BaselineCall, settings: BaselineSettings): ScoreResult {
  const now = call.at;
  const out: Contribution[] = [];
  const add = (feature: string, strength: number, reason: string): void => {
    if (strength >= MIN_STRENGTH) out.push({ feature, strength: Math.min(1, strength), reason });
  };
  const learned = isLearned(state, now, settings);
  const hl = settings.halfLifeMs;
  const toolName = call.tool.slice(0, MAX_NAME);
  const tool = Object.hasOwn(state.tools, toolName) ? state.tools[toolName] : undefined;
  const mature = (t: ToolState | undefined): t is ToolState => t !== undefined && t.n >= settings.toolMinCalls;
  const args = argFeatures(call.args);

  if (state.n > 0) {
    // first use of a tool
    if (!tool && state.n >= settings.minCalls) add('first_use', 0.9, `first use of ${call.tool} by this principal`);

    // hour of day and day of week
    scoreTime(state, now, settings, add);

    // call rate, principal-wide and for this tool
    scoreRate(state, call, settings, add);

    // a run of activity far longer than usual
    scoreRun(state, now, settings, add);

    // rows and bytes: per call against the tool's habit, and volume over windows
    scoreVolume(state, call, settings, add);
  }

  if (mature(tool)) {
    // argument size, huge values, shape, value novelty, id walks
    const sizeRef = Math.max(tool.sizePeak * decayFactor(now - tool.pt, hl), 128);
    if (args.size > sizeRef) add('arg_size', ramp(Math.log(args.size / sizeRef), Math.log(2), Math.log(8)), `arguments of ${args.size} bytes, ${times(args.size / sizeRef)} the largest usual for ${call.tool}`);
    if (!(hashKey(args.shape) in tool.shapes)) {
      const unknown = tool.known.length >= MAX_KNOWN_KEYS ? [] : args.keys.filter((k) => !tool.known.includes(hashKey(k)));
      if (unknown.length > 0) add('arg_keys', 0.9, `new argument key${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 3).map((k) => `"${k.slice(0, 40)}"`).join(', ')} for ${call.tool}`);
      else add('arg_shape', 0.4 * noveltyScale(tool.shapeNov, now, settings), `new combination of arguments {${args.shape}} for ${call.tool}`);
    }
    for (const [key, value] of args.values) {
      const ks = tool.keys[key];
      if (!ks) continue;
      const d = decayFactor(now - tool.pt, hl);
      if (value.kind === 'num') {
        const ref = Math.max(ks.num * d, 10);
        if (ks.nn >= 3 && Math.abs(value.value) > ref * 4) add('huge_value', ramp(Math.log(Math.abs(value.value) / ref), Math.log(4), Math.log(50)), `${key}=${value.value} in ${call.tool}, ${times(Math.abs(value.value) / ref)} its largest usual value`);
        if (isIdKey(key) && Number.isInteger(value.value)) {
          const [lastId, lastStep, run, longest] = ks.seq;
          const step = value.value - lastId;
          const walk = step !== 0 && Math.abs(step) <= 16 && (run === 0 || step === lastStep) ? run + 1 : 0;
          const usual = longest * d; // a principal that walks ids by habit (a sync job) is judged against its longest walk
          add('id_walk', ramp(walk, Math.max(3, 1.5 * usual), Math.max(8, 3 * usual)), `${key} walked in sequence by ${call.tool} (${walk + 1} ids in steps of ${step > 0 ? '+' : ''}${step})`);
        }
      } else {
        const ref = Math.max(ks.len * d, 32);
        if (value.length > ref * 3) add('huge_value', ramp(Math.log(value.length / ref), Math.log(3), Math.log(20)), `${key} of ${value.length} characters in ${call.tool}, ${times(value.length / ref)} its longest usual`);
        if (ks.vals && countOf(ks.vals, hashKey(value.value), now, hl) < 0.05) {
          const s = noveltyScore(noveltyScale(ks.nov, now, settings), burstAfter(ks.nov, now, settings, 1));
          add('new_value', s, `${call.tool} with ${key} "${value.value.slice(0, 40)}", a value this principal has not used`);
        }
      }
    }
    // inter-arrival time
    if (tool.n >= 2 * settings.toolMinCalls && tool.gap[2] >= settings.toolMinCalls) {
      const gap = Math.max((now - tool.last) / 1000, 0.05);
      const z = (tool.gap[0] - Math.log(gap)) / sd(tool.gap, 0.25);
      const usual = Math.exp(tool.gap[0]);
      add('gap', 0.5 * ramp(z, 3, 6), `${call.tool} called ${formatSeconds(gap)} after the previous call, usually ${formatSeconds(usual)}`);
    }
  }

  // tables and columns a SELECT touches
  if (args.sql && state.n > 0) {
    for (const [what, names, map, nov] of [
      ['table', args.sql.tables, state.sqlTables, state.sqlTableNov],
      ['column', args.sql.columns, state.sqlColumns, state.sqlColumnNov],
    ] as const) {
      const fresh = names.filter((n) => countOf(map, hashKey(n), now, hl) < 0.05);
      if (fresh.length === 0) continue;
      const scale = noveltyScale(nov, now, settings);
      let s = noveltyScore(scale, burstAfter(nov, now, settings, fresh.length));
      if (what === 'column') s *= 0.85;
      const system = fresh.filter((n) => SYSTEM_SCHEMA.test(n));
      if (system.length > 0 && state.n >= settings.minCalls) s = Math.max(s, 0.9);
      add(`sql_${what}`, s, `touches ${what}${fresh.length > 1 ? 's' : ''} ${fresh.slice(0, 4).join(', ')}${fresh.length > 4 ? ', …' : ''} for the first time (${Math.round(burstAfter(nov, now, settings, fresh.length))} new ${what}s in ${windowName(settings.burstWindowMs)})`);
    }
  }

  // errors and denials
  if (call.status !== 'ok' && state.n >= settings.minCalls) {
    const denied = call.status === 'denied';
    const rate = denied ? state.denyRate : state.errRate;
    const before = (denied ? state.denyBurst : state.errBurst) * Math.exp(-(now - state.last) / settings.burstWindowMs);
    const burst = before + 1;
    // the usual rate without the current burst, so a run of denials does not excuse itself
    const usual = Math.max(rate - before * Math.max(settings.alpha, 1 / Math.max(state.n, 1)), 0);
    const base = ramp(-Math.log10(Math.max(usual, 1e-4)), 1, 2.5);
    const s = base * (burst >= 2.5 ? 0.95 : burst >= 1.5 ? 0.7 : 0.4);
    add(denied ? 'denied' : 'error', s, `${denied ? 'denied' : 'failed'} call to ${call.tool} (${Math.round(burst)} in ${windowName(settings.burstWindowMs)}; usually ${(usual * 100).toFixed(1)}% of calls)`);
  }

  // tool-to-tool transition
  if (tool && state.lastTool && now - state.last < settings.sessionGapMs && state.n >= settings.minCalls) {
    let total = 0;
    for (const key of Object.keys(state.trans)) total += countOf(state.trans, key, now, hl);
    if (total >= 30 && countOf(state.trans, hashKey(`${state.lastTool}>${toolName}`), now, hl) < 0.5) add('transition', 0.35, `${call.tool} right after ${state.lastTool}, a sequence this principal does not use`);
  }

  // address and user agent
  scoreOrigin(state, call, settings, add);

  out.sort((a, b) => b.strength - a.strength);
  let keep = 1;
  for (const c of out) keep *= 1 - c.strength;
  const value = Math.round((1 - keep) * 1000) / 1000;
  const alert = learned && value >= settings.alertThreshold;
  return { score: value, alert, reasons: out.slice(0, MAX_REASONS).map((c) => c.reason), learning: !learned, contributions: out };
}

type Add = (feature: string, strength: number, reason: string) => void;

function scoreTime(state: BaselineState, now: number, settings: BaselineSettings, add: Add): void {
  const date = new Date(now);
  const hour = date.getUTCHours();
  const total = state.hours.reduce((a, b) => a + b, 0) * decayFactor(now - state.ht, settings.halfLifeMs);
  const d = decayFactor(now - state.ht, settings.halfLifeMs);
  if (state.n >= settings.minCalls && total >= 20 && now - state.first >= settings.hourMinAgeMs) {
    const usual = (h: number): boolean => (state.hours[h] ?? 0) * d >= 0.01 * total;
    if (!usual(hour)) {
      let dist = 12;
      for (let h = 0; h < 24; h++) if (usual(h)) dist = Math.min(dist, hourDistance(h, hour));
      const s = dist <= 1 ? 0.3 : dist === 2 ? 0.6 : dist === 3 ? 0.8 : 0.9;
      const hh = String(hour).padStart(2, '0');
      const mm = String(date.getUTCMinutes()).padStart(2, '0');
      add('hour', s, `at ${hh}:${mm} UTC, outside its usual hours (${dist} h from the nearest, ${usualHours(state.hours, 0.01)})`);
    }
  }
  const dayTotal = state.days.reduce((a, b) => a + b, 0) * d;
  if (now - state.first >= settings.weekdayMinAgeMs && dayTotal >= 50) {
    const day = date.getUTCDay();
    if ((state.days[day] ?? 0) * d < 0.02 * dayTotal) add('weekday', 0.7, `on a ${DAY_NAMES[day]}, a day this principal does not usually work`);
  }
}

/** "usually 08–17 UTC" from the hours holding at least `share` of the profile. */
function usualHours(hours: readonly number[], share: number): string {
  const total = hours.reduce((a, b) => a + b, 0);
  const on = hours.map((h) => h >= share * total);
  const ranges: string[] = [];
  for (let h = 0; h < 24; h++) {
    if (!on[h] || on[(h + 23) % 24]) continue;
    let end = h;
    while (on[(end + 1) % 24] && (end + 1) % 24 !== h) end = (end + 1) % 24;
    ranges.push(end === h ? `${String(h).padStart(2, '0')}` : `${String(h).padStart(2, '0')}–${String(end).padStart(2, '0')}`);
  }
  if (ranges.length === 0) return 'usually all day';
  return `usually ${ranges.slice(0, 3).join(', ')} UTC`;
}

function scoreRate(state: BaselineState, call: BaselineCall, settings: BaselineSettings, add: Add): void {
  const now = call.at;
  const windows = settings.rateWindowsMs;
  let best = { s: 0, reason: '' };
  const consider = (counters: readonly number[], last: number, peaks: readonly number[], pt: number, moments: readonly (readonly number[])[], who: string): void => {
    const after = countersAfter(counters, last, now, windows, 1);
    const peak = peaksAt(peaks, pt, now, settings.halfLifeMs);
    windows.forEach((w, i) => {
      const m = moments[i] ?? [0, 0, 0];
      const ref = Math.max(peak[i] ?? 0, settings.rateFloors[i] ?? 1, (m[0] ?? 0) + 3 * Math.sqrt(Math.max(m[1] ?? 0, 0)));
      const c = after[i] ?? 0;
      // an exponential counter under-counts a burst spread over its window (by about 1/e), hence 3× and not more
      const s = ramp(Math.log(c / ref), Math.log(1.5), Math.log(3));
      if (s > best.s) best = { s, reason: `${Math.round(c)} ${who} in about the last ${windowName(w)}, ${times(c / ref)} this principal's usual peak (${Math.round(ref)})` };
    });
  };
  consider(state.rate, state.last, state.ratePeak, state.pt, state.rateM, 'calls');
  const tool = ownTool(state, call.tool.slice(0, MAX_NAME));
  if (tool && tool.n >= settings.toolMinCalls) consider(tool.rate, tool.last, tool.ratePeak, tool.pt, tool.rateM, `calls to ${call.tool}`);
  if (state.n >= settings.minCalls) add('rate', best.s, best.reason);
}

/** A usual stretch of this length means the principal runs around the clock (a poller). */
const ALWAYS_ON = 12 * 3_600_000;

function scoreRun(state: BaselineState, now: number, settings: BaselineSettings, add: Add): void {
  if (state.n < settings.minCalls || now - state.last > settings.runGapMs) return;
  const d = decayFactor(now - state.pt, settings.halfLifeMs);
  if (state.runPeak[0] * d >= ALWAYS_ON) return; // a principal that is busy around the clock has no "usual stretch"

  const duration = now - state.run[0];
  const calls = state.run[1] + 1;
  const refDuration = Math.max(state.runPeak[0] * d, settings.runFloor[0]);
  const refCalls = Math.max(state.runPeak[1] * d, settings.runFloor[1]);
  const byDuration = ramp(Math.log(duration / refDuration), Math.log(2), Math.log(4));
  const byCalls = ramp(Math.log(calls / refCalls), Math.log(2), Math.log(4));
  if (byDuration >= byCalls) add('run', byDuration, `active without a break for ${(duration / 3_600_000).toFixed(1)} h, ${times(duration / refDuration)} this principal's longest usual stretch`);
  else add('run', byCalls, `${calls} calls without a break, ${times(calls / refCalls)} this principal's longest usual stretch (${Math.round(refCalls)})`);
}

const ROWS_FLOORS = [100, 300, 1000];
const BYTES_FLOORS = [256_000, 1_000_000, 4_000_000];

function scoreVolume(state: BaselineState, call: BaselineCall, settings: BaselineSettings, add: Add): void {
  const now = call.at;
  const hl = settings.halfLifeMs;
  const tool = ownTool(state, call.tool.slice(0, MAX_NAME));
  for (const [what, value] of [['rows', call.rows], ['bytes', call.bytes]] as const) {
    if (value === undefined || !(value > 0)) continue;
    if (tool && tool.n >= settings.toolMinCalls) {
      const m = what === 'rows' ? tool.rows : tool.bytes;
      const peak = (what === 'rows' ? tool.rowsPeak : tool.bytesPeak) * decayFactor(now - tool.pt, hl);
      const p99 = Math.expm1(m[0] + 2.33 * Math.sqrt(Math.max(m[1], 0)));
      const ref = Math.max(peak, p99, what === 'rows' ? 10 : 4096);
      add(`${what}_call`, ramp(Math.log(value / ref), Math.log(2), Math.log(8)), `${what} returned ${value}, ${times(value / ref)} this principal's usual peak for ${call.tool} (${Math.round(ref)})`);
    }
    if (state.n >= settings.minCalls) {
      const counters = what === 'rows' ? state.volRows : state.volBytes;
      const after = countersAfter(counters, state.last, now, settings.volumeWindowsMs, value);
      const peak = peaksAt(what === 'rows' ? state.volRowsPeak : state.volBytesPeak, state.pt, now, hl);
      const floors = what === 'rows' ? ROWS_FLOORS : BYTES_FLOORS;
      let best = { s: 0, reason: '' };
      settings.volumeWindowsMs.forEach((w, i) => {
        const ref = Math.max(peak[i] ?? 0, floors[i] ?? floors[floors.length - 1] ?? 1);
        const c = after[i] ?? 0;
        const s = ramp(Math.log(c / ref), Math.log(1.5), Math.log(4));
        if (s > best.s) best = { s, reason: `${Math.round(c)} ${what} in about the last ${windowName(w)}, ${times(c / ref)} this principal's usual peak (${Math.round(ref)})` };
      });
      add(`${what}_volume`, best.s, best.reason);
    }
  }
}

function scoreOrigin(state: BaselineState, call: BaselineCall, settings: BaselineSettings, add: Add): void {
  if (state.n < settings.minCalls) return;
  const now = call.at;
  const hl = settings.halfLifeMs;
  let ipNew = false;
  let ipScale = 0;
  if (call.ip) {
    ipNew = countOf(state.ips, call.ip.slice(0, MAX_NAME), now, hl) < 0.05;
    if (ipNew) {
      const net = network(call.ip);
      const sameNet = Object.keys(state.ips).some((ip) => network(ip) === net);
      ipScale = noveltyScale(state.ipNov, now, settings) * (sameNet ? 0.3 : 1);
    }
  }
  let uaNew = false;
  let uaScale = 0;
  if (call.userAgent) {
    uaNew = countOf(state.uas, hashKey(call.userAgent), now, hl) < 0.05;
    if (uaNew) uaScale = noveltyScale(state.uaNov, now, settings);
  }
  const ua = (call.userAgent ?? '').slice(0, 60);
  if (ipNew && uaNew) add('origin', 0.95 * Math.max(ipScale, uaScale), `new address ${call.ip} and new user agent "${ua}" for this principal`);
  else if (ipNew) add('ip', (state.kind === 'person' ? 0.45 : 0.55) * ipScale, `new address ${call.ip} for this principal`);
  else if (uaNew) add('user_agent', 0.55 * uaScale, `new user agent "${ua}" for this principal`);
}

function formatSeconds(s: number): string {
  if (s < 120) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** A tool's statistics, own properties only (a tool named `constructor` is not Object.prototype's). */
function ownTool(state: BaselineState, name: string): ToolState | undefined {
  return Object.hasOwn(state.tools, name) ? state.tools[name] : undefined;
}
