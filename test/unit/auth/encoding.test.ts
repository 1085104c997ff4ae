// base64url round trips and strictness, SHA-256 digests, and the constant-time string comparison.
import { describe, expect, it } from 'vitest';
import { base64url, fromBase64url, sha256Base64url, timingSafeEqual } from '../../../src/auth/encoding.ts';

// RFC 7636 Appendix B: 32 random octets and their base64url spelling.
const RFC7636_OCTETS = [
  116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88,
  83, 132, 141, 121,
];
const RFC7636_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

describe('base64url', () => {
  it.each([
    [[], ''],
    [[0x66], 'Zg'],
    [[0x66, 0x6f], 'Zm8'],
    [[0x66, 0x6f, 0x6f], 'Zm9v'],
    [[0xfb, 0xff], '-_8'],
    [[0xff, 0xff, 0xff], '____'],
    [RFC7636_OCTETS, RFC7636_VERIFIER],
  ])('%j → %j (no padding, - and _ alphabet)', (bytes, text) => {
    expect(base64url(new Uint8Array(bytes))).toBe(text);
    expect(fromBase64url(text)).toEqual(new Uint8Array(bytes));
  });

  it('round-trips every byte value', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(fromBase64url(base64url(all))).toEqual(all);
  });
});

describe('fromBase64url refuses', () => {
  it.each([
    ['Zg==', 'padding'],
    ['+/8', 'the base64 (not base64url) alphabet'],
    ['Zm 9v', 'white space'],
    ['Zm9v\n', 'a trailing newline'],
    ['Z', 'an impossible length'],
    ['Zh', 'non-zero spare bits (a second spelling of Zg)'],
    ['Zm9', 'non-zero spare bits (a second spelling of Zm8)'],
    ['Zm9v!', 'a character outside the alphabet'],
  ])('%j (%s)', (text) => {
    expect(fromBase64url(text)).toBeNull();
  });
});

describe('sha256Base64url', () => {
  it.each([
    ['', '47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'],
    ['abc', 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0'],
    [RFC7636_VERIFIER, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'],
  ])('%j → %j', async (text, digest) => {
    expect(await sha256Base64url(text)).toBe(digest);
  });

  it('hashes the UTF-8 bytes of the text', async () => {
    // SHA-256 of the two bytes C3 A9 (é in UTF-8), not of the one UTF-16 unit 00E9.
    expect(await sha256Base64url('é')).toBe(base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([0xc3, 0xa9])))));
  });
});

describe('timingSafeEqual', () => {
  it.each([
    ['', ''],
    ['a', 'a'],
    [RFC7636_VERIFIER, RFC7636_VERIFIER],
    ['é', 'é'],
  ])('%j equals %j', (a, b) => {
    expect(timingSafeEqual(a, b)).toBe(true);
  });

  it.each([
    ['a', 'b', 'one differing byte'],
    ['abc', 'abd', 'the last byte differs'],
    ['xbc', 'abc', 'the first byte differs'],
    ['abc', 'ab', 'a prefix'],
    ['ab', 'abc', 'a longer string'],
    ['', 'a', 'empty against one byte'],
    ['a\u0000', 'a', 'a trailing NUL (zero padding must not make lengths equal)'],
    ['é', 'e\u0301', 'different UTF-8 bytes for the same-looking text'],
  ])('%j differs from %j (%s)', (a, b) => {
    expect(timingSafeEqual(a, b)).toBe(false);
    expect(timingSafeEqual(b, a)).toBe(false);
  });
});
