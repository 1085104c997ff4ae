/** What the embedded data adapter may ask of the EmbeddedDatabase Durable Object (which implements it). */
import type { ColumnInfo, QueryResult, SqlValue, TableInfo } from '../db/port.ts';

/** The answer to one query over RPC: the value, or the database's own error message. */
export interface EmbeddedAnswer<T> {
  value?: T;
  error?: string;
}

/** The one embedded demo database (named "default"); every query runs read-only. */
export interface EmbeddedDatabaseObject extends Rpc.DurableObjectBranded {
  /** Runs one statement in a transaction that is always rolled back; at most maxRows rows. */
  select(sql: string, params: SqlValue[], maxRows: number): EmbeddedAnswer<QueryResult>;
  listTables(): EmbeddedAnswer<TableInfo[]>;
  /** The table's columns, or a null value when there is no such table. */
  describeTable(name: string): EmbeddedAnswer<ColumnInfo[] | null>;
}
