/** The embedded default database: the demo data in a Durable Object's own SQLite, used when no MySQL is configured. */
import { DurableObject } from 'cloudflare:workers';
import { SQLITE_DDL } from '../src/db/schema.ts';
import { demoRows, SEED_COLUMNS } from '../src/db/seed-data.ts';
import type { Env } from '../src/env.ts';
import type { ColumnInfo, QueryResult, Row, SqlValue, TableInfo } from '../src/db/port.ts';
import type { EmbeddedAnswer, EmbeddedDatabaseObject } from '../src/contracts/embedded-db.ts';

class Rollback extends Error {}

/** One instance (named "default") holds the demo database; every query runs read-only. */
export class EmbeddedDatabase extends DurableObject<Env> implements EmbeddedDatabaseObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(() => Promise.resolve(this.#migrateAndSeed()));
  }

  /**
   * Runs one statement inside a transaction that is always rolled back, so nothing a query
   * does can change the data; reads stop after maxRows + 1 rows.
   */
  select(sql: string, params: SqlValue[], maxRows: number): EmbeddedAnswer<QueryResult> {
    let result: QueryResult | undefined;
    try {
      this.ctx.storage.transactionSync(() => {
        const cursor = this.ctx.storage.sql.exec(sql, ...params);
        const rows: Row[] = [];
        let truncated = false;
        for (const raw of cursor) {
          if (rows.length >= maxRows) {
            truncated = true;
            break;
          }
          rows.push(toRow(raw));
        }
        result = { columns: cursor.columnNames, rows, truncated };
        throw new Rollback();
      });
    } catch (error) {
      if (!(error instanceof Rollback)) {
        return { error: error instanceof Error ? error.message : String(error) };
      }
    }
    return result ? { value: result } : { error: 'no result' };
  }

  listTables(): EmbeddedAnswer<TableInfo[]> {
    const names = this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
      .toArray();
    return {
      value: names.map(({ name }) => ({
        name,
        // eslint-disable-next-line house-security/no-string-built-sql -- the name comes from sqlite_master (our own tables), quoted as an identifier
        rows: Number(this.ctx.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name.replaceAll('"', '""')}"`).one().n),
      })),
    };
  }

  describeTable(name: string): EmbeddedAnswer<ColumnInfo[] | null> {
    const cols = this.ctx.storage.sql
      .exec<{ name: string; type: string; notnull: number; pk: number }>('SELECT name, type, "notnull", pk FROM pragma_table_info(?)', name)
      .toArray();
    if (cols.length === 0 || name.startsWith('_')) return { value: null };
    return {
      value: cols.map((c) => ({ name: c.name, type: c.type, nullable: c.notnull === 0, key: c.pk > 0 ? 'PRI' : null })),
    };
  }

  #migrateAndSeed(): void {
    const sql = this.ctx.storage.sql;
    for (const ddl of SQLITE_DDL) sql.exec(ddl);
    const present = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM customers').one().n;
    if (present > 0) return;
    const data = demoRows();
    this.ctx.storage.transactionSync(() => {
      insertAll(sql, 'customers', SEED_COLUMNS.customers, data.customers);
      insertAll(sql, 'orders', SEED_COLUMNS.orders, data.orders);
      insertAll(sql, 'tickets', SEED_COLUMNS.tickets, data.tickets);
    });
  }
}

function insertAll(sql: SqlStorage, table: string, columns: readonly string[], rows: readonly (readonly SqlValue[])[]): void {
  // eslint-disable-next-line house-security/no-string-built-sql -- table and columns are the seed's constants; the values go in as placeholders
  const statement = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  for (const row of rows) sql.exec(statement, ...row);
}

function toRow(raw: Record<string, SqlStorageValue>): Row {
  const row: Row = {};
  for (const [k, v] of Object.entries(raw)) {
    row[k] = v instanceof ArrayBuffer ? `base64:${btoa(String.fromCharCode(...new Uint8Array(v)))}` : v;
  }
  return row;
}
