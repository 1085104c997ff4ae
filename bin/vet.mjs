#!/usr/bin/env node
// `npm run vet -- <url>`: vets a third-party MCP server: lists every tool, scans each, pins whole-definition digests (trust on first use), reports rug pulls and look-alike names.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectError, listRemoteTools } from './lib/vet-client.mjs';
import { readVetLock, VetLockError, writeVetLock } from './lib/vet-lock.mjs';
import { EXIT, formatReport, vetServer } from './lib/vet-report.mjs';
import { loadScanner } from './lib/vet-scan.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run vet -- <url> [options]

Connects to the MCP server at <url> (streamable HTTP), lists every tool, scans each with the
poisoning scanner and pins each tool's whole-definition digest (RFC 8785, SHA-256) in the lock
on first use. Later runs report changed definitions (which fields), new and removed tools, and
tool names that collide with or look like ours or another vetted server's.

Options:
  --bearer TOKEN         send Authorization: Bearer TOKEN
  --api-key KEY          send X-API-Key: KEY (for a key sent as a bearer token, use --bearer)
  --header 'Name: value' send this header (repeatable)
  --lock FILE            the lock file (default vetted-servers.lock.json)
  --accept               re-pin the current definitions after you reviewed the changes
  --json                 print the report as one JSON document on stdout
  --timeout MS           per-request timeout (default 30000)

Exit codes:
  0  pinned (first run) or unchanged, scanned clean, no name collisions
  1  findings: changed, new or removed tools, scanner flags, or name collisions
  2  usage error, or an unreadable lock file
  3  cannot connect (network, HTTP error, authentication, not an MCP server)
  4  nothing found, but the definitions were NOT scanned (the scanner is unavailable)
`;

function usage(message) {
  process.stderr.write(`${message ? `${message}\n\n` : ''}${USAGE}`);
  process.exit(EXIT.usage);
}

function parseArgs(argv) {
  const opts = { url: undefined, headers: {}, lock: 'vetted-servers.lock.json', json: false, accept: false, timeoutMs: 30_000 };
  const value = (i, name) => {
    const v = argv[i];
    if (v === undefined) usage(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (arg === '--bearer') opts.headers.authorization = `Bearer ${value(++i, arg)}`;
    else if (arg === '--api-key') opts.headers['x-api-key'] = value(++i, arg);
    else if (arg === '--header') {
      const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+):\s*(.*)$/.exec(value(++i, arg));
      if (!match) usage(`--header wants 'Name: value'`);
      opts.headers[match[1].toLowerCase()] = match[2];
    } else if (arg === '--lock') opts.lock = value(++i, arg);
    else if (arg === '--timeout') {
      opts.timeoutMs = Number(value(++i, arg));
      if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 100) usage('--timeout wants milliseconds (100 or more)');
    } else if (arg === '--json') opts.json = true;
    else if (arg === '--accept') opts.accept = true;
    else if (!arg.startsWith('-') && opts.url === undefined) opts.url = arg;
    else usage(`unknown argument: ${arg}`);
  }
  if (!opts.url) usage('a server URL is required');
  let url;
  try {
    url = new URL(opts.url);
  } catch {
    usage(`not a URL: ${opts.url}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') usage('the URL must be http(s)');
  opts.url = url.href;
  return opts;
}

/** Our own tool names (all of them, conformance pack included), from the signed tool lock. */
function ourToolNames() {
  const file = path.join(ROOT, 'tools.lock.json');
  if (!existsSync(file)) return [];
  return Object.keys(JSON.parse(readFileSync(file, 'utf8')).tools ?? {});
}

const opts = parseArgs(process.argv.slice(2));
const progress = (line) => process.stderr.write(`[vet] ${line}\n`);
let lock;
try {
  lock = readVetLock(opts.lock);
} catch (error) {
  if (error instanceof VetLockError) usage(error.message);
  throw error;
}
let listing;
try {
  listing = await listRemoteTools(opts.url, { headers: opts.headers, timeoutMs: opts.timeoutMs, progress });
} catch (error) {
  if (!(error instanceof ConnectError)) throw error;
  if (opts.json) process.stdout.write(`${JSON.stringify({ url: opts.url, error: error.message, exitCode: EXIT.connect })}\n`);
  process.stderr.write(`${error.message}\n`);
  process.exit(EXIT.connect);
}
progress(`${listing.tools.length} tools in ${listing.pages} page(s)`);
const scanner = await loadScanner();
if (!scanner.available) progress(scanner.reason);
const { report, nextLock } = await vetServer({ url: opts.url, listing, lock, ourTools: ourToolNames(), scanner, accept: opts.accept, now: new Date(), progress });
if (nextLock) {
  writeVetLock(opts.lock, nextLock);
  progress(`pinned ${listing.tools.length} tools of ${opts.url} in ${opts.lock}`);
}
process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report));
process.exit(report.exitCode);
