// Fuzzing against the real server under `wrangler dev` (issue 9): Client ID Metadata Documents from a local document server, and raw HTTP framing at /mcp. A fixed-seed slice here; `npm run fuzz` runs 10,000 inputs per edge.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cimdInput, cimdProbe, startDocumentServer } from '../fuzz/edges-cimd.ts';
import type { FuzzContext, SnapshotPart } from '../fuzz/context.ts';
import { rawInput, rawProbe, type RawInput } from '../fuzz/edges-raw.ts';
import { describeFailures, fuzzEdge, settingsFrom, SUMMARY_PREFIX } from '../fuzz/runner.ts';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

// The e2e slice is smaller (each input crosses wrangler dev's proxy); `npm run fuzz` sets FUZZ_RUNS.
const SETTINGS = settingsFrom(process.env, 30);
const TIMEOUT = SETTINGS.timeLimitMs + 60_000;

let server: Server;
let docs: Awaited<ReturnType<typeof startDocumentServer>>;
let ctx: FuzzContext;
let apiKey: string;

async function admin(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' } });
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  server = await startServer();
  docs = await startDocumentServer();
  ctx = {
    origin: server.url,
    fetch: (request) => fetch(request),
    // The host name of this machine counts as a secret here: no answer may name it.
    secrets: [server.adminSecret, ...(os.hostname().length >= 6 ? [os.hostname()] : [])],
    async snapshot(parts: SnapshotPart[]) {
      const out: Record<string, unknown> = {};
      if (parts.includes('clients')) out.clients = ((await admin('/admin/clients')).clients as unknown[]).length;
      if (parts.includes('keys')) out.keys = (await admin('/admin/keys')).keys;
      return out;
    },
  };
  const created = await admin('/admin/keys', { method: 'POST', body: JSON.stringify({ agent_name: 'fuzz-raw', owner: 'fuzz@example.com', scopes: ['support:read'], rate_limit: { requests: 1_000_000, per_seconds: 60 } }) });
  apiKey = String(created.key);
}, 120_000);

afterAll(async () => {
  await docs?.stop();
  await server?.close();
});

/** The reported inputs: a 10 MB chunked POST and two Host headers. */
function reported(host: string): RawInput[] {
  return [
    { hosts: [host], framing: 'chunked', bodySize: 10 * 1024 * 1024, extra: [] },
    { hosts: [host, host], framing: 'length', bodySize: 0, extra: [] },
    { hosts: [host, 'evil.example'], framing: 'length', bodySize: 0, extra: [] },
  ];
}

describe('fuzz: against wrangler dev', () => {
  it('Client ID Metadata Documents: /authorize is a page or an upstream redirect, never a 5xx or a leak; a refused document is not stored', async () => {
    const summary = await fuzzEdge('cimd', cimdInput, cimdProbe(ctx, docs, new URL(server.idp.issuer).origin), SETTINGS);
    console.log(SUMMARY_PREFIX + JSON.stringify(summary));
    expect(summary.failures, describeFailures(summary)).toBe(0);
  }, TIMEOUT);

  it('raw HTTP at /mcp: well-framed chunked and oversized bodies are answered with typed 4xx, never a 5xx or a stack trace; malformed framing never stops the server', async () => {
    const host = `127.0.0.1:${server.port}`;
    const summary = await fuzzEdge('raw-http', rawInput(host), rawProbe(server.port, `Bearer ${apiKey}`, ctx.secrets), SETTINGS, reported(host));
    console.log(SUMMARY_PREFIX + JSON.stringify(summary));
    expect(summary.failures, describeFailures(summary)).toBe(0);
  }, TIMEOUT);
});
