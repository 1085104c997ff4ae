#!/usr/bin/env node
// `npm run release`: builds the exact deploy bundle, its SBOM and a signed in-toto/SLSA statement (DSSE, Ed25519) into release/; the key comes from a secret, never from the repository.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSigningKeyPair, keyId } from './lib/dsse.mjs';
import { BUNDLE_BUDGET_GZIP_BYTES, buildRelease, ROOT, sha256 } from './lib/release.mjs';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(ROOT, 'release') },
    env: { type: 'string', default: '' },
    'key-file': { type: 'string' },
    'allow-dirty': { type: 'boolean', default: false },
    'generate-key': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`Usage: npm run release [-- --out DIR] [--env NAME] [--key-file FILE] [--allow-dirty]
  Builds the deploy bundle (wrangler deploy --dry-run --outdir DIR/bundle), the SBOM of what ships
  (DIR/sbom.cdx.json) and the signed statement (DIR/release.dsse.json); fails over the size budget.
  The Ed25519 signing key (PKCS#8 PEM) comes from RELEASE_SIGNING_KEY (the PEM itself, e.g. a CI
  secret), RELEASE_SIGNING_KEY_FILE or --key-file. Then: npm run deploy (verifies, then uploads).
       npm run release -- --generate-key DIR
  Writes a new key pair to DIR (outside the repository): release-signing.key (secret) and
  release-signing.pub.pem (commit this one as release-signing.pub.pem at the repository root).
`);
  process.exit(0);
}

/** True when a path is inside the repository (where a private key must never be written). */
function insideRepository(p) {
  const rel = path.relative(ROOT, path.resolve(p));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

if (values['generate-key']) {
  const dir = values['generate-key'];
  if (insideRepository(dir)) {
    process.stderr.write('Refused: a private signing key is never written inside the repository; choose a folder outside it.\n');
    process.exit(2);
  }
  const pair = generateSigningKeyPair();
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'release-signing.key'), pair.privateKeyPem, { mode: 0o600 });
  chmodSync(path.join(dir, 'release-signing.key'), 0o600);
  writeFileSync(path.join(dir, 'release-signing.pub.pem'), pair.publicKeyPem);
  process.stdout.write(`wrote ${path.join(dir, 'release-signing.key')} (secret) and ${path.join(dir, 'release-signing.pub.pem')} (key id ${keyId(pair.publicKeyPem)})\n`);
  process.exit(0);
}

function signingKey() {
  if (process.env.RELEASE_SIGNING_KEY) return process.env.RELEASE_SIGNING_KEY;
  const file = values['key-file'] ?? process.env.RELEASE_SIGNING_KEY_FILE;
  if (file) return readFileSync(file, 'utf8');
  process.stderr.write('No signing key: set RELEASE_SIGNING_KEY (the PEM) or RELEASE_SIGNING_KEY_FILE, or pass --key-file (npm run release -- --help).\n');
  process.exit(2);
}

const privateKeyPem = signingKey();
try {
  const made = buildRelease({ out: values.out, privateKeyPem, env: values.env, allowDirty: values['allow-dirty'], log: (line) => process.stdout.write(`[release] ${line}\n`) });
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const within = made.size.gzip <= BUNDLE_BUDGET_GZIP_BYTES;
  process.stdout.write(`[release] bundle ${made.main}: ${kib(made.size.raw)}, ${kib(made.size.gzip)} gzip; budget ${kib(BUNDLE_BUDGET_GZIP_BYTES)} gzip: ${within ? 'within' : 'OVER'}\n`);
  process.stdout.write(`[release] SBOM: ${made.components} packages ship in the bundle\n`);
  process.stdout.write(`[release] signed statement: ${path.join(values.out, 'release.dsse.json')} (sha256 ${sha256(Buffer.from(made.envelope.payload, 'base64'))}, key id ${made.envelope.signatures[0].keyid})\n`);
  process.stdout.write(`[release] commit ${made.statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit}${made.statement.predicate.buildDefinition.internalParameters.dirty ? ' (with uncommitted changes)' : ''}\n`);
  if (!within) {
    process.stderr.write('The bundle is over its size budget (BUNDLE_BUDGET_GZIP_BYTES in bin/lib/release.mjs): find what grew before raising it.\n');
    process.exit(1);
  }
} catch (error) {
  process.stderr.write(`release failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
