// Runs the Worker directly on workerd through Miniflare's API: bundle with `wrangler deploy --dry-run`, then `new Miniflare(...)`.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const BUILD_TIMEOUT_MS = 90_000;
/** Signals Miniflare's exit hook listens to. */
const SIGNALS = /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP']);

/**
 * Bundles the Worker as wrangler would deploy it into a fresh temp folder; returns its entry script and a remover.
 * @param {string} root project root (holds wrangler.toml)
 * @param {string} [entry] the bundle's file name (wrangler names it after `main`: index.js for src/index.ts)
 * @param {string} [cwd] where wrangler runs (the folder of the wrangler.toml to build; default `root`)
 */
export async function buildWorker(root, entry = 'index.js', cwd = root) {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'own-mcp-bench-build-'));
  const wrangler = path.join(root, 'node_modules/wrangler/bin/wrangler.js');
  const args = [wrangler, 'deploy', '--dry-run', '--outdir', outdir, '--env', ''];
  const output = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.stderr.on('data', (c) => (text += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`wrangler deploy --dry-run failed (code ${code}, signal ${signal}):\n${text.slice(-3000)}`));
    });
  });
  const scriptPath = path.join(outdir, entry);
  if (!existsSync(scriptPath)) {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(`wrangler deploy --dry-run wrote no ${entry} in its outdir:\n${String(output).slice(-2000)}`);
  }
  return { scriptPath, outdir, remove: () => rmSync(outdir, { recursive: true, force: true }) };
}

/**
 * Loads wrangler's own Miniflare (the one `wrangler dev` uses) and wrangler's config reader.
 * @param {string} root project root
 */
export async function loadTooling(root) {
  const fromWrangler = createRequire(path.join(root, 'node_modules/wrangler/package.json'));
  const miniflarePath = fromWrangler.resolve('miniflare');
  const miniflare = await import(pathToFileURL(miniflarePath).href);
  const fromRoot = createRequire(path.join(root, 'package.json'));
  const wrangler = await import(pathToFileURL(fromRoot.resolve('wrangler')).href);
  const version = fromWrangler('miniflare/package.json').version;
  return { miniflare, readConfig: wrangler.unstable_readConfig, miniflareVersion: version };
}

/**
 * Starts the bundled Worker on workerd via Miniflare on 127.0.0.1:`port`, with the bindings wrangler.toml
 * declares for `env` plus `vars`; `mysqlUrl` and `auditUrl` fill the Hyperdrive bindings. Returns its URL and a disposer.
 * @param {object} options
 * @param {string} options.root project root
 * @param {string} options.scriptPath bundled entry (from buildWorker)
 * @param {number} options.port a free port (the OAuth callback URL names it, so it is chosen beforehand)
 * @param {Awaited<ReturnType<typeof loadTooling>>} options.tooling
 * @param {Record<string, string>} options.vars extra vars (override wrangler.toml)
 * @param {string} [options.mysqlUrl] the read-only mysql:// URL: uses the `mysql` environment and binds HYPERDRIVE to it
 * @param {string} [options.auditUrl] the audit writer's mysql:// URL (INSERT and SELECT on the audit table): AUDIT_HYPERDRIVE
 * @param {(line: string) => void} [options.onLog] receives workerd's warnings and errors
 * @param {number} [options.inspectorPort] opens workerd's V8 inspector there (bench/profile.mjs)
 */
export async function startWorkerd({ root, scriptPath, port, tooling, vars, mysqlUrl, auditUrl, onLog, inspectorPort }) {
  const env = mysqlUrl ? 'mysql' : undefined;
  const config = tooling.readConfig({ config: path.join(root, 'wrangler.toml'), env });
  const sqliteClasses = new Set((config.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  const durableObjects = Object.fromEntries(
    (config.durable_objects?.bindings ?? []).map((b) => [b.name, { className: b.class_name, useSQLite: sqliteClasses.has(b.class_name) }]),
  );
  const hyperdrives = mysqlUrl ? hyperdriveUrls(config.hyperdrive ?? [], { HYPERDRIVE: mysqlUrl, AUDIT_HYPERDRIVE: auditUrl }) : undefined;
  if (mysqlUrl && !hyperdrives?.HYPERDRIVE) throw new Error('wrangler.toml [env.mysql] declares no HYPERDRIVE binding');
  const { Miniflare, convertV4MiniflareOptions } = tooling.miniflare;
  // Miniflare 5 takes the v5 shape; the v4 flat options are converted by its own adapter.
  const v4 = {
    host: '127.0.0.1',
    port,
    modules: true,
    scriptPath,
    modulesRoot: path.dirname(scriptPath), // module names must not climb out of the root ("..")
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    durableObjects,
    ...(config.kv_namespaces?.length ? { kvNamespaces: Object.fromEntries(config.kv_namespaces.map((k) => [k.binding, k.id])) } : {}),
    bindings: { ...config.vars, ...vars },
    ...(hyperdrives ? { hyperdrives } : {}),
    ...(inspectorPort ? { inspectorPort } : {}),
    handleStructuredLogs: onLog ? (/** @type {{ level: string, message: string }} */ log) => {
      if (log.level === 'error' || log.level === 'warn') onLog(`[${log.level}] ${log.message}`);
    } : undefined,
  };
  const before = Object.fromEntries(SIGNALS.map((sig) => [sig, process.listeners(sig)]));
  const mf = new Miniflare(typeof convertV4MiniflareOptions === 'function' ? convertV4MiniflareOptions(v4) : v4);
  // Miniflare's exit hook answers SIGINT/SIGTERM/SIGHUP with an immediate process.exit(), which would cut the
  // caller's asynchronous cleanup short (wrangler dev children and temp folders were left behind). Drop those
  // signal listeners: the caller disposes Miniflare itself, and Miniflare's own 'exit' hook still kills workerd.
  for (const sig of SIGNALS) for (const listener of process.listeners(sig)) if (!before[sig].includes(listener)) process.removeListener(sig, listener);
  let url;
  try {
    url = await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
  if (url.hostname !== '127.0.0.1') {
    await mf.dispose();
    throw new Error(`Miniflare listens on ${url.host}, not 127.0.0.1`);
  }
  return { url: url.origin, dispose: () => mf.dispose() };
}

/**
 * The connection string of each Hyperdrive binding wrangler.toml declares: each binding gets its own user
 * (the reader cannot insert into the audit table, the audit writer cannot read the data). A declared binding
 * without a URL, or one this bench does not know, is an error rather than a silent substitute.
 * @param {Array<{ binding: string }>} declared `config.hyperdrive` of the environment
 * @param {Record<string, string | undefined>} urls URL per binding name
 */
function hyperdriveUrls(declared, urls) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const { binding } of declared) {
    if (!Object.hasOwn(urls, binding)) throw new Error(`wrangler.toml declares a Hyperdrive binding the bench does not know: ${binding}`);
    const url = urls[binding];
    if (!url) throw new Error(`no connection string for the Hyperdrive binding ${binding} (pass ${binding === 'AUDIT_HYPERDRIVE' ? 'auditUrl' : 'mysqlUrl'})`);
    out[binding] = url;
  }
  return out;
}
