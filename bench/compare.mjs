// `npm run bench -- --reference`: this server beside the reference Cloudflare stack (workers-oauth-provider + agents McpAgent,
// and its stateless createMcpHandler), the floor and the platform probe (bench/platform: a bare Durable Object round trip,
// with and without one committed row), all on workerd through Miniflare in one run; prints the issue-14 table.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { freePort } from '../test/support/server.mjs';
import { pkcePair, signIn } from '../test/support/oauth-flow.ts';
import { bearerHeader, createBenchKey, startUpstream } from './lib/auth.mjs';
import { cpuSeconds, newWorkerdPid } from './lib/cpu.mjs';
import { closeSession, createClient, expectResult, openLoad, openSession, phaseResult, callTool } from './lib/load.mjs';
import { buildWorker, loadTooling, startWorkerd } from './lib/workerd.mjs';

const PROTOCOL_VERSION = '2025-11-25';
const MCP_POST = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const REDIRECT = 'http://127.0.0.1:9/callback';
const FETCHERS = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
const CUSTOMERS = 600;
/** Vars of this server: floor route, conformance pack (the cheap tool), long tokens, registrations not limited by the load. */
const VARS = { ENABLE_BENCH_FLOOR: 'true', ENABLE_CONFORMANCE_PACK: 'true', ACCESS_TOKEN_TTL_SECONDS: '86400', REGISTRATIONS_PER_HOUR: '100000' };
/** Workerd's warnings and errors go to stderr; its info lines (the audit events it prints) are dropped. */
const quiet = (line) => process.stderr.write(`workerd: ${line.slice(0, 300)}\n`);
/** Scenarios measured per round; the watchdog allows for them. */
export const SCENARIO_COUNT = 17;

/** A token request; throws unless 200; returns the JSON body. */
async function token(client, form) {
  const response = await client.request('POST', '/token', { headers: FORM, body: new URLSearchParams(form).toString() });
  if (response.status !== 200) throw new Error(`/token answered ${response.status}: ${response.text.slice(0, 200)}`);
  return JSON.parse(response.text);
}

/** The reference's sign-in: register a public client, authorize (approved at once), exchange the code. */
async function referenceSignIn(client) {
  const reg = await client.request('POST', '/register', { headers: { 'content-type': 'application/json' }, body: { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'bench' } });
  if (reg.status !== 201) throw new Error(`reference /register answered ${reg.status}: ${reg.text.slice(0, 200)}`);
  const clientId = JSON.parse(reg.text).client_id;
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'bench-state', scope: 'read' });
  const auth = await client.request('GET', `/authorize?${query}`);
  const code = auth.status === 302 ? new URL(String(auth.headers.location)).searchParams.get('code') : null;
  if (!code) throw new Error(`reference /authorize answered ${auth.status}: ${auth.text.slice(0, 200)}`);
  const t = await token(client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId });
  return { clientId, accessToken: t.access_token, refreshToken: t.refresh_token };
}

/** One refresh-token grant with rotation: the state keeps the newest refresh token. */
async function refresh(client, state, extra = {}) {
  const t = await token(client, { grant_type: 'refresh_token', refresh_token: state.refreshToken, client_id: state.clientId, ...extra });
  if (typeof t.refresh_token !== 'string') throw new Error('refresh answered no new refresh token');
  state.refreshToken = t.refresh_token;
}

/** A tools/call on the stateless reference route (no session). */
async function statelessCall(client, auth, id) {
  const response = await client.request('POST', '/stateless', { headers: { ...MCP_POST, ...auth, 'mcp-protocol-version': PROTOCOL_VERSION }, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'test_simple_text', arguments: {} } } });
  expectResult(response, id);
}

/** An initialize on the stateless reference route (it keeps nothing). */
async function statelessInitialize(client, auth, id) {
  const response = await client.request('POST', '/stateless', { headers: { ...MCP_POST, ...auth }, body: { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } } } });
  expectResult(response, id);
}

/** One request to the platform probe: `path` is /hop, /write or /keyed, on the connection's own object. */
async function probe(client, path, object) {
  const response = await client.request('POST', path, { headers: { 'content-type': 'application/json', 'x-probe-object': object }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'probe', arguments: {} } } });
  expectResult(response, 1);
}

/** The scenarios: `on` names the server ('this', 'ref' or 'platform'), `auth` which credential /mcp requests carry. */
function scenarios(signal) {
  const session = { setup: (client) => openSession(client, signal), teardown: (client, headers) => closeSession(client, headers) };
  const cheap = (client, headers, n) => callTool(client, headers, n + 1, 'test_simple_text', {}, signal);
  const newSession = async (client) => closeSession(client, await openSession(client, signal), signal);
  return [
    { key: 'floor', on: 'this', label: 'floor (bare Worker route, fixed JSON-RPC result)', iteration: async (client) => expectResult(await client.request('POST', '/_bench/floor', { headers: { 'content-type': 'application/json' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'floor', arguments: {} } } }), 1) },
    { key: 'oauth_cheap', on: 'this', auth: 'token', label: 'this: tools/call cheap, OAuth token', ...session, iteration: cheap },
    { key: 'key_cheap', on: 'this', auth: 'key', label: 'this: tools/call cheap, API key', ...session, iteration: cheap },
    { key: 'get_customer', on: 'this', auth: 'token', label: 'this: tools/call get_customer, embedded DB', ...session, iteration: (client, headers, n) => callTool(client, headers, n + 1, 'get_customer', { customer_id: (n % CUSTOMERS) + 1 }, signal) },
    { key: 'ref_agent_cheap', on: 'ref', auth: 'token', label: 'reference McpAgent: tools/call cheap', ...session, iteration: cheap },
    { key: 'ref_stateless_cheap', on: 'ref', label: 'reference stateless: tools/call cheap', setup: async () => undefined, iteration: (client, _s, n) => statelessCall(client, client.auth, n + 1) },
    { key: 'init', on: 'this', auth: 'token', label: 'this: new session (initialize+initialized+DELETE)', iteration: newSession },
    { key: 'ref_agent_init', on: 'ref', auth: 'token', label: 'reference McpAgent: new session (same 3 requests)', iteration: newSession },
    { key: 'ref_stateless_init', on: 'ref', label: 'reference stateless: initialize (no session)', iteration: (client, _s, n) => statelessInitialize(client, client.auth, n + 1) },
    { key: 'refresh', on: 'this', label: 'this: refresh-token grant, one client per connection', setup: async (client) => ({ ...(await signIn(client.baseUrl, FETCHERS)) }), iteration: (client, state) => refresh(client, state) },
    { key: 'ref_refresh', on: 'ref', label: 'reference: refresh-token grant, one client per connection', setup: (client) => referenceSignIn(client), iteration: (client, state) => refresh(client, state) },
    { key: 'signin', on: 'this', label: 'this: sign-in (register, authorize, consent, upstream IdP, token)', iteration: async (client) => void (await signIn(client.baseUrl, FETCHERS)) },
    { key: 'ref_signin', on: 'ref', label: 'reference: sign-in (register, authorize auto-approved, token)', iteration: (client) => referenceSignIn(client) },
    // A fresh object name per run and connection, so every round starts from an empty table, as a new session does.
    { key: 'platform_hop', on: 'platform', label: 'platform: a Durable Object per connection, one row read per request', setup: async (_c, i) => `hop-${i}-${randomBytes(4).toString('hex')}`, iteration: (client, object) => probe(client, '/hop', object) },
    { key: 'platform_write', on: 'platform', label: 'platform: the same, one 1 KB row committed per request', setup: async (_c, i) => `write-${i}-${randomBytes(4).toString('hex')}`, iteration: (client, object) => probe(client, '/write', object) },
    { key: 'platform_keyed', on: 'platform', label: 'platform: one object shared by every connection first (as an API key object), then the write', setup: async (_c, i) => `keyed-${i}-${randomBytes(4).toString('hex')}`, iteration: (client, object) => probe(client, '/keyed', object) },
    // The least a session's creation needs: a new object with its table and a committed row, a read, and a committed end.
    { key: 'platform_open', on: 'platform', label: 'platform: a new Durable Object per iteration (create its table, commit, read, commit)', setup: async (_c, i) => `open-${i}-${randomBytes(4).toString('hex')}`, iteration: async (client, prefix, n) => {
      const object = `${prefix}-${n}`;
      await probe(client, '/write', object);
      await probe(client, '/hop', object);
      await probe(client, '/write', object);
    } },
  ];
}

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One measured round of one scenario on its server: rate, latency, and the server process's CPU per answered iteration. */
async function measure(server, scenario, { connections, warmupMs, durationMs, signal }) {
  const mcpHeaders = scenario.auth === 'key' ? server.keyAuth : scenario.auth === 'token' ? server.auth : undefined;
  const load = await openLoad({ baseUrl: server.url, connections, mcpHeaders, signal, setup: scenario.setup ? (client, index) => scenario.setup(Object.assign(client, { baseUrl: server.url, auth: server.auth }), index) : undefined });
  try {
    const wrap = (client, state, n) => scenario.iteration(Object.assign(client, { baseUrl: server.url, auth: server.auth }), state, n);
    await load.phase(warmupMs, wrap);
    const cpu0 = cpuSeconds(server.pids);
    const phase = await load.phase(durationMs, wrap);
    const cpu = cpuSeconds(server.pids) - cpu0;
    const r = phaseResult([phase]);
    return { perSecond: r.perSecond, ok: r.ok, errors: r.errors, errorSamples: r.errorSamples, p50: r.latencyMs.p50, p99: r.latencyMs.p99, cpuMs: r.ok > 0 ? Math.round((cpu / r.ok) * 1e6) / 1e3 : null };
  } finally {
    await load.close(scenario.teardown);
  }
}

/**
 * Starts both servers, measures every scenario `rounds` times (scenario order rotated per round), and returns the
 * report with medians and the ratios of the issue's table.
 */
export async function runReference({ root, connections, warmupMs, durationMs, rounds, signal, say, cleanups }) {
  const tooling = await loadTooling(root);
  const own = await buildWorker(root);
  cleanups.push({ name: 'build folder', fn: own.remove, sync: own.remove });
  const refRoot = path.join(root, 'bench/reference');
  const ref = await buildWorker(root, 'worker.js', refRoot);
  cleanups.push({ name: 'reference build folder', fn: ref.remove, sync: ref.remove });
  const probeRoot = path.join(root, 'bench/platform');
  const probeBuild = await buildWorker(root, 'worker.js', probeRoot);
  cleanups.push({ name: 'platform probe build folder', fn: probeBuild.remove, sync: probeBuild.remove });
  say('bundled this Worker, the reference Worker and the platform probe (wrangler deploy --dry-run)');

  const port = await freePort();
  const upstream = await startUpstream(port);
  cleanups.push({ name: 'OpenID provider', fn: upstream.stop });
  const adminSecret = randomBytes(32).toString('base64url');
  const mine = await newWorkerdPid(() => startWorkerd({ root, scriptPath: own.scriptPath, port, tooling, vars: { ...upstream.vars, ...VARS, ADMIN_SECRET: adminSecret }, onLog: quiet }));
  cleanups.push({ name: 'this server (workerd)', fn: mine.result.dispose });
  const theirs = await newWorkerdPid(async () => startWorkerd({ root: refRoot, scriptPath: ref.scriptPath, port: await freePort(), tooling, vars: {}, onLog: quiet }));
  cleanups.push({ name: 'reference (workerd)', fn: theirs.result.dispose });
  const platform = await newWorkerdPid(async () => startWorkerd({ root: probeRoot, scriptPath: probeBuild.scriptPath, port: await freePort(), tooling, vars: {}, onLog: quiet }));
  cleanups.push({ name: 'platform probe (workerd)', fn: platform.result.dispose });
  const servers = {
    this: { url: mine.result.url, pids: mine.pids, auth: (await bearerHeader(mine.result.url)).headers, keyAuth: await createBenchKey(mine.result.url, adminSecret) },
    ref: { url: theirs.result.url, pids: theirs.pids },
    platform: { url: platform.result.url, pids: platform.pids },
  };
  const signedIn = await referenceSignIn(Object.assign(createClient(servers.ref.url, 1), {}));
  servers.ref.auth = { authorization: `Bearer ${signedIn.accessToken}` };
  say(`this server on ${servers.this.url} (workerd pids ${servers.this.pids.join(',')}), reference on ${servers.ref.url} (pids ${servers.ref.pids.join(',')}), platform probe on ${servers.platform.url} (pids ${servers.platform.pids.join(',')}); both MCP servers signed in`);

  const list = scenarios(signal);
  const results = Object.fromEntries(list.map((s) => [s.key, []]));
  for (let round = 0; round < rounds; round++) {
    const order = list.map((_, i) => list[(i + round * 5) % list.length]);
    for (const scenario of order) {
      if (signal.aborted) throw new Error('interrupted');
      try {
        const r = await measure(servers[scenario.on], scenario, { connections, warmupMs, durationMs, signal });
        results[scenario.key].push(r);
        say(`round ${round + 1}/${rounds} · ${scenario.label}: ${r.perSecond}/s, CPU ${r.cpuMs} ms, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.errors} errors${r.errorSamples[0] ? ` (${r.errorSamples[0]})` : ''}`);
      } catch (error) {
        results[scenario.key].push({ failed: String(error?.message ?? error) });
        say(`round ${round + 1}/${rounds} · ${scenario.label}: FAILED — ${String(error?.message ?? error).slice(0, 300)}`);
      }
    }
  }
  const med = {};
  for (const s of list) {
    const ok = results[s.key].filter((r) => !r.failed);
    med[s.key] = { label: s.label, rounds: ok.length, failed: results[s.key].length - ok.length, perSecond: median(ok.map((r) => r.perSecond)), cpuMs: median(ok.map((r) => r.cpuMs)), p50: median(ok.map((r) => r.p50)), p99: median(ok.map((r) => r.p99)), errors: ok.reduce((a, r) => a + r.errors, 0) };
  }
  return { settings: { connections, warmupSeconds: warmupMs / 1000, durationSeconds: durationMs / 1000, rounds, runtime: 'workerd through Miniflare (every server)' }, rounds: results, medians: med, ratios: ratios(med) };
}

/** The issue's ratios from the medians. */
function ratios(m) {
  const r = (a, b) => (a !== null && b !== null && a !== undefined && b !== undefined && b !== 0 ? Math.round((a / b) * 100) / 100 : null);
  return {
    oauthVsAgent: r(m.oauth_cheap.perSecond, m.ref_agent_cheap.perSecond),
    oauthVsStateless: r(m.oauth_cheap.perSecond, m.ref_stateless_cheap.perSecond),
    oauthCpuVsFloor: r(m.oauth_cheap.cpuMs, m.floor.cpuMs),
    oauthP99VsFloor: r(m.oauth_cheap.p99, m.floor.p99),
    keyVsOauth: r(m.key_cheap.perSecond, m.oauth_cheap.perSecond),
    keyVsAgent: r(m.key_cheap.perSecond, m.ref_agent_cheap.perSecond),
    initVsAgent: r(m.init.perSecond, m.ref_agent_init.perSecond),
    refreshVsReference: r(m.refresh.perSecond, m.ref_refresh.perSecond),
    signinVsReference: r(m.signin.perSecond, m.ref_signin.perSecond),
    // The platform's own ceiling for a call that commits one row before answering, against the targets' yardsticks.
    ceiling: {
      writeVsAgent: r(m.platform_write.perSecond, m.ref_agent_cheap.perSecond),
      writeVsStateless: r(m.platform_write.perSecond, m.ref_stateless_cheap.perSecond),
      writeCpuVsFloor: r(m.platform_write.cpuMs, m.floor.cpuMs),
      writeP99VsFloor: r(m.platform_write.p99, m.floor.p99),
      hopVsStateless: r(m.platform_hop.perSecond, m.ref_stateless_cheap.perSecond),
      hopCpuVsFloor: r(m.platform_hop.cpuMs, m.floor.cpuMs),
      oauthVsWrite: r(m.oauth_cheap.perSecond, m.platform_write.perSecond),
      keyedVsWrite: r(m.platform_keyed.perSecond, m.platform_write.perSecond),
      openVsAgent: r(m.platform_open.perSecond, m.ref_agent_init.perSecond),
      initVsOpen: r(m.init.perSecond, m.platform_open.perSecond),
    },
    // CPU per request, the reference's ÷ this server's (above 1: this server spends less): on a shared machine the
    // server's own CPU time is steadier than its throughput, which the other processes' load moves.
    cpu: {
      oauthVsAgent: r(m.ref_agent_cheap.cpuMs, m.oauth_cheap.cpuMs),
      oauthVsStateless: r(m.ref_stateless_cheap.cpuMs, m.oauth_cheap.cpuMs),
      keyVsAgent: r(m.ref_agent_cheap.cpuMs, m.key_cheap.cpuMs),
      initVsAgent: r(m.ref_agent_init.cpuMs, m.init.cpuMs),
      refreshVsReference: r(m.ref_refresh.cpuMs, m.refresh.cpuMs),
      signinVsReference: r(m.ref_signin.cpuMs, m.signin.cpuMs),
    },
  };
}

const r2 = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : null);

/** The issue's table as Markdown, from a runReference report. */
export function referenceTable(report) {
  const m = report.medians;
  const x = report.ratios;
  const cell = (s) => (s && s.perSecond !== null ? `${Math.round(s.perSecond).toLocaleString('en')}/s, ${s.cpuMs?.toFixed(2)} ms CPU, p99 ${s.p99?.toFixed(1)} ms` : '—');
  const times = (v) => (v === null ? '—' : `${v.toFixed(2)}×`);
  /** Throughput ratio, then the CPU-per-request ratio (reference ÷ this). */
  const both = (thr, cpu) => `${times(thr)} thr, ${times(cpu)} CPU`;
  return [
    '| measurement | floor | reference (McpAgent) | reference (stateless) | this server | this ÷ McpAgent | this ÷ stateless |',
    '|---|---|---|---|---|---|---|',
    `| \`tools/call\`, OAuth token, cheap tool | ${cell(m.floor)} | ${cell(m.ref_agent_cheap)} | ${cell(m.ref_stateless_cheap)} | ${cell(m.oauth_cheap)} | ${both(x.oauthVsAgent, x.cpu.oauthVsAgent)} | ${both(x.oauthVsStateless, x.cpu.oauthVsStateless)} |`,
    `| \`tools/call\` with an API key | | | | ${cell(m.key_cheap)} | ${both(x.keyVsAgent, x.cpu.keyVsAgent)} | |`,
    `| \`tools/call\` \`get_customer\`, embedded DB | | | | ${cell(m.get_customer)} | | |`,
    `| new session (initialize + initialized + DELETE) | | ${cell(m.ref_agent_init)} | ${cell(m.ref_stateless_init)} (initialize only, no session) | ${cell(m.init)} | ${both(x.initVsAgent, x.cpu.initVsAgent)} | |`,
    `| refresh-token grant, ${report.settings.connections} clients at once | | ${cell(m.ref_refresh)} | (same provider) | ${cell(m.refresh)} | ${both(x.refreshVsReference, x.cpu.refreshVsReference)} | |`,
    `| sign-in, a new client each time | | ${cell(m.ref_signin)} (auto-approved, no IdP) | | ${cell(m.signin)} (upstream IdP in Node) | ${both(x.signinVsReference, x.cpu.signinVsReference)} | |`,
    '',
    `OAuth tools/call CPU ÷ floor: ${times(x.oauthCpuVsFloor)}; p99 ÷ floor: ${times(x.oauthP99VsFloor)}; API key ÷ OAuth: ${times(x.keyVsOauth)} thr, ${times(x.keyVsOauth === null ? null : r2(m.oauth_cheap.cpuMs, m.key_cheap.cpuMs))} CPU (OAuth CPU ÷ key CPU).`,
    '"thr": throughput ratio (this ÷ reference); "CPU": server CPU per request, reference ÷ this (above 1: this server spends less).',
    '',
    `Platform probe (bench/platform: no MCP, no authentication, no security layer): a Durable Object per connection, one row read per request: ${cell(m.platform_hop)} (${times(x.ceiling.hopVsStateless)} the stateless reference, CPU ${times(x.ceiling.hopCpuVsFloor)} the floor); the same with one 1 KB row committed before each answer: ${cell(m.platform_write)} (${times(x.ceiling.writeVsAgent)} McpAgent, ${times(x.ceiling.writeVsStateless)} the stateless reference, CPU ${times(x.ceiling.writeCpuVsFloor)} the floor, p99 ${times(x.ceiling.writeP99VsFloor)} the floor's). This server's audited OAuth call reaches ${times(x.ceiling.oauthVsWrite)} of that bare committed round trip. One object shared by every connection asked first (as a key's), then the same write: ${cell(m.platform_keyed)} (${times(x.ceiling.keyedVsWrite)} the write alone: the most an API-key call can keep of an OAuth call's rate here). A new object per iteration (its table created and a row committed, a read, a committed end: the least a session's creation needs): ${cell(m.platform_open)} (${times(x.ceiling.openVsAgent)} McpAgent's new session); this server's new session reaches ${times(x.ceiling.initVsOpen)} of it.`,
  ].join('\n');
}
