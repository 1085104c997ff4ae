// Private throwaway MariaDB servers for tests and benchmarks: start, seed, stop/restart, clean up (`--selftest` checks it all).
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import mysql from 'mysql2/promise';
import { formatMysqlUrl, parseMysqlUrl, randomPassword, seedAudit, seedMysql } from '../../bin/lib/seed-mysql.mjs';

const HOST = '127.0.0.1';
const ADMIN_USER = 'mcp_admin';
const INSTALL_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const KILL_TIMEOUT_MS = 5_000;
const POLL_MS = 200;
/** Unix socket paths are limited to ~108 bytes (sun_path). */
const MAX_SOCKET_PATH = 100;

/**
 * @typedef {object} ServerState
 * @property {string} datadir
 * @property {number} port
 * @property {string[]} extraArgs
 * @property {import('node:child_process').ChildProcess | null} child
 * @property {{ code: number | null, signal: string | null } | null} exited
 * @property {string} stderrTail
 * @property {boolean} removed
 */

/** Every server started by this module and not yet cleaned up; killed and removed if the process exits. */
/** @type {Set<ServerState>} */
const live = new Set();
let handlersInstalled = false;

/** Kills (SIGKILL, synchronously) every server still running and removes its datadir. */
function cleanupAllSync() {
  for (const state of live) {
    const pid = state.child?.pid;
    if (pid && !state.exited) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      rmSync(state.datadir, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
    state.removed = true;
  }
  live.clear();
}

/** Registers (once) exit and signal handlers so no server outlives this process. */
function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupAllSync);
  if (!isMainThread) return; // signals are only delivered to the main thread
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    const onSignal = async () => {
      // Kill, then briefly wait so the children are reaped (no zombies), then remove the datadirs.
      const states = [...live];
      for (const state of states) {
        if (state.child && !state.exited) state.child.kill('SIGKILL');
      }
      await Promise.all(states.map((state) => waitExit(state, KILL_TIMEOUT_MS)));
      cleanupAllSync();
      // If nobody else handles the signal, restore the default behaviour (terminate) by re-raising it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/**
 * Finds an executable by name on PATH, then in the usual system directories (PATH often lacks /usr/sbin).
 * @param {string[]} names candidates, first match wins
 * @returns {string}
 */
export function findBinary(names) {
  const dirs = [
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
    '/usr/sbin',
    '/usr/bin',
    '/usr/local/sbin',
    '/usr/local/bin',
    '/sbin',
    '/bin',
  ];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // keep looking
      }
    }
  }
  throw new Error(`cannot find ${names.join(' or ')} on PATH or in /usr/sbin, /usr/bin, /usr/local/{s,}bin (install mariadb-server)`);
}

/**
 * A TCP port that was free a moment ago (bound on 127.0.0.1:0 and released).
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether we run as root (mariadbd then needs --user). */
function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The `--user=` argument for mariadb-install-db / mariadbd: only meaningful (and allowed) as root. */
function userArgs() {
  return isRoot() ? [`--user=${os.userInfo().username}`] : [];
}

/**
 * The last lines of the server's error log and stderr, for error messages.
 * @param {ServerState} state
 * @param {number} [lines]
 */
async function logTail(state, lines = 30) {
  let log = '';
  try {
    log = await readFile(path.join(state.datadir, 'error.log'), 'utf8');
  } catch {
    // not written yet
  }
  const tail = `${log}\n${state.stderrTail}`.trim().split('\n').slice(-lines).join('\n');
  return tail || '(error log is empty)';
}

/**
 * Runs mariadb-install-db on an empty datadir.
 * @param {string} datadir
 */
async function installDb(datadir) {
  const installer = findBinary(['mariadb-install-db', 'mysql_install_db']);
  const args = [
    '--no-defaults', // must come first
    '--auth-root-authentication-method=normal',
    `--datadir=${datadir}`,
    ...userArgs(),
    '--skip-test-db',
    '--innodb-log-file-size=16M', // passed through to mariadbd --bootstrap; keeps each datadir small
  ];
  await new Promise((resolve, reject) => {
    execFile(installer, args, { timeout: INSTALL_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      if (!error) return resolve(undefined);
      const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n');
      const why = error.killed ? `timed out after ${INSTALL_TIMEOUT_MS / 1000}s` : `exit code ${error.code}`;
      reject(new Error(`${path.basename(installer)} failed (${why}):\n${output}`));
    });
  });
}

/**
 * Spawns mariadbd on the state's datadir and port (does not wait for readiness).
 * @param {ServerState} state
 */
function spawnServer(state) {
  const server = findBinary(['mariadbd', 'mysqld']);
  const args = [
    '--no-defaults', // must come first
    `--datadir=${state.datadir}`,
    `--port=${state.port}`,
    `--bind-address=${HOST}`,
    `--socket=${path.join(state.datadir, 'mysqld.sock')}`,
    `--pid-file=${path.join(state.datadir, 'mariadbd.pid')}`,
    `--log-error=${path.join(state.datadir, 'error.log')}`,
    '--skip-name-resolve',
    '--innodb-log-file-size=16M',
    ...userArgs(),
    ...state.extraArgs,
  ];
  const child = spawn(server, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  state.child = child;
  state.exited = null;
  state.stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk) => {
    state.stderrTail = (state.stderrTail + chunk).slice(-4000);
  });
  child.on('error', (error) => {
    state.stderrTail += `\nspawn error: ${error.message}`;
    if (!state.exited) state.exited = { code: null, signal: null };
  });
  child.on('exit', (code, signal) => {
    state.exited = { code, signal };
  });
  // A forgotten handle must not keep the process alive; the exit handler then kills the server.
  child.unref();
  /** @type {any} */ (child.stderr)?.unref?.();
}

/**
 * Waits until the server accepts a TCP connection with these credentials (at most READY_TIMEOUT_MS);
 * on timeout or early exit, kills the server and throws with the tail of its error log.
 * @param {ServerState} state
 * @param {string} user
 * @param {string} password
 */
async function waitReady(state, user, password) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = 'none';
  while (Date.now() < deadline) {
    if (state.exited) {
      const { code, signal } = state.exited;
      state.child = null;
      throw new Error(`mariadbd exited during start-up (code ${code}, signal ${signal}); error log tail:\n${await logTail(state)}`);
    }
    try {
      const conn = await mysql.createConnection({ host: HOST, port: state.port, user, password, connectTimeout: 2_000 });
      try {
        await conn.query({ sql: 'SELECT 1', timeout: 2_000 });
        return;
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    } catch (error) {
      const e = /** @type {any} */ (error);
      lastError = `${e?.code ?? ''} ${e?.message ?? e}`.trim();
    }
    await sleep(POLL_MS);
  }
  await killChild(state);
  throw new Error(
    `mariadbd did not accept connections on ${HOST}:${state.port} within ${READY_TIMEOUT_MS / 1000}s ` +
      `(last error: ${lastError}); killed it. Error log tail:\n${await logTail(state)}`,
  );
}

/**
 * Resolves when the child has exited or the timeout passes; returns whether it exited.
 * @param {ServerState} state
 * @param {number} ms
 */
function waitExit(state, ms) {
  const child = state.child;
  if (!child || state.exited) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Stops exactly the child we started, by pid: SIGTERM, wait up to STOP_TIMEOUT_MS, then SIGKILL.
 * @param {ServerState} state
 */
async function killChild(state) {
  const child = state.child;
  if (!child) return;
  if (!state.exited) {
    child.kill('SIGTERM');
    if (!(await waitExit(state, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      if (!(await waitExit(state, KILL_TIMEOUT_MS))) {
        throw new Error(`mariadbd (pid ${child.pid}) did not exit after SIGKILL within ${KILL_TIMEOUT_MS / 1000}s`);
      }
    }
  }
  state.child = null;
}

/**
 * @typedef {object} MariaDbHandle
 * @property {string} host always 127.0.0.1
 * @property {number} port TCP port (stable across stopServer/startServer)
 * @property {string} adminUrl `mysql://mcp_admin:<pw>@127.0.0.1:<port>/` (no database; all privileges, with grant option)
 * @property {string} adminUser
 * @property {string} adminPassword
 * @property {string} datadir the temp data directory (also holds error.log and mysqld.sock)
 * @property {number | null} pid pid of the running mariadbd, null while stopped
 * @property {boolean} running whether mariadbd is running
 * @property {() => Promise<void>} stop stop the server and delete the datadir (idempotent)
 * @property {() => Promise<void>} stopServer stop the server, keep the datadir (for restarts)
 * @property {() => Promise<void>} startServer start it again on the same port and datadir; resolves when it accepts connections
 * @property {(lines?: number) => Promise<string>} logTail the last lines of the server's error log
 */

/**
 * Starts a private MariaDB on 127.0.0.1 with a fresh temp datadir and an admin user `mcp_admin` (random password).
 * Root's accounts get a random password too. The server is killed if this process exits.
 * @param {object} [options]
 * @param {number} [options.port] TCP port (default: a free one)
 * @param {string} [options.baseDir] parent of the temp datadir (default: os.tmpdir())
 * @param {string[]} [options.extraArgs] extra mariadbd options, e.g. ['--max-connections=500']
 * @returns {Promise<MariaDbHandle>}
 */
export async function startMariaDb({ port, baseDir = os.tmpdir(), extraArgs = [] } = {}) {
  installExitHandlers();
  await mkdir(baseDir, { recursive: true });
  const datadir = await mkdtemp(path.join(path.resolve(baseDir), 'mcp-mariadb-'));
  /** @type {ServerState} */
  const state = { datadir, port: port ?? 0, extraArgs, child: null, exited: null, stderrTail: '', removed: false };
  live.add(state);
  const adminPassword = randomPassword();
  try {
    const socket = path.join(datadir, 'mysqld.sock');
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      throw new Error(`socket path too long for a Unix socket (${Buffer.byteLength(socket)} bytes): ${socket}; pass a shorter baseDir`);
    }
    await installDb(datadir);

    // A port found free may be taken before mariadbd binds it: retry with another one if we chose it.
    for (let attempt = 1; ; attempt++) {
      if (port === undefined) state.port = await freePort();
      spawnServer(state);
      try {
        await waitReady(state, 'root', '');
        break;
      } catch (error) {
        const bindFailed = /Address already in use|Can't start server: Bind/i.test(String(/** @type {Error} */ (error).message));
        if (port !== undefined || !bindFailed || attempt >= 3) throw error;
      }
    }

    const conn = await mysql.createConnection({ host: HOST, port: state.port, user: 'root', password: '', connectTimeout: 5_000 });
    try {
      await conn.query('CREATE USER ?@? IDENTIFIED BY ?', [ADMIN_USER, '%', adminPassword]);
      await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [ADMIN_USER, '%']);
      // The installer leaves root without a password (root@localhost, @127.0.0.1, @::1, @<hostname>): lock them.
      const rootPassword = randomPassword();
      const [roots] = await conn.query("SELECT User AS user, Host AS host FROM mysql.user WHERE User = 'root'");
      for (const { user, host } of /** @type {any[]} */ (roots)) {
        try {
          await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [user, host, rootPassword]);
        } catch (error) {
          // root@<hostname> is ignored under --skip-name-resolve (cannot log in) and ALTER USER refuses it.
          if (['localhost', '127.0.0.1', '::1'].includes(host)) throw error;
        }
      }
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  } catch (error) {
    await killChild(state).catch(() => {});
    await rm(datadir, { recursive: true, force: true }).catch(() => {});
    live.delete(state);
    throw error;
  }

  const adminUrl = formatMysqlUrl({ user: ADMIN_USER, password: adminPassword, host: HOST, port: state.port, database: '' });

  /** Stops the server, keeps the datadir. */
  const stopServer = async () => {
    await killChild(state);
  };
  /** Starts the server again on the same port and datadir. */
  const startServer = async () => {
    if (state.removed) throw new Error('this MariaDB was stopped for good (its datadir is gone)');
    if (state.child && !state.exited) return;
    state.child = null;
    spawnServer(state);
    await waitReady(state, ADMIN_USER, adminPassword);
  };
  /** Stops the server and deletes the datadir. */
  const stop = async () => {
    try {
      await killChild(state);
    } finally {
      if (!state.removed) {
        await rm(datadir, { recursive: true, force: true });
        state.removed = true;
      }
      live.delete(state);
    }
  };

  return {
    host: HOST,
    port: state.port,
    adminUrl,
    adminUser: ADMIN_USER,
    adminPassword,
    datadir,
    get pid() {
      return state.child && !state.exited ? (state.child.pid ?? null) : null;
    },
    get running() {
      return Boolean(state.child && !state.exited);
    },
    stop,
    stopServer,
    startServer,
    logTail: (lines) => logTail(state, lines),
  };
}

/**
 * Stops and starts a server again on the same port and datadir (data survives).
 * @param {MariaDbHandle} handle
 * @returns {Promise<void>}
 */
export async function restart(handle) {
  await handle.stopServer();
  await handle.startServer();
}

/**
 * Seeds the demo schema and rows and creates a SELECT-only user (same code as `npm run db:seed`); idempotent.
 * @param {object} options
 * @param {string} options.adminUrl admin connection string (e.g. a handle's adminUrl)
 * @param {string} [options.database] database to create (default `support`)
 * @param {string} [options.readerUser] read-only user (default `mcp_reader`)
 * @param {string} [options.readerPassword] its password (default: random)
 * @param {(line: string) => void} [options.log] progress printer (default: silent)
 * @returns {Promise<{ readerUrl: string, database: string, counts: Record<string, number> }>}
 */
export async function seedDemo({ adminUrl, database = 'support', readerUser = 'mcp_reader', readerPassword = randomPassword(), log }) {
  const result = await seedMysql({ adminUrl, database, readerUser, readerPassword, log });
  return { readerUrl: /** @type {string} */ (result.readerUrl), database: result.database, counts: result.counts };
}

/**
 * Creates the audit database, table and writer user; returns the writer's URL (for AUDIT_HYPERDRIVE).
 * @param {{ adminUrl: string }} options
 */
export async function seedAuditDb({ adminUrl }) {
  return seedAudit({ adminUrl, writerPassword: randomPassword() });
}

/**
 * An audit database and writer of the given names (a test's own, dropped by the test).
 * @param {{ adminUrl: string, database: string, writerUser: string }} options
 */
export async function seedNamedAuditDb({ adminUrl, database, writerUser }) {
  return seedAudit({ adminUrl, database, writerUser, writerPassword: randomPassword() });
}

export { purgeAudit } from '../../bin/lib/purge-audit.mjs';
export { formatMysqlUrl, parseMysqlUrl };

/** `node test/support/mariadb.mjs --selftest`: start, seed, check the reader, stop, restart, check, clean up. */
async function selftest() {
  const started = Date.now();
  let failures = 0;
  /** @param {string} message */
  const say = (message) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
  /**
   * @param {string} name
   * @param {() => Promise<string | void>} fn
   */
  const step = async (name, fn) => {
    try {
      const detail = await fn();
      say(`ok   ${name}${detail ? ` — ${detail}` : ''}`);
    } catch (error) {
      failures++;
      say(`FAIL ${name} — ${/** @type {Error} */ (error).message}`);
      throw error;
    }
  };
  /** @param {string} url */
  const connect = (url) => {
    const { user, password, host, port, database } = parseMysqlUrl(url);
    return mysql.createConnection({ host, port, user, password, database, connectTimeout: 5_000 });
  };
  /** @param {string} url */
  const countCustomers = async (url) => {
    const conn = await connect(url);
    try {
      const [rows] = await conn.query('SELECT COUNT(*) AS n FROM customers');
      const n = Number(/** @type {any} */ (rows)[0].n);
      if (n !== 600) throw new Error(`expected 600 customers, got ${n}`);
      return `${n} customers`;
    } finally {
      await conn.end();
    }
  };
  /**
   * @param {string} url
   * @param {string} sql
   */
  const expectDenied = async (url, sql) => {
    const conn = await connect(url);
    try {
      await conn.query(sql);
    } catch (error) {
      const e = /** @type {any} */ (error);
      if (/ACCESS_DENIED|DENIED/.test(String(e.code))) return `${e.code} (${e.errno})`;
      throw new Error(`expected access denied, got ${e.code}: ${e.message}`, { cause: error });
    } finally {
      await conn.end();
    }
    throw new Error(`reader was allowed to run: ${sql}`);
  };
  /** @param {number} pid */
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** @type {MariaDbHandle | undefined} */
  let db;
  try {
    await step('start', async () => {
      db = await startMariaDb();
      return `pid ${db.pid}, port ${db.port}, datadir ${db.datadir}`;
    });
    const handle = /** @type {MariaDbHandle} */ (/** @type {unknown} */ (db));
    /** @type {string} */
    let readerUrl = '';
    await step('seed', async () => {
      ({ readerUrl } = await seedDemo({ adminUrl: handle.adminUrl, log: (line) => say(`       ${line}`) }));
      return readerUrl.replace(/:[^:@/]*@/, ':***@');
    });
    await step('seed again (idempotent)', async () => {
      const password = parseMysqlUrl(readerUrl).password;
      const again = await seedDemo({ adminUrl: handle.adminUrl, readerPassword: password });
      const expected = { customers: 600, orders: 2400, tickets: 1200 };
      if (JSON.stringify(again.counts) !== JSON.stringify(expected)) throw new Error(`counts changed: ${JSON.stringify(again.counts)}`);
      return JSON.stringify(again.counts);
    });
    await step('reader: SELECT COUNT(*) FROM customers = 600', () => countCustomers(readerUrl));
    await step('reader: INSERT denied', () =>
      expectDenied(readerUrl, "INSERT INTO customers VALUES (9999, 'x', 'x@x', 'x', 'GB', 'free', '2024-01-01 00:00:00')"),
    );
    await step('reader: DELETE denied', () => expectDenied(readerUrl, 'DELETE FROM customers WHERE id = 1'));
    await step('reader: CREATE TABLE denied', () => expectDenied(readerUrl, 'CREATE TABLE sneaky (id INT)'));
    const firstPid = /** @type {number} */ (handle.pid);
    await step('stopServer (keep datadir)', async () => {
      await handle.stopServer();
      if (alive(firstPid)) throw new Error(`pid ${firstPid} still alive`);
      try {
        await (await connect(readerUrl)).end();
      } catch (error) {
        return `pid ${firstPid} gone; connect now fails with ${/** @type {any} */ (error).code}`;
      }
      throw new Error('still accepting connections after stopServer');
    });
    await step('startServer (same port, same datadir)', async () => {
      await handle.startServer();
      return `pid ${handle.pid}, port ${handle.port}`;
    });
    await step('reader after restart: SELECT COUNT(*) FROM customers = 600', () => countCustomers(readerUrl));
    await step('reader after restart: INSERT denied', () =>
      expectDenied(readerUrl, "INSERT INTO customers VALUES (9999, 'x', 'x@x', 'x', 'GB', 'free', '2024-01-01 00:00:00')"),
    );
    await step('restart() helper', async () => {
      await restart(handle);
      return countCustomers(readerUrl);
    });
    const lastPid = /** @type {number} */ (handle.pid);
    await step('stop (kill + remove datadir)', async () => {
      await handle.stop();
      if (alive(lastPid)) throw new Error(`pid ${lastPid} still alive`);
      try {
        await readFile(path.join(handle.datadir, 'error.log'));
      } catch {
        return `pid ${lastPid} gone, ${handle.datadir} removed`;
      }
      throw new Error(`datadir ${handle.datadir} still exists`);
    });
    db = undefined;
  } catch (error) {
    // step() already reported its own failure; anything else is reported here.
    if (!failures) {
      failures++;
      say(`FAIL ${/** @type {Error} */ (error).message}`);
    }
  } finally {
    if (db) await db.stop().catch((error) => say(`cleanup failed: ${error.message}`));
  }
  say(failures ? `selftest FAILED (${failures} failure${failures > 1 ? 's' : ''})` : 'selftest passed');
  process.exitCode = failures ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--selftest')) {
    await selftest();
  } else {
    process.stderr.write('usage: node test/support/mariadb.mjs --selftest\n');
    process.exitCode = 2;
  }
}
