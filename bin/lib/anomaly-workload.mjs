// Seeded synthetic workloads for the anomaly evaluation: normal principals over weeks, plus labelled attack episodes.
/* eslint-disable house-security/no-string-built-sql -- the SQL here is sample text for recorded sql_select arguments, never executed */
import { mulberry32 } from '../../src/lib/seeded.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Mulberry32: a small seeded generator, so every run of a seed produces the same trace. */
export function rng(seed) {
  const next = mulberry32(seed);
  const r = {
    next,
    between: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => Math.floor(lo + (hi - lo + 1) * next()),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    normal: (mu, sigma) => mu + sigma * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
    exp: (mean) => -mean * Math.log(1 - next()),
  };
  return r;
}

const NAMES = ['smith', 'garcia', 'müller', 'acme', 'globex', 'initech', 'umbrella', 'wayne', 'stark', 'tyrell', 'hooli', 'o\'brien', 'nakamura', 'dubois', 'rossi', 'kowalski', 'silva', 'jensen', 'gmail.com', 'example.org'];
const STATUS = ['pending', 'paid', 'shipped', 'refunded', 'cancelled'];
const PRIORITY = ['low', 'normal', 'high', 'urgent'];
const TABLES = { customers: ['id', 'name', 'email', 'company', 'country', 'tier', 'created_at'], orders: ['id', 'customer_id', 'status', 'total_cents', 'currency', 'created_at'], tickets: ['id', 'customer_id', 'order_id', 'subject', 'status', 'priority', 'created_at'] };
const EXTRA_TABLES = ['invoices', 'payments', 'refunds', 'employees', 'salaries', 'api_tokens', 'audit_log', 'users', 'sessions', 'passwords', 'credit_cards', 'addresses', 'products', 'inventory', 'shipments', 'coupons'];

function ip(r, net) {
  return `${net}.${r.int(2, 250)}`;
}
function net(r) {
  return `${r.int(11, 220)}.${r.int(0, 255)}.${r.int(0, 255)}`;
}
const UAS = ['mcp-remote/0.1.29 (Claude Desktop 1.4.2)', 'MCP Inspector/0.17.0', 'claude-code/2.1.3', 'node-fetch/3.3.2 agent-runner/1.8', 'python-httpx/0.28.1 mcp/1.21.0', 'curl/8.11.1', 'Cursor/2.3.1 mcp-client'];

function bytesFor(r, rows, per) {
  return Math.max(60, Math.round(rows * per * r.between(0.7, 1.3) + r.between(40, 160)));
}

/** Normal calls of one tool by a person or an agent, with realistic results. */
function normalCall(r, tool, p) {
  switch (tool) {
    case 'find_customers': {
      const rows = r.chance(0.1) ? 0 : r.int(1, r.chance(0.1) ? 20 : 6);
      const args = { query: r.pick(NAMES).slice(0, r.int(3, 8)) };
      if (r.chance(p.limitShare)) args.limit = r.pick([10, 20, 50]);
      return { args, rows, bytes: bytesFor(r, rows, 160) };
    }
    case 'get_customer': {
      const missing = r.chance(0.01);
      return { args: { customer_id: r.int(1, p.customers) }, rows: missing ? 0 : 1, bytes: bytesFor(r, 1, 260), status: missing ? 'error' : 'ok' };
    }
    case 'list_customer_orders': {
      const rows = r.int(0, 12);
      const args = { customer_id: r.int(1, p.customers) };
      if (r.chance(0.3)) args.status = r.pick(STATUS);
      return { args, rows, bytes: bytesFor(r, rows, 110) };
    }
    case 'list_open_tickets': {
      const args = {};
      if (r.chance(0.5)) args.priority = r.pick(PRIORITY);
      if (r.chance(0.2)) args.customer_id = r.int(1, p.customers);
      const rows = r.int(0, args.customer_id ? 3 : 20);
      return { args, rows, bytes: bytesFor(r, rows, 180) };
    }
    case 'support_report':
      return { args: {}, rows: r.int(12, 30), bytes: bytesFor(r, 20, 40) };
    case 'list_tables':
      return { args: {}, rows: 3, bytes: 120 };
    case 'describe_table': {
      const table = r.pick(p.tables);
      return { args: { table }, rows: TABLES[table]?.length ?? 6, bytes: 600 };
    }
    case 'sql_select':
      return analystQuery(r, p);
    default:
      return { args: {}, rows: 1, bytes: 200 };
  }
}

function analystQuery(r, p) {
  const table = r.pick(p.tables);
  const cols = TABLES[table] ?? ['id'];
  const chosen = cols.filter(() => r.chance(0.5)).slice(0, 4);
  const select = chosen.length ? chosen.join(', ') : 'COUNT(*) AS n';
  const forms = [
    () => `SELECT ${select} FROM ${table} WHERE id = ${r.int(1, p.customers)}`,
    () => `SELECT ${select} FROM ${table} WHERE created_at >= '2026-0${r.int(1, 9)}-01' ORDER BY created_at DESC LIMIT ${r.pick([10, 20, 50])}`,
    () => `SELECT status, COUNT(*) AS n FROM ${table === 'customers' ? 'orders' : table} GROUP BY status`,
    () => `SELECT c.name, SUM(o.total_cents) AS spend FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY spend DESC LIMIT ${r.pick([10, 25, 50])}`,
  ];
  const sql = r.pick(forms)();
  const failed = r.chance(p.errorShare);
  const rows = failed ? 0 : r.int(1, 50);
  return { args: { sql }, rows, bytes: bytesFor(r, rows, 90), status: failed ? 'error' : 'ok' };
}

/** Parameters of one seed's world: they vary by seed so the engine is not tuned to one shape of traffic. */
function world(r) {
  return {
    weeks: r.int(4, 6),
    people: r.int(3, 7),
    agents: r.int(1, 2),
    analysts: r.int(1, 2),
    machines: r.int(1, 2),
    customers: r.int(2_000, 50_000),
    start: Date.UTC(2026, r.int(0, 10), r.int(1, 20), 0, 0, 0),
  };
}

function makePrincipals(r, w) {
  const list = [];
  const office = net(r);
  for (let i = 0; i < w.people; i++) {
    const start = r.between(6, 10);
    list.push({
      id: `person-${i}`, kind: 'person', role: 'person', customers: w.customers,
      start, end: start + r.between(7.5, 10), callsPerDay: r.between(15, 80), sessionsPerDay: r.between(2, 7),
      lateShare: r.between(0, 0.06), weekendShare: r.between(0, 0.04),
      mix: { find_customers: r.between(1, 4), get_customer: r.between(1, 5), list_customer_orders: r.between(0.2, 2), list_open_tickets: r.between(0.2, 3) },
      limitShare: r.between(0, 0.4),
      ips: [ip(r, office), ip(r, net(r))], ua: r.pick(UAS.slice(0, 3)), travelShare: r.between(0, 0.03), upgradeShare: r.between(0, 0.02),
    });
  }
  for (let i = 0; i < w.agents; i++) {
    list.push({
      id: `report-agent-${i}`, kind: 'agent', role: 'nightly', customers: w.customers, hour: r.between(0, 5), extraQueries: r.int(1, 6),
      tables: ['orders', 'tickets', 'customers'].slice(0, r.int(2, 3)), errorShare: 0.01,
      ips: [ip(r, net(r))], ua: r.pick(UAS.slice(3)), limitShare: 0,
    });
  }
  for (let i = 0; i < w.analysts; i++) {
    const start = r.between(7, 10);
    list.push({
      id: `analyst-${i}`, kind: 'person', role: 'analyst', customers: w.customers, start, end: start + r.between(7, 9.5),
      callsPerDay: r.between(10, 50), sessionsPerDay: r.between(1, 4), lateShare: r.between(0, 0.05), weekendShare: r.between(0, 0.03),
      tables: ['customers', 'orders', 'tickets'], errorShare: r.between(0.01, 0.06), limitShare: 0,
      mix: { sql_select: 8, describe_table: r.between(0.1, 0.6), list_tables: r.between(0.05, 0.3), find_customers: r.between(0, 1) },
      ips: [ip(r, office), ip(r, net(r))], ua: r.pick(UAS.slice(1, 3)), travelShare: r.between(0, 0.03), upgradeShare: r.between(0, 0.02),
    });
  }
  for (let i = 0; i < w.machines; i++) {
    list.push({
      id: `poller-${i}`, kind: 'machine', role: 'poller', customers: w.customers, period: r.pick([60_000, 120_000, 300_000, 600_000]),
      tool: r.pick(['list_open_tickets', 'support_report']), priority: r.pick(PRIORITY), ips: [ip(r, net(r))], ua: r.pick(UAS.slice(3)), limitShare: 0,
    });
  }
  return list;
}

function weighted(r, mix) {
  const entries = Object.entries(mix);
  let total = 0;
  for (const [, w] of entries) total += w;
  let x = r.next() * total;
  for (const [k, w] of entries) {
    x -= w;
    if (x <= 0) return k;
  }
  return entries[entries.length - 1][0];
}

/** Normal traffic of one principal from `w.start` for `w.weeks` weeks. */
function normalTraffic(r, p, w, push) {
  const days = w.weeks * 7;
  let ua = p.ua;
  const origin = () => {
    if (p.kind === 'person' && r.chance(p.travelShare / 10)) return { ip: ip(r, net(r)), userAgent: ua };
    return { ip: p.kind === 'person' ? (r.chance(0.8) ? p.ips[0] : p.ips[1]) : p.ips[0], userAgent: ua };
  };
  if (p.role === 'poller') {
    for (let t = w.start + r.between(0, p.period); t < w.start + days * DAY; t += p.period * r.between(0.97, 1.03) + (r.chance(0.002) ? r.between(0, 30 * MIN) : 0)) {
      const args = p.tool === 'list_open_tickets' ? { priority: p.priority } : {};
      const rows = p.tool === 'list_open_tickets' ? r.int(0, 15) : r.int(12, 30);
      push(p, t, p.tool, { args, rows, bytes: bytesFor(r, rows, 150), status: r.chance(0.002) ? 'error' : 'ok' }, origin());
    }
    return;
  }
  for (let d = 0; d < days; d++) {
    const day0 = w.start + d * DAY;
    const weekday = new Date(day0).getUTCDay();
    if (p.role === 'nightly') {
      let t = day0 + p.hour * HOUR + r.normal(0, 4 * MIN);
      if (r.chance(0.03)) t += r.between(30, 100) * MIN; // a late run
      push(p, t, 'support_report', normalCall(r, 'support_report', p), origin());
      for (let q = 0; q < p.extraQueries; q++) {
        t += r.between(2, 40) * 1000;
        const tool = q === 0 ? 'list_open_tickets' : 'sql_select';
        const c = tool === 'sql_select' ? analystQuery(r, p) : { args: { priority: 'urgent' }, rows: r.int(0, 10), bytes: 900 };
        push(p, t, tool, c, origin());
      }
      continue;
    }
    const weekend = weekday === 0 || weekday === 6;
    if (weekend && !r.chance(p.weekendShare * 7)) continue;
    if (!weekend && r.chance(0.04)) continue; // holiday or sick
    if (r.chance(p.upgradeShare)) ua = ua.replace(/(\d+)(\)?)$/, (m, n, tail) => `${Number(n) + 1}${tail}`);
    const calls = Math.max(1, Math.round(p.callsPerDay * (weekend ? 0.3 : 1) * r.between(0.5, 1.5)));
    const sessions = Math.max(1, Math.round(p.sessionsPerDay * r.between(0.6, 1.4)));
    const late = r.chance(p.lateShare);
    for (let s = 0; s < sessions; s++) {
      const end = late && s === sessions - 1 ? p.end + r.between(0.5, 2.5) : p.end;
      let t = day0 + r.between(p.start, end - 0.3) * HOUR;
      const o = origin();
      const n = Math.max(1, Math.round((calls / sessions) * r.between(0.5, 1.5)));
      let prevId = null;
      for (let i = 0; i < n; i++) {
        const tool = weighted(r, p.mix);
        const c = normalCall(r, tool, { ...p, tables: p.tables ?? ['customers'] });
        if (tool === 'get_customer' && prevId && r.chance(0.05)) c.args.customer_id = prevId + 1; // the next customer, now and then
        if (c.args.customer_id) prevId = c.args.customer_id;
        push(p, t, tool, c, o);
        t += r.exp(p.role === 'analyst' ? 90_000 : 45_000) + 2_000;
      }
    }
  }
}

const ATTACKS = ['exfil_burst', 'slow_exfil', 'enum_ids', 'enum_tables', 'first_tool', 'off_hours', 'new_args', 'new_origin'];

/** One attack episode against principal `p` starting at `t0`, in the attacker's style drawn from `r`. */
function attack(r, type, p, t0, push, hard) {
  const stolen = { ip: p.ips[0], userAgent: p.ua };
  const foreign = { ip: ip(r, net(r)), userAgent: r.pick(['python-requests/2.32.3', 'Go-http-client/1.1', 'curl/8.5.0', 'mcp-client/0.4 (linux)', 'Mozilla/5.0 (X11; Linux x86_64)']) };
  const origin = r.chance(0.7) ? stolen : foreign;
  const label = type;
  let t = t0;
  const tools = p.role === 'poller' ? ['get_customer', 'find_customers'] : p.role === 'analyst' ? ['sql_select'] : p.role === 'nightly' ? ['sql_select', 'list_open_tickets'] : ['get_customer', 'find_customers', 'list_customer_orders'];
  const mine = (tool) => normalCall(r, tool, { ...p, tables: p.tables ?? ['customers'] });
  switch (type) {
    case 'exfil_burst': {
      const n = hard ? r.int(15, 40) : r.int(40, 300);
      for (let i = 0; i < n; i++) {
        const tool = r.pick(tools);
        const c = mine(tool);
        if (tool === 'find_customers') c.args.query = r.pick(NAMES).slice(0, 2);
        push(p, t, tool, c, origin, label);
        t += r.between(0.2, 4) * 1000;
      }
      break;
    }
    case 'slow_exfil': {
      const hours = hard ? r.between(3, 6) : r.between(4, 14);
      const gap = (hard ? r.between(5, 12) : r.between(1, 6)) * MIN;
      const big = r.chance(0.5);
      for (let e = t0; e < t0 + hours * HOUR; e += gap * r.between(0.5, 1.5)) {
        const tool = r.pick(tools);
        const c = mine(tool);
        if (big && tool === 'sql_select') {
          c.args.sql = `SELECT * FROM customers ORDER BY id LIMIT 50 OFFSET ${r.int(0, p.customers)}`;
          c.rows = 50;
          c.bytes = bytesFor(r, 50, 300);
        }
        push(p, e, tool, c, origin, label);
      }
      break;
    }
    case 'enum_ids': {
      const n = hard ? r.int(8, 20) : r.int(15, 120);
      let id = r.int(1, p.customers);
      const step = r.pick([1, 1, 1, -1, 2]);
      const tool = r.pick(['get_customer', 'list_customer_orders']);
      for (let i = 0; i < n; i++) {
        push(p, t, tool, { args: { customer_id: id }, rows: 1, bytes: bytesFor(r, 1, 260) }, origin, label);
        id += step;
        t += r.between(1, 40) * 1000;
      }
      break;
    }
    case 'enum_tables': {
      const viaSql = p.role === 'analyst' || p.role === 'nightly' ? r.chance(0.6) : r.chance(0.3);
      if (!viaSql) push(p, t, 'list_tables', { args: {}, rows: 3 + EXTRA_TABLES.length, bytes: 500 }, origin, label);
      const n = r.int(5, 16);
      for (let i = 0; i < n; i++) {
        t += r.between(2, 60) * 1000;
        const table = r.chance(0.2) ? r.pick(Object.keys(TABLES)) : r.pick(EXTRA_TABLES);
        if (viaSql) push(p, t, 'sql_select', { args: { sql: r.chance(0.2) ? `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'support'` : `SELECT * FROM ${table} LIMIT ${r.pick([5, 10, 50])}` }, rows: r.int(0, 50), bytes: r.int(200, 20_000) }, origin, label);
        else push(p, t, 'describe_table', { args: { table }, rows: r.int(3, 12), bytes: 700, status: r.chance(0.2) ? 'error' : 'ok' }, origin, label);
      }
      break;
    }
    case 'first_tool': {
      const all = ['sql_select', 'describe_table', 'list_tables', 'support_report', 'get_customer', 'list_customer_orders', 'find_customers', 'list_open_tickets'];
      const unused = all.filter((x) => !(p.used?.has(x)));
      const tool = r.pick(unused.length ? unused : ['export_all']);
      const n = r.int(1, 5);
      for (let i = 0; i < n; i++) {
        push(p, t, tool, mine(tool), origin, label);
        t += r.between(5, 120) * 1000;
      }
      break;
    }
    case 'off_hours': {
      const n = r.int(3, 15);
      for (let i = 0; i < n; i++) {
        const tool = r.pick(tools);
        push(p, t, tool, mine(tool), stolen, label);
        t += r.between(10, 300) * 1000;
      }
      break;
    }
    case 'new_args': {
      const tool = r.pick(tools);
      const c = mine(tool);
      const how = r.int(0, 2);
      if (how === 0) c.args[r.pick(['debug', 'include_deleted', 'raw', 'fields', 'export', '__proto_x'])] = r.pick([true, 'all', 1]);
      else if (how === 1) {
        const key = Object.keys(c.args).find((k) => typeof c.args[k] === 'string') ?? 'query';
        c.args[key] = `${'A'.repeat(r.int(600, 8000))}' OR 1=1 --`;
      } else {
        const key = Object.keys(c.args).find((k) => typeof c.args[k] === 'number');
        if (key) c.args[key] = r.pick([99_999_999, 2_147_483_647, 10_000_000]);
        else c.args.limit = 1_000_000;
      }
      push(p, t, tool, c, origin, label);
      break;
    }
    case 'new_origin': {
      const n = r.int(3, 20);
      for (let i = 0; i < n; i++) {
        const tool = r.pick(tools);
        push(p, t, tool, mine(tool), foreign, label);
        t += r.between(5, 200) * 1000;
      }
      break;
    }
  }
}

/** A normal time for principal `p` on day `d` (for attacks that should look in-hours). */
function usualTime(r, p, w, d) {
  const day0 = w.start + d * DAY;
  if (p.role === 'nightly') return day0 + p.hour * HOUR + r.between(5, 40) * MIN;
  if (p.role === 'poller') return day0 + r.between(0, 24) * HOUR;
  let dd = d;
  while ([0, 6].includes(new Date(w.start + dd * DAY).getUTCDay())) dd++;
  return w.start + dd * DAY + r.between(p.start + 0.5, p.end - 1) * HOUR;
}

function offTime(r, p, w, d, hard) {
  const day0 = w.start + d * DAY;
  if (p.role === 'nightly') return day0 + ((p.hour + r.between(8, 16)) % 24) * HOUR;
  return day0 + ((p.end + (hard ? r.between(2, 4) : r.between(4, 9))) % 24) * HOUR;
}

/**
 * One seed's trace: normal traffic of every principal, then attack episodes in the last weeks.
 * `hard` makes attacks quieter: bursts of 15–40 calls, slow exfiltration every 5–12 min for 3–6 h,
 * id walks of 8–20, off-hours use only 2–4 h after the working day.
 * Returns calls sorted by time; attack calls carry `attack` (type) and `episode` (number).
 */
export function generate(seed, { attacksPerType = 1, hard = false } = {}) {
  const r = rng(seed);
  const w = world(r);
  const principals = makePrincipals(r, w);
  const calls = [];
  let seq = 0;
  const push = (p, t, tool, c, o, attackType, episode) => {
    calls.push({ id: `s${seed}-${++seq}`, ts: Math.round(t), principal: p.id, kind: p.kind, tool, args: c.args, status: c.status ?? 'ok', rows: c.rows, bytes: c.bytes, ip: o.ip, userAgent: o.userAgent, attack: attackType ?? null, episode: episode ?? null });
  };
  for (const p of principals) {
    normalTraffic(r, p, w, push);
    p.used = new Set(calls.filter((c) => c.principal === p.id).map((c) => c.tool));
  }
  let episode = 0;
  const days = w.weeks * 7;
  // each episode on a principal not attacked before in this trace while there are some: a second
  // attack on a key is scored against a baseline that has already learned the first
  const attacked = new Set();
  for (const type of ATTACKS) {
    for (let k = 0; k < attacksPerType; k++) {
      const candidates = principals.filter((p) => type !== 'off_hours' || p.role !== 'poller');
      const fresh = candidates.filter((p) => !attacked.has(p.id));
      const p = r.pick(fresh.length ? fresh : candidates);
      attacked.add(p.id);
      const d = r.int(days - 14, days - 2);
      const t0 = type === 'off_hours' ? offTime(r, p, w, d, hard) : usualTime(r, p, w, d);
      const ep = ++episode;
      attack(r, type, p, t0, (pp, t, tool, c, o, label) => push(pp, t, tool, c, o, label, ep), hard);
    }
  }
  calls.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
  return { world: w, principals, calls };
}
