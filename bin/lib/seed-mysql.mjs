// Shared MySQL/MariaDB seeding logic (schema, demo rows, read-only user) for bin/seed.mjs and test support.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { DEMO_TABLES, MYSQL_DDL } from '../../src/db/schema.ts';
import { SEED_COLUMNS, SEED_COUNTS, demoRows } from '../../src/db/seed-data.ts';

/** Rows per INSERT statement. */
export const BATCH_SIZE = 500;

/** An error in the caller's input (bad URL, missing option): the CLI maps it to exit code 2. */
export class UsageError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses a `mysql://user:pass@host:port/db` connection string.
 * @param {string} url
 * @returns {{ user: string, password: string, host: string, port: number, database: string }}
 */
export function parseMysqlUrl(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('the connection string is not a valid URL (expected mysql://user:pass@host:port/db)');
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new UsageError(`the connection string must start with mysql:// (got ${parsed.protocol}//)`);
  }
  if (!parsed.hostname) throw new UsageError('the connection string has no host');
  const user = decodeURIComponent(parsed.username);
  if (!user) throw new UsageError('the connection string has no user name');
  const port = parsed.port ? Number(parsed.port) : 3306;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database.includes('/')) throw new UsageError(`invalid database name in the connection string: ${database}`);
  // IPv6 literals come back bracketed from URL; mysql2 wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { user, password: decodeURIComponent(parsed.password), host, port, database };
}

/**
 * Builds a `mysql://` connection string; `password: null` masks it as `***`.
 * @param {{ user: string, password: string | null, host: string, port: number, database: string }} parts
 * @returns {string}
 */
export function formatMysqlUrl({ user, password, host, port, database }) {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const secret = password === null ? '***' : encodeURIComponent(password);
  return `mysql://${encodeURIComponent(user)}:${secret}@${hostPart}:${port}/${encodeURIComponent(database)}`;
}

/**
 * A random password safe to put in a URL unescaped.
 * @returns {string}
 */
export function randomPassword() {
  return randomBytes(18).toString('base64url');
}

/**
 * Creates the database, applies MYSQL_DDL, inserts the demo rows idempotently and creates the read-only user.
 * Safe to run again: tables use IF NOT EXISTS, rows use INSERT IGNORE (and full tables are skipped),
 * the user uses CREATE USER IF NOT EXISTS. Never logs passwords.
 * @param {object} options
 * @param {string} options.adminUrl admin connection string; its path names the database unless `database` is given
 * @param {string} [options.database] database to create and seed (overrides the URL's path)
 * @param {string} [options.readerUser] read-only user name (default `mcp_reader`)
 * @param {string} [options.readerPassword] its password; required if the user does not exist yet
 * @param {string} [options.readerHost] host part of the account (default `%`)
 * @param {(line: string) => void} [options.log] progress printer (default: silent)
 * @returns {Promise<{ readerUrl: string | null, maskedReaderUrl: string, database: string, counts: Record<string, number>, readerCreated: boolean }>}
 *   `readerUrl` is null when no password was given (an existing user was reused).
 */
export async function seedMysql({ adminUrl, database, readerUser = 'mcp_reader', readerPassword, readerHost = '%', log = () => {} }) {
  const admin = parseMysqlUrl(adminUrl);
  const dbName = database ?? admin.database;
  if (!dbName) throw new UsageError('no database name: put it in the URL path (mysql://user:pass@host:port/support) or pass --database');
  if (!readerUser) throw new UsageError('the reader user name is empty');
  if (readerUser === admin.user) throw new UsageError('the reader user must differ from the admin user');

  const base = {
    host: admin.host,
    port: admin.port,
    user: admin.user,
    password: admin.password,
    multipleStatements: false,
    connectTimeout: 10_000,
    charset: 'utf8mb4',
    dateStrings: true,
  };

  // 1. Fail fast if the reader cannot be created, then the database, created without selecting one (it may not exist yet).
  const bootstrap = await mysql.createConnection(base);
  let exists;
  try {
    exists = await accountExists(bootstrap, readerUser, readerHost);
    if (!exists && !readerPassword) {
      throw new UsageError(
        `user '${readerUser}'@'${readerHost}' does not exist yet, so a password is required to create it: ` +
          'pass --reader-password or set MYSQL_READER_PASSWORD',
      );
    }
    const [result] = await bootstrap.query('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', [dbName]);
    log(`database ${dbName}: ${/** @type {any} */ (result).warningStatus ? 'already exists' : 'created'}`);
  } finally {
    await bootstrap.end().catch(() => {});
  }

  const conn = await mysql.createConnection({ ...base, database: dbName });
  try {
    // 2. Schema, one statement at a time.
    for (const ddl of MYSQL_DDL) await conn.query(ddl);
    log(`schema: ${MYSQL_DDL.length} statements applied (${DEMO_TABLES.join(', ')})`);

    // 3. Demo rows, in batches, parents before children.
    const rows = /** @type {Record<string, unknown[][]>} */ (/** @type {unknown} */ (demoRows()));
    /** @type {Record<string, number>} */
    const counts = {};
    for (const table of DEMO_TABLES) {
      const expected = SEED_COUNTS[table];
      const before = await countRows(conn, table);
      if (before >= expected) {
        counts[table] = before;
        log(`${table}: ${before} rows (already seeded)`);
        continue;
      }
      const columns = SEED_COLUMNS[table];
      const all = rows[table] ?? [];
      for (let i = 0; i < all.length; i += BATCH_SIZE) {
        await conn.query('INSERT IGNORE INTO ?? (??) VALUES ?', [table, columns, all.slice(i, i + BATCH_SIZE)]);
      }
      const after = await countRows(conn, table);
      counts[table] = after;
      log(`${table}: ${after} rows${before ? ` (${after - before} added)` : ''}`);
      if (after < expected) log(`warning: ${table} holds ${after} rows, expected ${expected}`);
    }

    // 4. The read-only user: SELECT on this database only.
    await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [readerUser, readerHost, readerPassword ?? '']);
    if (exists && readerPassword) {
      // Keep the printed connection string true when re-run with a (new) password.
      await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [readerUser, readerHost, readerPassword]);
    }
    await conn.query('GRANT SELECT ON ??.* TO ?@?', [dbName, readerUser, readerHost]);
    log(
      `user '${readerUser}'@'${readerHost}': ${exists ? (readerPassword ? 'exists, password updated' : 'exists, password unchanged') : 'created'}; SELECT granted on ${dbName}.*`,
    );
    for (const extra of await extraGrants(conn, readerUser, readerHost, dbName)) {
      log(`warning: '${readerUser}'@'${readerHost}' also holds: ${extra} (not read-only; revoke it)`);
    }

    const parts = { user: readerUser, host: admin.host, port: admin.port, database: dbName };
    return {
      readerUrl: readerPassword ? formatMysqlUrl({ ...parts, password: readerPassword }) : null,
      maskedReaderUrl: formatMysqlUrl({ ...parts, password: null }),
      database: dbName,
      counts,
      readerCreated: !exists,
    };
  } finally {
    await conn.end().catch(() => {});
  }
}

/**
 * @param {import('mysql2/promise').Connection} conn
 * @param {string} table
 */
async function countRows(conn, table) {
  const [rows] = await conn.query('SELECT COUNT(*) AS n FROM ??', [table]);
  return Number(/** @type {any} */ (rows)[0].n);
}

/**
 * Whether an account exists, without reading mysql.user (managed servers may hide it).
 * @param {import('mysql2/promise').Connection} conn
 * @param {string} user
 * @param {string} host
 */
async function accountExists(conn, user, host) {
  try {
    await conn.query('SHOW GRANTS FOR ?@?', [user, host]);
    return true;
  } catch (error) {
    if (/** @type {any} */ (error).errno === 1141) return false; // ER_NONEXISTING_GRANT
    throw error;
  }
}

/**
 * Grants beyond USAGE and SELECT on the seeded database (a pre-existing account may hold more).
 * @param {import('mysql2/promise').Connection} conn
 * @param {string} user
 * @param {string} host
 * @param {string} db
 */
async function extraGrants(conn, user, host, db) {
  const [rows] = await conn.query('SHOW GRANTS FOR ?@?', [user, host]);
  const selectOnDb = `GRANT SELECT ON ${mysql.escapeId(db)}.* TO`;
  return /** @type {any[]} */ (rows)
    .map((row) => String(Object.values(row)[0]))
    .filter((grant) => !/^GRANT USAGE ON \*\.\* TO/i.test(grant) && !grant.startsWith(selectOnDb))
    .map((grant) => grant.replace(/ IDENTIFIED BY .*$/i, ''));
}

/**
 * Creates the audit database and table (src/db/schema.ts MYSQL_AUDIT_DDL) and a writer user with
 * INSERT and SELECT on that table only; idempotent. Returns the writer's connection string.
 * @param {{ adminUrl: string, database?: string, writerUser?: string, writerPassword: string, writerHost?: string }} options
 */
export async function seedAudit({ adminUrl, database = 'mcp_audit', writerUser = 'mcp_audit', writerPassword, writerHost = '%' }) {
  const { MYSQL_AUDIT_DDL } = await import('../../src/db/schema.ts');
  const admin = parseMysqlUrl(adminUrl);
  if (!writerPassword) throw new UsageError('the audit writer needs a password');
  const conn = await mysql.createConnection({ host: admin.host, port: admin.port, user: admin.user, password: admin.password, multipleStatements: false, connectTimeout: 10_000 });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(database)} CHARACTER SET utf8mb4`);
    await conn.query(`USE ${mysql.escapeId(database)}`);
    for (const ddl of MYSQL_AUDIT_DDL) await conn.query(ddl);
    await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [writerUser, writerHost, writerPassword]);
    await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [writerUser, writerHost, writerPassword]);
    await conn.query('GRANT INSERT, SELECT ON ??.audit_events TO ?@?', [database, writerUser, writerHost]);
  } finally {
    await conn.end();
  }
  return { writerUrl: formatMysqlUrl({ user: writerUser, password: writerPassword, host: admin.host, port: admin.port, database }) };
}
