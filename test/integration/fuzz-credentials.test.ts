// Fuzzing the credentials /mcp accepts (issue 9): forged access tokens and API key strings. A fixed-seed slice here; `npm run fuzz` runs 10,000 inputs per edge.
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, it } from 'vitest';
import { signingKeys } from '../../src/auth/signing-keys.ts';
import { apiKeyProbe, apiKeyStrings, tokenProbe, tokenSpec, type KeySetup, type TokenSetup } from '../fuzz/edges-credentials.ts';
import { CONTEXT, ORIGIN, runEdge, TEST_TIMEOUT } from '../fuzz/workers-context.ts';

let tokens: TokenSetup;
let keys: KeySetup;

async function createKey(name: string): Promise<string> {
  const response = await SELF.fetch(`${ORIGIN}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.ADMIN_SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: name, owner: 'fuzz@example.com', scopes: ['support:read'] }),
  });
  const body = (await response.json()) as { key: string; key_id: string };
  if (response.status !== 201) throw new Error(`key not created: ${response.status}`);
  return body.key;
}

beforeAll(async () => {
  const real = await signingKeys(env.OAUTH_SIGNING_KEY, undefined);
  const attacker = await generateKeyPair('ES256', { extractable: true });
  tokens = {
    issuer: ORIGIN,
    resource: `${ORIGIN}/mcp`,
    realKid: real.kid,
    realKey: real.privateKey,
    attackerKey: attacker.privateKey,
    attackerJwk: await exportJWK(attacker.publicKey),
    jwksText: await (await SELF.fetch(`${ORIGIN}/jwks.json`)).text(),
  };
  const key = await createKey('fuzz-agent');
  const revokedKey = await createKey('fuzz-revoked');
  await SELF.fetch(`${ORIGIN}/admin/keys/${revokedKey.slice(5, 48)}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${env.ADMIN_SECRET}` } });
  keys = { key, revokedKey };
}, 60_000);

describe('fuzz: credentials at /mcp', () => {
  it('forged access tokens (alg none, kid games, odd claims, wrong aud/iss, expired) are 401 invalid_token and make no session', async () => {
    await runEdge('access-tokens', tokenSpec, tokenProbe(CONTEXT, tokens));
  }, TEST_TIMEOUT);

  it('API key strings other than the real key are 401, make no session and change no key', async () => {
    await runEdge('api-keys', apiKeyStrings(keys), apiKeyProbe(CONTEXT, keys));
  }, TEST_TIMEOUT);
});
