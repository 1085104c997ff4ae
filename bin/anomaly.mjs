#!/usr/bin/env node
// `npm run -s anomaly -- --jsonl FILE`: replays recorded tool calls through the baseline engine, one JSON verdict per line on stdout.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DEFAULT_SETTINGS, newBaseline, observe, score } from '../src/security/baseline/index.ts';

const USAGE = 'usage: npm run -s anomaly -- --jsonl FILE\n  FILE: recorded calls in time order, one JSON object per line ("-" reads stdin)\n  prints {"id","score","alert","reasons"} per call; exit 0 clean, 1 some lines skipped, 2 usage or file error\n';
const KINDS = new Set(['person', 'agent', 'machine']);
const STATUSES = new Set(['ok', 'error', 'denied']);
// ISO 8601 date and time; without a zone it is read as UTC, as the contract says times are
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$/;

function usage(message) {
  if (message) process.stderr.write(`anomaly: ${message}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

function parseArgs(argv) {
  let file = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--jsonl') {
      if (file !== null) usage('--jsonl given twice');
      file = argv[++i];
      if (file === undefined) usage('--jsonl needs a file');
    } else if (arg.startsWith('--jsonl=')) file = arg.slice(8);
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (file === null || file === '') usage('--jsonl FILE is required');
  return file;
}

const optionalNumber = (v) => v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
const optionalString = (v) => v === undefined || v === null || typeof v === 'string';

/** A recorded call from one line, or the reason it is malformed. */
function parseLine(line) {
  let rec;
  try {
    rec = JSON.parse(line);
  } catch (err) {
    return { error: `not JSON (${err.message})` };
  }
  if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return { error: 'not a JSON object' };
  if (!(typeof rec.id === 'string' || typeof rec.id === 'number')) return { error: '"id" must be a string or a number' };
  if (typeof rec.ts !== 'string' || !ISO.test(rec.ts)) return { error: '"ts" must be an ISO 8601 time' };
  const zoned = /(Z|z|[+-]\d{2}(:?\d{2})?)$/.test(rec.ts.slice(16));
  const at = Date.parse(zoned ? rec.ts.replace(' ', 'T') : `${rec.ts.replace(' ', 'T')}Z`);
  if (!Number.isFinite(at)) return { error: '"ts" is not a valid time' };
  if (typeof rec.principal !== 'string' || rec.principal === '') return { error: '"principal" must be a non-empty string' };
  if (!KINDS.has(rec.kind)) return { error: '"kind" must be "person", "agent" or "machine"' };
  if (typeof rec.tool !== 'string' || rec.tool === '') return { error: '"tool" must be a non-empty string' };
  if (rec.args === null || typeof rec.args !== 'object' || Array.isArray(rec.args)) return { error: '"args" must be an object' };
  if (!STATUSES.has(rec.status)) return { error: '"status" must be "ok", "error" or "denied"' };
  if (!optionalNumber(rec.rows)) return { error: '"rows" must be a non-negative number' };
  if (!optionalNumber(rec.bytes)) return { error: '"bytes" must be a non-negative number' };
  if (!optionalString(rec.ip)) return { error: '"ip" must be a string' };
  if (!optionalString(rec.userAgent)) return { error: '"userAgent" must be a string' };
  return {
    id: rec.id,
    principal: rec.principal,
    kind: rec.kind,
    call: { at, tool: rec.tool, args: rec.args, status: rec.status, rows: rec.rows ?? undefined, bytes: rec.bytes ?? undefined, ip: rec.ip || undefined, userAgent: rec.userAgent || undefined },
  };
}

const file = parseArgs(process.argv.slice(2));
let input;
if (file === '-') input = process.stdin;
else {
  try {
    if (!statSync(file).isFile()) usage(`${file} is not a file`);
  } catch (err) {
    process.stderr.write(`anomaly: cannot read ${file}: ${err.code ?? err.message}\n`);
    process.exit(2);
  }
  input = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  input.on('error', (err) => {
    process.stderr.write(`anomaly: cannot read ${file}: ${err.code ?? err.message}\n`);
    process.exit(2);
  });
}
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const states = new Map();
let skipped = 0;
let lineNo = 0;
let out = [];
let outChars = 0;

async function flush() {
  if (out.length === 0) return;
  const chunk = out.join('');
  out = [];
  outChars = 0;
  if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

const lines = createInterface({ input, crlfDelay: Infinity });
for await (const raw of lines) {
  lineNo++;
  const line = raw.trim();
  if (line === '') continue;
  const parsed = parseLine(line);
  if (parsed.error) {
    skipped++;
    process.stderr.write(`anomaly: line ${lineNo}: skipped, ${parsed.error}\n`);
    continue;
  }
  let state = states.get(parsed.principal);
  if (!state) {
    state = newBaseline(DEFAULT_SETTINGS);
    states.set(parsed.principal, state);
  }
  const verdict = score(state, parsed.call, DEFAULT_SETTINGS);
  observe(state, parsed.call, DEFAULT_SETTINGS, parsed.kind);
  const text = `${JSON.stringify({ id: parsed.id, score: verdict.score, alert: verdict.alert, reasons: verdict.reasons })}\n`;
  out.push(text);
  outChars += text.length;
  if (outChars > 1 << 16) await flush();
}
await flush();
if (skipped > 0) process.stderr.write(`anomaly: ${skipped} malformed line${skipped > 1 ? 's' : ''} skipped\n`);
process.exitCode = skipped > 0 ? 1 : 0;
