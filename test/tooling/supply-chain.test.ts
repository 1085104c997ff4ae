// The offline supply-chain checks (bin/lib/supply-chain.mjs): lockfile sources and hashes, the reviewed dependency list, and how npm's audit answers are read (unavailable is never a pass).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module without type declarations
import * as supply from '../../bin/lib/supply-chain.mjs';

interface Result {
  name: string;
  status: 'passed' | 'failed' | 'unavailable';
  detail: string;
  lines?: string[];
}
type Lock = { packages: Record<string, Record<string, unknown>> };
const { checkDependencies, checkLockfile, interpretAudit, interpretSignatures, productionPackages } = supply as {
  checkDependencies: (o: { lock: Lock; reviewed: unknown }) => Result;
  checkLockfile: (o: { lockfilePath: string; registry: string }) => Result;
  interpretAudit: (o: { code: number; stdout: string; stderr: string; timedOut: boolean }) => Result;
  interpretSignatures: (o: { code: number; stdout: string; stderr: string; timedOut: boolean }) => Result;
  productionPackages: (lock: Lock) => Array<{ name: string; version: string; license: string; chain: string[] }>;
};

const REGISTRY = 'https://registry.example.test/';
const HASH = `sha512-${'A'.repeat(86)}==`;

/** A small lockfile: app → a → b (production), and a dev tool d that also uses b. */
function lockfile(overrides: Record<string, Record<string, unknown>> = {}): Lock {
  return {
    packages: {
      '': { name: 'app', dependencies: { a: '1.0.0' }, devDependencies: { d: '1.0.0' } },
      'node_modules/a': { version: '1.0.0', integrity: HASH, license: 'MIT', dependencies: { b: '^2.0.0' } },
      'node_modules/b': { version: '2.0.0', integrity: HASH, license: 'ISC' },
      'node_modules/d': { version: '1.0.0', integrity: HASH, license: 'MIT', dev: true, dependencies: { b: '^2.0.0' } },
      ...overrides,
    },
  };
}

function writeLock(lock: Lock): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'lock-')), 'package-lock.json');
  writeFileSync(file, JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, ...lock }));
  return file;
}

const REVIEWED = {
  licenses: ['MIT', 'ISC'],
  packages: { a: { versions: ['1.0.0'], license: 'MIT', why: 'the app needs it' }, b: { versions: ['2.0.0'], license: 'ISC', why: 'via a' } },
};

describe('lockfile', () => {
  it('passes packages from the configured registry (no resolved) and https URLs on its host, each with sha512', () => {
    const lock = lockfile({ 'node_modules/b': { version: '2.0.0', integrity: HASH, license: 'ISC', resolved: `${REGISTRY}b/-/b-2.0.0.tgz` } });
    const result = checkLockfile({ lockfilePath: writeLock(lock), registry: REGISTRY });
    expect(result).toMatchObject({ status: 'passed' });
  });

  it('refuses plain http, another host and a missing integrity hash, naming each package', () => {
    const lock = lockfile({
      'node_modules/a': { version: '1.0.0', integrity: HASH, license: 'MIT', resolved: 'http://registry.example.test/a/-/a-1.0.0.tgz' },
      'node_modules/b': { version: '2.0.0', integrity: HASH, license: 'ISC', resolved: 'https://evil.example.test/b/-/b-2.0.0.tgz' },
      'node_modules/d': { version: '1.0.0', license: 'MIT', dev: true },
    });
    const result = checkLockfile({ lockfilePath: writeLock(lock), registry: REGISTRY });
    expect(result.status).toBe('failed');
    const text = (result.lines ?? []).join('\n');
    expect(text).toContain('node_modules/a: not https');
    expect(text).toContain('node_modules/b: from evil.example.test, not the registry');
    expect(text).toContain('node_modules/d: no sha512 integrity hash');
  });

  it('refuses a sha1 integrity hash and a registry configured over http', () => {
    const lock = lockfile({ 'node_modules/b': { version: '2.0.0', integrity: 'sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=', license: 'ISC' } });
    const result = checkLockfile({ lockfilePath: writeLock(lock), registry: 'http://registry.example.test/' });
    expect(result.status).toBe('failed');
    expect((result.lines ?? []).join('\n')).toMatch(/configured registry is not https[\s\S]*node_modules\/b: no sha512 integrity hash/);
  });

  it("passes this repository's own lockfile", () => {
    expect(checkLockfile({ lockfilePath: path.resolve('package-lock.json'), registry: REGISTRY }).status).toBe('passed');
  });
});

describe('reviewed dependencies', () => {
  it('lists production packages with the chain that brings them in, and not dev-only ones', () => {
    expect(productionPackages(lockfile()).map((p) => [p.name, p.chain.join(' > ')])).toEqual([
      ['a', 'a'],
      ['b', 'a > b'],
    ]);
  });

  it('follows a required peer but not an optional one, and skips a platform binary only dev tools need', () => {
    const lock = lockfile({
      'node_modules/a': { version: '1.0.0', integrity: HASH, license: 'MIT', dependencies: { b: '^2.0.0' }, peerDependencies: { p: '1', q: '1' }, peerDependenciesMeta: { q: { optional: true } } },
      'node_modules/p': { version: '1.0.0', integrity: HASH, license: 'MIT', peer: true },
      'node_modules/q': { version: '1.0.0', integrity: HASH, license: 'MIT', devOptional: true },
      'node_modules/d': { version: '1.0.0', integrity: HASH, license: 'MIT', dev: true, optionalDependencies: { 'd-linux': '1' } },
      'node_modules/d-linux': { version: '1.0.0', integrity: HASH, license: 'MPL-2.0', optional: true },
      'node_modules/orphan': { version: '1.0.0', integrity: HASH, license: 'MIT', optional: true },
    });
    expect(productionPackages(lock).map((p) => [p.name, p.chain.join(' > ')])).toEqual([
      ['a', 'a'],
      ['b', 'a > b'],
      ['orphan', '(marked production in the lockfile)'],
      ['p', 'a > p'],
    ]);
  });

  it('passes when every production package, version and license is reviewed', () => {
    expect(checkDependencies({ lock: lockfile(), reviewed: REVIEWED })).toMatchObject({ status: 'passed' });
  });

  it('fails on a new transitive package and prints a draft entry to review', () => {
    const lock = lockfile({ 'node_modules/b': { version: '2.0.0', integrity: HASH, license: 'ISC', dependencies: { c: '1' } }, 'node_modules/c': { version: '1.0.0', integrity: HASH, license: 'MIT' } });
    const result = checkDependencies({ lock, reviewed: REVIEWED });
    expect(result.status).toBe('failed');
    expect(result.lines).toEqual([expect.stringMatching(/^c@1\.0\.0 \(MIT\) is not on the reviewed list; brought in by a > b > c; draft: .*"why":"via a > b"/)]);
  });

  it('fails on an unreviewed version and on a license that is not allowed', () => {
    const lock = lockfile({ 'node_modules/b': { version: '2.1.0', integrity: HASH, license: 'GPL-3.0' } });
    const lines = checkDependencies({ lock, reviewed: REVIEWED }).lines ?? [];
    expect(lines).toContain('b@2.1.0 is not a reviewed version (reviewed: 2.0.0)');
    expect(lines).toContain('b@2.1.0: license GPL-3.0 is not allowed (allowed: MIT, ISC)');
  });

  it("passes this repository's lockfile against docs/dependencies.json", () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as Lock;
    const reviewed = JSON.parse(readFileSync('docs/dependencies.json', 'utf8')) as unknown;
    expect(checkDependencies({ lock, reviewed })).toMatchObject({ status: 'passed' });
  });
});

describe('npm audit answers', () => {
  const none = { code: 0, stderr: '', timedOut: false };

  it('a 405 from the advisory service is unavailable, not passed', () => {
    const stdout = JSON.stringify({ message: '405 Method Not Allowed - POST https://registry.example.test/-/npm/v1/security/advisories/bulk', statusCode: 405 });
    expect(interpretAudit({ ...none, code: 1, stdout })).toMatchObject({ status: 'unavailable', detail: expect.stringContaining('E405') });
  });

  it('a timeout is unavailable', () => {
    expect(interpretAudit({ ...none, code: 1, stdout: '', timedOut: true }).status).toBe('unavailable');
  });

  it('a report with a high advisory fails and names the package', () => {
    const stdout = JSON.stringify({ vulnerabilities: { mysql2: { severity: 'high' }, x: { severity: 'low' } }, metadata: { vulnerabilities: { low: 1, moderate: 0, high: 1, critical: 0, total: 2 } } });
    expect(interpretAudit({ ...none, code: 1, stdout })).toMatchObject({ status: 'failed', lines: ['mysql2 (high)'] });
  });

  it('a report with only lower advisories passes', () => {
    const stdout = JSON.stringify({ vulnerabilities: {}, metadata: { vulnerabilities: { low: 2, moderate: 1, high: 0, critical: 0, total: 3 } } });
    expect(interpretAudit({ ...none, stdout })).toMatchObject({ status: 'passed' });
  });

  it('an unexplained npm failure fails rather than passing', () => {
    expect(interpretAudit({ ...none, code: 1, stdout: '', stderr: 'npm error code EUSAGE\nnpm error something odd' }).status).toBe('failed');
  });

  it('signatures: an unreachable key service is unavailable; an invalid signature fails; all valid passes', () => {
    const unreachable = JSON.stringify({ error: { code: 'ENOTFOUND', summary: 'request to the key service failed, reason: getaddrinfo ENOTFOUND' } });
    expect(interpretSignatures({ ...none, code: 1, stdout: unreachable }).status).toBe('unavailable');
    const invalid = JSON.stringify({ invalid: [{ name: 'jose', version: '6.2.18', code: 'EINTEGRITYSIGNATURE' }], missing: [] });
    expect(interpretSignatures({ ...none, code: 1, stdout: invalid })).toMatchObject({ status: 'failed', lines: ['jose@6.2.18: invalid EINTEGRITYSIGNATURE'] });
    expect(interpretSignatures({ ...none, stdout: JSON.stringify({ invalid: [], missing: [] }) }).status).toBe('passed');
  });
});
