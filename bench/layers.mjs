// `npm run bench -- --layers`: what each security layer costs, each on its own line, in one run (issue 14). Servers of
// one bundle on workerd (Miniflare API) that differ in one switch each (AUDIT_ENABLED, ANOMALY_ENABLED, RESULT_SCAN,
// TOOL_INTEGRITY; plus every layer off), and optionally the same workloads on a second tree's build (`--base <dir>`,
// every layer on): every server is measured in round-robin slices, so all of them see the same background load.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/server.mjs';
import { bearerHeader, createBenchKey, startUpstream } from './lib/auth.mjs';
import { cpuSeconds, newWorkerdPid } from './lib/cpu.mjs';
import { callTool, closeSession, openLoad, openSession, phaseResult } from './lib/load.mjs';
import { callToolModern } from './lib/modern.mjs';
import { buildWorker, loadTooling, startWorkerd } from './lib/workerd.mjs';

/** Vars of every server: the floor route, the conformance pack (the cheap tool), long tokens. */
const VARS = { ENABLE_BENCH_FLOOR: 'true', ENABLE_CONFORMANCE_PACK: 'true', ACCESS_TOKEN_TTL_SECONDS: '86400', DETECTIONS_ENABLED: 'false' };
/** The servers: `all` has every layer on; each other one turns one layer off (`none`: all of them). */
const SERVERS = [
  { key: 'all', label: 'every layer on', vars: {} },
  { key: 'audit', label: 'auditing off (AUDIT_ENABLED=false)', vars: { AUDIT_ENABLED: 'false' } },
  { key: 'anomaly', label: 'baselines off (ANOMALY_ENABLED=false)', vars: { ANOMALY_ENABLED: 'false' } },
  { key: 'scan', label: 'result scan off (RESULT_SCAN=off)', vars: { RESULT_SCAN: 'off' } },
  { key: 'integrity', label: 'signed-tool checks off (TOOL_INTEGRITY=off)', vars: { TOOL_INTEGRITY: 'off' } },
  { key: 'none', label: 'every layer off', vars: { AUDIT_ENABLED: 'false', ANOMALY_ENABLED: 'false', RESULT_SCAN: 'off', TOOL_INTEGRITY: 'off' } },
];
const CUSTOMERS = 600;
const SLICES = 4;
const quiet = (line) => (/integrity_off/.test(line) ? undefined : process.stderr.write(`workerd: ${line.slice(0, 300)}\n`));

/** The workloads: an OAuth session call of a real tool (every layer has work), the cheap tool by OAuth token and by API key, and a stateless call. */
function workloads(signal) {
  const session = { setup: (client) => openSession(client, signal), teardown: (client, headers) => closeSession(client, headers) };
  return [
    { key: 'oauth_get_customer', label: 'tools/call get_customer, OAuth, session', auth: 'token', ...session, iteration: (client, headers, n) => callTool(client, headers, n + 1, 'get_customer', { customer_id: (n % CUSTOMERS) + 1 }, signal) },
    { key: 'oauth_cheap', label: 'tools/call test_simple_text, OAuth, session', auth: 'token', ...session, iteration: (client, headers, n) => callTool(client, headers, n + 1, 'test_simple_text', {}, signal) },
    { key: 'key_cheap', label: 'tools/call test_simple_text, API key, session', auth: 'key', ...session, iteration: (client, headers, n) => callTool(client, headers, n + 1, 'test_simple_text', {}, signal) },
    { key: 'stateless_get_customer', label: 'tools/call get_customer, API key, stateless 2026-07-28', auth: 'key', setup: async () => undefined, iteration: (client, _s, n) => callToolModern(client, n + 1, 'get_customer', { customer_id: (n % CUSTOMERS) + 1 }, signal) },
  ];
}

/** Starts one server (its own upstream IdP and secrets), signs in, creates a key. */
async function startServer(spec, { root, scriptPath, tooling, cleanups }) {
  const port = await freePort();
  const upstream = await startUpstream(port);
  cleanups.push({ name: `OpenID provider (${spec.key})`, fn: upstream.stop });
  const adminSecret = randomBytes(32).toString('base64url');
  const started = await newWorkerdPid(() => startWorkerd({ root, scriptPath, port, tooling, vars: { ...upstream.vars, ...VARS, ...spec.vars, ADMIN_SECRET: adminSecret }, onLog: quiet }));
  cleanups.push({ name: `server ${spec.key} (workerd)`, fn: started.result.dispose });
  const url = started.result.url;
  return { ...spec, url, pids: started.pids, auth: (await bearerHeader(url)).headers, keyAuth: await createBenchKey(url, adminSecret) };
}

/** One workload on every server in round-robin slices (the order rotates per slice); per server: rate, latency, CPU per call. */
async function measureWorkload(servers, workload, { connections, warmupMs, durationMs, signal, say }) {
  const loads = new Map();
  const out = {};
  try {
    for (const server of servers) {
      const load = await openLoad({ baseUrl: server.url, connections, mcpHeaders: workload.auth === 'key' ? server.keyAuth : server.auth, signal, setup: workload.setup });
      loads.set(server.key, load);
      await load.phase(warmupMs, workload.iteration);
    }
    const phases = Object.fromEntries(servers.map((s) => [s.key, { phases: [], cpu: 0 }]));
    for (let slice = 0; slice < SLICES; slice++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(i + slice) % servers.length];
        const cpu0 = cpuSeconds(server.pids);
        phases[server.key].phases.push(await loads.get(server.key).phase(durationMs / SLICES, workload.iteration));
        phases[server.key].cpu += cpuSeconds(server.pids) - cpu0;
      }
    }
    for (const server of servers) {
      const r = phaseResult(phases[server.key].phases);
      out[server.key] = { perSecond: r.perSecond, ok: r.ok, errors: r.errors, errorSamples: r.errorSamples, p50: r.latencyMs.p50, p99: r.latencyMs.p99, cpuMs: r.ok > 0 ? Math.round((phases[server.key].cpu / r.ok) * 1e6) / 1e3 : null };
      say(`${workload.label} · ${server.label}: ${r.perSecond}/s, CPU ${out[server.key].cpuMs} ms/call, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, ${r.errors} errors${r.errorSamples[0] ? ` (${r.errorSamples[0]})` : ''}`);
    }
  } finally {
    await Promise.all([...loads.values()].map((load) => load.close(workload.teardown)));
  }
  return out;
}

/** The lines: per workload, each layer as (every layer on) − (that layer off), in CPU per call and throughput. */
export function layerLines(report) {
  const lines = [];
  const f = (x) => (x === null || x === undefined ? '—' : x.toFixed(2));
  for (const w of report.workloads) {
    const all = w.results.all;
    lines.push(`${w.label} (every layer on: ${all.perSecond}/s, ${f(all.cpuMs)} ms CPU/call, p99 ${f(all.p99)} ms)`);
    for (const s of report.servers.filter((x) => x.key !== 'all')) {
      const r = w.results[s.key];
      if (!r || all.cpuMs === null || r.cpuMs === null) continue;
      const name = s.key === 'base' ? `this build ÷ ${s.label}` : s.key === 'none' ? 'all four layers' : `${s.key} layer`;
      const cost = s.key === 'base' ? `CPU/call ${f(all.cpuMs / r.cpuMs)}×, throughput ${f(all.perSecond / r.perSecond)}×` : `+${f(all.cpuMs - r.cpuMs)} ms CPU/call (${f(all.cpuMs / r.cpuMs)}× off), throughput on ÷ off ${f(all.perSecond / r.perSecond)}×`;
      lines.push(`  ${name.padEnd(24)} ${cost}; off: ${r.perSecond}/s, ${f(r.cpuMs)} ms CPU/call`);
    }
  }
  return lines;
}

/** Runs the layer comparison; returns the exit code. */
export async function layersMain({ root, opts, signal, say, cleanups }) {
  const settings = { connections: Number(opts.connections), warmupMs: Math.round(Number(opts.warmup) * 1000), durationMs: Math.round(Number(opts.duration) * 1000) };
  say(`layers: ${settings.connections} connections, ${settings.durationMs / 1000} s per server and workload in ${SLICES} round-robin slices; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const tooling = await loadTooling(root);
  const own = await buildWorker(root);
  cleanups.push({ name: 'build folder', fn: own.remove, sync: own.remove });
  // --servers all,none,…: only these copies (`all` is always measured: every line is against it).
  const wanted = opts.servers ? new Set(['all', ...String(opts.servers).split(',')]) : null;
  const specs = SERVERS.filter((s) => !wanted || wanted.has(s.key)).map((s) => ({ ...s, root, scriptPath: own.scriptPath }));
  if (opts.base && (!wanted || wanted.has('base'))) {
    const baseRoot = path.resolve(String(opts.base));
    const base = await buildWorker(baseRoot);
    cleanups.push({ name: 'base build folder', fn: base.remove, sync: base.remove });
    specs.push({ key: 'base', label: `the build of ${path.basename(baseRoot)} (every layer on)`, vars: {}, root: baseRoot, scriptPath: base.scriptPath });
  }
  say(`bundled ${opts.base ? 'this Worker and the base tree' : 'the Worker'} (wrangler deploy --dry-run)`);
  const servers = [];
  for (const spec of specs) servers.push(await startServer(spec, { root: spec.root, scriptPath: spec.scriptPath, tooling, cleanups }));
  say(`${servers.length} servers started and signed in`);
  const report = { settings: { ...settings, slices: SLICES, runtime: 'workerd through Miniflare' }, machine: { cpus: os.cpus().length, loadavgAtStart: os.loadavg() }, servers: servers.map(({ key, label }) => ({ key, label })), workloads: [] };
  let failed = false;
  for (const workload of workloads(signal)) {
    if (signal.aborted) throw new Error('interrupted');
    try {
      report.workloads.push({ key: workload.key, label: workload.label, results: await measureWorkload(servers, workload, { ...settings, signal, say }) });
    } catch (error) {
      failed = true;
      say(`${workload.label}: FAILED — ${String(error?.message ?? error).slice(0, 300)}`);
    }
  }
  report.machine.loadavgAtEnd = os.loadavg();
  const file = path.join(root, 'bench/results/layers.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nEach layer's cost (every layer on − that layer off), same run, ${settings.connections} connections; CPU = the server's workerd process time per answered call.\n\n${layerLines(report).join('\n')}\n\nJSON: ${path.relative(root, file)}\n`);
  return failed ? 1 : 0;
}

/** Set-up allowance plus 1.5× the planned load. */
export function layersWatchdogMs(opts) {
  const servers = opts.servers ? String(opts.servers).split(',').length + 1 : SERVERS.length + (opts.base ? 1 : 0);
  return 300_000 + Math.round(1.5 * 4 * servers * (Number(opts.warmup) + Number(opts.duration)) * 1000);
}
