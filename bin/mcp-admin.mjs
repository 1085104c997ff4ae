#!/usr/bin/env node
// `npm run admin`: the command-line tool over the admin API (/admin/*): API keys, OAuth clients, grants and the audit trail.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Exit codes scripts can rely on (documented in --help). */
const EXIT = { ok: 0, server: 1, usage: 2, auth: 3, notFound: 4 };
const TIMEOUT_MS = 15_000;
const DEFAULT_URL = 'http://localhost:8787';
/** The same strings as SCOPES in src/auth/scopes.ts (test/e2e/cli.test.ts checks they match the server's). */
const SCOPES = ['support:read', 'sql:read'];
const DAY = 86_400;
const UNIT_SECONDS = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hr: 3600, hour: 3600, d: DAY, day: DAY };
const ID = /^[A-Za-z0-9_-]{43}$/;
/** The same strings as AUDIT_TYPES in src/audit/event.ts (test/e2e/cli-audit.test.ts checks they match). */
const AUDIT_TYPES = ['tool.call', 'auth.sign_in', 'auth.consent', 'auth.code_issued', 'auth.token_issued', 'auth.refresh', 'auth.refresh_reuse', 'auth.code_replay', 'auth.revoke', 'auth.token_rejected', 'client.registered', 'key.created', 'key.rotated', 'key.revoked', 'key.rate_limited', 'admin.action'];
const OUTCOMES = ['success', 'failure', 'denied'];
const FORMATS = ['raw', 'ocsf', 'ecs'];
/** An audit event id: 26 Crockford base32 characters, the first 10 its time in milliseconds. */
const EVENT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Events per request when following the cursor. */
const PAGE = 1000;
/** How far `audit tail` looks back behind the newest event it has seen, for events delivered late. */
const GRACE_SECONDS = 30;

/** A failure with its exit code; the message goes to stderr. */
class CliError extends Error {
  /** @param {number} exit @param {string} message */
  constructor(exit, message) {
    super(message);
    this.exit = exit;
  }
}

/** The command whose --help a usage error points to (set as the command line is understood). */
let helpTopic = '';
const usage = (message) => new CliError(EXIT.usage, `${message}\nSee: mcp-admin ${helpTopic ? `${helpTopic} ` : ''}--help`);

const EXIT_HELP = `Exit codes:
  0  success
  1  server or network error (the message says which), or a change the server refused (409)
  2  usage error: unknown command or option, missing or invalid value (also a value the server rejects, 400)
  3  authentication failure: the admin secret is missing or was refused (401)
  4  not found (404): no such key, grant or endpoint`;

const AUDIT_FILTERS = `  --user ID             a person's user id (an agent's events carry its owner here)
  --agent ID            an agent's id (as \`keys show\` prints it, e.g. nightly-report)
  --tool NAME           a tool, e.g. sql_select
  --type TYPE           one of: ${AUDIT_TYPES.slice(0, 5).join(', ')},
                        ${AUDIT_TYPES.slice(5, 10).join(', ')},
                        ${AUDIT_TYPES.slice(10).join(', ')}
  --outcome OUTCOME     success, failure or denied`;

const GLOBAL_HELP = `Global options:
  --url URL           the server (env MCP_ADMIN_URL; default ${DEFAULT_URL})
  --admin-secret S    the admin credential (env MCP_ADMIN_SECRET; otherwise ADMIN_SECRET from
                      ./.dev.vars, which npm start writes). Prefer the environment: arguments show in ps.
  --json              print the API's JSON instead of text (audit: its NDJSON lines)
  --help, -h          help (also after any command)
  --version           the tool's version`;

const COMMANDS = {
  'keys create': {
    options: { agent: 'string', 'agent-id': 'string', owner: 'string', scopes: 'string', expires: 'string', rate: 'string', 'tool-rate': 'multiple' },
    args: [],
    summary: 'create an API key for an agent (the key is shown once)',
    help: `Usage: mcp-admin keys create --agent NAME --owner USER --scopes SCOPES [options]

  --agent NAME          the agent's name, as people know it ("Nightly report")
  --agent-id ID         a stable agent id (letters, digits, . _ -); default: from the name
  --owner USER          the person accountable for the key (user id or email)
  --scopes LIST         comma separated, from: ${SCOPES.join(', ')}
  --expires DURATION    lifetime: 90m, 12h, 30d or 3600s (60s to 366d; default 90d)
  --rate RATE           the key's limit: 60/min, 10/s, 1000/h, 5000/day or N/SECONDS (default 60/min)
  --tool-rate TOOL=RATE a tool's own limit, e.g. sql_select=5/min (repeatable)

Prints the key once: the server keeps only its hash, so it cannot be shown again.`,
  },
  'keys list': { options: {}, args: [], summary: 'list API keys', help: 'Usage: mcp-admin keys list [--json]\n\nKey ids are shortened; any unique prefix (as shown) works as ID in the other commands.' },
  'keys show': { options: {}, args: ['ID'], summary: "one key's details and its secrets' lifetimes", help: 'Usage: mcp-admin keys show ID [--json]\n\nID is the key id or a unique prefix of it (as `keys list` shows it).' },
  'keys rotate': {
    options: { overlap: 'string' },
    args: ['ID'],
    summary: 'issue a successor key; the old one works for an overlap',
    help: 'Usage: mcp-admin keys rotate ID [--overlap DURATION] [--json]\n\n  --overlap DURATION  how long the old key keeps working: 0s to 7d (default 1h)\n\nPrints the new key once, and when the old one stops working (then it gets 401).',
  },
  'keys revoke': { options: {}, args: ['ID'], summary: 'revoke a key: its next request gets 401', help: 'Usage: mcp-admin keys revoke ID [--json]' },
  'clients list': { options: {}, args: [], summary: 'list registered OAuth clients', help: 'Usage: mcp-admin clients list [--json]' },
  'grants revoke': { options: {}, args: ['GRANT_ID'], summary: "end a user's grant and every token of it", help: "Usage: mcp-admin grants revoke GRANT_ID [--json]\n\nGRANT_ID is the grant's id (the `gid` claim of its access tokens)." },
  'audit search': {
    options: { user: 'string', agent: 'string', tool: 'string', type: 'string', outcome: 'string', since: 'string', until: 'string', after: 'string', limit: 'string', 'page-size': 'string', format: 'string' },
    args: [],
    summary: 'search the audit trail (oldest first)',
    help: `Usage: mcp-admin audit search [filters] [--since TIME] [--until TIME] [--limit N] [--json | --format F]

${AUDIT_FILTERS}
  --since TIME          events at or after TIME: 2026-11-25T10:00:00Z, 2026-11-25T11:00:00+01:00,
                        2026-11-25 (midnight UTC), or a duration ago: 90s, 30m, 1h, 2d
  --until TIME          events before TIME (same forms)
  --after EVENT_ID      events after this event id (the cursor a previous search ended at)
  --limit N             at most N events (1 to 100000; default 100), read page by page
  --page-size N         events per request (1 to 10000; default ${PAGE})
  --format F            print NDJSON lines exactly as the server sends them: raw, ocsf or ecs
  --json                the same as --format raw

Prints a table, oldest first: TIME (UTC, without milliseconds), TYPE, OUTCOME, WHO (an agent's
name, or a person's user id shortened), TOOL and DETAIL (error code, reason, and the call's
parameters cut to 60 characters). When more events match than --limit, stderr says so and
names the id to continue from with --after.`,
  },
  'audit tail': {
    options: { user: 'string', agent: 'string', tool: 'string', type: 'string', outcome: 'string', lines: 'string', interval: 'string', 'max-events': 'string', timeout: 'string', format: 'string' },
    args: [],
    summary: 'follow the audit trail live',
    help: `Usage: mcp-admin audit tail [filters] [--interval 2s] [--lines N] [--max-events N] [--timeout T] [--json | --format F]

${AUDIT_FILTERS}
  --lines N             first print the last N events of the past 30 days (0 to 1000; default 10)
  --interval DURATION   how often to ask for new events: 1s to 1h (default 2s)
  --max-events N        stop after N new events (the first --lines events do not count)
  --timeout DURATION    stop after this long (1s to 7d), whether or not events came
  --format F            print NDJSON lines exactly as the server sends them: raw, ocsf or ecs
  --json                the same as --format raw

Prints events as they reach the audit store (about a second after they happen), until Ctrl-C.
Ctrl-C, --max-events and --timeout all end it with exit code 0. Each poll looks ${GRACE_SECONDS} s back
from the newest event seen, so an event delivered late (events from different parts of the
server arrive in their own batches) is still printed, once; one delivered later than that
(after a store outage) is not: find it with \`audit search\`.`,
  },
};
const GLOBAL_OPTIONS = { url: 'string', 'admin-secret': 'string', json: 'boolean', help: 'boolean', version: 'boolean' };
const GROUPS = ['keys', 'clients', 'grants', 'audit'];

/** An own property only (so `--constructor` or `5toString` is not mistaken for a known name). */
const own = (object, key) => (Object.hasOwn(object, key) ? object[key] : undefined);

/** The help of every command, or of one group's commands. */
function listHelp(group) {
  const lines = Object.entries(COMMANDS)
    .filter(([name]) => group === undefined || name.startsWith(`${group} `))
    .map(([name, c]) => `  ${`${name} ${c.args.join(' ')}`.padEnd(24)}${c.summary}`);
  const intro = group === undefined ? "mcp-admin: manage the MCP server's API keys, clients and grants, and read its audit trail, through its admin API.\n\nUsage: mcp-admin COMMAND [options]     (npm run admin -- COMMAND [options])" : `Usage: mcp-admin ${group} COMMAND [options]`;
  return `${intro}\n\nCommands:\n${lines.join('\n')}\n\n${GLOBAL_HELP}\n\n${EXIT_HELP}`;
}

/** Points usage errors at the most specific help known so far. */
function setHelpTopic([group, action]) {
  if (GROUPS.includes(group)) helpTopic = own(COMMANDS, `${group} ${action}`) ? `${group} ${action}` : group;
}

/** Splits argv into positionals and options (`--name value`, `--name=value`), checked against every known option. */
function parseArgv(argv) {
  const known = { ...GLOBAL_OPTIONS, ...Object.assign({}, ...Object.values(COMMANDS).map((c) => c.options)) };
  const positionals = [];
  const options = {};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '-h') {
      options.help = true;
      continue;
    }
    if (!token.startsWith('--')) {
      if (token.startsWith('-') && token.length > 1) throw usage(`unknown option '${token}'`);
      positionals.push(token);
      setHelpTopic(positionals);
      continue;
    }
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const kind = own(known, name);
    if (!kind) throw usage(`unknown option '--${name}'`);
    if (kind === 'boolean') {
      if (eq !== -1) throw usage(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value = eq === -1 ? argv[i + 1] : token.slice(eq + 1);
    if (eq === -1) {
      if (value === undefined || (value.startsWith('--') && value.length > 2)) throw usage(`--${name} needs a value`);
      i++;
    }
    value = value.trim();
    if (value === '') throw usage(`--${name} needs a value`);
    if (kind === 'multiple') (options[name] ??= []).push(value);
    else if (name in options) throw usage(`--${name} is given twice`);
    else options[name] = value;
  }
  return { positionals, options };
}

/** Seconds from `90m`, `12h`, `30d`, `3600s`, checked against [min, max]. */
function parseDuration(value, option, min, max) {
  const match = /^(\d{1,9})\s*([a-z]+)$/.exec(value.toLowerCase());
  const unit = match ? own(UNIT_SECONDS, match[2]) : undefined;
  if (!match || !unit) throw usage(`--${option}: '${value}' is not a duration; use a number and a unit: 90m, 12h, 30d or 3600s`);
  const seconds = Number(match[1]) * unit;
  if (seconds < min || seconds > max) throw usage(`--${option}: '${value}' is out of range (${formatSeconds(min)} to ${formatSeconds(max)})`);
  return seconds;
}

/** `{ requests, per_seconds }` from `60/min`, `10/s`, `1000/h`, `5/10s` or `100/3600`. */
function parseRate(value, option) {
  const match = /^(\d{1,9})\/(\d{1,9})?([a-z]+)?$/.exec(value.toLowerCase());
  const unit = match?.[3] === undefined ? 1 : own(UNIT_SECONDS, match[3]);
  if (!match || !unit || (match[2] === undefined && match[3] === undefined)) {
    throw usage(`--${option}: '${value}' is not a rate; use REQUESTS/PERIOD: 60/min, 10/s, 1000/h or N/SECONDS`);
  }
  const requests = Number(match[1]);
  const perSeconds = Number(match[2] ?? 1) * unit;
  if (requests < 1 || requests > 1_000_000) throw usage(`--${option}: '${value}': requests must be 1 to 1000000`);
  if (perSeconds < 1 || perSeconds > DAY) throw usage(`--${option}: '${value}': the period must be 1s to 1d`);
  return { requests, per_seconds: perSeconds };
}

function parseScopes(value) {
  const scopes = [...new Set(value.split(/[,\s]+/).filter((s) => s !== ''))];
  if (scopes.length === 0) throw usage('--scopes needs at least one scope');
  const unknown = scopes.filter((s) => !SCOPES.includes(s));
  if (unknown.length > 0) throw usage(`--scopes: unknown scope ${unknown.map((s) => `'${s}'`).join(', ')}; known scopes: ${SCOPES.join(', ')}`);
  return scopes;
}

function createBody(o) {
  for (const name of ['agent', 'owner', 'scopes']) if (o[name] === undefined) throw usage(`missing --${name}`);
  if (o.agent.length > 100) throw usage('--agent: at most 100 characters');
  if (o.owner.length > 200) throw usage('--owner: at most 200 characters');
  if (o['agent-id'] !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(o['agent-id'])) throw usage(`--agent-id: '${o['agent-id']}' must be letters, digits, . _ - (up to 100, starting with a letter or digit)`);
  const toolLimits = new Map();
  for (const item of o['tool-rate'] ?? []) {
    const [tool, rate] = [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)];
    if (!item.includes('=') || !/^[a-z0-9_]{1,64}$/.test(tool)) throw usage(`--tool-rate: '${item}' is not TOOL=RATE (e.g. sql_select=5/min)`);
    if (toolLimits.has(tool)) throw usage(`--tool-rate: ${tool} is given twice`);
    toolLimits.set(tool, parseRate(rate, 'tool-rate'));
  }
  return {
    agent_name: o.agent,
    ...(o['agent-id'] !== undefined ? { agent_id: o['agent-id'] } : {}),
    owner: o.owner,
    scopes: parseScopes(o.scopes),
    ...(o.expires !== undefined ? { expires_in: parseDuration(o.expires, 'expires', 60, 366 * DAY) } : {}),
    ...(o.rate !== undefined ? { rate_limit: parseRate(o.rate, 'rate') } : {}),
    ...(toolLimits.size > 0 ? { tool_limits: Object.fromEntries(toolLimits) } : {}),
  };
}

/** The admin secret and where it came from (never printed). */
function adminSecret(options) {
  if (options['admin-secret']) return { secret: options['admin-secret'], source: '--admin-secret' };
  if (process.env.MCP_ADMIN_SECRET) return { secret: process.env.MCP_ADMIN_SECRET, source: 'MCP_ADMIN_SECRET' };
  const file = path.resolve('.dev.vars');
  if (existsSync(file)) {
    const match = /^\s*ADMIN_SECRET\s*=\s*(.*?)\s*$/m.exec(readFileSync(file, 'utf8'));
    const value = match?.[1]?.replace(/^(['"])(.*)\1$/, '$2');
    if (value) return { secret: value, source: 'ADMIN_SECRET in ./.dev.vars' };
  }
  throw new CliError(EXIT.auth, 'the admin secret is missing: set MCP_ADMIN_SECRET (or pass --admin-secret, or run in the folder whose .dev.vars has ADMIN_SECRET)');
}

function baseUrl(options) {
  const raw = options.url ?? process.env.MCP_ADMIN_URL ?? DEFAULT_URL;
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw usage(`--url: '${raw}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--url: '${raw}' must be http:// or https://`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends one admin API request; returns the response and its body, or throws a CliError (network errors, 400, 401, 404, 409, other non-2xx). */
async function send(ctx, method, route, body, { accept = 'application/json', signal } = {}) {
  const url = `${ctx.base}/admin/${route}`;
  const headers = { authorization: `Bearer ${ctx.secret}`, accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  let response;
  let text;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: signal ? AbortSignal.any([timeout, signal]) : timeout, redirect: 'manual' });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw error;
    if (timeout.aborted || error?.name === 'TimeoutError') throw new CliError(EXIT.server, `network error: no answer from ${ctx.base} within ${TIMEOUT_MS / 1000} s`);
    const code = error?.cause?.code;
    if (code === 'ECONNREFUSED') throw new CliError(EXIT.server, `network error: could not connect to ${ctx.base} (connection refused): is the server running? (npm start)`);
    if (code === 'ENOTFOUND') throw new CliError(EXIT.server, `network error: the host of ${ctx.base} was not found`);
    throw new CliError(EXIT.server, `network error: could not reach ${ctx.base} (${code ?? error?.cause?.message ?? error?.message ?? 'unknown'})`);
  }
  const json = response.ok ? undefined : parseJson(text);
  const description = json && typeof json === 'object' ? [json.error, json.error_description].filter(Boolean).join(': ') : '';
  if (response.status === 401) throw new CliError(EXIT.auth, `authentication failed: the server refused the admin secret from ${ctx.source} (401${description ? `, ${description}` : ''})`);
  if (response.status === 404) throw new CliError(EXIT.notFound, `not found: ${json?.error_description ?? `${method} ${url} answered 404`}`);
  if (response.status === 400) throw usage(`the server rejected the request: ${json?.error_description ?? 'invalid request'}`);
  if (response.status === 409) throw new CliError(EXIT.server, `the server refused: ${json?.error_description ?? 'conflict'} (409)`);
  if (response.status < 200 || response.status > 299) throw new CliError(EXIT.server, `server error: ${method} /admin/${route.split('?')[0]} answered ${response.status}${description ? ` (${description})` : ''}`);
  return { response, text };
}

/** Calls the admin API; returns its JSON or throws a CliError with the right exit code. */
async function api(ctx, method, route, body) {
  const { response, text } = await send(ctx, method, route, body);
  const json = parseJson(text);
  if (json === undefined || typeof json !== 'object') throw new CliError(EXIT.server, `server error: ${method} /admin/${route} answered ${response.status} without JSON (is ${ctx.base} this MCP server?)`);
  return json;
}

/** The prefix in a shortened key id (`abcdefghijkl…`), or a usage error. */
function keyIdPrefix(value) {
  const prefix = value.replace(/(…|\.\.\.)$/, '');
  if (!/^[A-Za-z0-9_-]{4,43}$/.test(prefix)) throw usage(`'${value}' is not a key id (43 characters, or a unique prefix of at least 4)`);
  return prefix;
}

/** A full key id from a key id or a unique prefix (the list shows `abcdefghijkl…`). */
async function resolveKeyId(ctx, value) {
  if (ID.test(value)) return value;
  const prefix = keyIdPrefix(value);
  const { keys } = await api(ctx, 'GET', 'keys');
  const matches = keys.filter((k) => k.key_id.startsWith(prefix));
  if (matches.length === 0) throw new CliError(EXIT.notFound, `not found: no key id starts with '${prefix}'`);
  if (matches.length > 1) throw usage(`'${prefix}' matches ${matches.length} keys; give more of the key id`);
  return matches[0].key_id;
}

function formatSeconds(s) {
  const unit = [['d', DAY], ['h', 3600], ['m', 60]].find(([, size]) => s > 0 && s % size === 0);
  return unit ? `${s / unit[1]}${unit[0]}` : `${s}s`;
}

const when = (iso) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : 'never');
const PERIODS = { 1: 's', 60: 'min', 3600: 'h', [DAY]: 'day' };
const rate = (r) => `${r.requests}/${own(PERIODS, r.per_seconds) ?? formatSeconds(r.per_seconds)}`;
const shortId = (id) => `${id.slice(0, 12)}…`;
const status = (k) => (k.status === 'active' && k.expires_at && Date.parse(k.expires_at) <= Date.now() ? 'expired' : k.status);
const out = (text) => process.stdout.write(`${text}\n`);

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function keyDetails(k) {
  const tools = Object.entries(k.tool_limits ?? {}).map(([t, r]) => `${t} ${rate(r)}`);
  const lines = [
    ['key id', k.key_id],
    ['agent', `${k.agent_name} (${k.agent_id})`],
    ['owner', k.owner],
    ['scopes', k.scopes.join(', ')],
    ['status', status(k)],
    ['created', when(k.created_at)],
    ['expires', when(k.expires_at)],
    ['last used', when(k.last_used_at)],
    ...(k.revoked_at ? [['revoked', when(k.revoked_at)]] : []),
    ['rate', rate(k.rate_limit)],
    ['tool rates', tools.length > 0 ? tools.join(', ') : 'none'],
    ...(k.secrets ?? []).map((s, i) => [i === 0 ? 'secrets' : '', `created ${when(s.created_at)}, ${s.retires_at ? `retires ${when(s.retires_at)}` : 'current'}`]),
  ];
  return lines.map(([name, value]) => `  ${name.padEnd(11)} ${value}`).join('\n');
}

function printKeyOnce(key) {
  out(`\n  ${key}\n\nCopy this key now: it is shown only once and cannot be shown again (the server keeps only its hash).`);
}

/** A whole number from an option, checked against [min, max]. */
function parseCount(value, option, min, max) {
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) throw usage(`--${option}: '${value}' must be a whole number from ${min} to ${max}`);
  return Number(value);
}

/** Milliseconds since the epoch from an ISO time with Z or an offset, a date (midnight UTC), or a duration ago (`30m`). */
function parseTime(value, option, now) {
  if (/^\d+\s*[a-z]+$/i.test(value)) return now - parseDuration(value, option, 0, 36_500 * DAY) * 1000;
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/i.exec(value);
  if (!m) throw usage(`--${option}: '${value}' is not a time; use an ISO time (2026-11-25T10:00:00Z), a date (2026-11-25, midnight UTC) or a duration ago (30m, 1h, 2d)`);
  const [, y, mo, d, h = '00', mi = '00', sec = '00', , zone] = m;
  if (m[4] !== undefined && zone === undefined) throw usage(`--${option}: '${value}' has no time zone; add Z (UTC) or an offset such as +01:00`);
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const valid = day.getUTCFullYear() === Number(y) && day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d) && Number(h) < 24 && Number(mi) < 60 && Number(sec) < 60;
  const offset = !zone || zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${(m[7] ?? '').slice(0, 4)}${offset}`);
  if (!valid || !Number.isFinite(ms) || Math.abs(Number(zone?.slice(1, 3) ?? 0)) > 14) throw usage(`--${option}: '${value}' is not a valid date and time`);
  return ms;
}

/** The server's filters from the filter options, checked as the server checks them. */
function auditFilters(o) {
  const query = {};
  for (const [name, max] of [['user', 200], ['agent', 200]]) {
    if (o[name] === undefined) continue;
    if (o[name].length > max || /[\u0000-\u001f\u007f]/.test(o[name])) throw usage(`--${name}: at most ${max} characters, without control characters`);
    query[name] = o[name];
  }
  if (o.tool !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(o.tool)) throw usage(`--tool: '${o.tool}' is not a tool name (letters, digits, _ . -, up to 100)`);
    query.tool = o.tool;
  }
  if (o.type !== undefined) {
    if (!AUDIT_TYPES.includes(o.type)) throw usage(`--type: unknown event type '${o.type}'; one of: ${AUDIT_TYPES.join(', ')}`);
    query.type = o.type;
  }
  if (o.outcome !== undefined) {
    if (!OUTCOMES.includes(o.outcome)) throw usage(`--outcome: '${o.outcome}' is not success, failure or denied`);
    query.outcome = o.outcome;
  }
  if (o.format !== undefined && !FORMATS.includes(o.format)) throw usage(`--format: '${o.format}' is not raw, ocsf or ecs`);
  return query;
}

/** What `audit search` asks for: filters, time range, cursor, limit and output. */
function searchPlan(o, now) {
  const query = auditFilters(o);
  const since = o.since === undefined ? undefined : parseTime(o.since, 'since', now);
  const until = o.until === undefined ? undefined : parseTime(o.until, 'until', now);
  if (since !== undefined && until !== undefined && since >= until) throw usage(`--since (${new Date(since).toISOString()}) must be before --until (${new Date(until).toISOString()})`);
  if (since !== undefined) query.since = new Date(since).toISOString();
  if (until !== undefined) query.until = new Date(until).toISOString();
  if (o.after !== undefined && !EVENT_ID.test(o.after)) throw usage(`--after: '${o.after}' is not an event id (26 characters: digits and capital letters)`);
  const limit = o.limit === undefined ? 100 : parseCount(o.limit, 'limit', 1, 100_000);
  const pageSize = o['page-size'] === undefined ? PAGE : parseCount(o['page-size'], 'page-size', 1, 10_000);
  return { query, after: o.after, limit, pageSize, format: o.format ?? 'raw', ndjson: o.json === true || o.format !== undefined };
}

/** What `audit tail` asks for, and when it stops. */
function tailPlan(o) {
  return {
    query: auditFilters(o),
    lines: o.lines === undefined ? 10 : parseCount(o.lines, 'lines', 0, 1000),
    intervalMs: (o.interval === undefined ? 2 : parseDuration(o.interval, 'interval', 1, 3600)) * 1000,
    maxEvents: o['max-events'] === undefined ? Infinity : parseCount(o['max-events'], 'max-events', 1, 1_000_000_000),
    timeoutMs: o.timeout === undefined ? undefined : parseDuration(o.timeout, 'timeout', 1, 7 * DAY) * 1000,
    format: o.format ?? 'raw',
    ndjson: o.json === true || o.format !== undefined,
  };
}

/** The time in an event id, in milliseconds. */
const idTime = (id) => [...id.slice(0, 10)].reduce((t, c) => t * 32 + CROCKFORD.indexOf(c), 0);
/** The smallest event id of a millisecond: `after` it means "from that time on". */
function idAt(ms) {
  let t = Math.max(0, Math.floor(ms));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${time}${'0'.repeat(16)}`;
}

/** One page of GET /admin/audit/events: its NDJSON lines as sent, and the X-Next-Cursor. */
async function auditPage(ctx, query, signal) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
  const { response, text } = await send(ctx, 'GET', `audit/events?${params}`, undefined, { accept: 'application/x-ndjson', signal });
  if (!(response.headers.get('content-type') ?? '').startsWith('application/x-ndjson')) throw new CliError(EXIT.server, `server error: GET /admin/audit/events did not answer NDJSON (is ${ctx.base} this MCP server?)`);
  const lines = text.split('\n').filter((line) => line !== '');
  const cursor = response.headers.get('x-next-cursor');
  if (lines.length > 0 && !EVENT_ID.test(cursor ?? '')) throw new CliError(EXIT.server, 'server error: GET /admin/audit/events sent events without an X-Next-Cursor header');
  return { lines, cursor };
}

/** The event id in a line of any format (raw `id`, OCSF `metadata.uid`, ECS `event.id`). */
function lineId(line, format) {
  const v = parseJson(line);
  const id = format === 'ocsf' ? v?.metadata?.uid : format === 'ecs' ? v?.event?.id : v?.id;
  if (typeof id !== 'string' || !EVENT_ID.test(id)) throw new CliError(EXIT.server, 'server error: the audit export sent a line without an event id');
  return id;
}

/** A raw event line, parsed enough to print. */
function parseEvent(line) {
  const e = parseJson(line);
  if (!e || typeof e !== 'object' || typeof e.time !== 'string' || typeof e.type !== 'string' || typeof e.outcome !== 'string' || typeof e.actor !== 'object' || e.actor === null) {
    throw new CliError(EXIT.server, 'server error: the audit export sent a line that is not an audit event');
  }
  return e;
}

/** Text from an event, safe for a terminal (no control or direction characters) and on one line. */
const clean = (text) => String(text).replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\s+/g, ' ').trim();
const cut = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function who(actor) {
  if (actor.agent_name) return cut(clean(actor.agent_name), 24);
  const id = actor.user_id ?? actor.owner;
  if (id) return clean(id).length > 14 ? `${clean(id).slice(0, 12)}…` : clean(id);
  if (actor.client_id) return `client ${cut(clean(actor.client_id), 13)}`;
  return '-';
}

function detail(e) {
  const why = cut(clean([e.error_code, e.reason].filter((v) => typeof v === 'string' && v !== '').join(': ')), 60);
  const params = e.params && typeof e.params === 'object' ? cut(clean(Object.entries(e.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')), 60) : '';
  const rows = typeof e.result?.rows === 'number' && !e.error_code ? `${e.result.rows} rows` : '';
  return [why, params, rows].filter((part) => part !== '').join('; ') || '-';
}

const AUDIT_HEADER = ['TIME (UTC)', 'TYPE', 'OUTCOME', 'WHO', 'TOOL', 'DETAIL'];
/** Column widths of `audit tail`, which prints rows as they come. */
const TAIL_WIDTHS = [20, 19, 7, 24, 16];
const eventRow = (e) => [`${e.time.slice(0, 19)}Z`, clean(e.type), clean(e.outcome), who(e.actor), e.tool ? cut(clean(e.tool), 32) : '-', detail(e)];
const tailLine = (cells) => cells.map((c, i) => (i < TAIL_WIDTHS.length ? c.padEnd(TAIL_WIDTHS[i]) : c)).join('  ').trimEnd();

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Reads pages from a cursor to the end; `onLine` returning true stops. */
async function readAll(ctx, plan, after, signal, onLine) {
  let cursor = after;
  for (;;) {
    const { lines, cursor: next } = await auditPage(ctx, { ...plan.query, after: cursor, format: plan.format, limit: PAGE }, signal);
    for (const line of lines) if (onLine(line)) return;
    if (lines.length < PAGE) return;
    cursor = next;
  }
}

/**
 * `audit tail`: the last events, then new ones as they are delivered. Deliveries from different
 * Durable Objects interleave, so an event can arrive after a newer one: each poll reads again from
 * GRACE_SECONDS before the newest event seen and prints only the ids it has not printed.
 */
async function follow(ctx, plan, signal, interval) {
  const grace = GRACE_SECONDS * 1000;
  const print = plan.ndjson ? out : (line) => out(tailLine(eventRow(parseEvent(line))));
  const seen = new Map();
  let newest;
  let floor = 0;
  const lower = () => (newest === undefined ? floor : Math.max(floor, newest - grace));
  const prune = () => {
    const bound = lower();
    for (const [id, time] of seen) if (time < bound) seen.delete(id);
  };
  const note = (line) => {
    const id = lineId(line, plan.format);
    const time = idTime(id);
    const fresh = !seen.has(id);
    seen.set(id, time);
    newest = Math.max(newest ?? time, time);
    if (seen.size > 100_000) prune();
    return fresh;
  };

  // Everything delivered before now is the backlog: the last --lines of it are printed, none of it counts as new.
  const start = Date.now();
  let kept = [];
  for (const seconds of plan.lines === 0 ? [GRACE_SECONDS] : [300, 3600, DAY, 7 * DAY, 30 * DAY]) {
    floor = start - seconds * 1000;
    seen.clear();
    newest = undefined;
    kept = [];
    await readAll(ctx, plan, idAt(floor), signal, (line) => {
      note(line);
      if (plan.lines > 0) kept.push(line);
      if (kept.length > plan.lines) kept.shift();
      return false;
    });
    if (kept.length >= plan.lines) break;
  }
  if (!plan.ndjson) out(tailLine(AUDIT_HEADER));
  kept.forEach(print);
  prune();
  process.stderr.write(`Following new audit events every ${interval} (Ctrl-C to stop).\n`);

  let printed = 0;
  let failing = false;
  while (printed < plan.maxEvents) {
    await sleep(plan.intervalMs, signal);
    if (signal.aborted) return;
    try {
      await readAll(ctx, plan, idAt(lower()), signal, (line) => {
        if (!note(line)) return false;
        print(line);
        printed++;
        return printed >= plan.maxEvents;
      });
      if (failing) process.stderr.write('mcp-admin: audit tail: the server answers again.\n');
      failing = false;
    } catch (error) {
      if (signal.aborted) return;
      // The server or the network failing for a while does not end a tail; a refused secret does.
      if (!(error instanceof CliError) || error.exit !== EXIT.server) throw error;
      if (!failing) process.stderr.write(`mcp-admin: audit tail: ${error.message}; trying again every ${interval}.\n`);
      failing = true;
    }
    prune();
  }
}

const RUN = {
  async 'keys create'(ctx, o) {
    const created = await api(ctx, 'POST', 'keys', createBody(o));
    if (o.json) return out(JSON.stringify(created, null, 2));
    out(`Created an API key for agent "${created.agent_name}" (${created.agent_id}), owner ${created.owner}:`);
    printKeyOnce(created.key);
    out(`\n${keyDetails(created)}\n\nUse it as: Authorization: Bearer <key>`);
  },
  async 'keys list'(ctx, o) {
    const { keys } = await api(ctx, 'GET', 'keys');
    if (o.json) return out(JSON.stringify({ keys }, null, 2));
    if (keys.length === 0) return out('No API keys. Create one: mcp-admin keys create --help');
    out(table(['KEY ID', 'AGENT', 'OWNER', 'SCOPES', 'STATUS', 'EXPIRES', 'LAST USED'], keys.map((k) => [shortId(k.key_id), k.agent_name, k.owner, k.scopes.join(','), status(k), when(k.expires_at), when(k.last_used_at)])));
  },
  async 'keys show'(ctx, o, [id]) {
    const shown = await api(ctx, 'GET', `keys/${await resolveKeyId(ctx, id)}`);
    out(o.json ? JSON.stringify(shown, null, 2) : keyDetails(shown));
  },
  async 'keys rotate'(ctx, o, [id]) {
    const overlap = o.overlap === undefined ? undefined : parseDuration(o.overlap, 'overlap', 0, 7 * DAY);
    const keyId = await resolveKeyId(ctx, id);
    const rotated = await api(ctx, 'POST', `keys/${keyId}/rotate`, overlap === undefined ? {} : { overlap_seconds: overlap });
    if (o.json) return out(JSON.stringify(rotated, null, 2));
    out(`Rotated key ${shortId(keyId)}; its new key:`);
    printKeyOnce(rotated.key);
    out(overlap === 0 ? '\nThe old key stopped working now (no overlap).' : `\nThe old key keeps working until ${when(rotated.previous_retires_at)}, then gets 401.`);
  },
  async 'keys revoke'(ctx, o, [id]) {
    const revoked = await api(ctx, 'POST', `keys/${await resolveKeyId(ctx, id)}/revoke`, {});
    if (o.json) return out(JSON.stringify(revoked, null, 2));
    out(`Revoked key ${revoked.key_id} (agent "${revoked.agent_name}", owner ${revoked.owner}): its next request gets 401.`);
  },
  async 'clients list'(ctx, o) {
    const { clients } = await api(ctx, 'GET', 'clients');
    if (o.json) return out(JSON.stringify({ clients }, null, 2));
    if (clients.length === 0) return out('No registered clients.');
    out(table(['CLIENT ID', 'NAME', 'SOURCE', 'AUTH', 'GRANT TYPES', 'CREATED'], clients.map((c) => [c.client_id, c.client_name ?? '-', c.source, c.token_endpoint_auth_method, c.grant_types.join(','), when(new Date(c.created_at).toISOString())])));
  },
  async 'grants revoke'(ctx, o, [gid]) {
    const revoked = await api(ctx, 'POST', `grants/${gid}/revoke`, {});
    out(o.json ? JSON.stringify(revoked, null, 2) : `Revoked grant ${revoked.grant_id}: its tokens are refused from their next request.`);
  },
  async 'audit search'(ctx, o) {
    const plan = searchPlan(o, Date.now());
    const rows = [];
    let after = plan.after;
    let count = 0;
    let more = false;
    for (;;) {
      // One more than is left, to know whether more events match than --limit.
      const left = plan.limit - count;
      const size = Math.min(plan.pageSize, left + 1);
      const { lines, cursor } = await auditPage(ctx, { ...plan.query, after, format: plan.format, limit: size });
      const take = lines.slice(0, left);
      for (const line of take) {
        if (plan.ndjson) out(line);
        else rows.push(eventRow(parseEvent(line)));
      }
      count += take.length;
      if (lines.length > take.length) {
        more = true;
        if (take.length > 0) after = lineId(take[take.length - 1], plan.format);
        break;
      }
      after = cursor ?? after;
      if (lines.length < size) break;
    }
    if (!plan.ndjson) out(rows.length === 0 ? 'No audit events match.' : table(AUDIT_HEADER, rows));
    if (more) process.stderr.write(`mcp-admin: more events match than --limit ${plan.limit}: continue with --after ${after}, or narrow the search (--since, --until, filters).\n`);
  },
  async 'audit tail'(ctx, o) {
    const plan = tailPlan(o);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on('SIGINT', onSignal);
    const timer = plan.timeoutMs === undefined ? undefined : setTimeout(onSignal, plan.timeoutMs);
    try {
      await follow(ctx, plan, stop.signal, o.interval ?? '2s');
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
    }
  },
};

async function main(argv) {
  const { positionals, options } = parseArgv(argv);
  if (options.version) {
    const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8'));
    return out(`mcp-admin ${pkg.version}`);
  }
  const [group, action, ...args] = positionals;
  if (group === undefined) {
    if (options.help) return out(listHelp());
    throw usage('missing command (keys, clients, grants or audit)');
  }
  if (!GROUPS.includes(group)) throw usage(`unknown command '${group}' (keys, clients, grants or audit)`);
  const actions = Object.keys(COMMANDS).filter((c) => c.startsWith(`${group} `)).map((c) => c.split(' ')[1]);
  if (action === undefined) {
    if (options.help) return out(listHelp(group));
    throw usage(`missing ${group} command (${actions.join(', ')})`);
  }
  const name = `${group} ${action}`;
  const command = own(COMMANDS, name);
  if (!command) throw usage(`unknown command '${name}' (${group} commands: ${actions.join(', ')})`);
  if (options.help) return out(`${command.help}\n\n${GLOBAL_HELP}\n\n${EXIT_HELP}`);
  for (const option of Object.keys(options)) if (!own(GLOBAL_OPTIONS, option) && !own(command.options, option)) throw usage(`${name} has no option --${option}`);
  if (args.length < command.args.length) throw usage(`missing ${command.args[args.length]}`);
  if (args.length > command.args.length) throw usage(`unexpected argument '${args[command.args.length]}' (quote a value that has spaces)`);
  const base = baseUrl(options);
  // Usage errors are found before any request, so the checks below run only on well-formed commands.
  if (name === 'keys create') createBody(options);
  if (command.args[0] === 'ID') keyIdPrefix(args[0]);
  if (name === 'grants revoke' && !ID.test(args[0])) throw usage(`'${args[0]}' is not a grant id (43 characters: letters, digits, - and _)`);
  if (name === 'keys rotate' && options.overlap !== undefined) parseDuration(options.overlap, 'overlap', 0, 7 * DAY);
  if (name === 'audit search') searchPlan(options, Date.now());
  if (name === 'audit tail') tailPlan(options);
  const ctx = { base, ...adminSecret(options) };
  await RUN[name](ctx, options, args);
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error) => process.exit(error.code === 'EPIPE' ? (process.exitCode ?? 0) : EXIT.server));
try {
  await main(process.argv.slice(2));
  process.exitCode = EXIT.ok;
} catch (error) {
  const known = error instanceof CliError;
  process.stderr.write(`mcp-admin: ${known ? '' : 'unexpected error: '}${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = known ? error.exit : EXIT.server;
}
