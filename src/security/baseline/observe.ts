/** Learning: folds one call into a principal's state with constant work and bounded size (pure; mutates only the state it is given). */
import type { BaselineCall } from './features.ts';
import { argFeatures, isIdKey, MAX_NAME } from './features.ts';
import type { BaselineSettings } from './settings.ts';
import type { BaselineState, PrincipalKind, ToolState } from './state.ts';
import { bump, countOf, dayOf, emptyTool, MAX_KNOWN_KEYS, novelty } from './state.ts';
import { countersAfter, pushNovelty } from './common.ts';
import { decayFactor, hashKey, pushMoments, r6, windowFactor } from './stats.ts';

/** Past this share of new values (after 20 observations), a key's values are not remembered any more. */
const HIGH_CARDINALITY = 0.5;
/** Weight of one day's busiest moment in the moments of daily peaks. */
const DAILY_ALPHA = 0.1;

/**
 * Folds `call` into `state` and returns it. The state is changed in place: the caller owns it
 * (the principal's Durable Object, or the replay loop); score against a snapshot elsewhere.
 * Calls should arrive in time order; an earlier `at` is treated as simultaneous.
 */
export function observe(state: BaselineState, call: BaselineCall, settings: BaselineSettings, kind?: PrincipalKind): BaselineState {
  const now = Math.max(call.at, state.last);
  const hl = settings.halfLifeMs;
  const first = state.n === 0;
  if (first) {
    state.first = now;
    state.ht = now;
    state.pt = now;
    state.epoch = dayOf(now);
  }
  if (kind) state.kind = kind;
  const args = argFeatures(call.args);
  const toolName = call.tool.slice(0, MAX_NAME);

  // hour-of-day and day-of-week profiles
  const dh = decayFactor(now - state.ht, hl);
  const date = new Date(now);
  state.hours = state.hours.map((h, i) => r6(h * dh + (i === date.getUTCHours() ? 1 : 0)));
  state.days = state.days.map((h, i) => r6(h * dh + (i === date.getUTCDay() ? 1 : 0)));
  state.ht = now;

  // the current run of activity
  state.runPeak = [r6(state.runPeak[0] * dpRun(state, now, hl)), r6(state.runPeak[1] * dpRun(state, now, hl))];
  state.run = !first && now - state.last <= settings.runGapMs ? [state.run[0], state.run[1] + 1] : [now, 1];
  state.runCur = [Math.max(state.runCur[0], now - state.run[0]), Math.max(state.runCur[1], state.run[1])];

  // principal-wide rate and volume; peaks are of past days, today's maxima join them tomorrow
  const dp = decayFactor(now - state.pt, hl);
  state.ratePeak = state.ratePeak.map((p) => r6(p * dp));
  state.volRowsPeak = state.volRowsPeak.map((p) => r6(p * dp));
  state.volBytesPeak = state.volBytesPeak.map((p) => r6(p * dp));
  if (dayOf(now) !== state.epoch) {
    state.ratePeak = fold(state.ratePeak, state.rateCur);
    state.rateM.forEach((m, i) => pushMoments(m, state.rateCur[i] ?? 0, DAILY_ALPHA));
    state.volRowsPeak = fold(state.volRowsPeak, state.volRowsCur);
    state.volBytesPeak = fold(state.volBytesPeak, state.volBytesCur);
    state.rateCur = state.rateCur.map(() => 0);
    state.runPeak = [Math.max(state.runPeak[0], state.runCur[0]), Math.max(state.runPeak[1], state.runCur[1])];
    state.runCur = [0, 0];
    state.volRowsCur = state.volRowsCur.map(() => 0);
    state.volBytesCur = state.volBytesCur.map(() => 0);
    state.epoch = dayOf(now);
  }
  const rate = countersAfter(state.rate, state.last, now, settings.rateWindowsMs, 1);
  state.rate = rate.map(r6);
  state.rateCur = state.rateCur.map((p, i) => r6(Math.max(p, rate[i] ?? 0)));
  const rows = call.rows !== undefined && call.rows > 0 ? call.rows : 0;
  const bytes = call.bytes !== undefined && call.bytes > 0 ? call.bytes : 0;
  const volRows = countersAfter(state.volRows, state.last, now, settings.volumeWindowsMs, rows);
  const volBytes = countersAfter(state.volBytes, state.last, now, settings.volumeWindowsMs, bytes);
  state.volRows = volRows.map(r6);
  state.volBytes = volBytes.map(r6);
  state.volRowsCur = state.volRowsCur.map((p, i) => r6(Math.max(p, volRows[i] ?? 0)));
  state.volBytesCur = state.volBytesCur.map((p, i) => r6(Math.max(p, volBytes[i] ?? 0)));
  state.pt = now;

  // errors and denials
  const burstDecay = windowFactor(now - state.last, settings.burstWindowMs);
  const a = Math.max(settings.alpha, 1 / (state.n + 1));
  state.errRate = r6(state.errRate * (1 - a) + (call.status === 'error' ? a : 0));
  state.denyRate = r6(state.denyRate * (1 - a) + (call.status === 'denied' ? a : 0));
  state.errBurst = r6(state.errBurst * burstDecay + (call.status === 'error' ? 1 : 0));
  state.denyBurst = r6(state.denyBurst * burstDecay + (call.status === 'denied' ? 1 : 0));

  // transitions
  if (state.lastTool && now - state.last < settings.sessionGapMs) bump(state.trans, hashKey(`${state.lastTool}>${toolName}`), 1, now, hl, settings.maxTransitions);

  // tool
  // Own properties only: a tool named `constructor` or `__proto__` must not find (or set) Object.prototype's.
  let tool = Object.hasOwn(state.tools, toolName) ? state.tools[toolName] : undefined;
  pushNovelty(state.toolNov, tool ? 0 : 1, now, settings);
  if (!tool) {
    const names = Object.keys(state.tools);
    if (names.length >= settings.maxTools) {
      let victim = names[0] as string;
      for (const name of names) if ((state.tools[name]?.last ?? 0) < (state.tools[victim]?.last ?? 0)) victim = name;
      delete state.tools[victim];
    }
    tool = emptyTool(now, settings.rateWindowsMs.length);
    Object.defineProperty(state.tools, toolName, { value: tool, writable: true, enumerable: true, configurable: true });
  }
  observeTool(tool, call, args, now, settings);

  // SQL identifiers
  if (args.sql) {
    for (const [names, map, nov, max] of [
      [args.sql.tables, state.sqlTables, state.sqlTableNov, settings.maxSqlTables],
      [args.sql.columns, state.sqlColumns, state.sqlColumnNov, settings.maxSqlColumns],
    ] as const) {
      let fresh = 0;
      for (const name of names) {
        const key = hashKey(name);
        if (countOf(map, key, now, hl) < 0.05) fresh++;
        bump(map, key, 1, now, hl, max);
      }
      pushNovelty(nov, fresh, now, settings);
    }
  }

  // address and user agent
  if (call.ip) {
    const ip = call.ip.slice(0, MAX_NAME);
    pushNovelty(state.ipNov, countOf(state.ips, ip, now, hl) < 0.05 ? 1 : 0, now, settings);
    bump(state.ips, ip, 1, now, hl, settings.maxIps);
  }
  if (call.userAgent) {
    const ua = hashKey(call.userAgent);
    pushNovelty(state.uaNov, countOf(state.uas, ua, now, hl) < 0.05 ? 1 : 0, now, settings);
    bump(state.uas, ua, 1, now, hl, settings.maxUserAgents);
  }

  state.n += 1;
  state.last = now;
  state.lastTool = toolName;
  return state;
}

function observeTool(tool: ToolState, call: BaselineCall, args: ReturnType<typeof argFeatures>, now: number, settings: BaselineSettings): void {
  const hl = settings.halfLifeMs;
  const d = decayFactor(now - tool.pt, hl);
  if (tool.n > 0) pushMoments(tool.gap, Math.log(Math.max((now - tool.last) / 1000, 0.05)), settings.alpha);
  tool.ratePeak = tool.ratePeak.map((p) => r6(p * d));
  tool.rowsPeak = r6(tool.rowsPeak * d);
  tool.bytesPeak = r6(tool.bytesPeak * d);
  tool.sizePeak = r6(tool.sizePeak * d);
  if (dayOf(now) !== tool.epoch) {
    tool.ratePeak = fold(tool.ratePeak, tool.rateCur);
    tool.rateM.forEach((m, i) => pushMoments(m, tool.rateCur[i] ?? 0, DAILY_ALPHA));
    tool.rateCur = tool.rateCur.map(() => 0);
    tool.rowsPeak = Math.max(tool.rowsPeak, tool.cur[0]);
    tool.bytesPeak = Math.max(tool.bytesPeak, tool.cur[1]);
    tool.sizePeak = Math.max(tool.sizePeak, tool.cur[2]);
    tool.cur = [0, 0, 0];
    tool.epoch = dayOf(now);
  }
  const rate = countersAfter(tool.rate, tool.last, now, settings.rateWindowsMs, 1);
  tool.rate = rate.map(r6);
  tool.rateCur = tool.rateCur.map((p, i) => r6(Math.max(p, rate[i] ?? 0)));
  tool.cur[2] = Math.max(tool.cur[2], args.size);
  if (call.rows !== undefined && call.rows >= 0) {
    pushMoments(tool.rows, Math.log1p(call.rows), settings.alpha);
    tool.cur[0] = Math.max(tool.cur[0], call.rows);
  }
  if (call.bytes !== undefined && call.bytes >= 0) {
    pushMoments(tool.bytes, Math.log1p(call.bytes), settings.alpha);
    tool.cur[1] = Math.max(tool.cur[1], call.bytes);
  }
  pushMoments(tool.size, Math.log1p(args.size), settings.alpha);

  // shape
  const shapeKey = hashKey(args.shape);
  pushNovelty(tool.shapeNov, shapeKey in tool.shapes ? 0 : 1, now, settings);
  bump(tool.shapes, shapeKey, 1, now, hl, settings.maxShapes);

  // keys
  for (const ks of Object.values(tool.keys)) {
    ks.num = r6(ks.num * d);
    ks.len = r6(ks.len * d);
  }
  for (const key of args.keys) {
    const h = hashKey(key);
    if (tool.known.length < MAX_KNOWN_KEYS && !tool.known.includes(h)) tool.known.push(h);
  }
  for (const [key, value] of args.values) {
    let ks = tool.keys[key];
    if (!ks) {
      if (Object.keys(tool.keys).length >= settings.maxArgKeys) continue;
      ks = { num: 0, len: 0, nn: 0, vals: {}, nov: novelty(), seq: [0, 0, 0, 0] };
      tool.keys[key] = ks;
    }
    if (value.kind === 'num') {
      ks.num = r6(Math.max(ks.num, Math.abs(value.value)));
      ks.nn = Math.min(ks.nn + 1, 1e6);
      if (isIdKey(key) && Number.isInteger(value.value)) {
        const [lastId, lastStep, run, longest] = ks.seq;
        const step = value.value - lastId;
        const walk = step !== 0 && Math.abs(step) <= 16 && (run === 0 || step === lastStep) ? run + 1 : 0;
        // a walk joins the habit only when it ends, so an ongoing one is never its own baseline
        ks.seq = [value.value, step, walk, r6(Math.max(longest * d, walk === 0 ? run : 0))];
      }
    } else {
      ks.len = r6(Math.max(ks.len, value.length));
      if (ks.vals) {
        const valueKey = hashKey(value.value);
        const fresh = countOf(ks.vals, valueKey, now, hl) < 0.05;
        pushNovelty(ks.nov, fresh ? 1 : 0, now, settings);
        bump(ks.vals, valueKey, 1, now, hl, settings.maxValuesPerKey);
        if (ks.nov.o >= 20 && ks.nov.n / ks.nov.o > HIGH_CARDINALITY) ks.vals = null;
      }
    }
  }
  tool.pt = now;
  tool.n = Math.min(tool.n + 1, 1e9);
  tool.last = now;
}

/** Yesterday's maxima join the peaks. */
function fold(peaks: readonly number[], cur: readonly number[]): number[] {
  return peaks.map((p, i) => Math.max(p, cur[i] ?? 0));
}

function dpRun(state: BaselineState, now: number, hl: number): number {
  return decayFactor(now - state.pt, hl);
}
