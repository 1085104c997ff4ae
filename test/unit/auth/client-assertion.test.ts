// Client assertions (RFC 7523) and client key sets, with a frozen clock: time boundaries, key choice, and the order of checks.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkClaims, claimedClientId, CLOCK_SKEW_SECONDS, MAX_ASSERTION_LIFETIME_SECONDS, verifyClientAssertion } from '../../../src/auth/client-assertion.ts';
import { parseClientJwks, type ClientJwk } from '../../../src/auth/client-jwks.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const T = NOW / 1000;
const CLIENT = 'client-abc';
const AUD = 'https://mcp.example/token';
const EXPECTED = { clientId: CLIENT, audiences: [AUD, 'https://mcp.example'], now: NOW };

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: CLIENT, sub: CLIENT, aud: AUD, iat: T, exp: T + 60, jti: 'j-1', ...extra };
}

async function ecKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: ClientJwk }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const parsed = parseClientJwks({ keys: [{ ...(await exportJWK(publicKey)), kid }] });
  if (!parsed.ok) throw new Error(parsed.description);
  return { privateKey, jwk: parsed.keys[0] as ClientJwk };
}

function sign(payload: Record<string, unknown>, key: CryptoKey, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', ...header }).sign(key);
}

describe('checkClaims (times in seconds, 60 s skew, at most 5 minutes ahead)', () => {
  it.each<[string, Record<string, unknown>, string | null]>([
    ['a valid set', {}, null],
    ['exp exactly now - skew', { exp: T - CLOCK_SKEW_SECONDS }, 'expired'],
    ['exp one second inside the skew', { exp: T - CLOCK_SKEW_SECONDS + 1 }, null],
    ['exp at the limit ahead', { exp: T + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS }, null],
    ['exp one second past the limit', { exp: T + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS + 1 }, 'exp_too_far'],
    ['exp absent', { exp: undefined }, 'missing_exp'],
    ['exp a string', { exp: String(T + 60) }, 'malformed'],
    ['iat at now + skew', { iat: T + CLOCK_SKEW_SECONDS }, null],
    ['iat past now + skew', { iat: T + CLOCK_SKEW_SECONDS + 1 }, 'iat_in_future'],
    ['iat absent (optional in RFC 7523)', { iat: undefined }, null],
    ['nbf past now + skew', { nbf: T + CLOCK_SKEW_SECONDS + 1 }, 'not_yet_valid'],
    ['iss another client', { iss: 'client-xyz' }, 'wrong_issuer'],
    ['sub another client', { sub: 'client-xyz' }, 'wrong_subject'],
    ['aud the issuer', { aud: 'https://mcp.example' }, null],
    ['aud an array with the token endpoint', { aud: ['https://x.example', AUD] }, null],
    ['aud a prefix of the token endpoint', { aud: 'https://mcp.example/tok' }, 'wrong_audience'],
    ['aud an array of others', { aud: ['https://x.example'] }, 'wrong_audience'],
    ['jti absent', { jti: undefined }, 'missing_jti'],
    ['jti too long', { jti: 'j'.repeat(257) }, 'missing_jti'],
  ])('%s', (_name, extra, reason) => {
    const result = checkClaims(claims(extra), EXPECTED);
    if (reason === null) expect(result.ok).toBe(true);
    else expect(result).toEqual({ ok: false, reason });
  });

  it('remembers the jti until exp + skew, the last moment the assertion could be accepted', () => {
    expect(checkClaims(claims({ exp: T + 100 }), EXPECTED)).toEqual({ ok: true, jti: 'j-1', rememberUntil: (T + 100 + CLOCK_SKEW_SECONDS) * 1000 });
  });
});

describe('verifyClientAssertion', () => {
  it('accepts an assertion signed by the key its kid names', async () => {
    const a = await ecKey('a');
    const b = await ecKey('b');
    const jwt = await sign(claims(), b.privateKey, { kid: 'b' });
    expect(await verifyClientAssertion(jwt, { ...EXPECTED, keys: [a.jwk, b.jwk] })).toMatchObject({ ok: true, jti: 'j-1' });
  });

  it('without a kid, uses the only key that fits; with two fitting keys it refuses', async () => {
    const a = await ecKey('a');
    const b = await ecKey('b');
    const jwt = await sign(claims(), a.privateKey);
    expect(await verifyClientAssertion(jwt, { ...EXPECTED, keys: [a.jwk] })).toMatchObject({ ok: true });
    expect(await verifyClientAssertion(jwt, { ...EXPECTED, keys: [a.jwk, b.jwk] })).toEqual({ ok: false, reason: 'unknown_key' });
  });

  it('checks the signature before any claim: an expired assertion with a bad signature is refused for its signature', async () => {
    const a = await ecKey('a');
    const other = await ecKey('a');
    const jwt = await sign(claims({ exp: T - 3600, iss: 'x' }), other.privateKey, { kid: 'a' });
    expect(await verifyClientAssertion(jwt, { ...EXPECTED, keys: [a.jwk] })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each(['none', 'HS256', 'ES384', 'EdDSA', undefined])('refuses alg %s before looking for a key', async (alg) => {
    const a = await ecKey('a');
    const segment = (value: unknown) => btoa(JSON.stringify(value)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
    const jwt = `${segment({ alg, kid: 'a' })}.${segment(claims())}.AAAA`;
    expect(await verifyClientAssertion(jwt, { ...EXPECTED, keys: [a.jwk] })).toEqual({ ok: false, reason: 'unsupported_alg' });
  });

  it.each(['', 'a.b', 'a.b.c.d', 'not a jwt', `${'x'.repeat(9000)}.a.b`])('refuses the malformed %j', async (jwt) => {
    const a = await ecKey('a');
    expect(await verifyClientAssertion(jwt, { ...EXPECTED, keys: [a.jwk] })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('claimedClientId reads the unverified iss only when it is a non-empty string', async () => {
    const a = await ecKey('a');
    expect(claimedClientId(await sign(claims(), a.privateKey))).toBe(CLIENT);
    expect(claimedClientId(await sign(claims({ iss: 7 }), a.privateKey))).toBeNull();
    expect(claimedClientId('garbage')).toBeNull();
  });
});

describe('parseClientJwks', () => {
  it('keeps only the public members used', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    expect(parseClientJwks({ keys: [{ ...jwk, kid: 'k', use: 'sig', x5c: ['MII'], ext: true }] })).toEqual({ ok: true, keys: [{ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: 'k' }] });
  });

  it('names private key material before any other problem', () => {
    expect(parseClientJwks({ keys: [{ kty: 'nope', d: 'secret' }] })).toEqual({ ok: false, field: 'jwks.keys.0.d', description: 'private key material is refused: register public keys only' });
  });

  it.each<[unknown, string]>([
    [null, 'jwks'],
    [[], 'jwks'],
    [{ keys: 'x' }, 'jwks.keys'],
    [{ keys: [1] }, 'jwks.keys.0'],
    [{ keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'k' }] }, 'jwks.keys.0.x'],
    [{ keys: [{ kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43), kid: 'k\n' }] }, 'jwks.keys.0.kid'],
    [{ keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'k' }] }, 'jwks.keys.0.n'],
  ])('refuses %j naming %s', (value, field) => {
    const result = parseClientJwks(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.field).toBe(field);
  });
});
