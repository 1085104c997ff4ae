// The baseline engine on a simulated clock: learning period, decay, each feature's contribution, bounded state, JSON round trip.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, newBaseline, observe, score, snapshot, withSettings, type BaselineCall, type BaselineSettings, type BaselineState, type ScoreResult } from '../../../src/security/baseline/index.ts';
import { sqlIdentifiers } from '../../../src/security/baseline/features.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 5 January 2026, 00:00 UTC. */
const MONDAY = Date.UTC(2026, 0, 5);

/** A tiny deterministic generator (LCG) so the habits are the same on every run. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

type Partial2 = Partial<BaselineCall> & { at: number };
const call = (c: Partial2): BaselineCall => ({ tool: 'get_customer', args: { customer_id: 4711 }, status: 'ok', rows: 1, bytes: 400, ip: '10.0.0.7', userAgent: 'mcp-remote/0.1.29', ...c });

/** A person who looks up customers on weekdays, 09:00–17:00 UTC, from one address, for `weeks` weeks. */
function trainPerson(weeks: number, settings: BaselineSettings = DEFAULT_SETTINGS): { state: BaselineState; end: number } {
  const state = newBaseline(settings);
  const rnd = lcg(7);
  let last = MONDAY;
  for (let d = 0; d < weeks * 7; d++) {
    const day = MONDAY + d * DAY;
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (let i = 0; i < 24; i++) {
      const at = day + 9 * HOUR + i * 20 * MIN + Math.floor(rnd() * 5 * MIN);
      const c =
        i % 3 === 0
          ? call({ at, tool: 'find_customers', args: { query: ['smith', 'acme', 'globex', 'stark'][i % 4] as string }, rows: 1 + Math.floor(rnd() * 8), bytes: 1200 })
          : call({ at, args: { customer_id: 1 + Math.floor(rnd() * 20_000) }, status: rnd() < 0.01 ? 'error' : 'ok' });
      observe(state, c, settings, 'person');
      last = at;
    }
  }
  return { state, end: last };
}

/** The next Monday after `end`, at `hour` UTC. */
function nextMonday(end: number, hour: number): number {
  let day = Math.floor(end / DAY) * DAY + DAY;
  while (new Date(day).getUTCDay() !== 1) day += DAY;
  return day + hour * HOUR;
}

const features = (r: ScoreResult): string[] => r.contributions.map((c) => c.feature);

describe('learning period', () => {
  it('raises no alert before both the minimum calls and the minimum age, then does', () => {
    const settings = withSettings({ minCalls: 20, minAgeMs: 3 * DAY });
    const state = newBaseline(settings);
    // 30 calls within the first hour: enough calls, not enough age
    for (let i = 0; i < 30; i++) observe(state, call({ at: MONDAY + 9 * HOUR + i * MIN }), settings, 'agent');
    const early = score(state, call({ at: MONDAY + 10 * HOUR, tool: 'describe_table', args: { table: 'salaries' } }), settings);
    expect(early.learning).toBe(true);
    expect(early.alert).toBe(false);
    // old enough, and still 30 calls: the same first use now alerts
    const later = score(state, call({ at: MONDAY + 4 * DAY + 9 * HOUR, tool: 'describe_table', args: { table: 'salaries' } }), settings);
    expect(later.learning).toBe(false);
    expect(later.alert).toBe(true);
    expect(later.reasons).toContain('first use of describe_table by this principal');
  });

  it('an old principal with too few calls is still learning', () => {
    const settings = withSettings({ minCalls: 20, minAgeMs: 3 * DAY });
    const state = newBaseline(settings);
    for (let i = 0; i < 10; i++) observe(state, call({ at: MONDAY + i * DAY }), settings, 'agent');
    const r = score(state, call({ at: MONDAY + 11 * DAY, tool: 'sql_select', args: { sql: 'SELECT * FROM users' } }), settings);
    expect(r.learning).toBe(true);
    expect(r.alert).toBe(false);
  });

  it('a live evaluation can learn within minutes through settings', () => {
    const settings = withSettings({ minCalls: 5, minAgeMs: 2 * MIN });
    const state = newBaseline(settings);
    for (let i = 0; i < 6; i++) observe(state, call({ at: MONDAY + i * 30_000 }), settings, 'agent');
    expect(score(state, call({ at: MONDAY + 4 * MIN, tool: 'list_tables', args: {} }), settings).alert).toBe(true);
  });
});

describe('each feature contributes, in words a security person reads', () => {
  const { state, end } = trainPerson(4);
  const monday = nextMonday(end, 10);

  it('an ordinary call in office hours scores low and does not alert', () => {
    const r = score(state, call({ at: monday + 30 * MIN, args: { customer_id: 1234 } }), DEFAULT_SETTINGS);
    expect(r.alert).toBe(false);
    expect(r.score).toBeLessThan(0.3);
    expect(r.reasons).toEqual([]);
  });

  it('first use of a tool', () => {
    const r = score(state, call({ at: monday, tool: 'describe_table', args: { table: 'customers' } }), DEFAULT_SETTINGS);
    expect(r.alert).toBe(true);
    expect(r.reasons[0]).toBe('first use of describe_table by this principal');
  });

  it('hour of day: 03:10 UTC is outside its usual hours', () => {
    const r = score(state, call({ at: nextMonday(end, 3) + 10 * MIN }), DEFAULT_SETTINGS);
    expect(r.alert).toBe(true);
    expect(r.reasons[0]).toMatch(/^at 03:10 UTC, outside its usual hours \(\d+ h from the nearest, usually 09–1\d UTC\)$/);
  });

  it('day of week: a Sunday, for a weekday worker', () => {
    const sunday = nextMonday(end, 11) - DAY;
    const r = score(state, call({ at: sunday }), DEFAULT_SETTINGS);
    expect(features(r)).toContain('weekday');
    expect(r.reasons).toContain('on a Sunday, a day this principal does not usually work');
  });

  it('rows returned far above the usual peak', () => {
    const r = score(state, call({ at: monday, tool: 'find_customers', args: { query: 'a' }, rows: 5000, bytes: 2_000_000 }), DEFAULT_SETTINGS);
    expect(r.alert).toBe(true);
    expect(r.reasons.join('\n')).toMatch(/rows returned 5000, \d+× this principal's usual peak for find_customers/);
  });

  it('a burst of calls: the rate over a minute', () => {
    const s = snapshot(state);
    let last: ScoreResult | null = null;
    for (let i = 0; i < 40; i++) {
      const c = call({ at: monday + i * 1000, args: { customer_id: 100 + i * 37 } });
      last = score(s, c, DEFAULT_SETTINGS);
      if (last.alert) break;
      observe(s, c, DEFAULT_SETTINGS);
    }
    expect(last?.alert).toBe(true);
    expect(last?.reasons.join('\n')).toMatch(/calls( to get_customer)? in about the last 1 min, .*usual peak/);
  });

  it('a new argument key', () => {
    const r = score(state, call({ at: monday, args: { customer_id: 5, include_deleted: true } }), DEFAULT_SETTINGS);
    expect(r.alert).toBe(true);
    expect(r.reasons).toContain('new argument key "include_deleted" for get_customer');
  });

  it('a huge argument value', () => {
    const r = score(state, call({ at: monday, tool: 'find_customers', args: { query: `${'A'.repeat(4000)}' OR 1=1 --` }, rows: 3 }), DEFAULT_SETTINGS);
    expect(r.alert).toBe(true);
    expect(features(r)).toEqual(expect.arrayContaining(['huge_value', 'arg_size']));
  });

  it('customer ids walked in sequence', () => {
    const s = snapshot(state);
    let last: ScoreResult | null = null;
    for (let i = 0; i < 10; i++) {
      const c = call({ at: monday + i * 20_000, args: { customer_id: 500 + i } });
      last = score(s, c, DEFAULT_SETTINGS);
      observe(s, c, DEFAULT_SETTINGS);
    }
    expect(last?.alert).toBe(true);
    expect(last?.reasons).toContain('customer_id walked in sequence by get_customer (10 ids in steps of +1)');
  });

  it('denials: one is a hint, three close together alert', () => {
    const s = snapshot(state);
    const one = score(s, call({ at: monday, tool: 'find_customers', args: { query: 'x' }, status: 'denied' }), DEFAULT_SETTINGS);
    expect(features(one)).toContain('denied');
    expect(one.alert).toBe(false);
    let last: ScoreResult = one;
    for (let i = 0; i < 3; i++) {
      const c = call({ at: monday + i * MIN, tool: 'find_customers', args: { query: 'x' }, status: 'denied' });
      last = score(s, c, DEFAULT_SETTINGS);
      observe(s, c, DEFAULT_SETTINGS);
    }
    expect(last.alert).toBe(true);
    expect(last.reasons[0]).toMatch(/^denied call to find_customers \(3 in 30 min/);
  });

  it('a new address and a new user agent together', () => {
    const r = score(state, call({ at: monday, ip: '203.0.113.50', userAgent: 'python-requests/2.32.3' }), DEFAULT_SETTINGS);
    expect(r.alert).toBe(true);
    expect(r.reasons[0]).toBe('new address 203.0.113.50 and new user agent "python-requests/2.32.3" for this principal');
    const ipOnly = score(state, call({ at: monday, ip: '203.0.113.50' }), DEFAULT_SETTINGS);
    expect(features(ipOnly)).toEqual(['ip']);
    expect(ipOnly.alert).toBe(false);
    const sameNetwork = score(state, call({ at: monday, ip: '10.0.0.99' }), DEFAULT_SETTINGS);
    expect(features(sameNetwork)).toEqual([]);
  });

  it('a run of activity far longer than usual (slow exfiltration)', () => {
    const s = snapshot(state);
    let first: ScoreResult | null = null;
    for (let t = monday; t < monday + 8 * HOUR; t += 4 * MIN) {
      const c = call({ at: t, args: { customer_id: 1 + ((t / MIN) % 9973) * 2 } });
      const r = score(s, c, DEFAULT_SETTINGS);
      if (r.alert && features(r).includes('run')) {
        first = r;
        break;
      }
      observe(s, c, DEFAULT_SETTINGS);
    }
    expect(first?.reasons.join('\n')).toMatch(/active without a break for \d+\.\d h|calls without a break/);
  });

  it('a tool-to-tool transition it never makes is a weak hint, not an alert', () => {
    const s = snapshot(state);
    observe(s, call({ at: monday, tool: 'list_open_tickets', args: {}, rows: 3 }), DEFAULT_SETTINGS);
    // list_open_tickets is new, so its first use alerts; afterwards get_customer after it is an unknown transition
    for (let i = 1; i <= 12; i++) observe(s, call({ at: monday + i * DAY, tool: 'list_open_tickets', args: {}, rows: 3 }), DEFAULT_SETTINGS);
    const r = score(s, call({ at: monday + 12 * DAY + MIN }), DEFAULT_SETTINGS);
    expect(features(r)).toContain('transition');
    expect(r.reasons).toContain('get_customer right after list_open_tickets, a sequence this principal does not use');
  });
});

describe('SQL: tables and columns a SELECT touches', () => {
  it('parses identifiers cheaply: tables after FROM/JOIN, columns without functions and aliases', () => {
    expect(sqlIdentifiers("SELECT c.name, SUM(o.total_cents) AS spend FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.name = 'x' GROUP BY c.name")).toEqual({
      tables: ['customers', 'orders'],
      columns: ['customer_id', 'id', 'name', 'total_cents'],
    });
    expect(sqlIdentifiers('select * from information_schema.columns')).toEqual({ tables: ['information_schema.columns'], columns: ['*'] });
    expect(sqlIdentifiers('SELECT `id` FROM `customers`, orders')).toEqual({ tables: ['customers', 'orders'], columns: ['id'] });
  });

  it('an analyst touching new tables one after another alerts; a system schema alerts at once', () => {
    const state = newBaseline(DEFAULT_SETTINGS);
    const rnd = lcg(3);
    let at = MONDAY + 9 * HOUR;
    for (let i = 0; i < 400; i++) {
      const table = ['customers', 'orders', 'tickets'][i % 3] as string;
      observe(state, call({ at, tool: 'sql_select', args: { sql: `SELECT id, status FROM ${table} WHERE id = ${Math.floor(rnd() * 1000)}` }, rows: 1 + Math.floor(rnd() * 40) }), DEFAULT_SETTINGS, 'person');
      at += (i % 20 === 19 ? 20 * HOUR : 20 * MIN);
    }
    const probe = at + DAY;
    const system = score(state, call({ at: probe, tool: 'sql_select', args: { sql: 'SELECT table_name FROM information_schema.tables' }, rows: 3 }), DEFAULT_SETTINGS);
    expect(system.alert).toBe(true);
    expect(system.reasons.join('\n')).toMatch(/touches table information_schema\.tables for the first time/);
    const s = snapshot(state);
    const results = ['salaries', 'api_tokens', 'users'].map((t, i) => {
      const c = call({ at: probe + i * MIN, tool: 'sql_select', args: { sql: `SELECT id, status FROM ${t}` }, rows: 5 });
      const r = score(s, c, DEFAULT_SETTINGS);
      observe(s, c, DEFAULT_SETTINGS);
      return r;
    });
    expect(results[0]?.alert).toBe(false);
    expect(results[2]?.alert).toBe(true);
    expect(results[2]?.reasons[0]).toBe('touches table users for the first time (3 new tables in 30 min)');
  });
});

describe('decay: habits change', () => {
  it('a new working hour stops being unusual once it has become the habit', () => {
    const { state, end } = trainPerson(3);
    const evening = nextMonday(end, 21);
    expect(features(score(state, call({ at: evening }), DEFAULT_SETTINGS))).toContain('hour');
    // four weeks of evening work
    let at = evening;
    for (let d = 0; d < 28; d++) for (let i = 0; i < 10; i++) observe(state, call({ at: (at = evening + d * DAY + i * 10 * MIN) }), DEFAULT_SETTINGS);
    expect(features(score(state, call({ at: at + DAY }), DEFAULT_SETTINGS))).not.toContain('hour');
  });

  it('remembered counts halve with the half-life', () => {
    const settings = withSettings({ halfLifeMs: 7 * DAY });
    const state = newBaseline(settings);
    observe(state, call({ at: MONDAY }), settings, 'agent');
    const before = state.hours.reduce((a, b) => a + b, 0);
    observe(state, call({ at: MONDAY + 7 * DAY }), settings, 'agent');
    expect(state.hours.reduce((a, b) => a + b, 0)).toBeCloseTo(before * 0.5 + 1, 5);
  });
});

describe('state', () => {
  it('stays under 32 KiB of JSON whatever the principal does (many tools, keys, values, addresses)', () => {
    const state = newBaseline(DEFAULT_SETTINGS);
    const long = (p: string, i: number): string => `${p}${i}${'x'.repeat(300)}`;
    let at = MONDAY;
    for (let i = 0; i < 600; i++) {
      const args: Record<string, unknown> = { sql: `SELECT ${Array.from({ length: 40 }, (_, j) => `c${i * 40 + j}${'y'.repeat(60)}`).join(', ')} FROM ${Array.from({ length: 10 }, (_, j) => `t${i * 10 + j}`).join(', ')}` };
      for (let k = 0; k < 40; k++) args[long('key', (i * 7 + k) % 997)] = k % 2 ? long('v', i * 13 + k) : i * 1000 + k;
      const c: BaselineCall = { at, tool: long('tool', i % 50), args, status: (['ok', 'error', 'denied'] as const)[i % 3] ?? 'ok', rows: i, bytes: i * 100, ip: `2001:db8:${i}::${i}`.padEnd(60, 'f'), userAgent: long('ua', i) };
      score(state, c, DEFAULT_SETTINGS);
      observe(state, c, DEFAULT_SETTINGS, 'agent');
      at += 37_000 + (i % 7) * 1000;
    }
    const size = JSON.stringify(state).length;
    expect(size).toBeLessThan(32 * 1024);
    expect(Object.keys(state.tools).length).toBe(DEFAULT_SETTINGS.maxTools);
    expect(Object.keys(state.ips).length).toBe(DEFAULT_SETTINGS.maxIps);
    expect(Object.keys(state.uas).length).toBe(DEFAULT_SETTINGS.maxUserAgents);
    expect(Object.keys(state.sqlColumns).length).toBe(DEFAULT_SETTINGS.maxSqlColumns);
    expect(Object.keys(state.trans).length).toBeLessThanOrEqual(DEFAULT_SETTINGS.maxTransitions);
  });

  it('a JSON round trip (eviction and restart) gives identical scores and identical learning', () => {
    const { state, end } = trainPerson(3);
    const restored = JSON.parse(JSON.stringify(state)) as BaselineState;
    expect(restored).toEqual(state);
    const probes = [
      call({ at: nextMonday(end, 10), args: { customer_id: 77 } }),
      call({ at: nextMonday(end, 10) + 1000, tool: 'describe_table', args: { table: 'x' } }),
      call({ at: nextMonday(end, 3), args: { customer_id: 78 }, ip: '198.51.100.4', userAgent: 'curl/8.5.0' }),
      call({ at: nextMonday(end, 11), tool: 'find_customers', args: { query: 'q' }, rows: 900 }),
    ];
    for (const p of probes) {
      expect(score(restored, p, DEFAULT_SETTINGS)).toEqual(score(state, p, DEFAULT_SETTINGS));
      observe(state, p, DEFAULT_SETTINGS);
      observe(restored, p, DEFAULT_SETTINGS);
      const again = JSON.parse(JSON.stringify(restored)) as BaselineState;
      expect(again).toEqual(state);
    }
  });

  it('scoring reads a snapshot and never changes it', () => {
    const { state, end } = trainPerson(1);
    const before = JSON.stringify(state);
    score(state, call({ at: end + HOUR, tool: 'sql_select', args: { sql: 'SELECT * FROM users' }, status: 'denied' }), DEFAULT_SETTINGS);
    expect(JSON.stringify(state)).toBe(before);
  });

  it('is deterministic: the same calls give the same state and scores', () => {
    const a = trainPerson(2).state;
    const b = trainPerson(2).state;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe('id walks are judged against the principal’s own habit', () => {
  it('a sync job that walks 50 ids every night does not alert on its walk, but on a much longer one', () => {
    const state = newBaseline(DEFAULT_SETTINGS);
    for (let d = 0; d < 21; d++) {
      let at = MONDAY + d * DAY + 2 * HOUR;
      for (let i = 0; i < 50; i++) observe(state, call({ at: (at += 2000), args: { customer_id: 1 + i } }), DEFAULT_SETTINGS, 'machine');
      // and a lookup elsewhere ends the walk
      observe(state, call({ at: at + 2000, args: { customer_id: 9000 } }), DEFAULT_SETTINGS);
    }
    const s = snapshot(state);
    const night = MONDAY + 21 * DAY + 2 * HOUR;
    const verdicts: ScoreResult[] = [];
    for (let i = 0; i < 200; i++) {
      const c = call({ at: night + i * 2000, args: { customer_id: 1 + i } });
      verdicts.push(score(s, c, DEFAULT_SETTINGS));
      observe(s, c, DEFAULT_SETTINGS);
    }
    expect(verdicts.slice(0, 50).some((v) => features(v).includes('id_walk'))).toBe(false);
    expect(verdicts.slice(150).some((v) => v.alert && features(v).includes('id_walk'))).toBe(true);
  });
});
