// Starts the real server (`wrangler dev`) on a free loopback port for end-to-end tests and benchmarks; restartable.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { generateIdSecret, generateSigningKey } from '../../bin/lib/keys.mjs';
import { startIdp } from './idp.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const READY_TIMEOUT_MS = 60_000;

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `wrangler dev` with its own state folder. `mysqlUrl` switches to the `mysql`
 * environment (tools on MySQL; `auditUrl` is the audit writer's URL, required there)
 * environment with that Hyperdrive connection string; `vars` are passed as --var.
 * `logLevel` is wrangler's (default warn; 'log' shows the Worker's console output); `onOutput`
 * receives every chunk of the process's output (`output` keeps only the last 20 KB).
 * `root` runs another copy of the project (its own wrangler.toml and sources; the tool-integrity test edits one).
 * @param {{ mysqlUrl?: string, auditUrl?: string, vars?: Record<string, string>, port?: number, logLevel?: string, onOutput?: (text: string) => void, root?: string }} [options]
 */
export async function startServer(options = {}) {
  const port = options.port ?? (await freePort());
  const inspectorPort = await freePort();
  const state = mkdtempSync(path.join(os.tmpdir(), 'own-mcp-state-'));
  // Its own upstream OpenID provider, which knows this server's callback URLs, and its own signing key.
  const idpSecret = randomBytes(24).toString('base64url');
  const idp = await startIdp({
    clients: [{ client_id: 'own-mcp-e2e', client_secret: idpSecret, redirect_uris: [`http://127.0.0.1:${port}/oauth/callback`, `http://localhost:${port}/oauth/callback`] }],
  });
  const adminSecret = generateIdSecret();
  const authVars = { OAUTH_SIGNING_KEY: await generateSigningKey(), ID_SECRET: generateIdSecret(), ADMIN_SECRET: adminSecret, UPSTREAM_ISSUER: idp.issuer, UPSTREAM_CLIENT_ID: 'own-mcp-e2e', UPSTREAM_CLIENT_SECRET: idpSecret };
  const handle = {
    idp,
    /** The bootstrap admin credential of this server (for /admin and the command-line tool). */
    adminSecret,
    /** Every secret given to the Worker (--var), for tests that look for leaks. */
    secretVars: authVars,
    port,
    url: `http://127.0.0.1:${port}`,
    mcpUrl: `http://127.0.0.1:${port}/mcp`,
    state,
    /** @type {import('node:child_process').ChildProcess | null} */
    child: null,
    output: '',
    async start() {
      const args = [WRANGLER, 'dev', '--port', String(port), '--ip', '127.0.0.1', '--inspector-port', String(inspectorPort), '--persist-to', state, '--log-level', options.logLevel ?? 'warn', '--show-interactive-dev-session=false'];
      if (options.mysqlUrl) args.push('--env', 'mysql');
      for (const [key, value] of Object.entries({ ...authVars, ...(options.vars ?? {}) })) args.push('--var', `${key}:${value}`);
      const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
      if (options.mysqlUrl) {
        env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = options.mysqlUrl;
        // Without a writer the audit flush fails (and retries): events wait in the outboxes.
        env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_AUDIT_HYPERDRIVE = options.auditUrl ?? options.mysqlUrl;
      }
      const child = spawn(process.execPath, args, { cwd: options.root ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      handle.child = child;
      const keep = (chunk) => {
        handle.output = (handle.output + chunk.toString()).slice(-20_000);
        options.onOutput?.(chunk.toString());
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      await waitReady(handle);
    },
    /** Stops the server process (its state folder stays, so a restart keeps every session). */
    async stop() {
      const child = handle.child;
      handle.child = null;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      // Wait until the port is free again so a restart can bind it.
      for (let i = 0; i < 100 && (await listening(port)); i++) await sleep(100);
    },
    async restart() {
      await handle.stop();
      await handle.start();
    },
    /** Stops the server and removes its state folder. */
    async close() {
      await handle.stop();
      await idp.stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

async function waitReady(handle) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!handle.child || handle.child.exitCode !== null) throw new Error(`wrangler dev exited:\n${handle.output}`);
    try {
      const response = await fetch(`${handle.url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await handle.stop();
  throw new Error(`wrangler dev was not ready within ${READY_TIMEOUT_MS} ms:\n${handle.output}`);
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
