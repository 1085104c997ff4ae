#!/usr/bin/env node
// `npm test`: starts a private MariaDB and a local OpenID provider (installing MariaDB and Chromium from Debian if missing and allowed), runs every test, stops them.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startIdp } from '../test/support/idp.mjs';
import { findBinary, seedAuditDb, seedDemo, startMariaDb } from '../test/support/mariadb.mjs';

const args = process.argv.slice(2);

function say(line) {
  process.stdout.write(`[test] ${line}\n`);
}

function haveMariaDb() {
  try {
    findBinary(['mariadbd', 'mysqld']);
    return true;
  } catch {
    return false;
  }
}

/** The Debian packages the tests need that are missing: MariaDB, and Chromium for the browser test. */
function missingPackages() {
  const missing = [];
  if (!haveMariaDb()) missing.push('mariadb-server');
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  return missing;
}

/** Installs what is missing with apt-get when running as root on Debian; otherwise explains what to do. */
function ensurePackages() {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  let apt;
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    apt = true;
  } catch {
    apt = false;
  }
  if (!root || !apt) {
    process.stderr.write(`The tests need ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed.\nInstall (Debian/Ubuntu): sudo apt-get install -y ${missing.join(' ')}\nthen run npm test again.\n`);
    process.exit(2);
  }
  say(`installing ${missing.join(' and ')} with apt-get (about a minute)`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function runVitest(env, reportFile) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...args], {
      stdio: 'inherit',
      env,
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

ensurePackages();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'own-mcp-test-'));
say('starting a private MariaDB');
const db = await startMariaDb({ baseDir: scratch });
let code;
let idp;
try {
  const { readerUrl } = await seedDemo({ adminUrl: db.adminUrl, log: () => undefined });
  const { writerUrl: auditUrl } = await seedAuditDb({ adminUrl: db.adminUrl });
  say(`MariaDB ready on 127.0.0.1:${db.port}, demo data seeded`);
  // The upstream OpenID provider for the Workers-runtime tests (whose requests use http://localhost:8787).
  const idpSecret = randomBytes(24).toString('base64url');
  idp = await startIdp({ clients: [{ client_id: 'own-mcp-test', client_secret: idpSecret, redirect_uris: ['http://localhost:8787/oauth/callback'] }] });
  say(`local OpenID provider on ${idp.issuer}`);
  const reportFile = path.join(scratch, 'vitest.json');
  code = await runVitest({ ...process.env, TEST_MYSQL_URL: readerUrl, TEST_MYSQL_AUDIT_URL: auditUrl, TEST_MYSQL_ADMIN_URL: db.adminUrl, TEST_MYSQL_PORT: String(db.port), TEST_IDP_ISSUER: idp.issuer, TEST_IDP_CLIENT_SECRET: idpSecret }, reportFile);
  let passed = 0;
  let failed = 0;
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    passed = report.numPassedTests;
    failed = report.numFailedTests;
  } catch {
    failed = Math.max(failed, 1);
    code = code || 1;
  }
  if (passed + failed === 0) code = code || 1;
  await idp.stop();
  await db.stop();
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
} catch (error) {
  process.stderr.write(`test set-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await idp?.stop().catch(() => undefined);
  await db.stop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write('0 passed, 1 failed\n');
  code = 1;
}
process.exit(code);
