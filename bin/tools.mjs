#!/usr/bin/env node
// `npm run tools -- sign|verify|keygen`: signs the served tool definitions into tools.lock.json and checks that lock.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allServedTools, buildLock, checkLock, generateToolKey, parseToolKey, readLock, ToolLockError, writeLock } from './lib/tool-lock.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_LOCK = path.join(ROOT, 'tools.lock.json');
const DEV_KEY = path.join(ROOT, '.tools-signing-key.json');

const USAGE = `Usage: npm run tools -- <command> [options]

  sign     sign every tool the server can serve (catalog and conformance pack) into the lock
  verify   check the lock against the tools as the server serves them
  keygen   print a new private Ed25519 signing key (JWK) on stdout

Options:
  --lock FILE   the lock file (default tools.lock.json)
  --key FILE    sign: the private key (JWK). Default: the TOOLS_SIGNING_KEY environment
                variable, else .tools-signing-key.json (git-ignored; created on first use)
  --json        verify: one JSON document on stdout

Exit codes:
  0  sign: lock written / verify: every tool matches its signed definition
  1  verify: the lock is stale (a tool changed, is unsigned, was removed, or a signature fails)
  2  usage error
  3  the lock or the key is missing or unreadable
`;

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { command: undefined, lock: DEFAULT_LOCK, key: undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (arg === '--lock' || arg === '--key') {
      const value = argv[++i];
      if (!value) fail(`${arg} needs a file\n\n${USAGE}`, 2);
      opts[arg.slice(2)] = path.resolve(value);
    } else if (arg === '--json') opts.json = true;
    else if (!arg.startsWith('-') && opts.command === undefined) opts.command = arg;
    else fail(`unknown argument: ${arg}\n\n${USAGE}`, 2);
  }
  if (!['sign', 'verify', 'keygen'].includes(opts.command ?? '')) fail(USAGE, 2);
  return opts;
}

async function signingKey(opts) {
  if (opts.key) {
    if (!existsSync(opts.key)) throw new ToolLockError(`${opts.key} does not exist`, 3);
    return parseToolKey(readFileSync(opts.key, 'utf8'), opts.key);
  }
  if (process.env.TOOLS_SIGNING_KEY) return parseToolKey(process.env.TOOLS_SIGNING_KEY, 'TOOLS_SIGNING_KEY');
  if (!existsSync(DEV_KEY)) {
    writeFileSync(DEV_KEY, `${JSON.stringify(await generateToolKey())}\n`, { mode: 0o600 });
    process.stderr.write(`Created a development signing key in ${path.relative(ROOT, DEV_KEY)} (git-ignored). For a team or production lock, keep the key in a secret store and pass it as TOOLS_SIGNING_KEY.\n`);
  }
  return parseToolKey(readFileSync(DEV_KEY, 'utf8'), path.relative(ROOT, DEV_KEY));
}

async function sign(opts) {
  const key = await signingKey(opts);
  const tools = await allServedTools();
  let previous;
  try {
    previous = existsSync(opts.lock) ? readLock(opts.lock) : undefined;
  } catch {
    previous = undefined;
  }
  const lock = await buildLock(tools, key);
  for (const [name, entry] of Object.entries(lock.tools)) {
    const before = previous?.tools[name];
    const status = !before ? 'new' : before.digest === entry.digest ? 'unchanged' : 'changed';
    process.stderr.write(`${status.padEnd(9)} ${name} ${entry.digest}\n`);
  }
  for (const name of Object.keys(previous?.tools ?? {})) if (!lock.tools[name]) process.stderr.write(`removed   ${name}\n`);
  const oldKids = previous?.jwks.keys.map((k) => k.kid) ?? [];
  if (previous && !oldKids.includes(key.kid)) process.stderr.write(`note: the signing key changed (was ${oldKids.join(', ')}, now ${key.kid}); clients that pinned the old key will see new signatures.\n`);
  writeLock(opts.lock, lock);
  process.stdout.write(`Signed ${Object.keys(lock.tools).length} tools with key ${key.kid} into ${path.relative(process.cwd(), opts.lock) || opts.lock}.\n`);
}

async function verify(opts) {
  const lock = readLock(opts.lock);
  const result = await checkLock(await allServedTools(), lock);
  if (opts.json) process.stdout.write(`${JSON.stringify({ ok: result.ok, lock: path.relative(process.cwd(), opts.lock), tools: result.lines })}\n`);
  else {
    for (const line of result.lines) process.stdout.write(`${line.status === 'ok' ? 'ok ' : 'FAIL'} ${line.message}\n`);
    process.stdout.write(result.ok ? `All ${result.lines.length} tools match their signed definitions.\n` : `The tool lock is stale: after reviewing the changes, run npm run tools -- sign and commit ${path.basename(opts.lock)}.\n`);
  }
  return result.ok ? 0 : 1;
}

const opts = parseArgs(process.argv.slice(2));
try {
  if (opts.command === 'keygen') process.stdout.write(`${JSON.stringify(await generateToolKey())}\n`);
  else if (opts.command === 'sign') await sign(opts);
  else process.exitCode = await verify(opts);
} catch (error) {
  if (error instanceof ToolLockError) fail(error.message, error.exitCode);
  throw error;
}
