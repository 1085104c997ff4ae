#!/usr/bin/env node
// `npm run conformance`: the official MCP conformance suite (server mode) against the real local server with the conformance pack on.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAuthProxy } from '../test/support/auth-proxy.mjs';
import { freePort, startServer } from '../test/support/server.mjs';
import { signIn } from '../test/support/oauth-flow.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** Runs the suite and returns its exit code and the "Total: N passed, M failed" counts. */
function runSuite(url, extra) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'server', '--url', url, ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('exit', (code) => {
      const match = /Total: (\d+) passed, (\d+) failed/.exec(out);
      resolve({ code: code ?? 1, passed: match ? Number(match[1]) : 0, failed: match ? Number(match[2]) : 1, out });
    });
  });
}

// The proxy changes the port the suite sees, so the issuer (and token audience) is pinned.
const port = await freePort();
const server = await startServer({ port, vars: { ENABLE_CONFORMANCE_PACK: 'true', PUBLIC_URL: `http://localhost:${port}` } });
let code = 1;
let proxy;
try {
  // The suite sends no Authorization header: sign in for real (local OpenID provider), then put
  // a loopback proxy in front that adds the token, so the real gate checks every request.
  const fetchers = { server: (u, i) => fetch(u, i), idp: (u, i) => fetch(u, i) };
  const { accessToken } = await signIn(`http://localhost:${server.port}`, fetchers);
  proxy = await startAuthProxy({ target: `http://127.0.0.1:${server.port}`, token: () => accessToken });
  // The URL must be a localhost one: the DNS-rebinding scenario checks it.
  const url = `http://localhost:${proxy.port}/mcp`;
  process.stdout.write(`conformance: active 2025-11-25 server scenarios against ${url}\n`);
  const active = await runSuite(url, ['--spec-version', '2025-11-25']);
  const scenarios = (active.out.match(/^[✓✗] /gmu) ?? []).length;
  const passedScenarios = (active.out.match(/^✓ /gmu) ?? []).length;
  process.stdout.write(`\nconformance: pending scenarios (reported, not required)\n`);
  const pending = await runSuite(url, ['--suite', 'pending']);
  process.stdout.write(`\nconformance scenarios: ${passedScenarios} of ${scenarios} active passed; pending checks: ${pending.passed} passed, ${pending.failed} failed\n`);
  code = active.code === 0 && active.failed === 0 && scenarios > 0 ? 0 : 1;
  process.stdout.write(`conformance: ${active.passed} passed, ${active.failed} failed\n`);
} finally {
  await proxy?.close();
  await server.close();
}
process.exit(code);
