// Verified access tokens kept per isolate (issue 14): a hit only for the same token, key set, issuer and audience, and only before `exp`.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { mintAccessToken, verifyAccessToken } from '../../../src/auth/access-token.ts';
import { signingKeys, type SigningKeys } from '../../../src/auth/signing-keys.ts';
import { VerifiedTokens, type TokenExpectation } from '../../../src/auth/verified-tokens.ts';

const ISSUER = 'https://mcp.example.test';
const RESOURCE = `${ISSUER}/mcp`;
const NOW = Date.parse('2026-12-01T10:00:00Z');
const keys = await signingKeys(env.OAUTH_SIGNING_KEY, undefined);

function token(k: SigningKeys, ttlSeconds = 600, issuer = ISSUER): Promise<string> {
  return mintAccessToken(k, { issuer, resource: RESOURCE, subject: 'user-1', clientId: 'client-1', scope: 'support:read', grantId: 'g'.repeat(20), tokenId: crypto.randomUUID(), now: NOW, ttlSeconds });
}

/** A cache over the real verifier that counts how often the real verifier ran. */
function counted(max?: number) {
  const calls: string[] = [];
  const cache = new VerifiedTokens(async (k, t, expected) => {
    calls.push(t);
    return verifyAccessToken(k, t, expected);
  }, max);
  return { cache, calls };
}

const at = (now: number, overrides: Partial<TokenExpectation> = {}): TokenExpectation => ({ issuer: ISSUER, resource: RESOURCE, now, ...overrides });

describe('VerifiedTokens', () => {
  it('verifies a token once; the same token again is answered from the cache with the same claims', async () => {
    const { cache, calls } = counted();
    const t = await token(keys);
    const first = await cache.verify(keys, t, at(NOW));
    const second = await cache.verify(keys, t, at(NOW + 1000));
    expect(first.ok && second.ok).toBe(true);
    expect(second.ok && first.ok && second.claims.jti === first.claims.jti && second.claims.gid === first.claims.gid).toBe(true);
    expect(calls).toHaveLength(1);
    expect(cache.size).toBe(1);
  });

  it('a cached token past its exp is verified again, and refused as expired', async () => {
    const { cache, calls } = counted();
    const t = await token(keys, 60);
    expect((await cache.verify(keys, t, at(NOW))).ok).toBe(true);
    const late = await cache.verify(keys, t, at(NOW + 60_000));
    expect(late).toEqual({ ok: false, reason: 'expired' });
    expect(calls).toHaveLength(2);
    expect(cache.size).toBe(0);
  });

  it('another audience or issuer is not served from the entry of the first', async () => {
    const { cache, calls } = counted();
    const t = await token(keys);
    expect((await cache.verify(keys, t, at(NOW))).ok).toBe(true);
    expect(await cache.verify(keys, t, at(NOW, { resource: 'https://other.example.test/mcp' }))).toEqual({ ok: false, reason: 'wrong_audience' });
    expect(await cache.verify(keys, t, at(NOW, { issuer: 'https://other.example.test' }))).toEqual({ ok: false, reason: 'wrong_issuer' });
    expect(calls).toHaveLength(3);
  });

  it('a different key set (a changed signing secret) verifies again and refuses a token it did not sign', async () => {
    const { cache, calls } = counted();
    const t = await token(keys);
    expect((await cache.verify(keys, t, at(NOW))).ok).toBe(true);
    const otherKeys: SigningKeys = { ...keys, publicKeys: new Map() };
    expect(await cache.verify(otherKeys, t, at(NOW))).toEqual({ ok: false, reason: 'unknown_key' });
    expect(calls).toHaveLength(2);
  });

  it('refusals are never kept: a tampered token is checked (and refused) every time', async () => {
    const { cache, calls } = counted();
    const t = await token(keys);
    const [h, p, s] = t.split('.');
    const tampered = `${h}.${p}.${s?.startsWith('A') ? 'B' : 'A'}${s?.slice(1)}`;
    expect((await cache.verify(keys, tampered, at(NOW))).ok).toBe(false);
    expect((await cache.verify(keys, tampered, at(NOW))).ok).toBe(false);
    expect(calls).toHaveLength(2);
    expect(cache.size).toBe(0);
  });

  it('stays within its bound: the oldest entry goes first', async () => {
    const { cache, calls } = counted(2);
    const [a, b, c] = [await token(keys), await token(keys), await token(keys)];
    for (const t of [a, b, c]) expect((await cache.verify(keys, t, at(NOW))).ok).toBe(true);
    expect(cache.size).toBe(2);
    await cache.verify(keys, c, at(NOW));
    expect(calls).toHaveLength(3);
    await cache.verify(keys, a, at(NOW));
    expect(calls).toHaveLength(4);
  });
});
