// The `--reference` section of `npm run bench`: runs bench/compare.mjs, prints the issue-14 table, writes bench/results/reference.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCENARIO_COUNT, referenceTable, runReference } from './compare.mjs';

/** Set-up allowance plus 1.5× the planned load of every round. */
export function referenceWatchdogMs(opts) {
  const per = (Number(opts.warmup) + Number(opts.duration)) * 1000;
  return 240_000 + Math.round(1.5 * SCENARIO_COUNT * Number(opts.rounds) * per);
}

/** Runs the comparison; returns the exit code (1 when a scenario failed in every round). */
export async function referenceMain({ root, opts, signal, say, cleanups }) {
  const rounds = Number(opts.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 9)) {
    process.stderr.write('bench: --rounds must be 1..9\n');
    return 2;
  }
  const settings = { connections: Number(opts.connections), warmupMs: Math.round(Number(opts.warmup) * 1000), durationMs: Math.round(Number(opts.duration) * 1000), rounds };
  say(`reference comparison: ${settings.connections} connections, ${rounds} rounds of ${settings.durationMs / 1000} s per scenario; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const report = await runReference({ root, ...settings, signal, say, cleanups });
  report.machine = { cpus: os.cpus().length, loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) };
  const file = path.join(root, 'bench/results/reference.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nMedians of ${rounds} rounds, workerd through Miniflare (every server), ${settings.connections} connections, ${settings.durationMs / 1000} s per round; CPU = the server's workerd process CPU time per answered iteration.\n\n${referenceTable(report)}\n\nJSON: ${path.relative(root, file)}\n`);
  return Object.values(report.medians).some((m) => m.rounds === 0) ? 1 : 0;
}
