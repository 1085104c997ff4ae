/** MySQL adapter of the data port: mysql2 over the Hyperdrive binding. The only file that imports mysql2. */
import mysql from 'mysql2';
import type { Connection, FieldPacket, QueryError } from 'mysql2';
import { ToolError } from '../errors.ts';
import type { ColumnInfo, DataPort, QueryLimits, QueryResult, Row, SqlValue, TableInfo } from './port.ts';

/** Where to connect: the Hyperdrive binding's fields (or any equivalent). */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

type Flavor = 'mariadb' | 'mysql';
// Per isolate: which server sits behind a target, learnt once with SELECT VERSION().
const flavors = new Map<string, Flavor>();

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);
const TIMEOUT = new Set(['PROTOCOL_SEQUENCE_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_STATEMENT_TIMEOUT']);
const TIMEOUT_ERRNO = new Set([1969, 3024]);

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

/**
 * Runs `work` on a fresh connection to `target` and always closes it. No connection within
 * `connectTimeoutMs` is db_unavailable; the whole operation past connect + `timeoutMs` is db_timeout.
 */
async function withConnection<T>(target: MysqlTarget, connectTimeoutMs: number, timeoutMs: number, work: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    connectTimeout: connectTimeoutMs,
    disableEval: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
  });
  // A socket error after the query settled must not become an unhandled error event.
  conn.on('error', () => undefined);
  let connected = false;
  conn.once('connect', () => {
    connected = true;
  });
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  const stopped = new Promise<never>((_, reject) => {
    const stop = (error: ToolError) => {
      conn.destroy();
      reject(error);
    };
    // Hyperdrive (or a proxy) may accept the socket while nothing answers behind it.
    timers.push(setTimeout(() => {
      if (!connected) stop(new ToolError('db_unavailable', `the database is unavailable (no connection within ${connectTimeoutMs} ms)`));
    }, connectTimeoutMs));
    timers.push(setTimeout(() => stop(new ToolError('db_timeout', 'the query ran past its time limit and was stopped')), connectTimeoutMs + timeoutMs));
  });
  try {
    return await Promise.race([work(conn), stopped]);
  } catch (error) {
    throw toToolError(error);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    conn.destroy();
  }
}

/** A row of the audit table: the indexed columns and the whole event as JSON. */
export type AuditRow = [id: string, time: string, type: string, outcome: string, userId: string | null, agentId: string | null, keyId: string | null, clientId: string | null, grantId: string | null, sessionId: string | null, tool: string | null, event: string];

/** Inserts audit rows idempotently (INSERT IGNORE by event id), in one statement with client-side escaping. */
export async function insertAuditRows(target: MysqlTarget, rows: readonly AuditRow[], timeoutMs: number): Promise<void> {
  if (rows.length === 0) return;
  await withConnection(target, timeoutMs, timeoutMs, (conn) =>
    new Promise<void>((resolve, reject) => {
      conn.query(
        { sql: 'INSERT IGNORE INTO audit_events (id, time, type, outcome, user_id, agent_id, key_id, client_id, grant_id, session_id, tool, event) VALUES ?', values: [rows.map((r) => [...r])], timeout: timeoutMs },
        (error) => (error ? reject(error) : resolve()),
      );
    }),
  );
}

/**
 * Reads audit events (their JSON and delivery sequence) with a parameterised WHERE built by the
 * caller from fixed column names, in event-id order or, with `byDelivery`, in delivery order.
 */
export async function selectAuditEvents(target: MysqlTarget, where: string, params: readonly SqlValue[], limit: number, timeoutMs: number, byDelivery = false): Promise<Array<{ event: string; seq: number }>> {
  const order = byDelivery ? 'seq' : 'id';
  const result = await withConnection(target, timeoutMs, timeoutMs, (conn) =>
    run(conn, `SELECT event, seq FROM audit_events ${where} ORDER BY ${order} LIMIT ${Math.max(1, Math.min(10_000, Math.floor(limit)))}`, params, { maxRows: limit, timeoutMs }),
  );
  return result.rows.map((r) => ({ event: String(r.event), seq: Number(r.seq) }));
}

/** Adds the server-side execution limit each server understands. */
function limitTime(sql: string, flavor: Flavor, timeoutMs: number): string {
  if (flavor === 'mariadb') {
    return `SET STATEMENT max_statement_time=${(timeoutMs / 1000).toFixed(3)} FOR ${sql}`;
  }
  // MySQL: an optimizer hint right after the leading SELECT (WITH … SELECT keeps only the client limit).
  return /^\s*select\b/i.test(sql) ? sql.replace(/^\s*select\b/i, `SELECT /*+ MAX_EXECUTION_TIME(${timeoutMs}) */`) : sql;
}

/** Streams rows and stops reading after maxRows + 1, so a huge result never sits in memory. */
function run(conn: Connection, sql: string, params: readonly SqlValue[], limits: QueryLimits): Promise<QueryResult> {
  return new Promise((resolve, reject) => {
    const rows: Row[] = [];
    let columns: string[] = [];
    let settled = false;
    const query = conn.query({ sql, values: [...params], timeout: limits.timeoutMs });
    query.on('fields', (fields: FieldPacket[]) => {
      columns = fields.map((f) => f.name);
    });
    query.on('result', (row: unknown) => {
      if (settled) return;
      if (rows.length >= limits.maxRows) {
        settled = true;
        conn.destroy();
        resolve({ columns, rows, truncated: true });
        return;
      }
      rows.push(toRow(row));
    });
    query.on('error', (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    query.on('end', () => {
      if (settled) return;
      settled = true;
      resolve({ columns, rows, truncated: false });
    });
  });
}

function toRow(raw: unknown): Row {
  const row: Row = {};
  if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw)) row[k] = toValue(v);
  }
  return row;
}

function toValue(v: unknown): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `base64:${btoa(String.fromCharCode(...v))}`;
  return JSON.stringify(v);
}

function isQueryError(e: unknown): e is QueryError {
  return typeof e === 'object' && e !== null && 'code' in e;
}

/** Maps a mysql2 error to a ToolError whose message is safe to show: no host, no credentials. */
function toToolError(error: unknown): ToolError {
  if (error instanceof ToolError) return error;
  if (isQueryError(error)) {
    const code = String(error.code);
    if (TIMEOUT.has(code) || TIMEOUT_ERRNO.has(Number(error.errno))) {
      return new ToolError('db_timeout', 'the query ran past its time limit and was stopped');
    }
    if (UNAVAILABLE.has(code) || (error as { fatal?: boolean }).fatal) {
      return new ToolError('db_unavailable', `the database is unavailable (${code})`);
    }
    const sqlMessage: unknown = Reflect.get(error, 'sqlMessage');
    if (typeof sqlMessage === 'string') {
      return new ToolError('db_query_failed', `${code}: ${sqlMessage}`);
    }
  }
  return new ToolError('db_unavailable', 'the database is unavailable');
}
