// `npm run bench`: bounded loopback load on the real Worker via wrangler dev and directly on workerd (Miniflare); prints ratios to a bare-route floor and the cost of auditing (on ÷ off).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findBinary, seedAuditDb, seedDemo, startMariaDb } from '../test/support/mariadb.mjs';
import { freePort, startServer } from '../test/support/server.mjs';
import { awaitDelivery, deliveredAny } from './lib/audit.mjs';
import { bearerHeader, startUpstream } from './lib/auth.mjs';
import { callTool, closeSession, expectResult, openLoad, openSession, phaseResult, runLoad } from './lib/load.mjs';
import { buildWorker, loadTooling, startWorkerd } from './lib/workerd.mjs';
import { callToolModern, revisionLines, revisionRatios } from './lib/modern.mjs';
import { RESULT_SCAN_KEYS, RESULT_SCAN_OFF_SPEC, resultScanLines, resultScanReport, resultScanVars, runResultScanPair, scannerThroughput } from './lib/result-scan.mjs';
import { referenceMain, referenceWatchdogMs } from './reference-main.mjs';
import { profileMain } from './profile.mjs';
import { layersMain, layersWatchdogMs } from './layers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench/results/latest.json');
const WRANGLER = 'wrangler dev';
const DIRECT = 'workerd direct (Miniflare)';
/** Vars every benchmarked server gets: the floor route, the conformance pack (its cheap tool), tokens outliving the run. */
const BENCH_VARS = { ENABLE_BENCH_FLOOR: 'true', ENABLE_CONFORMANCE_PACK: 'true', ACCESS_TOKEN_TTL_SECONDS: '86400' };
/** Demo customers are ids 1..600 in both databases. */
const CUSTOMERS = 600;
const CLEANUP_TIMEOUT_MS = 30_000;
/** Scenarios per runtime times runtimes: the most measured phases one run can have. */
const SCENARIOS_PER_RUN = (7 + 1 + 1) * 2; // + the result scan on/off pair (bench/lib/result-scan.mjs) + the 2026-07-28 call (bench/lib/modern.mjs)
/** How long the bench waits, after an audited scenario, for its events to be delivered (they go out about 1 s after each call). */
const AUDIT_WAIT_MS = 20_000;
/**
 * The audit on/off pair is measured in this many slices per side (even), interleaved on, off | off, on | on, off | …
 * (the same server twice in a row is one phase), so both sides see the same background load of the shared machine.
 */
const AUDIT_SLICES = 6;
/** Delivery waits per runtime: before each off phase that follows an on phase, after the pair, after the MySQL scenario. */
const AUDIT_WAITS_PER_RUNTIME = AUDIT_SLICES / 2 + 2;
/**
 * The servers each runtime starts. `audit: false` starts that server with AUDIT_ENABLED=false: the same Worker,
 * used only by the audit-off scenario, so auditing on and off are compared on one runtime in one run.
 */
const SERVER_SPECS = /** @type {const} */ ([
  { key: 'embedded', db: 'embedded', audit: true, label: 'embedded database' },
  { key: 'embedded-audit-off', db: 'embedded', audit: false, label: 'embedded database, AUDIT_ENABLED=false' },
  { key: 'mysql', db: 'mysql', audit: true, label: 'MySQL, audit writer' },
  RESULT_SCAN_OFF_SPEC,
]);
/** Every measured row of this run, both runtimes. */
const ROWS = [];

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '8' },
    only: { type: 'string' },
    'no-mysql': { type: 'boolean', default: false },
    reference: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    // Issue 11: only the behavioural-baseline cost (bench/anomaly.mjs), ANOMALY_ENABLED on vs off.
    anomaly: { type: 'boolean', default: false },
    // Issue 14: each security layer's cost on its own line (bench/layers.mjs); --base <dir> adds another tree's build.
    layers: { type: 'boolean', default: false },
    base: { type: 'string' },
    servers: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opts.help) {
  process.stdout.write(`Usage: npm run bench [-- --duration 5 --warmup 1 --connections 8 --only wrangler|workerd --no-mysql]
       npm run bench -- --reference [--duration 10 --warmup 1 --connections 16 --rounds 3]  (this server beside the reference stack; bench/README.md)
       npm run bench -- --profile [--duration 5 --connections 8]  (V8 CPU profile per workload; docs/performance.md)
       npm run bench -- --layers [--duration 8 --connections 8 --base <other tree>]  (each security layer's cost, same run; --servers all,base for two builds only)
Measures the MCP server on 127.0.0.1 via wrangler dev and directly on workerd (Miniflare).
Writes ${path.relative(ROOT, RESULTS)}. See bench/README.md.
`);
  process.exit(0);
}

const durationMs = Math.round(Number(opts.duration) * 1000);
const warmupMs = Math.round(Number(opts.warmup) * 1000);
const connections = Number(opts.connections);
if (!(durationMs >= 500 && durationMs <= 60_000) || !(warmupMs >= 0 && warmupMs <= 30_000) || !(Number.isInteger(connections) && connections >= 1 && connections <= 64)) {
  process.stderr.write('bench: --duration must be 0.5..60 s, --warmup 0..30 s, --connections 1..64\n');
  process.exit(2);
}
if (opts.only && !['wrangler', 'workerd'].includes(opts.only)) {
  process.stderr.write('bench: --only must be "wrangler" or "workerd"\n');
  process.exit(2);
}

/** The whole run is aborted (and everything stopped) after this long, whatever happens: set-up allowance plus 1.5× the planned load. */
const WATCHDOG_MS = opts.layers ? layersWatchdogMs(opts) : opts.reference ? referenceWatchdogMs(opts) : 180_000 + Math.round(1.5 * SCENARIOS_PER_RUN * (warmupMs + durationMs)) + 2 * AUDIT_WAITS_PER_RUNTIME * AUDIT_WAIT_MS;
const started = performance.now();
const controller = new AbortController();
const signal = controller.signal;

/** Prints a progress line with the elapsed time. */
function say(message) {
  process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
}

/**
 * Things to stop, newest first; each runs once. `sync` is a best-effort synchronous version for an abrupt exit
 * (MariaDB and Miniflare have their own exit hooks).
 * @type {Array<{ name: string, fn: () => Promise<void> | void, sync?: () => void }>}
 */
const cleanups = [];
let cleaning;

/** Stops everything this run started (servers, workerd, MariaDB, temp folders); safe to call more than once. */
function cleanup() {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const { name, fn } = cleanups.pop();
      try {
        const t0 = performance.now();
        await fn();
        if (signal.aborted) say(`stopped ${name} (${Math.round(performance.now() - t0)} ms)`);
      } catch (error) {
        process.stderr.write(`bench: stopping ${name} failed: ${error?.message ?? error}\n`);
      }
    }
  })();
  return cleaning;
}

/** Last resort when the process exits before cleanup() finished: the synchronous part of each remaining stop. */
process.on('exit', () => {
  for (const { sync } of cleanups.splice(0).reverse()) {
    try {
      sync?.();
    } catch {
      // best effort while exiting
    }
  }
});

/** Aborts the load, stops everything within CLEANUP_TIMEOUT_MS, and exits with `code`. */
async function abortAndExit(reason, code) {
  process.stderr.write(`\nbench: ${reason}; stopping everything it started…\n`);
  controller.abort();
  const timer = setTimeout(() => process.exit(code), CLEANUP_TIMEOUT_MS);
  await cleanup();
  clearTimeout(timer);
  process.exit(code);
}

let signalled = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (signalled) process.exit(130); // second signal: leave now (MariaDB's own exit handler still kills it)
    signalled = true;
    void abortAndExit(`${sig} received`, sig === 'SIGINT' ? 130 : 143);
  });
}
const watchdog = setTimeout(() => void abortAndExit(`watchdog: the run exceeded ${Math.round(WATCHDOG_MS / 1000)} s`, 1), WATCHDOG_MS);

const FLOOR_REQUEST = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'floor', arguments: {} } };

/** One floor request: the bare route's fixed JSON-RPC result. */
async function floorIteration(client) {
  expectResult(await client.request('POST', '/_bench/floor', { headers: { 'content-type': 'application/json' }, body: FLOOR_REQUEST, signal }), 1);
}

/** One get_customer call in the connection's session (customer ids cycle through the demo rows). */
const getCustomer = (client, headers, n) => callTool(client, headers, n + 1, 'get_customer', { customer_id: (n % CUSTOMERS) + 1 }, signal);

/**
 * The scenarios. `server` says which server of the runtime they run on (SERVER_SPECS); `unit` is what one
 * iteration is. `audit: 'delivered'` checks afterwards that the server delivered the scenario's tool.call events
 * (and waits for them, so no backlog spills into the next measurement); `audit: 'none'` checks it delivered none.
 * `pairWith` names the scenario measured interleaved with this one (runAuditPair); that one is not run on its own.
 * @type {Array<{ key: string, label: string, server: string, unit: string, audit?: 'delivered' | 'none', tool?: string, pairWith?: string, setup?: Function, iteration: Function, teardown?: Function }>}
 */
const SCENARIOS = [
  { key: 'floor', label: 'floor: POST /_bench/floor', server: 'embedded', unit: 'req', iteration: floorIteration },
  {
    key: 'cheap',
    label: 'tools/call cheap (test_simple_text)',
    server: 'embedded',
    unit: 'req',
    setup: (client) => openSession(client, signal),
    iteration: (client, headers, n) => callTool(client, headers, n + 1, 'test_simple_text', {}, signal),
    teardown: (client, headers) => closeSession(client, headers),
  },
  {
    key: 'get_customer_embedded',
    label: 'tools/call get_customer (embedded)',
    server: 'embedded',
    unit: 'req',
    audit: 'delivered',
    tool: 'get_customer',
    pairWith: 'get_customer_embedded_audit_off',
    setup: (client) => openSession(client, signal),
    iteration: getCustomer,
    teardown: (client, headers) => closeSession(client, headers),
  },
  {
    key: 'get_customer_embedded_audit_off',
    label: 'tools/call get_customer (embedded), audit off',
    server: 'embedded-audit-off',
    unit: 'req',
    audit: 'none',
    setup: (client) => openSession(client, signal),
    iteration: getCustomer,
    teardown: (client, headers) => closeSession(client, headers),
  },
  {
    key: 'get_customer_modern',
    label: 'tools/call get_customer (embedded), 2026-07-28',
    server: 'embedded',
    unit: 'req',
    audit: 'delivered',
    tool: 'get_customer',
    iteration: (client, headers, n) => callToolModern(client, n + 1, 'get_customer', { customer_id: (n % CUSTOMERS) + 1 }, signal),
  },
  {
    key: 'session_create',
    label: 'session create (init+initialized+DELETE)',
    server: 'embedded',
    unit: 'session',
    iteration: async (client) => {
      const headers = await openSession(client, signal);
      await closeSession(client, headers, signal);
    },
  },
  {
    key: 'get_customer_mysql',
    label: 'tools/call get_customer (mysql)',
    server: 'mysql',
    unit: 'req',
    audit: 'delivered',
    tool: 'get_customer',
    setup: (client) => openSession(client, signal),
    iteration: getCustomer,
    teardown: (client, headers) => closeSession(client, headers),
  },
  // The floor once more at the end: its ratio to the first floor shows how much the machine drifted meanwhile.
  { key: 'floor_again', label: 'floor again (drift check)', server: 'embedded', unit: 'req', iteration: floorIteration },
];

/** Log noise that is not the server's: wrangler cannot fetch `Request.cf` data without internet access. */
const BENIGN = /Request\.cf|workers\.cloudflare\.com/;

/** Lines of a server log that look like trouble (errors, uncaught exceptions), the last `max` of them; stack frames and known noise dropped. */
function troubleLines(text, max = 20) {
  return text
    .split('\n')
    // eslint-disable-next-line no-control-regex -- strips terminal colour codes (ESC) from a log line
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trimEnd())
    .filter((l) => /\b(error|uncaught|exception|fatal)\b/i.test(l) && !/^\s+at /.test(l) && !BENIGN.test(l))
    .slice(-max);
}

/**
 * Runs one scenario on one started server and returns its row. An audited scenario is followed by the delivery
 * check (row.auditDelivery; a server that delivered nothing fails the row), the audit-off one by a check that
 * nothing was delivered (anything delivered fails the row: the comparison would be meaningless).
 */
async function runScenario(server, scenario) {
  const row = { runtime: server.runtime, scenario: scenario.key, label: scenario.label, unit: scenario.unit, db: server.db, server: server.key, audit: server.audit };
  const since = new Date().toISOString();
  try {
    Object.assign(row, await runLoad({ baseUrl: server.url, connections, mcpHeaders: server.auth, warmupMs, durationMs, signal, ...scenario }));
    if (row.ok === 0) throw new Error(`every iteration failed (${row.errors}), e.g. ${row.errorSamples[0] ?? 'no sample'}`);
    say(`${server.runtime} · ${scenario.label}: ${row.perSecond} ${scenario.unit}/s, p50 ${row.latencyMs.p50} ms, p99 ${row.latencyMs.p99} ms, ${row.errors} errors`);
    for (const sample of row.errorSamples) say(`    error sample: ${sample}`);
  } catch (error) {
    row.failed = String(error?.message ?? error);
    say(`${server.runtime} · ${scenario.label}: FAILED — ${row.failed}`);
    return row;
  }
  try {
    if (scenario.audit === 'delivered') {
      const calls = row.iterations + row.warmup.ok + row.warmup.errors;
      row.auditDelivery = await checkDelivered(server, scenario.tool, calls, since);
    } else if (scenario.audit === 'none') {
      row.auditDelivery = await checkNoneDelivered(server);
    }
  } catch (error) {
    row.failed = `audit check: ${String(error?.message ?? error)}`;
    say(`${server.runtime} · ${scenario.label}: FAILED — ${row.failed}`);
  }
  return row;
}

/**
 * Waits for an audited server to deliver `calls` tool.call events of `tool` recorded since `since`; throws when
 * `GET /admin/audit/events?type=tool.call&limit=1` (with `since`) shows nothing within AUDIT_WAIT_MS.
 */
async function checkDelivered(server, tool, calls, since) {
  const d = await awaitDelivery({ baseUrl: server.url, adminSecret: server.adminSecret, tool, calls, since, waitMs: AUDIT_WAIT_MS, signal });
  if (d.firstEventAfterSeconds === null) throw new Error(`no event in GET /admin/audit/events?type=tool.call&limit=1&since=${since} within ${AUDIT_WAIT_MS / 1000} s: the audited server delivered nothing`);
  say(`    audit: ${deliveryText(d)}`);
  if (!d.complete) say(`    audit: WARNING — delivered ${d.delivered} (${d.distinctIds} distinct ids) for ${d.calls} calls${d.truncated ? ', count truncated' : ''}`);
  return d;
}

/** The AUDIT_ENABLED=false server must have delivered no tool.call event at all; throws otherwise. */
async function checkNoneDelivered(server) {
  const any = await deliveredAny(server.url, server.adminSecret, signal);
  if (any) throw new Error('the AUDIT_ENABLED=false server delivered tool.call events: auditing was not off');
  say('    audit: none delivered by the AUDIT_ENABLED=false server, as expected');
  return { deliveredAny: false };
}

/**
 * The audit on/off pair on one runtime: the same scenario on the audited server (`on`) and on the
 * AUDIT_ENABLED=false server (`off`), sessions opened on both, both warmed up, then AUDIT_SLICES measured slices
 * per side interleaved on, off, off, on, … Before every off phase that follows an on phase, the bench waits until
 * the on server has delivered every event so far, so its delivery work is not charged to the off phase; the wait
 * after the last on phase is the delivery check. Returns the two rows (latencies pooled over each side's slices).
 */
async function runAuditPair(on, off, onScenario, offScenario) {
  const base = (server, scenario) => ({ runtime: server.runtime, scenario: scenario.key, label: scenario.label, unit: scenario.unit, db: server.db, server: server.key, audit: server.audit });
  const rowOn = base(on, onScenario);
  const rowOff = base(off, offScenario);
  const since = new Date().toISOString();
  const sliceMs = durationMs / AUDIT_SLICES;
  /** on, off, off, on, on, off, … merged into phases of consecutive slices of one side. */
  const order = Array.from({ length: AUDIT_SLICES }, (_, i) => (i % 2 === 0 ? ['on', 'off'] : ['off', 'on'])).flat();
  const blocks = [];
  for (const side of order) {
    if (blocks.at(-1)?.side === side) blocks.at(-1).slices++;
    else blocks.push({ side, slices: 1 });
  }
  const loads = {};
  try {
    loads.on = await openLoad({ baseUrl: on.url, connections, mcpHeaders: on.auth, signal, setup: onScenario.setup });
    loads.off = await openLoad({ baseUrl: off.url, connections, mcpHeaders: off.auth, signal, setup: offScenario.setup });
    const warm = { on: await loads.on.phase(warmupMs, onScenario.iteration), off: await loads.off.phase(warmupMs, offScenario.iteration) };
    const phases = { on: [], off: [] };
    /** Each phase's own figures, in run order: how much the two sides moved from phase to phase (the noise). */
    const perPhase = [];
    const tried = (p) => p.latencies.length + p.errors.length;
    let callsOn = tried(warm.on);
    const waits = [];
    let previous = 'off';
    for (const block of blocks) {
      // A server that delivered nothing within one wait is not waited for again (the check after the pair fails it).
      if (block.side === 'off' && previous === 'on' && waits.every((w) => w.delivered > 0)) {
        const d = await awaitDelivery({ baseUrl: on.url, adminSecret: on.adminSecret, tool: onScenario.tool, calls: callsOn, since, waitMs: AUDIT_WAIT_MS, signal });
        waits.push({ calls: callsOn, delivered: d.delivered, seconds: d.waitedSeconds });
      }
      const phase = await loads[block.side].phase(sliceMs * block.slices, block.side === 'on' ? onScenario.iteration : offScenario.iteration);
      phases[block.side].push(phase);
      const figures = phaseResult([phase]);
      perPhase.push({ side: block.side, seconds: figures.seconds, ok: figures.ok, perSecond: figures.perSecond, p50: figures.latencyMs.p50, p99: figures.latencyMs.p99 });
      if (block.side === 'on') callsOn += tried(phase);
      previous = block.side;
    }
    const interleaving = { slicesPerSide: AUDIT_SLICES, sliceSeconds: Math.round(sliceMs) / 1000, order: blocks.map((b) => `${b.side}×${b.slices}`).join(' '), phases: perPhase, deliveryWaits: waits };
    for (const [row, side] of [[rowOn, 'on'], [rowOff, 'off']]) {
      Object.assign(row, phaseResult(phases[side]), { warmup: { ok: warm[side].latencies.length, errors: warm[side].errors.length }, interleaving });
      if (row.ok === 0) row.failed = `every iteration failed (${row.errors}), e.g. ${row.errorSamples[0] ?? 'no sample'}`;
    }
    for (const [row, server] of [[rowOn, on], [rowOff, off]]) {
      if (row.failed) say(`${server.runtime} · ${row.label}: FAILED — ${row.failed}`);
      else say(`${server.runtime} · ${row.label}: ${row.perSecond} ${row.unit}/s, p50 ${row.latencyMs.p50} ms, p99 ${row.latencyMs.p99} ms, ${row.errors} errors (${interleaving.order}, ${interleaving.sliceSeconds} s slices)`);
      for (const sample of row.errorSamples) say(`    error sample: ${sample}`);
    }
    try {
      rowOn.auditDelivery = await checkDelivered(on, onScenario.tool, callsOn, since);
    } catch (error) {
      rowOn.failed ??= `audit check: ${String(error?.message ?? error)}`;
      say(`${on.runtime} · ${rowOn.label}: FAILED — ${rowOn.failed}`);
    }
    try {
      rowOff.auditDelivery = await checkNoneDelivered(off);
    } catch (error) {
      rowOff.failed ??= `audit check: ${String(error?.message ?? error)}`;
      say(`${off.runtime} · ${rowOff.label}: FAILED — ${rowOff.failed}`);
    }
  } catch (error) {
    for (const row of [rowOn, rowOff]) row.failed ??= String(error?.message ?? error);
    say(`${on.runtime} · audit on/off pair: FAILED — ${rowOn.failed}`);
  } finally {
    await Promise.all([loads.on?.close(onScenario.teardown), loads.off?.close(offScenario.teardown)]);
  }
  return [rowOn, rowOff];
}

/** One line about an audited scenario's delivery. */
function deliveryText(d) {
  return `${d.delivered} tool.call events (${d.tool}) delivered for ${d.calls} calls (warm-up included; counted over ${d.pagesRead} export page${d.pagesRead === 1 ? '' : 's'}); first visible after ${d.firstEventAfterSeconds} s, count read after ${d.waitedSeconds} s`;
}

/**
 * Starts one server with `start`, registers its stop for cleanup, and records its start-up time.
 * @param {string} runtime label
 * @param {(typeof SERVER_SPECS)[number]} spec
 * @param {() => Promise<{ url: string, adminSecret: string, stop: () => Promise<void>, sync?: () => void, log: () => string }>} start
 * @param {{ startupSeconds: Record<string, number> }} runtimeReport
 */
async function startTracked(runtime, spec, start, runtimeReport) {
  const t0 = performance.now();
  const server = await start();
  cleanups.push({ name: `${runtime} (${spec.key})`, fn: server.stop, sync: server.sync });
  runtimeReport.startupSeconds[spec.key] = Math.round(performance.now() - t0) / 1000;
  // /mcp wants a bearer token: sign in once through the real flow; every connection then presents it.
  const { headers, scope } = await bearerHeader(server.url);
  say(`${runtime} (${spec.label}) listening on ${server.url} after ${runtimeReport.startupSeconds[spec.key]} s; signed in (scope "${scope}")`);
  return { runtime, key: spec.key, db: spec.db, audit: spec.audit, auth: headers, ...server };
}

/** The vars of a server: the bench's, plus AUDIT_ENABLED=false for the audit-off one. */
function serverVars(spec) {
  return { ...(spec.audit ? BENCH_VARS : { ...BENCH_VARS, AUDIT_ENABLED: 'false' }), ...resultScanVars(spec) };
}

/** Adds "× floor" ratios to every row of one runtime (floor of the same runtime). */
function addRatios(rows) {
  const floor = rows.find((r) => r.scenario === 'floor' && !r.failed);
  for (const row of rows) {
    if (!floor || row.failed || !row.perSecond || !row.latencyMs?.p50) continue;
    row.vsFloor = {
      throughput: Math.round((row.perSecond / floor.perSecond) * 1000) / 1000,
      p50: Math.round((row.latencyMs.p50 / floor.latencyMs.p50) * 100) / 100,
    };
  }
}

/** Formats a number with fixed decimals, or a dash. */
function num(value, decimals) {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(decimals);
}

/** The results as a fixed-width text table. */
function table(rows) {
  const header = ['runtime', 'scenario', 'rate/s', 'p50 ms', 'p99 ms', 'errors', 'vs floor (same runtime)'];
  const lines = rows.map((r) =>
    r.failed
      ? [r.runtime, r.label, '—', '—', '—', '—', 'FAILED (see below)']
      : [
          r.runtime,
          r.label,
          `${num(r.perSecond, 1)} ${r.unit}`,
          num(r.latencyMs.p50, 2),
          num(r.latencyMs.p99, 2),
          `${r.errors}/${r.iterations}`,
          r.scenario === 'floor' ? '1.00× thr, 1.00× p50 (the floor)' : r.vsFloor ? `${r.vsFloor.throughput.toFixed(2)}× floor thr, ${r.vsFloor.p50.toFixed(1)}× floor p50` : '—',
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const right = new Set([2, 3, 4, 5]);
  const fmt = (cells) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}

/** Side by side: how much wrangler dev's extra hop costs per scenario (same scenario, both runtimes). */
function comparison(rows) {
  const out = [];
  for (const scenario of SCENARIOS) {
    const w = rows.find((r) => r.runtime === WRANGLER && r.scenario === scenario.key && !r.failed);
    const d = rows.find((r) => r.runtime === DIRECT && r.scenario === scenario.key && !r.failed);
    if (!w || !d || !d.perSecond || !d.latencyMs.p50) continue;
    out.push({
      scenario: scenario.key,
      label: scenario.label,
      throughput: Math.round((w.perSecond / d.perSecond) * 100) / 100,
      p50: Math.round((w.latencyMs.p50 / d.latencyMs.p50) * 100) / 100,
    });
  }
  return out;
}

/**
 * The cost of auditing per runtime: tools/call get_customer (embedded) with auditing on ÷ the same with
 * AUDIT_ENABLED=false, same runtime, same run. Latency ratios above 1 and a throughput ratio below 1 are the cost.
 */
function auditCost(rows) {
  const out = [];
  for (const runtime of [DIRECT, WRANGLER]) {
    const on = rows.find((r) => r.runtime === runtime && r.scenario === 'get_customer_embedded');
    const off = rows.find((r) => r.runtime === runtime && r.scenario === 'get_customer_embedded_audit_off');
    if (!on || !off || on.failed || off.failed || !off.latencyMs.p50 || !off.latencyMs.p99 || !off.perSecond) continue;
    const ratio = (a, b) => Math.round((a / b) * 100) / 100;
    const figures = (r) => ({ perSecond: r.perSecond, p50: r.latencyMs.p50, p99: r.latencyMs.p99 });
    out.push({
      runtime,
      on: figures(on),
      off: figures(off),
      ratio: { p50: ratio(on.latencyMs.p50, off.latencyMs.p50), p99: ratio(on.latencyMs.p99, off.latencyMs.p99), throughput: ratio(on.perSecond, off.perSecond) },
      delivered: on.auditDelivery ? { events: on.auditDelivery.delivered, calls: on.auditDelivery.calls, complete: on.auditDelivery.complete } : null,
    });
  }
  return out;
}

/** The audit on ÷ off table. */
function auditTable(costs) {
  const header = ['runtime', 'p50 ms on / off', 'p50 on/off', 'p99 ms on / off', 'p99 on/off', 'rate/s on / off', 'thr on/off', 'events delivered (audit on)'];
  const lines = costs.map((c) => [
    c.runtime,
    `${num(c.on.p50, 2)} / ${num(c.off.p50, 2)}`,
    `${c.ratio.p50.toFixed(2)}×`,
    `${num(c.on.p99, 2)} / ${num(c.off.p99, 2)}`,
    `${c.ratio.p99.toFixed(2)}×`,
    `${num(c.on.perSecond, 1)} / ${num(c.off.perSecond, 1)}`,
    `${c.ratio.throughput.toFixed(2)}×`,
    c.delivered ? `${c.delivered.events} of ${c.delivered.calls} calls${c.delivered.complete ? '' : ' (INCOMPLETE)'}` : '—',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}

/** The one-line summary of the audit cost. */
function auditSummary(costs) {
  if (costs.length === 0) return 'Audit cost: not measured (a scenario failed or was not run).';
  const parts = costs.map((c) => `${c.runtime}: p50 ${c.ratio.p50.toFixed(2)}×, p99 ${c.ratio.p99.toFixed(2)}×, throughput ${c.ratio.throughput.toFixed(2)}×`);
  return `Audit on ÷ off (tools/call get_customer, embedded): ${parts.join('; ')}`;
}

/** Versions of the moving parts, for the record. */
function versions() {
  const read = (p) => {
    try {
      return JSON.parse(readFileSync(path.join(ROOT, p), 'utf8')).version;
    } catch {
      return null;
    }
  };
  return {
    node: process.version,
    wrangler: read('node_modules/wrangler/package.json'),
    miniflare: read('node_modules/wrangler/node_modules/miniflare/package.json') ?? read('node_modules/miniflare/package.json'),
    workerd: read('node_modules/wrangler/node_modules/workerd/package.json') ?? read('node_modules/workerd/package.json'),
  };
}

/** The benchmark: setup, both runtimes, table, JSON. Returns the exit code. */
async function main() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    process.stderr.write(`bench: wrangler needs Node >= 22.12 (this is ${process.version}); run it as \`npm run bench\`, which uses the project's Node\n`);
    return 1;
  }
  if (opts.anomaly) return (await import('./anomaly.mjs')).main().then(() => 0);
  const report = {
    startedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100), platform: `${os.platform()} ${os.arch()}` },
    versions: versions(),
    settings: { durationSeconds: durationMs / 1000, warmupSeconds: warmupMs / 1000, connections, target: '127.0.0.1' },
    mysql: { used: false, note: '' },
    runtimes: /** @type {Record<string, any>} */ ({}),
    rows: ROWS,
    comparison: /** @type {any[]} */ ([]),
    /** Auditing on ÷ off per runtime, and what each audited scenario delivered. */
    audit: { cost: /** @type {any[]} */ ([]), summary: '', delivery: /** @type {any[]} */ ([]) },
    notes: [
      'rate/s counts successful iterations per second of the measured phase (warm-up excluded).',
      'session create: one iteration = initialize + notifications/initialized + DELETE (3 HTTP requests); its latency is the whole iteration.',
      'vs floor: ratio to POST /_bench/floor on the same runtime in the same run. The load generator shares the machine with the server.',
      'audit.cost: tools/call get_customer (embedded) on the default server (auditing on) ÷ the same on a second server of the same runtime started with AUDIT_ENABLED=false, measured interleaved in slices (rows[].interleaving); before each off phase the bench waits until the on server has delivered every event so far. The audited server must deliver its events (audit.delivery).',
    ],
  };
  let setupFailed = false;
  say(`bench: ${connections} connections, ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s measured per scenario, 127.0.0.1 only; ${os.cpus().length} CPUs, load average ${report.machine.loadavgAtStart.join(' ')}`);

  // 1. MariaDB (optional: without it only the embedded database is measured).
  let readerUrl;
  let writerUrl;
  if (opts['no-mysql']) {
    report.mysql.note = 'skipped (--no-mysql)';
  } else {
    let installed = true;
    try {
      findBinary(['mariadbd', 'mysqld']);
    } catch (error) {
      installed = false;
      report.mysql.note = `MariaDB is not installed (${error.message}): only the embedded database is measured`;
      say(report.mysql.note);
    }
    if (installed) {
      try {
        const db = await startMariaDb();
        cleanups.push({ name: 'MariaDB', fn: () => db.stop() });
        ({ readerUrl } = await seedDemo({ adminUrl: db.adminUrl }));
        ({ writerUrl } = await seedAuditDb({ adminUrl: db.adminUrl }));
        report.mysql = { used: true, note: `private MariaDB on 127.0.0.1:${db.port}, demo data seeded, read-only user for HYPERDRIVE, audit writer for AUDIT_HYPERDRIVE` };
        say(`MariaDB ready on 127.0.0.1:${db.port} (seeded)`);
      } catch (error) {
        setupFailed = true;
        report.mysql.note = `MariaDB setup failed: ${error.message}`;
        say(report.mysql.note);
      }
    }
  }
  if (signal.aborted) return 130;

  // 2. Start every server first, so both runtimes are measured scenario by scenario, close together in time.
  /** @type {Array<{ runtime: string, key: string, db: 'embedded' | 'mysql', audit: boolean, url: string, adminSecret: string, stop: () => Promise<void>, log: () => string }>} */
  const servers = [];
  const specs = SERVER_SPECS.filter((spec) => spec.db !== 'mysql' || readerUrl);
  if (opts.only !== 'workerd') {
    const runtime = { name: WRANGLER, status: 'ok', startupSeconds: {}, serverLog: {} };
    report.runtimes[WRANGLER] = runtime;
    say('starting the Worker via wrangler dev (test/support/server.mjs)');
    /** Starts wrangler dev for one server spec. */
    const start = (spec) => async () => {
      const handle = await startServer({ vars: serverVars(spec), ...(spec.db === 'mysql' ? { mysqlUrl: readerUrl, auditUrl: writerUrl } : {}) });
      /** On an abrupt exit: SIGTERM wrangler (it stops its workerd processes) and remove its state folder. */
      const sync = () => {
        handle.child?.kill('SIGTERM');
        rmSync(handle.state, { recursive: true, force: true });
      };
      return { url: handle.url, adminSecret: handle.adminSecret, stop: () => handle.close(), sync, log: () => handle.output };
    };
    try {
      for (const spec of specs) if (!signal.aborted) servers.push(await startTracked(WRANGLER, spec, start(spec), runtime));
    } catch (error) {
      setupFailed = true;
      runtime.status = 'failed';
      runtime.error = String(error?.message ?? error).slice(0, 4000);
      say(`wrangler dev: setup FAILED — ${runtime.error.split('\n')[0]}`);
    }
  }
  if (opts.only !== 'wrangler' && !signal.aborted) {
    const runtime = { name: DIRECT, status: 'ok', startupSeconds: {}, serverLog: {} };
    report.runtimes[DIRECT] = runtime;
    say('starting the Worker directly on workerd (Miniflare API, bundle from wrangler deploy --dry-run)');
    try {
      const tooling = await loadTooling(ROOT);
      runtime.miniflare = tooling.miniflareVersion;
      const build = await buildWorker(ROOT);
      cleanups.push({ name: 'build folder', fn: build.remove, sync: build.remove });
      say(`bundled the Worker (${path.basename(build.scriptPath)}) with wrangler deploy --dry-run`);
      /** Starts workerd for one server spec, collecting its warnings and errors. */
      const start = (spec) => async () => {
        const log = [];
        const port = await freePort();
        const upstream = await startUpstream(port);
        cleanups.push({ name: 'OpenID provider', fn: upstream.stop });
        const adminSecret = randomBytes(32).toString('base64url');
        const vars = { ...upstream.vars, ...serverVars(spec), ADMIN_SECRET: adminSecret };
        const urls = spec.db === 'mysql' ? { mysqlUrl: readerUrl, auditUrl: writerUrl } : {};
        const handle = await startWorkerd({ root: ROOT, scriptPath: build.scriptPath, port, tooling, vars, ...urls, onLog: (line) => log.push(line) });
        return { url: handle.url, adminSecret, stop: handle.dispose, log: () => log.slice(-200).join('\n') };
      };
      for (const spec of specs) if (!signal.aborted) servers.push(await startTracked(DIRECT, spec, start(spec), runtime));
    } catch (error) {
      setupFailed = true;
      runtime.status = 'failed';
      runtime.error = String(error?.stack ?? error).slice(0, 4000);
      say(`workerd direct (Miniflare): setup FAILED — ${String(error?.message ?? error).split('\n')[0]}`);
    }
  }
  if (signal.aborted) return 130;

  // 3. Each scenario on each runtime in turn (wrangler dev, then workerd direct).
  //    The audit on/off pair runs interleaved on each runtime (runAuditPair); the off scenario is not run alone.
  const paired = new Set(SCENARIOS.map((s) => s.pairWith).filter(Boolean));
  for (const scenario of SCENARIOS) {
    if (paired.has(scenario.key)) continue;
    const partner = SCENARIOS.find((s) => s.key === scenario.pairWith);
    for (const server of servers.filter((s) => s.key === scenario.server)) {
      if (signal.aborted) return 130;
      const other = partner && servers.find((s) => s.runtime === server.runtime && s.key === partner.server);
      if (partner && other) ROWS.push(...(await runAuditPair(server, other, scenario, partner)));
      else ROWS.push(await runScenario(server, scenario));
    }
  }
  // 3b. Result scanning on ÷ off: the default embedded server and the RESULT_SCAN=off one, interleaved (bench/lib/result-scan.mjs).
  for (const server of servers.filter((s) => s.key === 'embedded')) {
    const off = servers.find((s) => s.runtime === server.runtime && s.key === RESULT_SCAN_OFF_SPEC.key);
    if (off && !signal.aborted) ROWS.push(...(await runResultScanPair(server, off, { connections, warmupMs, durationMs, signal, say })));
  }
  for (const server of servers) {
    const trouble = troubleLines(server.log());
    if (trouble.length > 0) report.runtimes[server.runtime].serverLog[server.key] = trouble;
  }

  // 4. Ratios, table, JSON (servers are stopped by cleanup()).
  for (const name of [WRANGLER, DIRECT]) addRatios(report.rows.filter((r) => r.runtime === name));
  report.comparison = comparison(report.rows);
  report.audit.cost = auditCost(report.rows);
  report.audit.summary = auditSummary(report.audit.cost);
  report.revisions = revisionRatios(report.rows, [WRANGLER, DIRECT]);
  report.audit.delivery = report.rows.filter((r) => r.auditDelivery).map((r) => ({ runtime: r.runtime, scenario: r.scenario, ...r.auditDelivery }));
  report.machine.loadavgAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  report.totalSeconds = Math.round(performance.now() - started) / 1000;
  const order = [WRANGLER, DIRECT];
  const keys = [...SCENARIOS.map((s) => s.key), ...RESULT_SCAN_KEYS];
  report.resultScan = resultScanReport(report.rows, scannerThroughput(ROOT));
  report.rows.sort((a, b) => order.indexOf(a.runtime) - order.indexOf(b.runtime) || keys.indexOf(a.scenario) - keys.indexOf(b.scenario));

  const out = [];
  out.push('');
  out.push(`Results — ${connections} connections, ${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up, 127.0.0.1; ${report.machine.cpus} CPUs shared with the load generator (noisy: compare ratios within this run)`);
  out.push(`"wrangler dev" = via wrangler dev; "workerd direct (Miniflare)" = the same bundle on workerd via Miniflare's API. rate/s = successful iterations per second.`);
  out.push('');
  out.push(table(report.rows));
  out.push('');
  out.push(`Cost of auditing: tools/call get_customer (embedded), auditing on ÷ a second server with AUDIT_ENABLED=false, same runtime, same run (${AUDIT_SLICES} interleaved slices per side)`);
  if (report.audit.cost.length > 0) out.push(auditTable(report.audit.cost));
  out.push(report.audit.summary);
  for (const d of report.audit.delivery.filter((x) => 'delivered' in x)) out.push(`  delivered, ${d.runtime} · ${d.scenario}: ${deliveryText(d)}${d.complete ? '' : ' — INCOMPLETE'}`);
  out.push(...resultScanLines(report.resultScan));
  out.push('');
  out.push(...revisionLines(report.revisions));
  if (report.comparison.length > 0) {
    out.push('');
    out.push('wrangler dev relative to workerd direct (same scenario): throughput ratio, p50 ratio');
    for (const c of report.comparison) out.push(`  ${c.label.padEnd(46)} ${c.throughput.toFixed(2)}× throughput, ${c.p50.toFixed(2)}× p50`);
  }
  const failures = report.rows.filter((r) => r.failed);
  if (failures.length > 0) {
    out.push('');
    out.push('Failed scenarios:');
    for (const r of failures) out.push(`  ${r.runtime} · ${r.label}: ${r.failed.slice(0, 400)}`);
  }
  if (!report.mysql.used) out.push(`\nMySQL: ${report.mysql.note}`);
  for (const runtime of Object.values(report.runtimes)) {
    if (runtime.status === 'failed') out.push(`\n${runtime.name}: FAILED to set up — ${runtime.error.split('\n').slice(0, 6).join('\n  ')}`);
    for (const [db, lines] of Object.entries(runtime.serverLog)) out.push(`\n${runtime.name} (${db}) server log, error-looking lines:\n  ${lines.join('\n  ')}`);
  }
  out.push('');
  out.push(`Total ${report.totalSeconds} s; load average at end ${report.machine.loadavgAtEnd.join(' ')}. JSON: ${path.relative(ROOT, RESULTS)}`);
  process.stdout.write(`${out.join('\n')}\n`);

  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(report, null, 2)}\n`);
  const scenarioFailed = report.rows.some((r) => r.failed);
  return setupFailed || scenarioFailed ? 1 : 0;
}

let code = 1;
try {
  code = opts.layers ? await layersMain({ root: ROOT, opts, signal, say, cleanups }) : opts.profile ? await profileMain({ root: ROOT, opts, signal, say, cleanups }) : opts.reference ? await referenceMain({ root: ROOT, opts, signal, say, cleanups }) : await main();
} catch (error) {
  process.stderr.write(`bench: ${error?.stack ?? error}\n`);
  code = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
if (!signalled) {
  process.exitCode = code;
  // Nothing should keep the process alive now; if something does, leave anyway.
  setTimeout(() => process.exit(code), 3_000).unref();
}
