/** The guarded read-only SQL tool and schema browsing tools. */
import { z } from 'zod';
import { handlerTool, json, rowsResult, type CatalogTool } from '../mcp/catalog.ts';
import { checkSelect, MAX_SQL_LENGTH } from '../security/sql-guard.ts';
import { ToolError } from '../errors.ts';

const sqlSelect = handlerTool({
  name: 'sql_select',
  title: 'Run a read-only SQL query',
  description:
    'Runs one SELECT statement against the database and returns the rows. Only a single SELECT (or WITH … SELECT) is accepted; anything else is refused before it reaches the database. Results are cut at the row limit (the result says when) and the query is stopped at the time limit. Use list_tables and describe_table to see the schema.',
  input: z.object({ sql: z.string().min(1).max(MAX_SQL_LENGTH).describe('One SELECT statement, with literal values written inline.') }),
  scope: 'sql:read',
  annotations: { idempotentHint: true },
  streams: false,
  async handle({ sql }, ctx) {
    const checked = checkSelect(sql, ctx.db.dialect);
    if (!checked.ok) throw new ToolError('sql_rejected', checked.message, checked.reason);
    return rowsResult(await ctx.db.select(checked.sql, [], { maxRows: ctx.config.SQL_ROW_LIMIT, timeoutMs: ctx.config.SQL_TIMEOUT_MS }));
  },
});

const listTables = handlerTool({
  name: 'list_tables',
  title: 'List tables',
  description: 'The tables of the database with their (estimated) row counts.',
  input: z.object({}),
  scope: 'sql:read',
  streams: false,
  async handle(_args, ctx) {
    return json({ tables: await ctx.db.listTables({ maxRows: 1000, timeoutMs: ctx.config.SQL_TIMEOUT_MS }) });
  },
});

const describeTable = handlerTool({
  name: 'describe_table',
  title: 'Describe a table',
  description: "A table's columns: name, type, whether it may be null, and key.",
  input: z.object({ table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a table name: letters, digits and _').describe('The table name.') }),
  scope: 'sql:read',
  streams: false,
  async handle({ table }, ctx) {
    const columns = await ctx.db.describeTable(table, { maxRows: 1000, timeoutMs: ctx.config.SQL_TIMEOUT_MS });
    if (!columns) throw new ToolError('not_found', `no table named ${table}`);
    return json({ table, columns });
  },
});

/** SQL access tools. */
export const sqlTools: readonly CatalogTool[] = [sqlSelect, listTables, describeTable];
