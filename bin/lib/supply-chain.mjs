// Software composition checks that work offline: the lockfile's sources and hashes, the reviewed production dependency list, and the npm audit services (reported unavailable when they do not answer).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ParseLockfile, ValidateHost, ValidateHttps, ValidateIntegrity } = require('lockfile-lint-api');

/** A check's verdict: passed, failed, or unavailable (a service did not answer; never counted as passed). */
/** @typedef {{ name: string, status: 'passed' | 'failed' | 'unavailable', detail: string, lines?: string[] }} CheckResult */

/** The package name of a lockfile path (`node_modules/a/node_modules/@s/b` → `@s/b`). */
export function packageName(lockPath) {
  const at = lockPath.lastIndexOf('node_modules/');
  return lockPath.slice(at + 'node_modules/'.length);
}

/** Where `name` resolves from the package at `fromPath`, by Node's lookup, in the lockfile; null if nowhere. */
function resolveIn(packages, fromPath, name) {
  let base = fromPath;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return null;
    const at = base.lastIndexOf('/node_modules/');
    base = at < 0 ? '' : base.slice(0, at);
  }
}

/**
 * Every production package of a lockfile (v2/v3), transitive included: path, name, version,
 * license, and the chain from a direct dependency that brings it in.
 * @param {{ packages: Record<string, any> }} lock
 */
export function productionPackages(lock) {
  const packages = lock.packages ?? {};
  const root = packages[''] ?? {};
  /** @type {Map<string, string[]>} path → chain of names from the root */
  const chains = new Map();
  const queue = [];
  for (const name of Object.keys({ ...root.dependencies, ...root.optionalDependencies })) {
    const at = resolveIn(packages, '', name);
    if (at && !chains.has(at)) {
      chains.set(at, [name]);
      queue.push(at);
    }
  }
  while (queue.length > 0) {
    const at = /** @type {string} */ (queue.shift());
    const entry = packages[at] ?? {};
    // An optional peer (peerDependenciesMeta) is not installed on its account: it is production
    // only when another production path reaches it.
    const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, meta]) => meta?.optional).map(([name]) => name));
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name));
    for (const name of [...Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }), ...peers]) {
      const next = resolveIn(packages, at, name);
      if (next && !chains.has(next) && !packages[next]?.dev) {
        chains.set(next, [...(chains.get(at) ?? []), name]);
        queue.push(next);
      }
    }
  }
  // The walk is the truth; npm's own flags must agree with it (a package npm marks prod that no
  // production path reaches is listed too, so nothing npm would install slips through).
  // npm marks a platform binary `optional` (not dev) even when only dev packages depend on it
  // (lightningcss's builds under vite): such an entry is not production.
  const dependents = new Map();
  for (const [at, entry] of Object.entries(packages)) {
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      dependents.set(name, [...(dependents.get(name) ?? []), at]);
    }
  }
  const onlyDevNeedsIt = (at) => {
    const from = dependents.get(packageName(at)) ?? [];
    return from.length > 0 && from.every((parent) => parent !== '' && (packages[parent]?.dev || packages[parent]?.devOptional));
  };
  for (const [at, entry] of Object.entries(packages)) {
    if (at === '' || entry.dev || entry.devOptional || chains.has(at)) continue;
    if (entry.optional && onlyDevNeedsIt(at)) continue;
    chains.set(at, ['(marked production in the lockfile)']);
  }
  return [...chains.entries()]
    .map(([at, chain]) => ({ path: at, name: packageName(at), version: String(packages[at]?.version ?? ''), license: String(packages[at]?.license ?? 'UNKNOWN'), chain }))
    .sort((a, b) => (a.name === b.name ? a.version.localeCompare(b.version) : a.name < b.name ? -1 : 1));
}

/**
 * Checks the lockfile: every package from https on the allowed host, a sha512 integrity hash on
 * every one (lockfile-lint's validators, plus presence, which lockfile-lint does not require).
 * Entries without `resolved` come from the configured registry (npm's omit-lockfile-registry-resolved),
 * which must itself be https on the allowed host.
 * @param {{ lockfilePath: string, registry: string }} options
 * @returns {CheckResult}
 */
export function checkLockfile({ lockfilePath, registry }) {
  const problems = [];
  let registryUrl;
  try {
    registryUrl = new URL(registry);
  } catch {
    return { name: 'lockfile', status: 'failed', detail: `the registry "${registry}" is not a URL` };
  }
  const host = registryUrl.host;
  if (registryUrl.protocol !== 'https:') problems.push(`the configured registry is not https: ${registry}`);
  const parsed = new ParseLockfile({ lockfilePath, lockfileType: 'npm' }).parseSync();
  const validations = [
    new ValidateHost({ packages: parsed.object }).validate([host], { emptyHostname: false }),
    new ValidateHttps({ packages: parsed.object }).validate(),
    new ValidateIntegrity({ packages: parsed.object }).validate(),
  ];
  for (const v of validations) for (const e of v.errors ?? []) problems.push(String(e.message).trim().split('\n')[0]);
  const lock = JSON.parse(readFileSync(lockfilePath, 'utf8'));
  let count = 0;
  for (const [at, entry] of Object.entries(lock.packages ?? {})) {
    if (at === '' || entry.link) continue;
    count += 1;
    if (typeof entry.integrity !== 'string' || !/^sha512-[A-Za-z0-9+/]{86}==$/.test(entry.integrity)) problems.push(`${at}: no sha512 integrity hash`);
    if (entry.resolved !== undefined) {
      let url;
      try {
        url = new URL(entry.resolved);
      } catch {
        problems.push(`${at}: resolved is not a URL: ${entry.resolved}`);
        continue;
      }
      if (url.protocol !== 'https:') problems.push(`${at}: not https: ${entry.resolved}`);
      if (url.host !== host) problems.push(`${at}: from ${url.host}, not the registry`);
    }
  }
  const unique = [...new Set(problems)];
  if (unique.length > 0) return { name: 'lockfile', status: 'failed', detail: `${unique.length} problem(s) in ${count} packages`, lines: unique };
  return { name: 'lockfile', status: 'passed', detail: `${count} packages: https from the configured registry, sha512 integrity on each (lockfile-lint)` };
}

/**
 * Checks the production packages against the reviewed list: each name and version listed, each
 * license allowed. Prints a draft entry for anything new (to be reviewed before it is added).
 * @param {{ lock: any, reviewed: { licenses: string[], packages: Record<string, { versions: string[], license: string, why: string }> } }} options
 * @returns {CheckResult}
 */
export function checkDependencies({ lock, reviewed }) {
  const allowed = new Set(reviewed.licenses);
  const problems = [];
  const found = productionPackages(lock);
  for (const p of found) {
    const entry = reviewed.packages[p.name];
    if (!entry) problems.push(`${p.name}@${p.version} (${p.license}) is not on the reviewed list; brought in by ${p.chain.join(' > ')}; draft: ${JSON.stringify({ [p.name]: { versions: [p.version], license: p.license, why: `via ${p.chain.slice(0, -1).join(' > ') || 'package.json'}` } })}`);
    else if (!entry.versions.includes(p.version)) problems.push(`${p.name}@${p.version} is not a reviewed version (reviewed: ${entry.versions.join(', ')})`);
    else if (entry.license !== p.license) problems.push(`${p.name}@${p.version}: license ${p.license} in the lockfile, ${entry.license} on the list`);
    if (!allowed.has(p.license)) problems.push(`${p.name}@${p.version}: license ${p.license} is not allowed (allowed: ${[...allowed].join(', ')})`);
  }
  const names = new Set(found.map((p) => p.name));
  const stale = Object.keys(reviewed.packages).filter((n) => !names.has(n));
  if (problems.length > 0) return { name: 'dependencies', status: 'failed', detail: `${problems.length} production dependency problem(s)`, lines: problems };
  return { name: 'dependencies', status: 'passed', detail: `${found.length} production packages (${names.size} names), all reviewed, licenses ${[...new Set(found.map((p) => p.license))].sort().join(', ')}${stale.length > 0 ? `; no longer used (remove from the list): ${stale.join(', ')}` : ''}` };
}

/** Runs a command and collects its output (never throws). */
export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, ...options }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, timedOut: Boolean(error?.killed), stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Error codes that mean the service did not answer (or refused the method), not that something is wrong with us. */
const UNREACHABLE = /^(E(4\d\d|5\d\d)|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ENETUNREACH|EHOSTUNREACH|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|ERR_SOCKET_TIMEOUT)$/;

/** Parses the JSON npm printed; null when it printed none. */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The error code and message of npm's `{ error: … }` or `{ message, statusCode }` answer. */
function npmError(json, stderr) {
  const error = json?.error ?? (json?.statusCode ? json : null);
  const code = error?.code ?? (json?.statusCode ? `E${json.statusCode}` : undefined) ?? /npm error code (\S+)/.exec(stderr)?.[1];
  const message = String(error?.summary ?? error?.message ?? json?.message ?? /npm (?:warn|error) (.*)/.exec(stderr)?.[1] ?? '').split('\n')[0];
  return { code: code ? String(code) : '', message };
}

/**
 * Interprets `npm audit --omit=dev --json`: failed on a high or critical advisory, passed on a
 * report without one, unavailable when the advisory service does not answer.
 * @returns {CheckResult}
 */
export function interpretAudit({ code, stdout, stderr, timedOut }) {
  const name = 'npm audit --omit=dev';
  if (timedOut) return { name, status: 'unavailable', detail: 'the advisory service did not answer in time' };
  const json = parseJson(stdout);
  const counts = json?.metadata?.vulnerabilities;
  if (counts && typeof counts === 'object') {
    const high = Number(counts.high ?? 0) + Number(counts.critical ?? 0);
    const names = Object.entries(json.vulnerabilities ?? {})
      .filter(([, v]) => v?.severity === 'high' || v?.severity === 'critical')
      .map(([n, v]) => `${n} (${v.severity})`);
    if (high > 0) return { name, status: 'failed', detail: `${high} high or critical advisories`, lines: names };
    return { name, status: 'passed', detail: `no high or critical advisory (${Number(counts.total ?? 0)} lower)` };
  }
  const { code: errorCode, message } = npmError(json, stderr);
  if (UNREACHABLE.test(errorCode) || /audit endpoint returned an error|network|getaddrinfo|socket/i.test(message + stderr)) return { name, status: 'unavailable', detail: `the advisory service did not answer: ${errorCode || 'error'} ${message}`.trim() };
  return { name, status: 'failed', detail: `npm audit failed (exit ${code}): ${errorCode} ${message}`.trim() };
}

/**
 * Interprets `npm audit signatures --json`: failed on an invalid signature or attestation,
 * passed when every one verifies, unavailable when the registry's keys cannot be fetched.
 * @returns {CheckResult}
 */
export function interpretSignatures({ code, stdout, stderr, timedOut }) {
  const name = 'npm audit signatures';
  if (timedOut) return { name, status: 'unavailable', detail: 'the key service did not answer in time' };
  const json = parseJson(stdout);
  if (json && Array.isArray(json.invalid)) {
    const invalid = json.invalid.map((p) => `${p.name}@${p.version}: invalid ${p.code ?? 'signature'}`);
    const missing = Array.isArray(json.missing) ? json.missing.length : 0;
    if (invalid.length > 0) return { name, status: 'failed', detail: `${invalid.length} invalid registry signature(s) or attestation(s)`, lines: invalid };
    if (missing > 0) return { name, status: 'failed', detail: `${missing} package(s) without a registry signature`, lines: json.missing.map((p) => `${p.name}@${p.version}: no signature`) };
    return { name, status: 'passed', detail: 'every installed package has a valid registry signature' };
  }
  const { code: errorCode, message } = npmError(json, stderr);
  if (UNREACHABLE.test(errorCode) || /network|getaddrinfo|socket|tuf/i.test(message + stderr)) return { name, status: 'unavailable', detail: `the key service did not answer: ${errorCode || 'error'} ${message}`.trim() };
  return { name, status: 'failed', detail: `npm audit signatures failed (exit ${code}): ${errorCode} ${message}`.trim() };
}
