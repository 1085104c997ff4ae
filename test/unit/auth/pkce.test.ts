// PKCE: S256 only, the 43–128 unreserved-character syntax, and verification (checklist items 15–17).
import { describe, expect, it } from 'vitest';
import { checkChallengeRequest, isPkceString, PKCE_PATTERN, s256Challenge, verifyPkce } from '../../../src/auth/pkce.ts';
import { isErrorDescription } from '../../../src/auth/error-text.ts';

// RFC 7636 Appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const DESCRIPTIONS = {
  missing_challenge: 'code_challenge is required (PKCE)',
  missing_method: 'code_challenge_method is required and must be S256',
  unsupported_method: 'code_challenge_method must be S256',
  malformed_challenge: 'code_challenge must be 43-128 characters of A-Z a-z 0-9 - . _ ~',
} as const;

describe('isPkceString', () => {
  it.each([
    ['a'.repeat(43), '43 characters, the minimum'],
    ['a'.repeat(128), '128 characters, the maximum'],
    ['A-Za-z0-9._~'.padEnd(43, '~'), 'every unreserved character class'],
    [VERIFIER, 'the RFC 7636 verifier'],
  ])('accepts %j (%s)', (s) => {
    expect(isPkceString(s)).toBe(true);
    expect(PKCE_PATTERN.test(s)).toBe(true);
  });

  it.each([
    ['a'.repeat(42), '42 characters'],
    ['a'.repeat(129), '129 characters'],
    ['', 'empty'],
    [`${'a'.repeat(42)}+`, 'a + (base64, not unreserved)'],
    [`${'a'.repeat(42)}/`, 'a /'],
    [`${'a'.repeat(42)}=`, 'padding'],
    [`${'a'.repeat(42)} `, 'a space'],
    [`${'a'.repeat(43)}\n`, 'a trailing newline'],
    [`${'a'.repeat(42)}%`, 'a percent sign'],
    [`${'a'.repeat(42)}é`, 'a non-ASCII letter'],
    [42, 'a number'],
    [undefined, 'undefined'],
  ])('refuses %j (%s)', (s, _why) => {
    expect(isPkceString(s)).toBe(false);
  });
});

describe('s256Challenge', () => {
  it('computes the RFC 7636 Appendix B challenge', async () => {
    expect(await s256Challenge(VERIFIER)).toBe(CHALLENGE);
  });
});

describe('verifyPkce', () => {
  it('accepts the RFC 7636 Appendix B pair', async () => {
    expect(await verifyPkce({ verifier: VERIFIER, challenge: CHALLENGE })).toBe(true);
  });

  it.each([
    [`${VERIFIER.slice(0, -1)}l`, CHALLENGE, 'a wrong verifier'],
    [CHALLENGE, CHALLENGE, 'the challenge sent as the verifier (plain)'],
    [VERIFIER, VERIFIER, 'a plain challenge equal to the verifier'],
    [VERIFIER, `${CHALLENGE.slice(0, -1)}d`, 'a challenge one character off'],
    [VERIFIER, CHALLENGE.toLowerCase(), 'a challenge in another case'],
    [VERIFIER.slice(0, 42), CHALLENGE, 'a verifier of 42 characters'],
    ['a'.repeat(129), CHALLENGE, 'a verifier of 129 characters'],
    [`${VERIFIER}+`, CHALLENGE, 'a verifier with a character outside the set'],
    ['', CHALLENGE, 'an empty verifier'],
    [VERIFIER, '', 'an empty stored challenge'],
  ])('refuses verifier %j for challenge %j (%s)', async (verifier, challenge) => {
    expect(await verifyPkce({ verifier, challenge })).toBe(false);
  });

  it('refuses a malformed verifier even when its digest matches the challenge', async () => {
    const verifier = 'short';
    expect(await verifyPkce({ verifier, challenge: await s256Challenge(verifier) })).toBe(false);
  });
});

describe('checkChallengeRequest', () => {
  it.each([
    [CHALLENGE, 'the RFC 7636 challenge'],
    ['a'.repeat(43), '43 characters'],
    ['a'.repeat(128), '128 characters'],
  ])('accepts S256 with %j (%s)', (challenge) => {
    expect(checkChallengeRequest({ code_challenge: challenge, code_challenge_method: 'S256' })).toEqual({ ok: true, challenge });
  });

  it.each([
    [{}, 'missing_challenge', 'no challenge, no method'],
    [{ code_challenge_method: 'S256' }, 'missing_challenge', 'a method without a challenge'],
    [{ code_challenge: '', code_challenge_method: 'S256' }, 'missing_challenge', 'an empty challenge'],
    [{ code_challenge: CHALLENGE }, 'missing_method', 'no method (the RFC default, plain, is refused)'],
    [{ code_challenge: CHALLENGE, code_challenge_method: '' }, 'missing_method', 'an empty method'],
    [{ code_challenge: CHALLENGE, code_challenge_method: 'plain' }, 'unsupported_method', 'plain'],
    [{ code_challenge: CHALLENGE, code_challenge_method: 'S512' }, 'unsupported_method', 'S512'],
    [{ code_challenge: CHALLENGE, code_challenge_method: 's256' }, 'unsupported_method', 'lower-case s256'],
    [{ code_challenge: CHALLENGE, code_challenge_method: 'S256 ' }, 'unsupported_method', 'S256 with a trailing space'],
    [{ code_challenge: CHALLENGE, code_challenge_method: 'sha256' }, 'unsupported_method', 'sha256'],
    [{ code_challenge: 'a'.repeat(42), code_challenge_method: 'S256' }, 'malformed_challenge', '42 characters'],
    [{ code_challenge: 'a'.repeat(129), code_challenge_method: 'S256' }, 'malformed_challenge', '129 characters'],
    [{ code_challenge: `${CHALLENGE.slice(0, -1)}=`, code_challenge_method: 'S256' }, 'malformed_challenge', 'padding'],
    [{ code_challenge: `${CHALLENGE.slice(0, -1)}+`, code_challenge_method: 'S256' }, 'malformed_challenge', 'a base64 +'],
    [{ code_challenge: `${CHALLENGE} `, code_challenge_method: 'S256' }, 'malformed_challenge', 'a trailing space'],
  ] as const)('refuses %j as %s (%s)', (params, reason, _why) => {
    expect(checkChallengeRequest(params)).toEqual({ ok: false, reason, description: DESCRIPTIONS[reason] });
  });

  it('checks the method before the challenge syntax (plain with a short challenge is a method error)', () => {
    expect(checkChallengeRequest({ code_challenge: 'x', code_challenge_method: 'plain' })).toMatchObject({ reason: 'unsupported_method' });
  });

  it('every description may be sent as an error_description', () => {
    for (const text of Object.values(DESCRIPTIONS)) expect(isErrorDescription(text)).toBe(true);
  });
});
