// mcp-admin's audit commands: filters and plans from options, the export's pages and event ids, rows, and `audit search` and `audit tail`.
import { randomUUID } from 'node:crypto';
import { parseCount, parseDuration, parseTime } from './args.mjs';
import { DAY, out, table } from './format.mjs';
import { CliError, EXIT, parseJson, send, usage } from './http.mjs';

/** The same strings as AUDIT_TYPES in src/audit/event.ts (test/e2e/cli-audit.test.ts checks they match). */
export const AUDIT_TYPES = ['tool.call', 'tool.integrity_failed', 'tool.result_flagged', 'auth.sign_in', 'auth.consent', 'auth.code_issued', 'auth.token_issued', 'auth.refresh', 'auth.refresh_reuse', 'auth.code_replay', 'auth.revoke', 'auth.token_rejected', 'client.registered', 'key.created', 'key.rotated', 'key.revoked', 'key.rate_limited', 'admin.action', 'admin.read', 'auth.failed', 'client.registration_refused', 'session.opened', 'detection.fired', 'anomaly.detected', 'anomaly.enforced', 'client.disabled', 'client.enabled', 'session.ended'];
const OUTCOMES = ['success', 'failure', 'denied'];
const FORMATS = ['raw', 'ocsf', 'ecs'];
/** An audit event id: 26 Crockford base32 characters, the first 10 its time in milliseconds. */
const EVENT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Events per request when following the cursor. */
export const PAGE = 1000;
/** How far `audit tail` looks back behind the newest event it has seen, for events delivered late. */
export const GRACE_SECONDS = 30;

/** The server's filters from the filter options, checked as the server checks them. */
function auditFilters(o) {
  const query = {};
  for (const [name, max] of [['user', 200], ['agent', 200]]) {
    if (o[name] === undefined) continue;
    // eslint-disable-next-line no-control-regex -- refuses control characters in a filter value
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
export function searchPlan(o, now) {
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
export function tailPlan(o) {
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
// eslint-disable-next-line no-control-regex -- removes control characters before printing to a terminal
const clean = (text) => String(text).replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\s+/g, ' ').trim();
const cut = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function who(actor) {
  if (actor.agent_name) return cut(clean(actor.agent_name), 24);
  const id = actor.user_id ?? actor.owner;
  if (id) return clean(id).length > 14 ? `${clean(id).slice(0, 12)}…` : clean(id);
  if (actor.client_id) return `client ${cut(clean(actor.client_id), 13)}`;
  if (actor.admin) return `admin ${cut(clean(actor.admin), 18)}`;
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

/** One page in delivery order (`cursor=`): its lines and the X-Delivery-Cursor to pass next. */
async function deliveryPage(ctx, query, cursor, signal) {
  const params = new URLSearchParams(Object.entries({ ...query, cursor }).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
  const { response, text } = await send(ctx, 'GET', `audit/events?${params}`, undefined, { accept: 'application/x-ndjson', signal });
  if (!(response.headers.get('content-type') ?? '').startsWith('application/x-ndjson')) throw new CliError(EXIT.server, `server error: GET /admin/audit/events did not answer NDJSON (is ${ctx.base} this MCP server?)`);
  const next = response.headers.get('x-delivery-cursor');
  if (!/^[0-9]+$/.test(next ?? '')) throw new CliError(EXIT.server, 'server error: GET /admin/audit/events sent no X-Delivery-Cursor header (a server without delivery-order export)');
  return { lines: text.split('\n').filter((line) => line !== ''), cursor: Number(next) };
}

/** The user agent in a line of any format (raw `user_agent`, OCSF `http_request.user_agent`, ECS `user_agent.original`). */
function lineUserAgent(line, format) {
  const v = parseJson(line);
  return format === 'ocsf' ? v?.http_request?.user_agent : format === 'ecs' ? v?.user_agent?.original : v?.user_agent;
}

/**
 * `audit tail`: the last events, then new ones as they are delivered. It follows the delivery
 * cursor (`cursor=` and `X-Delivery-Cursor`): events come in the order the store received them,
 * so one delivered late with an older id (an outbox that waited for the store) is still printed,
 * once. Its own reads of the trail (recorded as `admin.read`) are not printed: they carry its
 * own user agent.
 */
async function follow(ctx, plan, signal, interval) {
  const self = { ...ctx, userAgent: `mcp-admin audit tail ${randomUUID()}` };
  const print = plan.ndjson ? out : (line) => out(tailLine(eventRow(parseEvent(line))));
  const mine = (line) => lineUserAgent(line, plan.format) === self.userAgent;
  // Ids printed in the backlog: the delivery cursor may serve them again (MySQL serves a row
  // once it has settled for 2 s); they are forgotten once the follow has passed them.
  const printed = new Set();

  // Where the follow starts: the delivery cursor at the end of what is stored now. Only the
  // recent past is scanned (delivery order, one unfiltered page at a time).
  const start = Date.now();
  let cursor = 0;
  for (;;) {
    const page = await deliveryPage(self, { since: new Date(start - 10 * 60 * 1000).toISOString(), format: 'raw', limit: PAGE }, cursor, signal);
    cursor = page.cursor;
    if (page.lines.length < PAGE) break;
  }

  // The backlog, as before: the last --lines events by time, none of them printed again.
  let kept = [];
  for (const seconds of plan.lines === 0 ? [GRACE_SECONDS] : [300, 3600, DAY, 7 * DAY, 30 * DAY]) {
    kept = [];
    await readAll(self, plan, idAt(start - seconds * 1000), signal, (line) => {
      printed.add(lineId(line, plan.format));
      if (plan.lines > 0 && !mine(line)) kept.push(line);
      if (kept.length > plan.lines) kept.shift();
      return false;
    });
    if (kept.length >= plan.lines) break;
  }
  if (!plan.ndjson) out(tailLine(AUDIT_HEADER));
  kept.forEach(print);
  process.stderr.write(`Following new audit events every ${interval} (Ctrl-C to stop).\n`);

  let count = 0;
  let failing = false;
  while (count < plan.maxEvents) {
    await sleep(plan.intervalMs, signal);
    if (signal.aborted) return;
    try {
      for (;;) {
        const page = await deliveryPage(self, { ...plan.query, format: plan.format, limit: PAGE }, cursor, signal);
        for (const line of page.lines) {
          const id = lineId(line, plan.format);
          if (printed.has(id) || mine(line)) continue;
          printed.add(id);
          print(line);
          count++;
          if (count >= plan.maxEvents) return;
        }
        cursor = page.cursor;
        if (page.lines.length < PAGE) break;
      }
      if (printed.size > 100_000) printed.clear();
      if (failing) process.stderr.write('mcp-admin: audit tail: the server answers again.\n');
      failing = false;
    } catch (error) {
      if (signal.aborted) return;
      // The server or the network failing for a while does not end a tail; a refused secret does.
      if (!(error instanceof CliError) || error.exit !== EXIT.server) throw error;
      if (!failing) process.stderr.write(`mcp-admin: audit tail: ${error.message}; trying again every ${interval}.\n`);
      failing = true;
    }
  }
}

/** How `audit search` and `audit tail` run, once their command line is checked. */
export const RUN_AUDIT = {
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
