// The signed release (bin/lib/release.mjs, bin/deploy.mjs): a release is signed with a throw-away key, then every kind of tampering is refused before wrangler could run (the real wrangler build is CI's `npm run release:check`, kept out of the test run's CPU).
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module without type declarations
import * as dsse from '../../bin/lib/dsse.mjs';
// @ts-expect-error -- plain ES module without type declarations
import * as release from '../../bin/lib/release.mjs';

type Verdict = { ok: true; statement: { subject: Array<{ name: string; digest: { sha256: string } }> }; mainModule: string } | { ok: false; reason: string };
interface Envelope {
  payloadType: string;
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}
const { signRelease, verifyRelease, bundledPackages, shippedSbom, BUILD_TYPE } = release as {
  signRelease: (o: { out: string; privateKeyPem: string; main: string; command: string; commit: string; dirty: boolean; tools: Record<string, string> }) => { statement: Record<string, unknown> };
  bundledPackages: (metafile: unknown, lock: unknown) => string[];
  shippedSbom: (sbom: unknown, lock: unknown, packages: string[]) => { components: Array<{ name: string }>; dependencies: Array<{ ref: string; dependsOn: string[] }> };
  verifyRelease: (o: { dir: string; publicKeyPem: string; root?: string }) => Verdict;
  BUILD_TYPE: string;
};
const { generateSigningKeyPair, pae, signEnvelope } = dsse as {
  generateSigningKeyPair: () => { privateKeyPem: string; publicKeyPem: string };
  pae: (type: string, body: Buffer) => Buffer;
  signEnvelope: (o: { payloadType: string; payload: Buffer; privateKeyPem: string }) => Envelope;
};

const ROOT = path.resolve('.');
let scratch: string;
let good: string;
let keys: { privateKeyPem: string; publicKeyPem: string };
const main = 'index.js';

/** A copy of the good release to tamper with. */
function copyOfRelease(name: string): string {
  const dir = path.join(scratch, name);
  cpSync(good, dir, { recursive: true });
  return dir;
}

function readEnvelope(dir: string): Envelope {
  return JSON.parse(readFileSync(path.join(dir, 'release.dsse.json'), 'utf8')) as Envelope;
}

function refusal(dir: string, publicKeyPem = keys.publicKeyPem, root = ROOT): string {
  const verdict = verifyRelease({ dir, publicKeyPem, root });
  expect(verdict.ok).toBe(false);
  return verdict.ok ? '' : verdict.reason;
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'own-mcp-release-test-'));
  keys = generateSigningKeyPair();
  good = path.join(scratch, 'good');
  // A release directory as npm run release lays it out: the bundle, its SBOM, then the signature.
  mkdirSync(path.join(good, 'bundle'), { recursive: true });
  writeFileSync(path.join(good, 'bundle', main), 'export default { fetch() { return new Response("ok"); } };\n//# sourceMappingURL=index.js.map\n');
  writeFileSync(path.join(good, 'bundle', 'index.js.map'), '{"version":3,"sources":[],"mappings":""}\n');
  writeFileSync(path.join(good, 'sbom.cdx.json'), `${JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ 'bom-ref': 'jose@6.2.18', name: 'jose', version: '6.2.18' }] }, null, 2)}\n`);
  signRelease({ out: good, privateKeyPem: keys.privateKeyPem, main, command: 'wrangler deploy --dry-run --outdir bundle', commit: 'a'.repeat(40), dirty: false, tools: { node: process.version } });
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('DSSE', () => {
  it('PAE is the spec encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('lengths are in bytes, not characters', () => {
    expect(pae('t', Buffer.from('é')).toString('utf8')).toBe('DSSEv1 1 t 2 é');
  });
});

describe('release', () => {
  it('signs an in-toto v1 statement with a SLSA provenance v1 predicate over every bundle file, the lockfile and the SBOM', () => {
    const envelope = readEnvelope(good);
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: BUILD_TYPE,
          resolvedDependencies: expect.arrayContaining([
            { uri: 'git+source', digest: { gitCommit: expect.stringMatching(/^[0-9a-f]{40}$/) } },
            { name: 'package-lock.json', digest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } },
          ]),
        },
        runDetails: { byproducts: [{ name: 'sbom.cdx.json', digest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } }] },
      },
    });
    expect(statement.subject.map((s: { name: string }) => s.name)).toContain(`bundle/${main}`);
  });

  it('the SBOM keeps exactly the packages esbuild put into the bundle, with their edges, and refuses a dev package', () => {
    const lock = {
      packages: {
        '': {},
        'node_modules/jose': { version: '6.2.18' },
        'node_modules/zod': { version: '4.6.7' },
        'node_modules/a/node_modules/zod': { version: '3.25.0' },
        'node_modules/express': { version: '5.3.0' },
        'node_modules/vitest': { version: '4.1.12', dev: true },
      },
    };
    const metafile = { inputs: { 'src/index.ts': {}, '../x/node_modules/jose/dist/index.js': {}, 'node_modules/a/node_modules/zod/v3/index.js': {}, 'node_modules/jose/dist/jwt.js': {} } };
    const packages = bundledPackages(metafile, lock);
    expect(packages).toEqual(['node_modules/a/node_modules/zod', 'node_modules/jose']);
    const component = (name: string, version: string, dev = false) => ({ 'bom-ref': `${name}@${version}`, name, version, ...(dev ? { properties: [{ name: 'cdx:npm:package:development', value: 'true' }] } : {}) });
    const full = {
      bomFormat: 'CycloneDX',
      metadata: { component: { 'bom-ref': 'app@1.0.0' } },
      components: [component('jose', '6.2.18'), component('zod', '4.6.7'), component('zod', '3.25.0'), component('express', '5.3.0'), component('vitest', '4.1.12', true)],
      dependencies: [
        { ref: 'app@1.0.0', dependsOn: ['jose@6.2.18', 'express@5.3.0'] },
        { ref: 'express@5.3.0', dependsOn: ['zod@3.25.0'] },
        { ref: 'jose@6.2.18', dependsOn: [] },
      ],
    };
    const shipped = shippedSbom(full, lock, packages);
    expect(shipped.components.map((c) => `${c.name}`)).toEqual(['jose', 'zod']);
    expect(shipped.dependencies).toEqual([
      { ref: 'app@1.0.0', dependsOn: ['jose@6.2.18'] },
      { ref: 'jose@6.2.18', dependsOn: [] },
    ]);
    const withDev = { ...lock, packages: { ...lock.packages, 'node_modules/vitest': { version: '4.1.12' } } };
    expect(() => shippedSbom(full, withDev, ['node_modules/vitest'])).toThrow('development packages are in the deploy bundle: vitest@4.1.12');
    // npm sbom folds two copies of one name@version into one component, flagged development when
    // either is: a production copy in the bundle is not refused for its dev twin elsewhere.
    const twins = { ...lock, packages: { ...lock.packages, 'node_modules/mimetext/node_modules/mime-types': { version: '2.1.35' }, 'node_modules/koa/node_modules/mime-types': { version: '2.1.35', dev: true } } };
    const folded = { ...full, components: [...full.components, component('mime-types', '2.1.35', true)] };
    expect(shippedSbom(folded, twins, [...packages, 'node_modules/mimetext/node_modules/mime-types']).components.map((c) => c.name)).toContain('mime-types');
    expect(() => shippedSbom(folded, twins, [...packages, 'node_modules/koa/node_modules/mime-types'])).toThrow('development packages are in the deploy bundle: mime-types@2.1.35');
  });

  it('verifies untouched', () => {
    expect(verifyRelease({ dir: good, publicKeyPem: keys.publicKeyPem })).toMatchObject({ ok: true, mainModule: main });
  });
});

describe('deploy refuses', () => {
  it('a tampered bundle file', () => {
    const dir = copyOfRelease('bundle');
    appendFileSync(path.join(dir, 'bundle', main), '\nglobalThis.x = 1;\n');
    expect(refusal(dir)).toBe(`bundle file bundle/${main} does not match its signed digest`);
  });

  it('a file added to the bundle', () => {
    const dir = copyOfRelease('added');
    writeFileSync(path.join(dir, 'bundle', 'extra.js'), 'export default {};\n');
    expect(refusal(dir)).toBe('bundle file bundle/extra.js is not in the signed statement');
  });

  it('a tampered statement (a digest changed, the signature kept)', () => {
    const dir = copyOfRelease('statement');
    const envelope = readEnvelope(dir);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    statement.subject[0].digest.sha256 = '0'.repeat(64);
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    writeFileSync(path.join(dir, 'release.dsse.json'), JSON.stringify(envelope));
    expect(refusal(dir)).toMatch(/^signature: no signature verifies with the release public key/);
  });

  it('a statement re-signed with another key after tampering with the bundle', () => {
    const dir = copyOfRelease('resigned');
    appendFileSync(path.join(dir, 'bundle', main), '\n// evil\n');
    const statement = JSON.parse(Buffer.from(readEnvelope(dir).payload, 'base64').toString('utf8'));
    for (const s of statement.subject) if (s.name === `bundle/${main}`) s.digest.sha256 = release.sha256(readFileSync(path.join(dir, 'bundle', main)));
    const attacker = generateSigningKeyPair();
    writeFileSync(path.join(dir, 'release.dsse.json'), JSON.stringify(signEnvelope({ payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(statement)), privateKeyPem: attacker.privateKeyPem })));
    expect(refusal(dir)).toMatch(/^signature: no signature verifies/);
  });

  it('a tampered SBOM', () => {
    const dir = copyOfRelease('sbom');
    const file = path.join(dir, 'sbom.cdx.json');
    const sbom = JSON.parse(readFileSync(file, 'utf8'));
    // Hide a shipped package from whoever reads the SBOM.
    sbom.components = sbom.components.filter((c: { name: string }) => c.name !== 'jose');
    expect(sbom.components).toEqual([]);
    writeFileSync(file, `${JSON.stringify(sbom, null, 2)}\n`);
    expect(refusal(dir)).toBe('the SBOM sbom.cdx.json does not match its signed digest');
  });

  it('the wrong public key', () => {
    expect(refusal(good, generateSigningKeyPair().publicKeyPem)).toMatch(/^signature: no signature verifies with the release public key/);
  });

  it('a lockfile that differs from the one the release was built with', () => {
    const root = path.join(scratch, 'root');
    cpSync(path.join(ROOT, 'wrangler.toml'), path.join(root, 'wrangler.toml'));
    writeFileSync(path.join(root, 'package-lock.json'), readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8').replace('"lockfileVersion": 3', '"lockfileVersion":  3'));
    expect(refusal(good, keys.publicKeyPem, root)).toBe('package-lock.json differs from the one the release was built with');
  });

  it('from the command line: a clear message, exit code 1, and wrangler never runs', { timeout: 60_000 }, () => {
    const dir = copyOfRelease('cli');
    appendFileSync(path.join(dir, 'bundle', main), '\n// tampered\n');
    const publicKeyFile = path.join(scratch, 'release.pub.pem');
    writeFileSync(publicKeyFile, keys.publicKeyPem);
    const run = spawnSync(process.execPath, ['bin/deploy.mjs', '--dry-run', '--release', dir, '--public-key', publicKeyFile], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`deploy REFUSED: bundle file bundle/${main} does not match its signed digest\n`);
    expect(run.stdout).not.toContain('wrangler');
    const ok = spawnSync(process.execPath, ['bin/deploy.mjs', '--verify-only', '--release', good, '--public-key', publicKeyFile], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^verified: signature, \d+ bundle files, the SBOM, package-lock.json and wrangler.toml match the signed statement/);
  });
});
