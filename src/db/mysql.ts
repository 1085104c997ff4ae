/** MySQL adapter of the data port: mysql2 over the Hyperdrive binding (connections in mysql-connection.ts). */
import type { Connection } from 'mysql2';
import { run, withConnection, type MysqlTarget } from './mysql-connection.ts';
import type { ColumnInfo, DataPort, QueryLimits, QueryResult, SqlValue, TableInfo } from './port.ts';

type Flavor = 'mariadb' | 'mysql';
// Per isolate: which server sits behind a target, learnt once with SELECT VERSION().
const flavors = new Map<string, Flavor>();

/** Reads through mysql2 with `query()` (client-side placeholders): Hyperdrive has no prepared statements. */
export class MysqlPort implements DataPort {
  readonly kind = 'mysql';
  readonly dialect = 'mysql';
  readonly #target: MysqlTarget;
  readonly #connectTimeoutMs: number;

  constructor(target: MysqlTarget, connectTimeoutMs: number) {
    this.#target = target;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  async select(sql: string, params: readonly SqlValue[], limits: QueryLimits): Promise<QueryResult> {
    return this.#withConnection(limits, async (conn, flavor) => run(conn, limitTime(sql, flavor, limits.timeoutMs), params, limits));
  }

  async listTables(limits: QueryLimits): Promise<TableInfo[]> {
    const result = await this.select(
      'SELECT TABLE_NAME AS name, TABLE_ROWS AS row_estimate FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME',
      [],
      limits,
    );
    return result.rows.map((r) => ({ name: String(r.name), rows: r.row_estimate === null ? null : Number(r.row_estimate) }));
  }

  async describeTable(name: string, limits: QueryLimits): Promise<ColumnInfo[] | null> {
    const result = await this.select(
      'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_KEY AS col_key FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [name],
      limits,
    );
    if (result.rows.length === 0) return null;
    return result.rows.map((r) => ({
      name: String(r.name),
      type: String(r.type),
      nullable: r.nullable === 'YES',
      key: r.col_key ? String(r.col_key) : null,
    }));
  }

  /** Opens a connection for one operation and always closes it; the whole operation has a deadline. */
  async #withConnection<T>(limits: QueryLimits, work: (conn: Connection, flavor: Flavor) => Promise<T>): Promise<T> {
    return withConnection(this.#target, this.#connectTimeoutMs, limits.timeoutMs, async (conn) => work(conn, await this.#flavor(conn, limits)));
  }

  async #flavor(conn: Connection, limits: QueryLimits): Promise<Flavor> {
    const key = `${this.#target.host}:${this.#target.port}/${this.#target.database}`;
    const known = flavors.get(key);
    if (known) return known;
    const { rows } = await run(conn, 'SELECT VERSION() AS v', [], { ...limits, maxRows: 1 });
    const flavor: Flavor = /mariadb/i.test(String(rows[0]?.v ?? '')) ? 'mariadb' : 'mysql';
    flavors.set(key, flavor);
    return flavor;
  }
}

/** Adds the server-side execution limit each server understands. */
function limitTime(sql: string, flavor: Flavor, timeoutMs: number): string {
  if (flavor === 'mariadb') {
    // eslint-disable-next-line house-security/no-string-built-sql -- `sql` is the guarded, SELECT-only statement the tool runs with its own placeholders; only the numeric limit is added
    return `SET STATEMENT max_statement_time=${(timeoutMs / 1000).toFixed(3)} FOR ${sql}`;
  }
  // MySQL: an optimizer hint right after the leading SELECT (WITH … SELECT keeps only the client limit).
  return /^\s*select\b/i.test(sql) ? sql.replace(/^\s*select\b/i, `SELECT /*+ MAX_EXECUTION_TIME(${timeoutMs}) */`) : sql;
}
