#!/usr/bin/env node
// `npm run conformance`: the official MCP conformance suite (server mode) against the real local server with the conformance pack on:
// 0.1.16 for 2025-11-25 (sessions), 0.2.0-alpha for 2026-07-28 (stateless), with an OAuth token and with an API key.
// `npm run conformance -- --only-2026` runs just the 2026-07-28 scenarios (quicker while working on them).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAuthProxy } from '../test/support/auth-proxy.mjs';
import { freePort, startServer } from '../test/support/server.mjs';
import { playPerson, registerClient, signIn } from '../test/support/oauth-flow.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
// The authorization-server mode exists only in the 0.2.0 pre-releases (installed under an alias).
const CLI_NEXT = path.join(ROOT, 'node_modules/conformance-next/dist/index.js');

/** Runs the suite and returns its exit code and the "Total: N passed, M failed" counts. */
function runSuite(url, extra, cli = CLI, mode = 'server', onOutput = () => undefined) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, mode, '--url', url, ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
      onOutput(out);
    });
    child.on('exit', (code) => {
      const match = /Total: (\d+) passed, (\d+) failed/.exec(out) ?? /Passed: (\d+)\/\d+, (\d+) failed/.exec(out);
      resolve({ code: code ?? 1, passed: match ? Number(match[1]) : 0, failed: match ? Number(match[2]) : 1, out });
    });
  });
}

// The proxy changes the port the suite sees, so the issuer (and token audience) is pinned.
const port = await freePort();
const server = await startServer({ port, vars: { ENABLE_CONFORMANCE_PACK: 'true', PUBLIC_URL: `http://localhost:${port}` } });
let code;
let proxy;
let keyProxy;
try {
  // The suite sends no Authorization header: sign in for real (local OpenID provider), then put
  // a loopback proxy in front that adds the token, so the real gate checks every request.
  const fetchers = { server: (u, i) => fetch(u, i), idp: (u, i) => fetch(u, i) };
  const { accessToken } = await signIn(`http://localhost:${server.port}`, fetchers);
  proxy = await startAuthProxy({ target: `http://127.0.0.1:${server.port}`, token: () => accessToken });
  // The URL must be a localhost one: the DNS-rebinding scenario checks it.
  const url = `http://localhost:${proxy.port}/mcp`;
  if (process.argv.includes('--only-2026')) {
    const next = await runSuite(url, ['--spec-version', '2026-07-28'], CLI_NEXT);
    process.stdout.write(`conformance: ${next.passed} passed, ${next.failed} failed\n`);
    await proxy.close();
    await server.close();
    process.exit(next.code === 0 && next.failed === 0 && next.passed > 0 ? 0 : 1);
  }
  process.stdout.write(`conformance: active 2025-11-25 server scenarios against ${url}\n`);
  const active = await runSuite(url, ['--spec-version', '2025-11-25']);
  const scenarios = (active.out.match(/^[✓✗] /gmu) ?? []).length;
  const passedScenarios = (active.out.match(/^✓ /gmu) ?? []).length;
  process.stdout.write(`\nconformance: active 2026-07-28 server scenarios (0.2.0-alpha, stateless) against ${url}\n`);
  const next = await runSuite(url, ['--spec-version', '2026-07-28'], CLI_NEXT);
  const scenarios26 = (next.out.match(/^[✓✗] /gmu) ?? []).length;
  const passed26 = (next.out.match(/^✓ /gmu) ?? []).length;
  process.stdout.write(`\nconformance: pending scenarios (reported, not required)\n`);
  const pending = await runSuite(url, ['--suite', 'pending']);
  process.stdout.write(`\nconformance scenarios: 2025-11-25 ${passedScenarios} of ${scenarios} active passed; 2026-07-28 ${passed26} of ${scenarios26} active passed; pending checks: ${pending.passed} passed, ${pending.failed} failed\n`);
  // The same active scenarios again as an agent: an API key instead of an OAuth token.
  const apiKey = await createApiKey(`http://127.0.0.1:${server.port}`, server.adminSecret);
  keyProxy = await startAuthProxy({ target: `http://127.0.0.1:${server.port}`, token: () => apiKey });
  const keyUrl = `http://localhost:${keyProxy.port}/mcp`;
  process.stdout.write(`\nconformance: active 2025-11-25 server scenarios with an API key against ${keyUrl}\n`);
  const withKey = await runSuite(keyUrl, ['--spec-version', '2025-11-25']);
  process.stdout.write(`\nconformance: active 2026-07-28 server scenarios with an API key against ${keyUrl}\n`);
  const nextWithKey = await runSuite(keyUrl, ['--spec-version', '2026-07-28'], CLI_NEXT);
  const auth = await authorizationSuite(`http://localhost:${port}`, fetchers);
  const ok = (r) => r.code === 0 && r.failed === 0 && r.passed > 0;
  const runs = [active, next, withKey, nextWithKey];
  code = runs.every(ok) && scenarios > 0 && scenarios26 > 0 && auth.failed === 0 && auth.passed > 0 ? 0 : 1;
  const sum = (key) => runs.reduce((total, r) => total + r[key], 0);
  process.stdout.write(`conformance: ${sum('passed') + auth.passed} passed, ${sum('failed') + auth.failed} failed\n`);
} finally {
  await keyProxy?.close();
  await proxy?.close();
  await server.close();
}
process.exit(code);

/** Creates an API key with both scopes and a limit the suite cannot reach, through the admin API. */
async function createApiKey(origin, adminSecret) {
  const response = await fetch(`${origin}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'conformance suite', owner: 'conformance', scopes: ['support:read', 'sql:read'], expires_in: 3600, rate_limit: { requests: 100000, per_seconds: 60 } }),
  });
  if (response.status !== 201) throw new Error(`creating the API key failed: ${response.status} ${await response.text()}`);
  return (await response.json()).key;
}

/**
 * The authorization-server scenarios of the 0.2.0 pre-release: metadata, and a full code grant
 * where this script plays the person: it opens the URL the suite prints, approves consent and
 * signs in at the local OpenID provider, and the browser's last redirect reaches the suite.
 */
async function authorizationSuite(issuer, fetchers) {
  const callbackPort = await freePort();
  const client = await registerClient(issuer, fetchers, { redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`] });
  process.stdout.write(`\nconformance: authorization server scenarios (0.2.0-alpha) against ${issuer}\n`);
  let driven = false;
  // Both scenarios in one run: the code grant reads the metadata the first one fetched.
  const grant = await runSuite(
    issuer,
    ['--client-id', client.clientId, '--resource', `${issuer}/mcp`, '--port', String(callbackPort)],
    CLI_NEXT,
    'authorization',
    (out) => {
      const url = /^(http:\/\/\S+\/authorize\?\S+)$/m.exec(out)?.[1];
      if (!url || driven) return;
      driven = true;
      playPerson(url, fetchers).catch((error) => process.stderr.write(`driving the sign-in failed: ${error.message}\n`));
    },
  );
  return { passed: grant.passed, failed: grant.failed };
}
