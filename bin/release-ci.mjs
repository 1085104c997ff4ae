#!/usr/bin/env node
// CI's release check: a release with a throw-away key (deploy dry run, size budget, SBOM against the reviewed list), its verification, a refused tampered copy, and wrangler's dry run on the verified bundle; last line "N passed, M failed".
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSigningKeyPair } from './lib/dsse.mjs';
import { BUNDLE_BUDGET_GZIP_BYTES, buildRelease, ROOT } from './lib/release.mjs';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'own-mcp-release-ci-'));
const results = [];
function report(name, ok, detail) {
  results.push(ok);
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}\n`);
}
function deploy(args) {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'bin/deploy.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: run.status ?? 1, text: `${run.stdout}${run.stderr}`.trim() };
}

try {
  // A throw-away key made for this run only; the real key is a CI secret (docs/supply-chain.md).
  const pair = generateSigningKeyPair();
  const publicKeyFile = path.join(scratch, 'release-signing.pub.pem');
  writeFileSync(publicKeyFile, pair.publicKeyPem);
  const out = path.join(scratch, 'release');
  let made;
  try {
    made = buildRelease({ out, privateKeyPem: pair.privateKeyPem, allowDirty: true, builderId: 'urn:own-mcp-server:builder:ci-check' });
    report('deploy dry run', true, `wrangler deploy --dry-run built ${made.statement.subject.length} files`);
  } catch (error) {
    report('deploy dry run', false, error instanceof Error ? error.message : String(error));
  }
  if (made) {
    const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
    report('bundle size', made.size.gzip <= BUNDLE_BUDGET_GZIP_BYTES, `${made.main} ${kib(made.size.raw)} raw, ${kib(made.size.gzip)} gzip, budget ${kib(BUNDLE_BUDGET_GZIP_BYTES)} gzip (${Math.round((100 * made.size.gzip) / BUNDLE_BUDGET_GZIP_BYTES)}%)`);

    const reviewed = JSON.parse(readFileSync(path.join(ROOT, 'docs/dependencies.json'), 'utf8')).packages;
    const sbom = JSON.parse(readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8'));
    const unreviewed = sbom.components.filter((c) => !reviewed[c.name]?.versions.includes(c.version)).map((c) => `${c.name}@${c.version}`);
    report('SBOM', sbom.bomFormat === 'CycloneDX' && sbom.components.length > 0 && unreviewed.length === 0, `CycloneDX ${sbom.specVersion}, ${sbom.components.length} packages ship${unreviewed.length > 0 ? `; not reviewed: ${unreviewed.join(', ')}` : ', all on docs/dependencies.json'}`);

    const verified = deploy(['--verify-only', '--release', out, '--public-key', publicKeyFile]);
    report('release verification', verified.code === 0, verified.text.split('\n').at(-1) ?? '');

    const tampered = path.join(scratch, 'tampered');
    cpSync(out, tampered, { recursive: true });
    appendFileSync(path.join(tampered, 'bundle', made.main), '\n// tampered\n');
    const refused = deploy(['--verify-only', '--release', tampered, '--public-key', publicKeyFile]);
    report('tampered bundle refused', refused.code === 1 && refused.text.includes('REFUSED'), refused.text.split('\n').at(-1) ?? '');

    const dry = deploy(['--dry-run', '--release', out, '--public-key', publicKeyFile]);
    report('wrangler deploy --no-bundle --dry-run on the verified bundle', dry.code === 0, dry.code === 0 ? 'the verified bundle is what wrangler would upload' : dry.text.slice(-500));
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const passed = results.filter(Boolean).length;
process.stdout.write(`${passed} passed, ${results.length - passed} failed\n`);
process.exit(passed === results.length ? 0 : 1);
