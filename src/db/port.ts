/** The data-access port every tool uses; MySQL (through Hyperdrive) and the embedded SQLite implement it. */
import type { SqlDialect } from '../security/sql-guard.ts';

/** A value that can be bound to a placeholder or read back from a row. */
export type SqlValue = string | number | boolean | null;

/** One result row, column name to value. */
export type Row = Record<string, SqlValue>;

/** Bounds applied to every query. */
export interface QueryLimits {
  /** At most this many rows come back; `truncated` says whether there were more. */
  maxRows: number;
  /** The query is abandoned (and cancelled where the database allows) after this long. */
  timeoutMs: number;
}

/** Rows of one query, at most `QueryLimits.maxRows` of them. */
export interface QueryResult {
  columns: string[];
  rows: Row[];
  truncated: boolean;
}

/** A table of the database, as `list_tables` shows it. */
export interface TableInfo {
  name: string;
  rows: number | null;
}

/** A column of a table, as `describe_table` shows it. */
export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
  key: string | null;
}

/** Read access to the database behind the tools. Failures throw ToolError with a safe message. */
export interface DataPort {
  readonly kind: 'mysql' | 'embedded';
  readonly dialect: SqlDialect;
  /** Runs one SELECT with `?` placeholders bound client-side (no prepared statements). */
  select(sql: string, params: readonly SqlValue[], limits: QueryLimits): Promise<QueryResult>;
  listTables(limits: QueryLimits): Promise<TableInfo[]>;
  /** The table's columns, or null when there is no such table. */
  describeTable(name: string, limits: QueryLimits): Promise<ColumnInfo[] | null>;
}
