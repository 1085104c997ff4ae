#!/usr/bin/env node
// `npm run supply-chain`: the offline dependency checks (lockfile, reviewed production dependencies) and npm's audit services (unavailable when they do not answer); last line "N passed, M failed".
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDependencies, checkLockfile, interpretAudit, interpretSignatures, run } from './lib/supply-chain.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
if (args.has('--help') || args.has('-h')) {
  process.stdout.write(`Usage: npm run supply-chain [-- --offline]
  lockfile       every package from https on the allowed registry host, sha512 integrity on each
  dependencies   every production package (transitive too) and its license on docs/dependencies.json
  npm audit --omit=dev, npm audit signatures
                 fail on a high/critical advisory or a bad signature; UNAVAILABLE when the service does not answer
  --offline      skip the two npm services (reported as UNAVAILABLE)
The allowed registry host is SUPPLY_CHAIN_REGISTRY if set, else \`npm config get registry\`.
`);
  process.exit(0);
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The registry packages may come from: SUPPLY_CHAIN_REGISTRY, or npm's configured one. */
function allowedRegistry() {
  if (process.env.SUPPLY_CHAIN_REGISTRY) return process.env.SUPPLY_CHAIN_REGISTRY;
  return execFileSync(NPM, ['config', 'get', 'registry'], { cwd: ROOT, encoding: 'utf8' }).trim();
}

function print(result) {
  const label = { passed: 'PASS', failed: 'FAIL', unavailable: 'UNAVAILABLE' }[result.status];
  process.stdout.write(`${label.padEnd(12)}${result.name}: ${result.detail}\n`);
  for (const line of result.lines?.slice(0, 50) ?? []) process.stdout.write(`              ${line}\n`);
  if ((result.lines?.length ?? 0) > 50) process.stdout.write(`              … and ${result.lines.length - 50} more\n`);
}

const results = [];
const lockfilePath = path.join(ROOT, 'package-lock.json');
try {
  results.push(checkLockfile({ lockfilePath, registry: allowedRegistry() }));
} catch (error) {
  results.push({ name: 'lockfile', status: 'failed', detail: error instanceof Error ? error.message : String(error) });
}
print(results.at(-1));
try {
  const lock = JSON.parse(readFileSync(lockfilePath, 'utf8'));
  const reviewed = JSON.parse(readFileSync(path.join(ROOT, 'docs/dependencies.json'), 'utf8'));
  results.push(checkDependencies({ lock, reviewed }));
} catch (error) {
  results.push({ name: 'dependencies', status: 'failed', detail: error instanceof Error ? error.message : String(error) });
}
print(results.at(-1));

if (args.has('--offline')) {
  results.push({ name: 'npm audit --omit=dev', status: 'unavailable', detail: 'skipped (--offline)' }, { name: 'npm audit signatures', status: 'unavailable', detail: 'skipped (--offline)' });
  print(results.at(-2));
  print(results.at(-1));
} else {
  // Few retries and short timeouts: a service that does not answer is reported, not waited for.
  const quick = ['--fetch-retries=0', '--fetch-timeout=20000'];
  const [audit, signatures] = await Promise.all([
    run(NPM, ['audit', '--omit=dev', '--json', '--audit-level=high', ...quick], { cwd: ROOT, timeoutMs: 90_000 }),
    run(NPM, ['audit', 'signatures', '--json', ...quick], { cwd: ROOT, timeoutMs: 90_000 }),
  ]);
  results.push(interpretAudit(audit));
  print(results.at(-1));
  results.push(interpretSignatures(signatures));
  print(results.at(-1));
}

const passed = results.filter((r) => r.status === 'passed').length;
const failed = results.filter((r) => r.status === 'failed').length;
const unavailable = results.filter((r) => r.status === 'unavailable').length;
process.stdout.write(`${passed} passed, ${failed} failed${unavailable > 0 ? `, ${unavailable} unavailable (not counted as passed)` : ''}\n`);
process.exit(failed > 0 ? 1 : 0);
