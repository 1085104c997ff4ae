#!/usr/bin/env node
// `npm run soak`: N concurrent MCP sessions (people signed in through the local OpenID provider, agents with API keys) for D minutes against wrangler dev + MariaDB, with refreshes, SSE streams, key rotations, a revocation wave and a server restart in the middle; checks every audit event against the load generator's own ledger. Talks only to 127.0.0.1; every loop ends by itself.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { soakMarkdown, workerdRss } from './lib/soak-report.mjs';
import { seedAuditDb, seedDemo, startMariaDb } from '../test/support/mariadb.mjs';
import { startServer } from '../test/support/server.mjs';
import { signIn, tokenRequest } from '../test/support/oauth-flow.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '500' },
    minutes: { type: 'string', default: '10' },
    seconds: { type: 'string' },
    people: { type: 'string', default: '0.5' },
    'think-ms': { type: 'string', default: '4000' },
    'revoke-share': { type: 'string', default: '0.1' },
    'no-restart': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`npm run soak -- [--sessions 500] [--minutes 10 | --seconds S] [--people 0.5] [--think-ms 4000] [--revoke-share 0.1] [--no-restart]
  Sessions are people (OAuth through the local OpenID provider) and agents (API keys), --people the share of people.
  Each session calls tools, opens SSE GET streams, refreshes (people) or rotates its key (some agents), about every --think-ms.
  At 50% of the time the server restarts; at 65% a revocation wave revokes --revoke-share of the grants and keys.
  Writes bench/results/soak-<time>.md and .json.
`);
  process.exit(0);
}

const SESSIONS = Number(flags.sessions);
const DURATION_MS = flags.seconds ? Number(flags.seconds) * 1000 : Number(flags.minutes) * 60_000;
const PEOPLE = Math.round(SESSIONS * Number(flags.people));
const THINK_MS = Number(flags['think-ms']);
const REVOKE_SHARE = Number(flags['revoke-share']);
const RESTART = !flags['no-restart'];
const RUN = randomBytes(4).toString('hex');
const MCP = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const TOOLS = [
  ['list_tables', {}],
  ['find_customers', { query: 'a' }],
  ['list_open_tickets', {}],
  ['get_customer', { customer_id: 7 }],
];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line) => process.stdout.write(`[soak] ${line}\n`);
const jitter = (ms) => Math.round(ms * (0.5 + Math.random()));

// ---------------------------------------------------------------- counters and ledger

const counts = { requests: 0, ok: 0, toolCalls: 0, toolErrors: 0, expected429: 0, expectedRevoked: 0, restartWindow: 0, errors: 0, streams: 0, refreshes: 0, rotations: 0, revoked: 0, resumed: 0, notResumed: 0 };
const errorSamples = [];
/** request tag (sent as cf-ray, stored as the event's request_id) → what the generator saw. */
const ledger = new Map();
const memory = [];
let serverDown = false;
let restartedAt = 0;

/** Errors by kind (the message without the actor's name and the request's details). */
const errorKinds = new Map();

function error(what) {
  counts.errors += 1;
  const kind = what.replace(/^(person|agent)-\d+: /, '').replace(/\d{2,}/g, 'N').slice(0, 120);
  errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  if (errorSamples.length < 40) errorSamples.push(`${new Date().toISOString()} ${what}`.slice(0, 400));
}

/** A request outcome during the restart (refused or cut connection) is expected, not an error. */
function duringRestart() {
  return serverDown || Date.now() - restartedAt < 3000;
}

// ---------------------------------------------------------------- one actor

/** Sends one MCP request with a fresh tag; classifies the outcome. Returns the parsed reply, or null. */
async function send(server, actor, body, { tool } = {}) {
  const tag = `soak-${RUN}-${randomBytes(8).toString('hex')}`;
  const headers = { ...MCP, authorization: `Bearer ${actor.credential}`, 'cf-ray': tag };
  if (actor.sessionId) Object.assign(headers, { 'mcp-session-id': actor.sessionId, 'mcp-protocol-version': '2025-11-25' });
  if (tool) ledger.set(tag, { session: actor.sessionId, tool, answered: false });
  counts.requests += 1;
  let response;
  let text;
  try {
    response = await fetch(`${server.url}/mcp`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    text = await response.text();
  } catch (e) {
    if (duringRestart()) counts.restartWindow += 1;
    else error(`${actor.name}: ${body.method}: ${e.cause?.code ?? e.name}`);
    return { status: null };
  }
  if (response.status === 429) {
    counts.expected429 += 1;
    return { status: 429 };
  }
  if (actor.revoked && [401, 403, 404].includes(response.status)) {
    counts.expectedRevoked += 1;
    actor.stopped = true;
    return { status: response.status };
  }
  if (response.status >= 400) {
    if (response.status >= 500 && duringRestart()) counts.restartWindow += 1;
    else error(`${actor.name}: ${body.method}: HTTP ${response.status} ${text.slice(0, 160)}`);
    return { status: response.status };
  }
  let messages;
  try {
    messages = (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
      ? text.split('\n').filter((l) => l.startsWith('data:') && l.slice(5).trim() !== '').map((l) => JSON.parse(l.slice(5)))
      : text ? [JSON.parse(text)] : [];
  } catch {
    error(`${actor.name}: ${body.method}: unreadable answer ${response.status} ${text.slice(0, 120)}`);
    return { status: response.status };
  }
  const reply = messages.find((m) => m.id === body.id);
  if (body.id !== undefined && !reply) {
    error(`${actor.name}: ${body.method}: no reply (${response.status})`);
    return { status: response.status };
  }
  if (reply?.error) {
    error(`${actor.name}: ${body.method}: JSON-RPC ${reply.error.code} ${reply.error.message}`.slice(0, 200));
    return { status: response.status, reply };
  }
  counts.ok += 1;
  if (tool) {
    ledger.get(tag).answered = true;
    counts.toolCalls += 1;
    if (reply.result?.isError) {
      counts.toolErrors += 1;
      error(`${actor.name}: ${tool}: tool error ${JSON.stringify(reply.result.content?.[0]?.text ?? '').slice(0, 120)}`);
    }
  }
  return { status: response.status, reply, sessionId: response.headers.get('mcp-session-id') };
}

async function openSession(server, actor) {
  actor.sessionId = null;
  const init = await send(server, actor, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'soak', version: '1' } } });
  if (!init.sessionId) return false;
  actor.sessionId = init.sessionId;
  await send(server, actor, { jsonrpc: '2.0', method: 'notifications/initialized' });
  return true;
}

/** Holds the standalone GET stream open for a few seconds, then lets it go. */
async function stream(server, actor) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), jitter(3000));
  counts.requests += 1;
  try {
    const response = await fetch(`${server.url}/mcp`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${actor.credential}`, 'mcp-session-id': actor.sessionId, 'mcp-protocol-version': '2025-11-25' }, signal: controller.signal });
    if (response.status === 429) counts.expected429 += 1;
    else if (actor.revoked && [401, 403, 404].includes(response.status)) counts.expectedRevoked += 1;
    else if (response.status !== 200) error(`${actor.name}: GET stream: HTTP ${response.status} ${(await response.text()).slice(0, 120)}`);
    else {
      counts.streams += 1;
      const reader = response.body.getReader();
      for (;;) if ((await reader.read()).done) break;
    }
  } catch (e) {
    if (e.name !== 'AbortError' && !duringRestart()) error(`${actor.name}: GET stream: ${e.cause?.code ?? e.name}`);
  } finally {
    clearTimeout(timer);
  }
}

async function refresh(server, actor) {
  try {
    const r = await tokenRequest(server.url, { server: fetch, idp: fetch }, { grant_type: 'refresh_token', refresh_token: actor.refreshToken, client_id: actor.clientId });
    if (r.status === 200) {
      actor.credential = String(r.body.access_token);
      actor.refreshToken = String(r.body.refresh_token);
      counts.refreshes += 1;
    } else if (!(actor.revoked && r.status === 400)) error(`${actor.name}: refresh: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
  } catch (e) {
    if (!duringRestart()) error(`${actor.name}: refresh: ${e.cause?.code ?? e.message}`);
  }
}

async function rotate(server, actor) {
  try {
    const response = await fetch(`${server.url}/admin/keys/${actor.keyId}/rotate`, { method: 'POST', headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' }, body: JSON.stringify({ overlap_seconds: 60 }) });
    const body = await response.json();
    if (response.status === 200) {
      actor.credential = body.key;
      counts.rotations += 1;
    } else if (!(actor.revoked && response.status === 409)) error(`${actor.name}: rotate: HTTP ${response.status}`);
  } catch (e) {
    if (!duringRestart()) error(`${actor.name}: rotate: ${e.cause?.code ?? e.message}`);
  }
}

/** One session's life until the end of the run (or its revocation). */
async function live(server, actor, endAt) {
  await sleep(Math.random() * THINK_MS);
  while (!actor.sessionId && Date.now() < endAt) {
    if (await openSession(server, actor)) break;
    await sleep(jitter(THINK_MS));
  }
  let id = 1;
  let nextRefresh = Date.now() + jitter(60_000);
  let epoch = 0;
  while (Date.now() < endAt) {
    await sleep(jitter(THINK_MS));
    if (Date.now() >= endAt) break;
    if (actor.stopped) break;
    if (serverDown) continue;
    // The first request after a restart tells whether the session survived it.
    const resuming = restartedAt > 0 && epoch === 0;
    if (actor.kind === 'person' && Date.now() > nextRefresh) {
      await refresh(server, actor);
      nextRefresh = Date.now() + jitter(60_000);
      continue;
    }
    if (actor.kind === 'agent' && actor.rotateAt && Date.now() > actor.rotateAt) {
      actor.rotateAt = 0;
      await rotate(server, actor);
      continue;
    }
    if (!resuming && Math.random() < 0.08) {
      await stream(server, actor);
      continue;
    }
    const [tool, args] = TOOLS[Math.floor(Math.random() * TOOLS.length)];
    const result = await send(server, actor, { jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: tool, arguments: args } }, { tool });
    if (resuming && result.status !== null) {
      epoch = 1;
      if (result.reply?.result) counts.resumed += 1;
      else if (!actor.revoked) counts.notResumed += 1;
    }
    if (result.status === 404 && !actor.revoked) await openSession(server, actor);
  }
}

// ---------------------------------------------------------------- audit check

async function exportedToolCalls(server) {
  const seen = new Map();
  let after = '';
  for (let page = 0; page < 1000; page++) {
    const response = await fetch(`${server.url}/admin/audit/events?type=tool.call&limit=10000${after ? `&after=${after}` : ''}`, { headers: { authorization: `Bearer ${server.adminSecret}` } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`audit export: HTTP ${response.status} ${text.slice(0, 200)}`);
    const lines = text.split('\n').filter(Boolean);
    for (const line of lines) {
      const event = JSON.parse(line);
      if (typeof event.request_id === 'string' && event.request_id.startsWith(`soak-${RUN}-`)) seen.set(event.request_id, (seen.get(event.request_id) ?? 0) + 1);
    }
    after = response.headers.get('x-next-cursor') ?? '';
    if (lines.length < 10000 || !after) break;
  }
  return seen;
}

function auditCheck(seen) {
  let answered = 0;
  let answeredMissing = 0;
  let duplicated = 0;
  let unanswered = 0;
  let unansweredRecorded = 0;
  for (const [tag, entry] of ledger) {
    const n = seen.get(tag) ?? 0;
    if (n > 1) duplicated += 1;
    if (entry.answered) {
      answered += 1;
      if (n === 0) answeredMissing += 1;
    } else {
      unanswered += 1;
      if (n === 1) unansweredRecorded += 1;
    }
  }
  const unknown = [...seen.keys()].filter((tag) => !ledger.has(tag)).length;
  return { answered, answeredMissing, duplicated, unanswered, unansweredRecorded, unknown, exactlyOnce: answeredMissing === 0 && duplicated === 0 && unknown === 0 };
}

async function pool(items, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'own-mcp-soak-'));
say(`${SESSIONS} sessions (${PEOPLE} people, ${SESSIONS - PEOPLE} agents) for ${DURATION_MS / 1000} s; restart ${RESTART ? 'at 50%' : 'off'}; revocation wave at 65% (${REVOKE_SHARE * 100}%)`);
const db = await startMariaDb({ baseDir: scratch });
let server;
let sampler;
let exitCode = 1;
try {
  const { readerUrl } = await seedDemo({ adminUrl: db.adminUrl, log: () => undefined });
  const { writerUrl } = await seedAuditDb({ adminUrl: db.adminUrl });
  server = await startServer({ mysqlUrl: readerUrl, auditUrl: writerUrl, vars: { REGISTRATIONS_PER_HOUR: '100000' } });
  say(`server on ${server.url}, MariaDB on ${db.port}`);
  const actors = [];
  const setupStarted = Date.now();
  await pool(Array.from({ length: PEOPLE }, (_, i) => i), 8, async (i) => {
    const user = await signIn(server.url, { server: fetch, idp: fetch }, { login: `soak-${i}` });
    actors.push({ kind: 'person', name: `person-${i}`, credential: user.accessToken, refreshToken: user.refreshToken, clientId: user.clientId, sessionId: null });
  });
  await pool(Array.from({ length: SESSIONS - PEOPLE }, (_, i) => i), 8, async (i) => {
    const response = await fetch(`${server.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: `soak-agent-${i}`, owner: 'soak@example.com', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 30, per_seconds: 60 } }) });
    const body = await response.json();
    if (response.status !== 201) throw new Error(`key not created: ${response.status} ${JSON.stringify(body)}`);
    actors.push({ kind: 'agent', name: `agent-${i}`, credential: body.key, keyId: body.key_id, sessionId: null, rotateAt: 0 });
  });
  say(`${PEOPLE} people signed in and ${SESSIONS - PEOPLE} keys created in ${((Date.now() - setupStarted) / 1000).toFixed(0)} s`);

  const started = Date.now();
  const endAt = started + DURATION_MS;
  // Every fifth agent rotates its key once, the rotations spread over the run.
  const agents = actors.filter((a) => a.kind === 'agent');
  agents.forEach((a, i) => {
    if (i % 5 === 0) a.rotateAt = started + DURATION_MS * (0.05 + (0.85 * i) / Math.max(1, agents.length));
  });
  sampler = setInterval(() => {
    if (server.child?.pid) memory.push({ t: Math.round((Date.now() - started) / 1000), rssMiB: workerdRss(server.child.pid), requests: counts.requests });
  }, 5000);
  const lives = actors.map((a) => live(server, a, endAt));

  const events = (async () => {
    if (RESTART) {
      await sleep(DURATION_MS * 0.5);
      say('restarting the server');
      serverDown = true;
      const t0 = Date.now();
      await server.restart();
      restartedAt = Date.now();
      serverDown = false;
      say(`server back after ${((restartedAt - t0) / 1000).toFixed(1)} s`);
    }
    await sleep(Math.max(0, started + DURATION_MS * 0.65 - Date.now()));
    const victims = actors.filter(() => Math.random() < REVOKE_SHARE);
    say(`revocation wave: ${victims.length} grants and keys`);
    await pool(victims, 8, async (a) => {
      a.revoked = true;
      const response = a.kind === 'person'
        ? await fetch(`${server.url}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: a.refreshToken, client_id: a.clientId, token_type_hint: 'refresh_token' }).toString() })
        : await fetch(`${server.url}/admin/keys/${a.keyId}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${server.adminSecret}` } });
      if (response.status === 200) counts.revoked += 1;
      else error(`${a.name}: revoke: HTTP ${response.status}`);
    });
  })();
  const progress = setInterval(() => say(`${Math.round((Date.now() - started) / 1000)} s: ${counts.requests} requests, ${counts.toolCalls} tool calls, ${counts.errors} errors, ${counts.expected429} × 429, RSS ${memory.at(-1)?.rssMiB ?? '?'} MiB`), 30_000);
  await Promise.all([...lives, events]);
  clearInterval(progress);
  clearInterval(sampler);
  const elapsed = Date.now() - started;

  // Audit: wait until every answered call is exported once (delivery is about a second behind), then watch a little longer for duplicates.
  say('checking the audit trail against the ledger');
  let audit = auditCheck(await exportedToolCalls(server));
  const deadline = Date.now() + 120_000;
  while (audit.answeredMissing > 0 && Date.now() < deadline) {
    await sleep(3000);
    audit = auditCheck(await exportedToolCalls(server));
  }
  await sleep(5000);
  audit = auditCheck(await exportedToolCalls(server));

  const rss = memory.map((m) => m.rssMiB).filter((v) => v > 0);
  const firstHalf = rss.slice(0, Math.max(1, Math.floor(rss.length / 2)));
  const report = {
    run: RUN,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    config: { sessions: SESSIONS, people: PEOPLE, agents: SESSIONS - PEOPLE, durationSeconds: Math.round(elapsed / 1000), thinkMs: THINK_MS, revokeShare: REVOKE_SHARE, restart: RESTART },
    counts,
    requestsPerSecond: Math.round((counts.requests / elapsed) * 1000),
    memory: { samples: memory, minMiB: Math.min(...rss), maxMiB: Math.max(...rss), lastMiB: rss.at(-1), maxFirstHalfMiB: Math.max(...firstHalf) },
    audit,
    errorKinds: Object.fromEntries([...errorKinds.entries()].sort((a, b) => b[1] - a[1])),
    errorSamples,
  };
  const pass = counts.errors === 0 && audit.exactlyOnce && counts.notResumed === 0;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  const jsonFile = path.join(ROOT, 'bench/results', `soak-${stamp}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  const md = soakMarkdown({ stamp, report, pass, memory, errorKinds, errorSamples });
  writeFileSync(jsonFile.replace(/\.json$/, '.md'), md);
  process.stdout.write(`\n${md}\n`);
  say(`report: ${path.relative(ROOT, jsonFile.replace(/\.json$/, '.md'))} and .json`);
  exitCode = pass ? 0 : 1;
} catch (e) {
  process.stderr.write(`soak failed: ${e instanceof Error ? e.stack : String(e)}\n`);
} finally {
  if (sampler) clearInterval(sampler);
  await server?.close().catch(() => undefined);
  await db.stop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
