/** The fuzz context inside workerd: SELF.fetch, the bindings' secrets, Durable Object listings and the admin API for snapshots. */
import { listDurableObjectIds, SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { FuzzContext, SnapshotPart } from './context.ts';
import { describeFailures, fuzzEdge, settingsFrom, SUMMARY_PREFIX, type EdgeSummary, type Probe } from './runner.ts';
import type fc from 'fast-check';

/** The origin the Workers-runtime tests use. */
export const ORIGIN = 'http://localhost:8787';

/** Settings of this run (FUZZ_RUNS, FUZZ_SEED, FUZZ_TIME_MS as bindings; a 60-input fixed-seed slice by default). */
export const SETTINGS = settingsFrom({ FUZZ_RUNS: env.FUZZ_RUNS, FUZZ_SEED: env.FUZZ_SEED, FUZZ_TIME_MS: env.FUZZ_TIME_MS });

/** A test's time-out: the edge's budget and room for its set-up. */
export const TEST_TIMEOUT = SETTINGS.timeLimitMs + 60_000;

async function admin(path: string): Promise<Record<string, unknown>> {
  const response = await SELF.fetch(`${ORIGIN}${path}`, { headers: { authorization: `Bearer ${env.ADMIN_SECRET}` } });
  return (await response.json()) as Record<string, unknown>;
}

/** The context every workers fuzz test uses. */
export const CONTEXT: FuzzContext = {
  origin: ORIGIN,
  fetch: (request) => SELF.fetch(request),
  secrets: [env.ADMIN_SECRET ?? '', env.ID_SECRET ?? '', env.UPSTREAM_CLIENT_SECRET ?? '', ...signingSecrets(env.OAUTH_SIGNING_KEY)],
  async snapshot(parts: SnapshotPart[]) {
    const out: Record<string, unknown> = {};
    for (const part of parts) {
      if (part === 'sessions') out.sessions = (await listDurableObjectIds(env.MCP_SESSION)).length;
      if (part === 'transactions') out.transactions = (await listDurableObjectIds(env.AUTH_TXN)).length;
      if (part === 'clients') out.clients = ((await admin('/admin/clients')).clients as unknown[]).length;
      if (part === 'keys') out.keys = ((await admin('/admin/keys')).keys as Array<Record<string, unknown>>).sort((a, b) => String(a.key_id).localeCompare(String(b.key_id)));
    }
    return out;
  },
};

/** The private parts of the signing key (a JWK, or JSON holding one): none may ever appear in a body. */
function signingSecrets(value: string | undefined): string[] {
  if (!value) return [];
  const found: string[] = [value];
  try {
    const walk = (v: unknown): void => {
      if (typeof v !== 'object' || v === null) return;
      for (const [k, x] of Object.entries(v)) {
        if (k === 'd' && typeof x === 'string') found.push(x);
        else walk(x);
      }
    };
    walk(JSON.parse(value));
  } catch {
    // not JSON: the whole value is the secret
  }
  return found;
}

/** Runs an edge, prints its one-line summary, and fails with the shrunk counter-examples. */
export async function runEdge<T>(edge: string, arbitrary: fc.Arbitrary<T>, probe: Probe<T>, examples: T[] = []): Promise<EdgeSummary> {
  const summary = await fuzzEdge(edge, arbitrary, probe, SETTINGS, examples);
  console.log(SUMMARY_PREFIX + JSON.stringify(summary));
  expect(summary.failures, describeFailures(summary)).toBe(0);
  return summary;
}
