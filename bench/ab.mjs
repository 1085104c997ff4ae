// `npm exec -- node bench/ab.mjs --base DIR`: this tree against another checkout of the project (e.g. `git worktree add --detach DIR main`),
// both on workerd through Miniflare in one run, the same load alternated between them round by round: a cheap tools/call in a
// 2025-11-25 session (with an OAuth token, and with an API key), a stateless 2026-07-28 one with the token, and opening and closing a session
// (`--only` picks some). Prints each side's medians (throughput, server CPU per call, p50/p99) and this ÷ base. Issue 13 used it to measure the
// session object's move to the SDK v2.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/support/server.mjs';
import { bearerHeader, createBenchKey, startUpstream } from './lib/auth.mjs';
import { cpuSeconds, newWorkerdPid } from './lib/cpu.mjs';
import { callTool, closeSession, openLoad, openSession, phaseResult } from './lib/load.mjs';
import { callToolModern } from './lib/modern.mjs';
import { buildWorker, loadTooling, startWorkerd } from './lib/workerd.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VARS = { ENABLE_CONFORMANCE_PACK: 'true', ACCESS_TOKEN_TTL_SECONDS: '86400', REGISTRATIONS_PER_HOUR: '100000' };
const quiet = (line) => (/error/i.test(line) ? process.stderr.write(`workerd: ${line.slice(0, 300)}\n`) : undefined);
const say = (text) => process.stdout.write(`${text}\n`);

const { values: opts } = parseArgs({ options: { base: { type: 'string' }, connections: { type: 'string', default: '16' }, duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '1' }, rounds: { type: 'string', default: '6' }, only: { type: 'string' } } });
if (!opts.base || !existsSync(path.join(opts.base, 'wrangler.toml'))) {
  process.stderr.write('usage: npm exec -- node bench/ab.mjs --base DIR [--connections 16 --duration 10 --warmup 1 --rounds 6 --only session,apikey,stateless,open]  (DIR: another checkout with node_modules)\n');
  process.exit(2);
}
const connections = Number(opts.connections);
const durationMs = Number(opts.duration) * 1000;
const warmupMs = Number(opts.warmup) * 1000;
const rounds = Number(opts.rounds);
const signal = new AbortController().signal;
const chosen = opts.only?.split(',').map((k) => k.trim()).filter((k) => k !== '');

const SCENARIOS = [
  {
    key: 'session',
    label: 'tools/call test_simple_text in a 2025-11-25 session',
    setup: (client) => openSession(client, signal),
    teardown: (client, headers) => closeSession(client, headers, signal),
    iteration: (client, headers, n) => callTool(client, headers, n + 1, 'test_simple_text', {}, signal),
  },
  {
    key: 'apikey',
    credential: 'key',
    label: 'tools/call test_simple_text in a 2025-11-25 session, API key',
    setup: (client) => openSession(client, signal),
    teardown: (client, headers) => closeSession(client, headers, signal),
    iteration: (client, headers, n) => callTool(client, headers, n + 1, 'test_simple_text', {}, signal),
  },
  { key: 'stateless', label: 'tools/call test_simple_text, stateless 2026-07-28', iteration: (client, _s, n) => callToolModern(client, n + 1, 'test_simple_text', {}, signal) },
  { key: 'open', label: 'new session (initialize + initialized + DELETE), OAuth', iteration: async (client) => closeSession(client, await openSession(client, signal), signal) },
];

const ALL_KEYS = SCENARIOS.map((s) => s.key);
const unknown = (chosen ?? []).filter((k) => !ALL_KEYS.includes(k));
if (unknown.length > 0) {
  process.stderr.write(`--only: unknown scenario ${unknown.join(', ')} (known: ${ALL_KEYS.join(', ')})\n`);
  process.exit(2);
}
const RUN = chosen ? SCENARIOS.filter((s) => chosen.includes(s.key)) : SCENARIOS;

async function start(root, name, tooling, cleanups) {
  const build = await buildWorker(root);
  cleanups.push(build.remove);
  const port = await freePort();
  const upstream = await startUpstream(port);
  cleanups.push(upstream.stop);
  const adminSecret = randomBytes(32).toString('base64url');
  const vars = { ...upstream.vars, ...VARS, ADMIN_SECRET: adminSecret };
  const started = await newWorkerdPid(() => startWorkerd({ root, scriptPath: build.scriptPath, port, tooling, vars, onLog: quiet }));
  cleanups.push(() => started.result.dispose());
  const auth = (await bearerHeader(started.result.url)).headers;
  const keyAuth = await createBenchKey(started.result.url, adminSecret);
  say(`${name}: ${root} on ${started.result.url} (workerd pids ${started.pids.join(',')})`);
  return { name, url: started.result.url, pids: started.pids, auth, keyAuth };
}

async function measure(server, scenario) {
  const load = await openLoad({ baseUrl: server.url, connections, mcpHeaders: scenario.credential === 'key' ? server.keyAuth : server.auth, signal, setup: scenario.setup });
  try {
    await load.phase(warmupMs, scenario.iteration);
    const cpu0 = cpuSeconds(server.pids);
    const phase = await load.phase(durationMs, scenario.iteration);
    const cpu = cpuSeconds(server.pids) - cpu0;
    const r = phaseResult([phase]);
    return { perSecond: r.perSecond, cpuMs: r.ok > 0 ? Math.round((cpu / r.ok) * 1e6) / 1e3 : null, p50: r.latencyMs.p50, p99: r.latencyMs.p99, errors: r.errors };
  } finally {
    await load.close(scenario.teardown);
  }
}

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ratio = (a, b) => (a !== null && b ? Math.round((a / b) * 100) / 100 : null);
const rounded = (x, digits) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

const cleanups = [];
try {
  const tooling = await loadTooling(ROOT);
  const base = await start(path.resolve(opts.base), 'base', tooling, cleanups);
  const mine = await start(ROOT, 'this', tooling, cleanups);
  const results = { base: Object.fromEntries(RUN.map((s) => [s.key, []])), this: Object.fromEntries(RUN.map((s) => [s.key, []])) };
  for (let round = 0; round < rounds; round++) {
    for (const scenario of RUN) {
      // Alternate which side goes first, so a drift in the machine's load falls on both.
      for (const server of round % 2 === 0 ? [base, mine] : [mine, base]) {
        const r = await measure(server, scenario);
        results[server.name][scenario.key].push(r);
        say(`round ${round + 1}/${rounds} · ${server.name} · ${scenario.label}: ${r.perSecond}/s, CPU ${r.cpuMs} ms, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.errors} errors`);
      }
    }
  }
  say(`\nMedians of ${rounds} rounds, ${connections} connections, ${durationMs / 1000} s per side per round, alternated; CPU = the server's workerd CPU per answered call.\n`);
  say('| scenario | base | this | this ÷ base (throughput) | this ÷ base (CPU per call) |');
  say('|---|---|---|---|---|');
  for (const s of RUN) {
    const of = (side, field, digits) => rounded(median(results[side][s.key].map((r) => r[field])), digits);
    const m = (side) => ({ perSecond: of(side, 'perSecond', 1), cpuMs: of(side, 'cpuMs', 3), p50: of(side, 'p50', 2), p99: of(side, 'p99', 2) });
    const b = m('base');
    const t = m('this');
    const cell = (x) => `${x.perSecond}/s, ${x.cpuMs} ms CPU, p50 ${x.p50} ms, p99 ${x.p99} ms`;
    say(`| ${s.label} | ${cell(b)} | ${cell(t)} | ${ratio(t.perSecond, b.perSecond)}× | ${ratio(t.cpuMs, b.cpuMs)}× |`);
  }
} finally {
  for (const clean of cleanups.reverse()) await Promise.resolve(clean()).catch(() => undefined);
}
