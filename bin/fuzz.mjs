#!/usr/bin/env node
// `npm run fuzz`: every fuzz edge with 10,000 inputs (bounded in time per edge) against the real runtime: the workers-project edges through Miniflare (SELF.fetch), the e2e edges against `wrangler dev`. Prints a per-edge summary and fails with the shrunk counter-examples.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    'time-per-edge': { type: 'string', default: '180' },
    only: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  process.stdout.write(`npm run fuzz -- [--runs 10000] [--seed N] [--time-per-edge SECONDS] [--only mcp|credentials|oauth|admin|e2e]
  Runs every fuzz edge with --runs inputs (default 10,000), each edge stopping after --time-per-edge seconds
  (default 180; the summary says how many inputs ran). --seed replays a run exactly (the seed is printed).
`);
  process.exit(0);
}

const seed = flags.seed ?? String(Math.floor(Math.random() * 2 ** 31));
const files = flags.only === 'e2e' ? ['test/e2e/fuzz-'] : flags.only ? [`test/integration/fuzz-${flags.only}`] : ['test/integration/fuzz-', 'test/e2e/fuzz-'];
const env = { ...process.env, FUZZ_RUNS: flags.runs, FUZZ_SEED: seed, FUZZ_TIME_MS: String(Number(flags['time-per-edge']) * 1000) };
process.stdout.write(`[fuzz] ${flags.runs} inputs per edge, at most ${flags['time-per-edge']} s each, seed ${seed}\n`);

const started = Date.now();
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
// The whole test output goes to a log beside the JSON report (the terminal gets the summary).
const log = createWriteStream(path.join(ROOT, 'bench/results', `fuzz-${stamp}.log`));
const summaries = [];
let tail = '';
const child = spawn(process.execPath, [path.join(ROOT, 'bin/test.mjs'), ...files], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
child.stdout.on('data', (chunk) => {
  log.write(chunk);
  const text = tail + chunk.toString();
  const lines = text.split('\n');
  tail = lines.pop() ?? '';
  for (const raw of lines) {
    // eslint-disable-next-line no-control-regex -- strip the terminal colours of the test reporter
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
    const at = line.indexOf('FUZZ-SUMMARY ');
    if (at >= 0) {
      try {
        summaries.push(JSON.parse(line.slice(at + 'FUZZ-SUMMARY '.length)));
      } catch {
        // a summary cut by the reporter: the table will miss it
      }
      continue;
    }
    if (/^\s*(✓|×|❯|FAIL|Test Files|Tests|\d+ passed)/.test(line) || line.startsWith('[test]') || line.startsWith('[fuzz')) process.stdout.write(`${line}\n`);
  }
});
const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));

const pad = (s, n) => String(s).padEnd(n);
const rows = summaries.map((s) => `${pad(s.edge, 16)} ${pad(s.inputs, 7)} ${pad(s.failures, 9)} ${pad(`${(s.ms / 1000).toFixed(1)} s`, 9)} ${Object.entries(s.statuses ?? {}).map(([k, v]) => `${k}:${v}`).join(' ')}`);
process.stdout.write(`\n[fuzz] seed ${seed}, ${((Date.now() - started) / 1000).toFixed(0)} s in all\n${pad('edge', 16)} ${pad('inputs', 7)} ${pad('failures', 9)} ${pad('time', 9)} answers\n${rows.join('\n')}\n`);
for (const s of summaries) {
  for (const f of s.invariants) process.stdout.write(`\n✗ ${s.edge}: ${f.invariant} (${f.count}×)\n  seen: ${f.detail}\n  shrunk (${f.shrinks} steps): ${f.counterexample}\n`);
}
log.end();
const file = path.join(ROOT, 'bench/results', `fuzz-${stamp}.json`);
writeFileSync(file, `${JSON.stringify({ seed: Number(seed), runsPerEdge: Number(flags.runs), timePerEdgeSeconds: Number(flags['time-per-edge']), summaries }, null, 2)}\n`);
process.stdout.write(`\n[fuzz] report: ${path.relative(ROOT, file)} (test output: ${path.relative(ROOT, file.replace(/\.json$/, '.log'))})\n`);
process.exit(summaries.some((s) => s.failures > 0) ? 1 : code);
