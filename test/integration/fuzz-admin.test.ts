// Fuzzing the admin API (issue 9): methods, paths, credentials, bodies, audit-export queries. A fixed-seed slice here; `npm run fuzz` runs 10,000 inputs per edge.
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, it } from 'vitest';
import { adminInput, adminProbe, type AdminSetup } from '../fuzz/edges-admin.ts';
import { CONTEXT, ORIGIN, runEdge, TEST_TIMEOUT } from '../fuzz/workers-context.ts';

let setup: AdminSetup;

beforeAll(async () => {
  const response = await SELF.fetch(`${ORIGIN}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.ADMIN_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'fuzz-admin', owner: 'fuzz@example.com', scopes: ['support:read'] }),
  });
  const body = (await response.json()) as { key_id: string };
  setup = { adminSecret: env.ADMIN_SECRET ?? '', keyId: body.key_id };
}, 60_000);

describe('fuzz: admin API', () => {
  it('typed admin errors; a refused or unauthenticated request changes no key and no client', async () => {
    await runEdge('admin', adminInput(setup), adminProbe(CONTEXT));
  }, TEST_TIMEOUT);
});
