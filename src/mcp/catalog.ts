/** Declarative tool definitions: a tool is written once (name, description, schema, scope, SQL or handler). */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import type { DataPort, QueryResult, SqlValue } from '../db/port.ts';
import { ToolError } from '../errors.ts';
import type { Principal } from './principal.ts';

/** Per-tool permission names; OAuth scopes and API-key scopes use the same strings. */
export type Scope = 'support:read' | 'sql:read';

/** What a tool's handler may use. */
export interface ToolContext {
  db: DataPort;
  config: Config;
  principal: Principal;
  /** Aborted when the client cancels the request (notifications/cancelled). */
  signal: AbortSignal;
  /** Sends notifications/progress when the client asked for it (a progressToken); a no-op otherwise. */
  progress(progress: number, total: number, message: string): Promise<void>;
  /** Sends notifications/message at or above the session's logging level. */
  log(level: 'debug' | 'info' | 'warning' | 'error', data: unknown): Promise<void>;
}

/** A tool whose body is one parameterised SELECT; rows come back as JSON. */
export interface SqlTool<I extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  scope: Scope;
  /** SQL with `?` placeholders; give both dialects when they differ. */
  sql: string | { mysql: string; sqlite: string };
  params(args: z.output<I>): SqlValue[];
  /** With `one`, the first row is the result and no row is a `not_found` error with this message. */
  one?: string;
  maxRows?: number;
}

/** A tool with a handler of its own. */
export interface HandlerTool<I extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  scope: Scope;
  annotations?: ToolAnnotations;
  /**
   * Whether the handler may send progress, log messages or requests to the client before its
   * result (it uses `ctx.progress` or `ctx.log`). Such a call is answered on an event stream; a
   * tool that declares `false` is answered as one JSON body (issue 14). Default: true.
   */
  streams?: boolean;
  handle(args: z.output<I>, ctx: ToolContext): Promise<CallToolResult>;
}

/** A tool with its input type erased, ready to register. */
export interface CatalogTool {
  name: string;
  title: string;
  description: string;
  input: z.ZodObject;
  scope: Scope;
  annotations: ToolAnnotations;
  /** Whether a call may send anything before its result (see HandlerTool.streams); SQL tools never do. */
  streams: boolean;
  /** Runs the tool on arguments already parsed by `input` (the server's one argument check, src/mcp/server.ts). */
  run(parsed: unknown, ctx: ToolContext): Promise<CallToolResult>;
  /** Parses the arguments with `input`, then runs the tool (for callers that hold raw arguments). */
  call(args: unknown, ctx: ToolContext): Promise<CallToolResult>;
}

/** Turns a SQL tool into a catalog entry. */
export function sqlTool<I extends z.ZodObject>(def: SqlTool<I>): CatalogTool {
  return {
    name: def.name,
    title: def.title,
    description: def.description,
    input: def.input,
    scope: def.scope,
    annotations: { title: def.title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    streams: false,
    call(args, ctx) {
      return this.run(def.input.parse(args), ctx);
    },
    async run(args, ctx) {
      const parsed = args as z.output<I>;
      const sql = typeof def.sql === 'string' ? def.sql : def.sql[ctx.db.dialect];
      const result = await ctx.db.select(sql, def.params(parsed), {
        maxRows: Math.min(def.maxRows ?? ctx.config.SQL_ROW_LIMIT, ctx.config.SQL_ROW_LIMIT),
        timeoutMs: ctx.config.SQL_TIMEOUT_MS,
      });
      if (def.one !== undefined) {
        const row = result.rows[0];
        if (!row) throw new ToolError('not_found', def.one);
        return json(row);
      }
      return rowsResult(result);
    },
  };
}

/** Turns a handler tool into a catalog entry. */
export function handlerTool<I extends z.ZodObject>(def: HandlerTool<I>): CatalogTool {
  return {
    name: def.name,
    title: def.title,
    description: def.description,
    input: def.input,
    scope: def.scope,
    annotations: { title: def.title, readOnlyHint: true, destructiveHint: false, openWorldHint: false, ...def.annotations },
    streams: def.streams ?? true,
    call(args, ctx) {
      return this.run(def.input.parse(args), ctx);
    },
    run(args, ctx) {
      return def.handle(args as z.output<I>, ctx);
    },
  };
}

/** A JSON value as both text content and structured content. */
export function json(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

/** Rows as a tool result, saying when the row limit cut them short. */
export function rowsResult(result: QueryResult): CallToolResult {
  return json({ columns: result.columns, rows: result.rows, rowCount: result.rows.length, truncated: result.truncated });
}
