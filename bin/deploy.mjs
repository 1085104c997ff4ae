#!/usr/bin/env node
// `npm run deploy`: verifies the signed release (signature, then every digest: bundle, SBOM, lockfile, wrangler.toml) and only then runs `wrangler deploy --no-bundle` on that very bundle; refuses otherwise.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LAYOUT, ROOT, sha256, verifyRelease } from './lib/release.mjs';

const { values } = parseArgs({
  options: {
    release: { type: 'string', default: path.join(ROOT, 'release') },
    'public-key': { type: 'string' },
    'verify-only': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`Usage: npm run deploy [-- --release DIR] [--public-key FILE] [--verify-only] [--dry-run]
  Verifies DIR/release.dsse.json (made by npm run release) with the release public key, checks the
  bundle, the SBOM, package-lock.json and wrangler.toml against its digests, then runs
  wrangler deploy --no-bundle on the verified bundle. --verify-only stops after the checks (CI);
  --dry-run passes --dry-run to wrangler (nothing is uploaded).
  Public key: --public-key FILE, RELEASE_PUBLIC_KEY (the PEM), RELEASE_PUBLIC_KEY_FILE, or the
  committed release-signing.pub.pem at the repository root.
`);
  process.exit(0);
}

function refuse(reason) {
  process.stderr.write(`deploy REFUSED: ${reason}\n`);
  process.exit(1);
}

function publicKey() {
  if (values['public-key']) return readFileSync(values['public-key'], 'utf8');
  if (process.env.RELEASE_PUBLIC_KEY) return process.env.RELEASE_PUBLIC_KEY;
  if (process.env.RELEASE_PUBLIC_KEY_FILE) return readFileSync(process.env.RELEASE_PUBLIC_KEY_FILE, 'utf8');
  const committed = path.join(ROOT, 'release-signing.pub.pem');
  if (existsSync(committed)) return readFileSync(committed, 'utf8');
  return refuse('no release public key (pass --public-key, set RELEASE_PUBLIC_KEY, or commit release-signing.pub.pem)');
}

const verdict = verifyRelease({ dir: values.release, publicKeyPem: publicKey() });
if (!verdict.ok) refuse(verdict.reason);
const subjects = verdict.statement.subject;
process.stdout.write(`verified: signature, ${subjects.length} bundle files, the SBOM, package-lock.json and wrangler.toml match the signed statement (commit ${verdict.commit})\n`);
if (values['verify-only']) process.exit(0);

// Deploy a private copy, checked again after copying, so the files cannot change between the check and the upload.
const copy = mkdtempSync(path.join(os.tmpdir(), 'own-mcp-deploy-'));
let code;
try {
  cpSync(path.join(values.release, LAYOUT.bundle), path.join(copy, LAYOUT.bundle), { recursive: true });
  for (const s of subjects) if (sha256(readFileSync(path.join(copy, s.name))) !== s.digest.sha256) refuse(`${s.name} changed while it was being copied`);
  const args = [path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--no-bundle', '--config', path.join(ROOT, 'wrangler.toml'), `--env=${verdict.env}`, ...(values['dry-run'] ? ['--dry-run'] : []), path.join(copy, LAYOUT.bundle, verdict.mainModule)];
  process.stdout.write(`wrangler ${args.slice(1).join(' ')}\n`);
  code = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: { WRANGLER_SEND_METRICS: 'false', ...process.env } }).status ?? 1;
} finally {
  rmSync(copy, { recursive: true, force: true });
}
process.exit(code);
