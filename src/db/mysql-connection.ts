/** The MySQL connection layer shared by the data and audit adapters: one mysql2 connection per operation, with deadlines and safe errors. */
import mysql from 'mysql2';
import type { Connection, FieldPacket, QueryError } from 'mysql2';
import { ToolError } from '../errors.ts';
import type { QueryLimits, QueryResult, Row, SqlValue } from './port.ts';

/** Where to connect: the Hyperdrive binding's fields (or any equivalent). */
export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST', 'ER_CON_COUNT_ERROR', 'ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);
const TIMEOUT = new Set(['PROTOCOL_SEQUENCE_TIMEOUT', 'ER_QUERY_TIMEOUT', 'ER_STATEMENT_TIMEOUT']);
const TIMEOUT_ERRNO = new Set([1969, 3024]);

/**
 * Runs `work` on a fresh connection to `target` and always closes it. No connection within
 * `connectTimeoutMs` is db_unavailable; the whole operation past connect + `timeoutMs` is db_timeout.
 */
export async function withConnection<T>(target: MysqlTarget, connectTimeoutMs: number, timeoutMs: number, work: (conn: Connection) => Promise<T>): Promise<T> {
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

/** Streams rows and stops reading after maxRows + 1, so a huge result never sits in memory. */
export function run(conn: Connection, sql: string, params: readonly SqlValue[], limits: QueryLimits): Promise<QueryResult> {
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
      reject(error instanceof Error ? error : new Error(String(error)));
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
