// Signing and checking tools.lock.json: the served tool definitions (from the real McpServer factory), their digests and detached Ed25519 signatures.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import { loadConfig } from '../../src/config.ts';
import { referenceTools } from '../../src/mcp/tool-definitions.ts';
import { digestTool, INTEGRITY_META_KEY, CANONICAL_VERSION } from '../../src/security/integrity/canonical.ts';
import { ToolLockSchema } from '../../src/security/integrity/lock.ts';
import { signDetached, TOOL_SIGNATURE_ALG } from '../../src/security/integrity/signature.ts';
import { verifyTools } from '../../src/security/integrity/verify.ts';

/** Raised for a problem the user must fix (bad key, unreadable lock); `exitCode` says which. */
export class ToolLockError extends Error {
  /** @param {string} message @param {number} exitCode */
  constructor(message, exitCode) {
    super(message);
    this.name = 'ToolLockError';
    this.exitCode = exitCode;
  }
}

/** Every tool the server can serve (the catalog and the conformance pack), exactly as tools/list returns it. */
export async function allServedTools() {
  return referenceTools(loadConfig({ ENABLE_CONFORMANCE_PACK: 'true' }));
}

/** A new private Ed25519 JWK with `kid` = its RFC 7638 thumbprint. */
export async function generateToolKey() {
  const { privateKey } = await generateKeyPair(TOOL_SIGNATURE_ALG, { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
  jwk.alg = TOOL_SIGNATURE_ALG;
  return jwk;
}

/**
 * Parses a private Ed25519 JWK (JSON text) into the key, its kid and its public JWK.
 * @param {string} text @param {string} source where it came from, for messages
 */
export async function parseToolKey(text, source) {
  let jwk;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new ToolLockError(`${source} is not JSON (expected a private Ed25519 JWK)`, 3);
  }
  if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new ToolLockError(`${source} is not a private Ed25519 JWK (kty OKP, crv Ed25519, with d and x)`, 3);
  }
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  if (jwk.kid !== undefined && jwk.kid !== kid) throw new ToolLockError(`${source}: kid ${jwk.kid} is not the key's RFC 7638 thumbprint (${kid})`, 3);
  const privateKey = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, TOOL_SIGNATURE_ALG);
  return { privateKey, kid, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: TOOL_SIGNATURE_ALG, use: 'sig' } };
}

/**
 * Signs every served tool; returns the lock object (tools sorted by name).
 * @param {Awaited<ReturnType<typeof allServedTools>>} tools @param {Awaited<ReturnType<typeof parseToolKey>>} key
 */
export async function buildLock(tools, key) {
  const entries = {};
  for (const { entry, scope, pack } of [...tools].sort((a, b) => compare(a.entry.name, b.entry.name))) {
    const { bytes, digest } = await digestTool(entry, scope);
    const definition = JSON.parse(JSON.stringify(entry));
    if (definition._meta) delete definition._meta[INTEGRITY_META_KEY];
    entries[entry.name] = { pack, scope, digest, jws: await signDetached(bytes, key.privateKey, key.kid), definition };
  }
  return ToolLockSchema.parse({
    $comment: 'Written by `npm run tools -- sign`; checked by `npm run tools -- verify` and by the server at start-up. Public keys and signatures only.',
    version: 1,
    canonical: { version: CANONICAL_VERSION, serialization: 'RFC8785', digest: 'SHA-256' },
    metaKey: INTEGRITY_META_KEY,
    jwks: { keys: [key.publicJwk] },
    tools: entries,
  });
}

/** Reads and parses a lock file. @param {string} file */
export function readLock(file) {
  if (!existsSync(file)) throw new ToolLockError(`${file} does not exist: run npm run tools -- sign`, 3);
  let raw;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ToolLockError(`${file} is not JSON: ${error.message}`, 3);
  }
  const parsed = ToolLockSchema.safeParse(raw);
  if (!parsed.success) throw new ToolLockError(`${file} is not a valid tool lock: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 3);
  return parsed.data;
}

/** Writes a lock file (stable: two-space JSON, trailing newline). @param {string} file @param {object} lock */
export function writeLock(file, lock) {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
}

/**
 * Compares the served tools with a lock: one line per tool, `ok` only when every tool is locked,
 * matches, verifies, and no locked tool has disappeared.
 * @param {Awaited<ReturnType<typeof allServedTools>>} tools @param {import('../../src/security/integrity/lock.ts').ToolLock} lock
 */
export async function checkLock(tools, lock) {
  const verdict = await verifyTools(tools, lock);
  /** @type {{ tool: string, status: string, message: string }[]} */
  const lines = [];
  for (const { entry, pack } of tools) {
    const meta = verdict.passed.get(entry.name);
    if (!meta) continue;
    if (lock.tools[entry.name]?.pack !== pack) lines.push({ tool: entry.name, status: 'changed', message: `${entry.name}: now in the ${pack} pack, locked as ${lock.tools[entry.name]?.pack}` });
    else lines.push({ tool: entry.name, status: 'ok', message: `${entry.name}: ok ${meta.digest} (kid ${meta.kid})` });
  }
  for (const failure of verdict.failed) {
    const status = failure.problem === 'digest_mismatch' ? 'changed' : failure.problem === 'not_in_lock' ? 'unsigned' : 'bad_signature';
    lines.push({ tool: failure.tool, status, message: failure.message });
  }
  const served = new Set(tools.map((t) => t.entry.name));
  for (const name of Object.keys(lock.tools)) {
    if (!served.has(name)) lines.push({ tool: name, status: 'removed', message: `${name}: in the lock but no longer served` });
  }
  lines.sort((a, b) => compare(a.tool, b.tool));
  return { ok: lines.every((l) => l.status === 'ok'), lines };
}

function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
