#!/usr/bin/env node
// `npm run scan`: scans MCP tool definitions for poisoning. `-- --jsonl FILE|-` follows the JSONL contract (docs/scanner.md); no arguments scans this server's own catalog against data/scanner/allowances.json.
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { jsonlScanner } from './lib/scan-jsonl.mjs';

const USAGE = `Usage: npm run -s scan -- --jsonl FILE      scan one tool definition per line, one verdict line per definition
       npm run -s scan -- --jsonl -         the same from standard input
       npm run scan                         scan this server's own tool catalog; fails on a finding without an allowance
Input line:  {"id", "server"?, "name", "description", "inputSchema"?}
Output line: {"id", "flagged": boolean, "score": number in [0,1], "findings": [{"rule", "message", "span"}]}
Exit codes: 0 every line read (flagged or not), 1 some line malformed (see stderr), 2 usage or I/O error;
catalog mode: 0 clean or every finding allowed, 1 a finding without an allowance.
`;

let opts;
try {
  ({ values: opts } = parseArgs({ options: { jsonl: { type: 'string' }, help: { type: 'boolean' } }, strict: true }));
} catch (e) {
  process.stderr.write(`scan: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

if (opts.jsonl === undefined) {
  const { scanCatalog } = await import('./lib/scan-catalog.mjs');
  process.exit(await scanCatalog());
}

/** Output is batched: one write per ~64 KiB, so stdout costs nothing per line. */
let out = '';
const flush = () => {
  if (out) process.stdout.write(out);
  out = '';
};
const scanner = jsonlScanner(
  (line) => {
    out += `${line}\n`;
    if (out.length > 65536) flush();
  },
  (message) => process.stderr.write(`scan: ${message}\n`),
);
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const input = opts.jsonl === '-' ? process.stdin : createReadStream(opts.jsonl);
input.setEncoding('utf8');
input.on('data', (chunk) => scanner.push(chunk));
input.on('error', (e) => {
  flush();
  process.stderr.write(`scan: cannot read ${opts.jsonl}: ${e.message}\n`);
  process.exit(2);
});
input.on('end', () => {
  const bad = scanner.end();
  flush();
  if (bad > 0) process.stderr.write(`scan: ${bad} malformed line(s)\n`);
  process.exitCode = bad > 0 ? 1 : 0;
});
