// The signed release: build the exact deploy bundle, its SBOM, an in-toto Statement with a SLSA provenance predicate signed as a DSSE envelope, and the verification `npm run deploy` runs before it uploads anything.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, verifyEnvelope } from './dsse.mjs';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The size budget of the deployed Worker, gzip-compressed (what Cloudflare limits): 1 MiB, a
 * third of the 3 MiB free-plan limit, so a dependency that doubles the bundle is noticed long
 * before a deploy is refused.
 */
export const BUNDLE_BUDGET_GZIP_BYTES = 1536 * 1024;

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';
/** Our build type (a URI naming the recipe below; documented in docs/supply-chain.md). */
export const BUILD_TYPE = 'urn:own-mcp-server:build:wrangler-bundle:v1';

/** The files of a release directory, relative to it. */
export const LAYOUT = { bundle: 'bundle', sbom: 'sbom.cdx.json', envelope: 'release.dsse.json', metafile: 'build-meta.json' };

/** SHA-256 of a file or buffer, hex. */
export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under a directory, relative paths with '/', sorted. */
export function listFiles(dir) {
  const out = [];
  const walk = (sub) => {
    for (const entry of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** The packages (lockfile paths) whose files esbuild put into the bundle, from its metafile. */
export function bundledPackages(metafile, lock) {
  const keys = Object.keys(lock.packages ?? {}).filter((k) => k !== '');
  const found = new Set();
  for (const input of Object.keys(metafile.inputs ?? {})) {
    const at = input.indexOf('node_modules/');
    if (at < 0) continue;
    const rest = input.slice(at);
    const owner = keys.filter((k) => rest.startsWith(`${k}/`)).sort((a, b) => b.length - a.length)[0];
    if (owner) found.add(owner);
  }
  return [...found].sort();
}

/**
 * Keeps the components of an npm CycloneDX SBOM that ship in the bundle (by name and version),
 * and the dependency edges between them; says so in the metadata.
 */
export function shippedSbom(sbom, lock, packagesInBundle) {
  const refs = new Set(packagesInBundle.map((k) => `${k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${lock.packages[k].version}`));
  const rootRef = sbom.metadata?.component?.['bom-ref'];
  const components = (sbom.components ?? []).filter((c) => refs.has(`${c.name.startsWith('@') || !c.group ? c.name : `${c.group}/${c.name}`}@${c.version}`) || refs.has(c['bom-ref']));
  // The lockfile path decides, not the SBOM's flag: npm sbom folds copies of one name@version into
  // one component and marks it development when any copy is (mime-types@2.1.35 under a dev tool
  // and under agents' mimetext), so a shipped production copy would read as development.
  const refOf = (k) => `${k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${lock.packages[k].version}`;
  const devRefs = new Set(packagesInBundle.filter((k) => lock.packages[k]?.dev).map(refOf));
  const notBundled = new Set(packagesInBundle);
  const foldedDevCopy = new Set(Object.keys(lock.packages ?? {}).filter((k) => k !== '' && !notBundled.has(k) && lock.packages[k]?.dev).map(refOf));
  const sbomDev = (c) => (c.properties ?? []).some((p) => p.name === 'cdx:npm:package:development' && p.value === 'true');
  const dev = components.filter((c) => devRefs.has(c['bom-ref']) || (sbomDev(c) && !foldedDevCopy.has(c['bom-ref'])));
  if (dev.length > 0) throw new Error(`development packages are in the deploy bundle: ${dev.map((c) => c['bom-ref']).join(', ')}`);
  const kept = new Set(components.map((c) => c['bom-ref']));
  const missing = [...refs].filter((r) => !components.some((c) => c['bom-ref'] === r || `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}` === r));
  if (missing.length > 0) throw new Error(`the SBOM lacks packages that are in the bundle: ${missing.join(', ')}`);
  const dependencies = (sbom.dependencies ?? [])
    .filter((d) => d.ref === rootRef || kept.has(d.ref))
    .map((d) => ({ ...d, dependsOn: (d.dependsOn ?? []).filter((r) => kept.has(r)) }));
  const properties = [...(sbom.metadata?.properties ?? []), { name: 'own-mcp-server:scope', value: 'production packages with code in the deploy bundle (esbuild metafile)' }];
  return { ...sbom, metadata: { ...sbom.metadata, lifecycles: [{ phase: 'build' }], properties }, components, dependencies };
}

/**
 * Builds a release into `out`: the bundle (wrangler deploy --dry-run --outdir), the SBOM of what
 * ships, and the signed statement. Returns what it made.
 * @param {{ out: string, privateKeyPem: string, env?: string, allowDirty?: boolean, builderId?: string, log?: (line: string) => void }} options
 */
export function buildRelease({ out, privateKeyPem, env = '', allowDirty = false, builderId, log = () => undefined }) {
  const startedOn = new Date().toISOString();
  const commit = git(['rev-parse', 'HEAD']);
  const dirty = git(['status', '--porcelain']) !== '';
  if (dirty && !allowDirty) throw new Error('the working tree has uncommitted changes: a release is built from a commit (commit or stash them; --allow-dirty for a local try)');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const bundleDir = path.join(out, LAYOUT.bundle);
  const metafilePath = path.join(out, LAYOUT.metafile);
  const wranglerArgs = ['deploy', '--dry-run', '--outdir', bundleDir, '--metafile', metafilePath, `--env=${env}`];
  log(`building the bundle: wrangler ${wranglerArgs.join(' ')}`);
  execFileSync(process.execPath, [WRANGLER, ...wranglerArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  const files = listFiles(bundleDir);
  const main = files.includes('index.js') ? 'index.js' : files.find((f) => f.endsWith('.js'));
  if (!main) throw new Error('wrangler produced no JavaScript module');

  const lockfile = readFileSync(path.join(ROOT, 'package-lock.json'));
  const lock = JSON.parse(lockfile.toString('utf8'));
  // Not --omit=dev: with --package-lock-only it drops production packages that dev tools also use
  // (jose, zod, the MCP SDK here). The whole lockfile's SBOM, cut to what the bundle contains, is exact.
  log('writing the SBOM: npm sbom --sbom-format cyclonedx --package-lock-only, cut to the packages in the bundle');
  const fullSbom = JSON.parse(execFileSync(NPM, ['sbom', '--sbom-format', 'cyclonedx', '--package-lock-only'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  const metafile = JSON.parse(readFileSync(metafilePath, 'utf8'));
  const sbom = shippedSbom(fullSbom, lock, bundledPackages(metafile, lock));
  const sbomBytes = Buffer.from(`${JSON.stringify(sbom, null, 2)}\n`);
  writeFileSync(path.join(out, LAYOUT.sbom), sbomBytes);

  const wranglerVersion = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/wrangler/package.json'), 'utf8')).version;
  const { statement, envelope } = signRelease({
    out,
    privateKeyPem,
    main,
    command: `wrangler ${wranglerArgs.slice(0, 2).join(' ')} --outdir ${LAYOUT.bundle}`,
    env,
    commit,
    dirty,
    tools: { node: process.version, wrangler: wranglerVersion },
    builderId,
    startedOn,
  });
  return { statement, envelope, main, size: bundleSize(path.join(bundleDir, main)), components: sbom.components.length };
}

/**
 * Writes the signed statement of a built release directory (bundle/ and sbom.cdx.json already in
 * `out`): every bundle file, the SBOM, and `root`'s package-lock.json and wrangler.toml.
 * @param {{ out: string, privateKeyPem: string, main: string, command: string, env?: string, commit: string, dirty: boolean, tools: Record<string, string>, builderId?: string, startedOn?: string, root?: string }} input
 */
export function signRelease({ out, privateKeyPem, main, command, env = '', commit, dirty, tools, builderId, startedOn = new Date().toISOString(), root = ROOT }) {
  const bundleDir = path.join(out, LAYOUT.bundle);
  const files = listFiles(bundleDir);
  if (!files.includes(main)) throw new Error(`the main module ${main} is not in the bundle`);
  const sbomBytes = readFileSync(path.join(out, LAYOUT.sbom));
  const statement = {
    _type: STATEMENT_TYPE,
    subject: files.map((f) => ({ name: `${LAYOUT.bundle}/${f}`, digest: { sha256: sha256(readFileSync(path.join(bundleDir, f))) } })),
    predicateType: PROVENANCE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { command, env, config: 'wrangler.toml', mainModule: main },
        internalParameters: { ...tools, dirty },
        resolvedDependencies: [
          { uri: 'git+source', digest: { gitCommit: commit || 'unknown' } },
          { name: 'package-lock.json', digest: { sha256: sha256(readFileSync(path.join(root, 'package-lock.json'))) } },
          { name: 'wrangler.toml', digest: { sha256: sha256(readFileSync(path.join(root, 'wrangler.toml'))) } },
        ],
      },
      runDetails: {
        builder: { id: builderId ?? process.env.RELEASE_BUILDER_ID ?? 'urn:own-mcp-server:builder:local' },
        metadata: { invocationId: randomUUID(), startedOn, finishedOn: new Date().toISOString() },
        byproducts: [{ name: LAYOUT.sbom, mediaType: 'application/vnd.cyclonedx+json', digest: { sha256: sha256(sbomBytes) } }],
      },
    },
  };
  const envelope = signEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: Buffer.from(JSON.stringify(statement)), privateKeyPem });
  writeFileSync(path.join(out, LAYOUT.envelope), `${JSON.stringify(envelope, null, 2)}\n`);
  return { statement, envelope };
}

/** The raw and gzip size of the main module. */
export function bundleSize(file) {
  const bytes = readFileSync(file);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** Why a release is refused, or its statement when every check holds. */
/** @typedef {{ ok: true, statement: any, mainModule: string, env: string, commit: string } | { ok: false, reason: string }} Verdict */

/**
 * Verifies a release directory: the envelope's signature with the public key, then every digest
 * of the statement against the files on disk (the bundle's files exactly, the SBOM, and the
 * repository's lockfile and wrangler.toml, which wrangler deploy reads).
 * @param {{ dir: string, publicKeyPem: string, root?: string }} options
 * @returns {Verdict}
 */
export function verifyRelease({ dir, publicKeyPem, root = ROOT }) {
  const envelopePath = path.join(dir, LAYOUT.envelope);
  if (!existsSync(envelopePath)) return { ok: false, reason: `no signed statement at ${envelopePath} (run npm run release first)` };
  let envelope;
  try {
    envelope = JSON.parse(readFileSync(envelopePath, 'utf8'));
  } catch {
    return { ok: false, reason: 'the envelope is not JSON' };
  }
  const verified = verifyEnvelope(envelope, publicKeyPem);
  if (!verified.ok) return { ok: false, reason: `signature: ${verified.reason}` };
  if (verified.payloadType !== IN_TOTO_PAYLOAD_TYPE) return { ok: false, reason: `the payload type is ${verified.payloadType}, not an in-toto statement` };
  let statement;
  try {
    statement = JSON.parse(verified.payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the signed statement is not JSON' };
  }
  if (statement?._type !== STATEMENT_TYPE || statement?.predicateType !== PROVENANCE_TYPE) return { ok: false, reason: 'the statement is not an in-toto v1 statement with a SLSA provenance v1 predicate' };
  const build = statement.predicate?.buildDefinition;
  if (build?.buildType !== BUILD_TYPE) return { ok: false, reason: `unknown build type ${build?.buildType}` };

  // The bundle: exactly the files named, each with its digest (an added file is refused too).
  const bundleDir = path.join(dir, LAYOUT.bundle);
  if (!existsSync(bundleDir) || !statSync(bundleDir).isDirectory()) return { ok: false, reason: `no bundle at ${bundleDir}` };
  const subjects = new Map((statement.subject ?? []).map((s) => [s.name, s.digest?.sha256]));
  const onDisk = listFiles(bundleDir).map((f) => `${LAYOUT.bundle}/${f}`);
  for (const name of onDisk) if (!subjects.has(name)) return { ok: false, reason: `bundle file ${name} is not in the signed statement` };
  for (const [name, digest] of subjects) {
    if (!onDisk.includes(name)) return { ok: false, reason: `bundle file ${name} of the signed statement is missing` };
    if (sha256(readFileSync(path.join(dir, name))) !== digest) return { ok: false, reason: `bundle file ${name} does not match its signed digest` };
  }
  const mainModule = build.externalParameters?.mainModule;
  if (typeof mainModule !== 'string' || !subjects.has(`${LAYOUT.bundle}/${mainModule}`)) return { ok: false, reason: 'the statement names no main module of the bundle' };

  const sbomDigest = statement.predicate?.runDetails?.byproducts?.find((b) => b.name === LAYOUT.sbom)?.digest?.sha256;
  const sbomPath = path.join(dir, LAYOUT.sbom);
  if (!sbomDigest) return { ok: false, reason: 'the statement records no SBOM digest' };
  if (!existsSync(sbomPath) || sha256(readFileSync(sbomPath)) !== sbomDigest) return { ok: false, reason: `the SBOM ${LAYOUT.sbom} does not match its signed digest` };

  for (const name of ['package-lock.json', 'wrangler.toml']) {
    const want = build.resolvedDependencies?.find((d) => d.name === name)?.digest?.sha256;
    if (!want) return { ok: false, reason: `the statement records no digest of ${name}` };
    const file = path.join(root, name);
    if (!existsSync(file) || sha256(readFileSync(file)) !== want) return { ok: false, reason: `${name} differs from the one the release was built with` };
  }
  const commit = build.resolvedDependencies?.find((d) => d.digest?.gitCommit)?.digest.gitCommit ?? 'unknown';
  return { ok: true, statement, mainModule, env: String(build.externalParameters?.env ?? ''), commit };
}
