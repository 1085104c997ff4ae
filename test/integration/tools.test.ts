// The tools on both adapters: the embedded SQLite and a real MariaDB through Hyperdrive, with the same expectations.
import { beforeAll, describe, expect, it } from 'vitest';
import { ToolError, toolFailureResult } from '../../src/errors.ts';
import type { DataPort } from '../../src/db/port.ts';
import { SEED_COUNTS } from '../../src/db/seed-data.ts';
import { config, downPort, embeddedPort, mysqlPort, runTool } from '../support/tool-context.ts';

const adapters: Array<[string, () => DataPort]> = [
  ['embedded', embeddedPort],
  ['mysql', mysqlPort],
];

function structured(outcome: Awaited<ReturnType<typeof runTool>>): Record<string, unknown> {
  if (!outcome.result) throw outcome.error;
  expect(outcome.result.isError).toBeFalsy();
  return outcome.result.structuredContent as Record<string, unknown>;
}

function toolError(outcome: Awaited<ReturnType<typeof runTool>>): ToolError {
  expect(outcome.error).toBeInstanceOf(ToolError);
  return outcome.error as ToolError;
}

describe.each(adapters)('tools on the %s database', (kind, port) => {
  // The embedded database seeds its demo rows (about 4,200) when its object starts, and the first
  // query's time limit counts that wait: on a loaded machine it ran past SQL_TIMEOUT_MS (4 s) and
  // the first test failed with db_timeout. Start the object first, with a generous limit, so each
  // test's own limit measures its own query.
  beforeAll(async () => {
    await port().listTables({ maxRows: 10, timeoutMs: 120_000 });
  }, 130_000);

  it('find_customers finds by part of a name, case-insensitively, and escapes LIKE wildcards', async () => {
    const db = port();
    expect(db.kind).toBe(kind);
    const found = structured(await runTool(db, 'find_customers', { query: 'LOVELACE', limit: 5 }));
    const rows = found.rows as Array<{ name: string; email: string }>;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(5);
    for (const row of rows) expect(`${row.name} ${row.email}`.toLowerCase()).toContain('lovelace');
    const wildcard = structured(await runTool(db, 'find_customers', { query: '%' }));
    expect(wildcard.rows).toEqual([]);
  });

  it('get_customer returns one customer with counts', async () => {
    const customer = structured(await runTool(port(), 'get_customer', { customer_id: 1 }));
    expect(customer).toMatchObject({ id: 1, name: expect.any(String), email: expect.stringContaining('@') });
    expect(Number(customer.order_count)).toBeGreaterThanOrEqual(0);
    expect(customer.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('get_customer of a missing id is a not_found error result', async () => {
    const outcome = await runTool(port(), 'get_customer', { customer_id: 999_999 });
    const error = toolError(outcome);
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('no customer with that id');
    expect(toolFailureResult(error)).toEqual({ isError: true, content: [{ type: 'text', text: 'not_found: no customer with that id' }] });
  });

  it('list_customer_orders filters by status and orders newest first', async () => {
    const all = structured(await runTool(port(), 'list_customer_orders', { customer_id: 7, limit: 100 }));
    const rows = all.rows as Array<{ created_at: string; status: string }>;
    const dates = rows.map((r) => r.created_at);
    expect(dates).toEqual([...dates].sort().reverse());
    const paid = structured(await runTool(port(), 'list_customer_orders', { customer_id: 7, status: 'paid', limit: 100 }));
    expect((paid.rows as Array<{ status: string }>).every((r) => r.status === 'paid')).toBe(true);
    expect((paid.rows as unknown[]).length).toBe(rows.filter((r) => r.status === 'paid').length);
  });

  it('list_open_tickets returns only open or pending tickets, most urgent first', async () => {
    const result = structured(await runTool(port(), 'list_open_tickets', { limit: 30 }));
    const rows = result.rows as Array<{ status: string; priority: string }>;
    expect(rows).toHaveLength(30);
    expect(rows.every((r) => r.status === 'open' || r.status === 'pending')).toBe(true);
    expect(rows[0]?.priority).toBe('urgent');
  });

  it('support_report reports progress for each step and the same totals on both databases', async () => {
    const outcome = await runTool(port(), 'support_report', {});
    const report = structured(outcome);
    expect(outcome.progress.map(([p, total]) => `${p}/${total}`)).toEqual(['0/3', '1/3', '2/3', '3/3']);
    const tickets = report.tickets as Array<{ n: number | string }>;
    expect(tickets.reduce((sum, r) => sum + Number(r.n), 0)).toBe(SEED_COUNTS.tickets);
  });

  it('support_report stops when the client cancels', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await runTool(port(), 'support_report', {}, controller.signal);
    expect(toolError(outcome).message).toContain('cancelled');
    expect(outcome.progress).toEqual([]);
  });

  it('sql_select runs one SELECT and returns columns and rows', async () => {
    const result = structured(await runTool(port(), 'sql_select', { sql: 'SELECT COUNT(*) AS n FROM customers;' }));
    expect(result.columns).toEqual(['n']);
    expect(Number((result.rows as Array<{ n: unknown }>)[0]?.n)).toBe(SEED_COUNTS.customers);
    expect(result.truncated).toBe(false);
  });

  it('sql_select cuts results at the row limit and says so', async () => {
    const result = structured(await runTool(port(), 'sql_select', { sql: 'SELECT id FROM orders ORDER BY id' }));
    expect(result.rowCount).toBe(config.SQL_ROW_LIMIT);
    expect(result.truncated).toBe(true);
    expect((result.rows as Array<{ id: number }>)[0]?.id).toBe(1);
  });

  it.each([
    ['DELETE FROM customers', 'only SELECT statements are allowed'],
    ['SELECT 1; DROP TABLE customers', 'only one statement is allowed'],
    ['SELECT * FROM customers FOR UPDATE', 'keyword not allowed in a read-only query: FOR'],
  ])('sql_select refuses %j before it reaches the database', async (sql, message) => {
    const error = toolError(await runTool(port(), 'sql_select', { sql }));
    expect(error.code).toBe('sql_rejected');
    expect(error.message).toBe(message);
    const count = structured(await runTool(port(), 'sql_select', { sql: 'SELECT COUNT(*) AS n FROM customers' }));
    expect(Number((count.rows as Array<{ n: unknown }>)[0]?.n)).toBe(SEED_COUNTS.customers);
  });

  it('a query error becomes db_query_failed with the database message', async () => {
    const error = toolError(await runTool(port(), 'sql_select', { sql: 'SELECT nope FROM customers' }));
    expect(error.code).toBe('db_query_failed');
    expect(error.message.toLowerCase()).toContain('nope');
  });

  it('list_tables and describe_table show the demo schema', async () => {
    const tables = structured(await runTool(port(), 'list_tables', {}));
    expect((tables.tables as Array<{ name: string }>).map((t) => t.name)).toEqual(['customers', 'orders', 'tickets']);
    const described = structured(await runTool(port(), 'describe_table', { table: 'tickets' }));
    const columns = described.columns as Array<{ name: string; nullable: boolean; key: string | null }>;
    expect(columns.map((c) => c.name)).toEqual(['id', 'customer_id', 'order_id', 'subject', 'status', 'priority', 'created_at', 'updated_at']);
    expect(columns.find((c) => c.name === 'order_id')?.nullable).toBe(true);
    expect(columns.find((c) => c.name === 'id')?.key).toBe('PRI');
  });

  it('describe_table of a missing table is not_found; a bad name fails the schema', async () => {
    expect(toolError(await runTool(port(), 'describe_table', { table: 'secrets' })).code).toBe('not_found');
    const bad = await runTool(port(), 'describe_table', { table: 'x; DROP TABLE customers' });
    expect(bad.error).toBeDefined();
    expect(bad.error).not.toBeInstanceOf(ToolError);
  });
});

describe('read-only enforcement below the guard', () => {
  it('the embedded database rolls back any write that reaches it', async () => {
    const db = embeddedPort();
    await expect(db.select("UPDATE customers SET name = 'x' WHERE id = 1 RETURNING id", [], { maxRows: 5, timeoutMs: 2000 })).resolves.toMatchObject({ rows: [{ id: 1 }] });
    const after = await db.select('SELECT name FROM customers WHERE id = 1', [], { maxRows: 5, timeoutMs: 2000 });
    expect(after.rows[0]?.name).not.toBe('x');
  });

  it('the MySQL user has SELECT only: a write that reaches it is denied', async () => {
    const db = mysqlPort();
    const error = await db.select("UPDATE customers SET name = 'x' WHERE id = 1", [], { maxRows: 5, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe('db_query_failed');
    expect((error as ToolError).message).toMatch(/denied/i);
  });
});

describe('time limit', () => {
  it('a MySQL query that runs past the time limit is stopped with db_timeout', async () => {
    const started = Date.now();
    const error = toolError(await runTool(mysqlPort(), 'sql_select', { sql: 'SELECT COUNT(*) AS n FROM tickets a, tickets b, orders c' }));
    expect(error.code).toBe('db_timeout');
    expect(error.message).toBe('the query ran past its time limit and was stopped');
    expect(Date.now() - started).toBeLessThan(config.SQL_TIMEOUT_MS + 5000);
    // The connection was dropped, not left busy: the next query answers at once.
    const next = structured(await runTool(mysqlPort(), 'sql_select', { sql: 'SELECT 1 AS one' }));
    expect(next.rows).toEqual([{ one: 1 }]);
  });
  // The embedded SQLite runs synchronously inside its Durable Object and cannot be interrupted;
  // the platform's CPU limit bounds a runaway query there (docs/decisions.md).
});

describe('database down', () => {
  it('a refused connection is a clear db_unavailable error, not a hang', async () => {
    const started = Date.now();
    const error = toolError(await runTool(downPort(), 'get_customer', { customer_id: 1 }));
    expect(error.code).toBe('db_unavailable');
    expect(error.message).toMatch(/^the database is unavailable/);
    expect(error.message).not.toMatch(/127\.0\.0\.1|mcp_reader|password/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
