#!/usr/bin/env node
// `npm run anomaly:eval`: replays seeded synthetic weeks with injected attacks through the baseline engine and reports detection and false alarms (writes docs/anomaly.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SETTINGS, newBaseline, observe, score } from '../src/security/baseline/index.ts';
import { generate } from './lib/anomaly-workload.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEV_SEEDS = Array.from({ length: 8 }, (_, i) => i + 1);
/** Printed beside the development seeds while tuning (so seen, though never tuned for one by one). */
const HELD_OUT_SEEDS = Array.from({ length: 8 }, (_, i) => i + 1001);
/** First run only once the engine was frozen for this report: the closest thing to blind we have. */
const FRESH_SEEDS = Array.from({ length: 8 }, (_, i) => i + 2001);
/** Quieter attacks (see `hard` in the generator) on fresh worlds. */
const HARD_SEEDS = Array.from({ length: 8 }, (_, i) => i + 3001);
const args = process.argv.slice(2);
// --live: the shorter pass through the real server's public interfaces (bin/anomaly-live.mjs) instead.
if (args.includes('--live')) {
  await (await import('./anomaly-live.mjs')).main();
  process.exit(0);
}
const write = !args.includes('--no-write');
const verbose = args.includes('--verbose');
const tracesAt = args.indexOf('--traces');
const tracesDir = tracesAt >= 0 ? args[tracesAt + 1] : null;

/** Writes a seed's trace in the replay command's input format, and its labels beside it. */
function writeTrace(seed, calls) {
  mkdirSync(tracesDir, { recursive: true });
  const lines = [];
  const labels = [];
  for (const c of calls) {
    const rec = { id: c.id, ts: new Date(c.ts).toISOString(), principal: c.principal, kind: c.kind, tool: c.tool, args: c.args, status: c.status };
    if (c.rows !== undefined) rec.rows = c.rows;
    if (c.bytes !== undefined) rec.bytes = c.bytes;
    if (c.ip) rec.ip = c.ip;
    if (c.userAgent) rec.userAgent = c.userAgent;
    lines.push(JSON.stringify(rec));
    if (c.attack) labels.push(JSON.stringify({ id: c.id, attack: c.attack, episode: c.episode }));
  }
  writeFileSync(path.join(tracesDir, `seed-${seed}.jsonl`), `${lines.join('\n')}\n`);
  writeFileSync(path.join(tracesDir, `seed-${seed}.labels.jsonl`), `${labels.join('\n')}\n`);
}

/** Runs one seed through the engine exactly as the replay command does. */
function runSeed(seed, hard = false) {
  const { calls, world } = generate(seed, { hard });
  if (tracesDir) writeTrace(seed, calls);
  // A principal's own calls while its credential is being abused (from the episode's first call to
  // 12 h after its last) are neither attack nor normal: they are left out of the false-alarm count.
  const spans = new Map();
  for (const c of calls) {
    if (!c.attack) continue;
    const span = spans.get(c.episode) ?? { principal: c.principal, from: c.ts, to: c.ts };
    span.to = Math.max(span.to, c.ts);
    spans.set(c.episode, span);
  }
  const during = (c) => [...spans.values()].some((s) => s.principal === c.principal && c.ts >= s.from && c.ts <= s.to + 12 * 3_600_000);
  let overlapped = 0;
  const states = new Map();
  const episodes = new Map();
  let normal = 0;
  let falseAlarms = 0;
  const faReasons = new Map();
  const faExamples = [];
  let maxState = 0;
  const cpu0 = process.cpuUsage();
  for (const c of calls) {
    let state = states.get(c.principal);
    if (!state) states.set(c.principal, (state = newBaseline(DEFAULT_SETTINGS)));
    const call = { at: c.ts, tool: c.tool, args: c.args, status: c.status, rows: c.rows, bytes: c.bytes, ip: c.ip, userAgent: c.userAgent };
    const v = score(state, call, DEFAULT_SETTINGS);
    observe(state, call, DEFAULT_SETTINGS, c.kind);
    if (c.attack) {
      let ep = episodes.get(c.episode);
      if (!ep) episodes.set(c.episode, (ep = { type: c.attack, start: c.ts, calls: 0, alertAt: null, alertCall: null, reasons: null, principal: c.principal }));
      ep.calls++;
      if (v.alert && ep.alertAt === null) {
        ep.alertAt = c.ts;
        ep.alertCall = ep.calls;
        ep.reasons = v.reasons;
      }
    } else if (during(c)) {
      overlapped++;
    } else {
      normal++;
      if (v.alert) {
        falseAlarms++;
        for (const c2 of v.contributions) faReasons.set(c2.feature, (faReasons.get(c2.feature) ?? 0) + 1);
        if (faExamples.length < 8) faExamples.push({ principal: c.principal, tool: c.tool, ts: new Date(c.ts).toISOString(), reasons: v.reasons });
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const ms = (cpu.user + cpu.system) / 1000;
  for (const s of states.values()) maxState = Math.max(maxState, JSON.stringify(s).length);
  return { seed, world, calls: calls.length, overlapped, normal, falseAlarms, faReasons, faExamples, episodes: [...episodes.values()], ms, maxState };
}

function summarise(results) {
  const byType = new Map();
  let normal = 0;
  let fa = 0;
  let calls = 0;
  let overlapped = 0;
  let ms = 0;
  let maxState = 0;
  const faReasons = new Map();
  for (const r of results) {
    normal += r.normal;
    fa += r.falseAlarms;
    calls += r.calls;
    overlapped += r.overlapped;
    ms += r.ms;
    maxState = Math.max(maxState, r.maxState);
    for (const [k, v] of r.faReasons) faReasons.set(k, (faReasons.get(k) ?? 0) + v);
    for (const ep of r.episodes) {
      const t = byType.get(ep.type) ?? { episodes: 0, detected: 0, delays: [], callsTo: [], missed: [] };
      t.episodes++;
      if (ep.alertAt !== null) {
        t.detected++;
        t.delays.push((ep.alertAt - ep.start) / 1000);
        t.callsTo.push(ep.alertCall);
      } else t.missed.push(`seed ${r.seed} ${ep.principal}`);
      byType.set(ep.type, t);
    }
  }
  let episodes = 0;
  let detected = 0;
  for (const t of byType.values()) {
    episodes += t.episodes;
    detected += t.detected;
  }
  return { byType, normal, fa, calls, overlapped, ms, maxState, episodes, detected, faReasons };
}

const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const pct = (a, b) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
const dur = (s) => (Number.isNaN(s) ? '–' : s < 120 ? `${Math.round(s)} s` : s < 7200 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

function table(sum) {
  const lines = ['| attack | episodes | alerted | median time to alert | median calls to alert |', '|---|---:|---:|---:|---:|'];
  for (const [type, t] of [...sum.byType].sort()) lines.push(`| ${type} | ${t.episodes} | ${t.detected} (${pct(t.detected, t.episodes)}) | ${dur(median(t.delays))} | ${Number.isNaN(median(t.callsTo)) ? '–' : median(t.callsTo)} |`);
  lines.push(`| **all** | ${sum.episodes} | ${sum.detected} (${pct(sum.detected, sum.episodes)}) | | |`);
  lines.push('');
  lines.push(`Normal calls: ${sum.normal.toLocaleString('en')}; false alarms: ${sum.fa} = **${((sum.fa / sum.normal) * 10_000).toFixed(2)} per 10,000 normal calls** (a further ${sum.overlapped.toLocaleString('en')} calls of attacked principals during their episode, up to 12 h after it, are counted neither way). Engine CPU time: ${(sum.ms / 1000).toFixed(1)} s for ${sum.calls.toLocaleString('en')} calls (${((sum.ms * 1000) / sum.calls).toFixed(1)} µs per call, score + observe). Largest principal state: ${(sum.maxState / 1024).toFixed(1)} KiB of JSON.`);
  return lines.join('\n');
}

const started = performance.now();
const dev = DEV_SEEDS.map((s) => runSeed(s));
const held = HELD_OUT_SEEDS.map((s) => runSeed(s));
const fresh = FRESH_SEEDS.map((s) => runSeed(s));
const hardRuns = HARD_SEEDS.map((s) => runSeed(s, true));
const devSum = summarise(dev);
const heldSum = summarise(held);
const freshSum = summarise(fresh);
const hardSum = summarise(hardRuns);
for (const [name, sum, runs] of [['development seeds', devSum, dev], ['held-out seeds', heldSum, held], ['fresh seeds', freshSum, fresh], ['quieter attacks', hardSum, hardRuns]]) {
  process.stdout.write(`\n## ${name}\n${table(sum)}\n`);
  const missed = [...sum.byType].flatMap(([type, t]) => t.missed.map((m) => `${type}: ${m}`));
  if (missed.length) process.stdout.write(`missed: ${missed.join('; ')}\n`);
  process.stdout.write(`false alarms by feature: ${[...sum.faReasons].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}\n`);
  if (verbose) for (const r of runs) for (const e of r.faExamples) process.stdout.write(`  FA seed ${r.seed} ${e.principal} ${e.tool} ${e.ts}: ${e.reasons.join(' | ')}\n`);
  if (verbose) for (const r of runs) for (const ep of r.episodes.filter((e) => e.alertAt === null)) process.stdout.write(`  MISS seed ${r.seed} ${ep.type} ${ep.principal} ${new Date(ep.start).toISOString()} calls ${ep.calls}\n`);
}
process.stdout.write(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);

if (write) {
  const file = path.join(ROOT, 'docs/anomaly.md');
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- eval:begin -->';
  const end = '<!-- eval:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error('docs/anomaly.md lacks the eval markers');
  const body = `${begin}\nDevelopment seeds ${DEV_SEEDS.join(', ')} (the engine was tuned looking at these):\n\n${table(devSum)}\n\nHeld-out seeds ${HELD_OUT_SEEDS.join(', ')} (printed beside the development seeds while tuning, so seen, though no change was made for one of their cases alone):\n\n${table(heldSum)}\n\nFresh seeds ${FRESH_SEEDS.join(', ')} (first run at an earlier freeze; the last changes, a 3× rate ramp, 3 h off-hours and a week before hours count, answered misses and false alarms of the quieter attacks below):\n\n${table(freshSum)}\n\nQuieter attacks, seeds ${HARD_SEEDS.join(', ')} (bursts of 15–40 calls, slow exfiltration every 5–12 min for 3–6 h, id walks of 8–20, off-hours use 2–4 h after the working day):\n\n${table(hardSum)}\n${end}`;
  writeFileSync(file, text.slice(0, i) + body + text.slice(j + end.length));
  process.stdout.write('wrote docs/anomaly.md\n');
}
