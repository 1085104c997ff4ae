/** private_key_jwt client authentication (RFC 7523 §2.2 and §3, OpenID Connect Core §9): verifying a client assertion against the client's registered keys. No I/O; `now` is passed in. */
import { compactVerify, decodeJwt, decodeProtectedHeader, errors as joseErrors, importJWK } from 'jose';
import { ASSERTION_ALGS, keyFits, type AssertionAlg, type ClientJwk } from './client-jwks.ts';

/** The only `client_assertion_type` accepted (RFC 7523 §2.2). */
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How far ahead `exp` may be: an assertion is good for at most five minutes. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

/** Clock skew tolerated on `exp`, `iat` and `nbf`. */
export const CLOCK_SKEW_SECONDS = 60;

/** The longest assertion read, in characters. */
export const MAX_ASSERTION_LENGTH = 8192;

/** The longest `jti` accepted, in characters. */
export const MAX_JTI_LENGTH = 256;

/** Why an assertion was refused: logged, never sent (the wire says only `invalid_client`). */
export type AssertionRejection =
  | 'malformed'
  | 'unsupported_alg'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_subject'
  | 'wrong_audience'
  | 'missing_exp'
  | 'expired'
  | 'exp_too_far'
  | 'iat_in_future'
  | 'not_yet_valid'
  | 'missing_jti';

/** A verified assertion: its `jti`, and until when it must be remembered (ms) so it is used once. */
export type VerifiedAssertion = { ok: true; jti: string; rememberUntil: number };

/** What the assertion must match. */
export interface AssertionExpectation {
  clientId: string;
  keys: readonly ClientJwk[];
  /** Accepted `aud` values: the token endpoint URL and the issuer. */
  audiences: readonly string[];
  now: number;
}

/** The client an assertion claims to come from (its unverified `iss`), to look its keys up; null when unreadable. */
export function claimedClientId(assertion: string): string | null {
  if (assertion.length > MAX_ASSERTION_LENGTH) return null;
  try {
    const iss = decodeJwt(assertion).iss;
    return typeof iss === 'string' && iss !== '' ? iss : null;
  } catch {
    return null;
  }
}

/**
 * Verifies the signature with one of the client's keys (ES256, RS256 or PS256 only), then the
 * claims: iss = sub = client id, aud, exp (present, not past, at most five minutes ahead), iat
 * and nbf (not in the future), jti. The signature is checked before any claim is looked at.
 */
export async function verifyClientAssertion(assertion: string, expected: AssertionExpectation): Promise<VerifiedAssertion | { ok: false; reason: AssertionRejection }> {
  if (assertion.length > MAX_ASSERTION_LENGTH || assertion.split('.').length !== 3) return reject('malformed');
  let alg: unknown;
  let kid: unknown;
  try {
    ({ alg, kid } = decodeProtectedHeader(assertion));
  } catch {
    return reject('malformed');
  }
  const accepted = ASSERTION_ALGS.find((a) => a === alg);
  if (!accepted) return reject('unsupported_alg');
  const jwk = pickKey(expected.keys, accepted, kid);
  if (!jwk) return reject('unknown_key');
  let payloadBytes: Uint8Array;
  try {
    const key = await importJWK(jwk, accepted);
    if (!(key instanceof CryptoKey)) return reject('unknown_key');
    ({ payload: payloadBytes } = await compactVerify(assertion, key, { algorithms: [accepted] }));
  } catch (error) {
    return reject(error instanceof joseErrors.JWSSignatureVerificationFailed ? 'bad_signature' : 'malformed');
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(payloadBytes));
  } catch {
    return reject('malformed');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return reject('malformed');
  return checkClaims(claims as Record<string, unknown>, expected);
}

/** The claim checks, in a fixed order; times in seconds, `now` in ms. */
export function checkClaims(claims: Record<string, unknown>, expected: Omit<AssertionExpectation, 'keys'>): VerifiedAssertion | { ok: false; reason: AssertionRejection } {
  const now = expected.now / 1000;
  if (claims.iss !== expected.clientId) return reject('wrong_issuer');
  if (claims.sub !== expected.clientId) return reject('wrong_subject');
  const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  if (!aud.some((a) => typeof a === 'string' && expected.audiences.includes(a))) return reject('wrong_audience');
  const { exp, iat, nbf, jti } = claims;
  if (exp === undefined) return reject('missing_exp');
  if (!isTime(exp) || (iat !== undefined && !isTime(iat)) || (nbf !== undefined && !isTime(nbf))) return reject('malformed');
  if (exp <= now - CLOCK_SKEW_SECONDS) return reject('expired');
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) return reject('exp_too_far');
  if (iat !== undefined && iat > now + CLOCK_SKEW_SECONDS) return reject('iat_in_future');
  if (nbf !== undefined && nbf > now + CLOCK_SKEW_SECONDS) return reject('not_yet_valid');
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return reject('missing_jti');
  // Accepted until exp + skew, so it must be remembered exactly that long.
  return { ok: true, jti, rememberUntil: (exp + CLOCK_SKEW_SECONDS) * 1000 };
}

/** True when the runtime accepts the key for verification (an EC point on the curve, a well-formed RSA key). */
export async function isUsableKey(jwk: ClientJwk): Promise<boolean> {
  try {
    await importJWK(jwk, jwk.kty === 'EC' ? 'ES256' : (jwk.alg ?? 'RS256'));
    return true;
  } catch {
    return false;
  }
}

/** The key named by `kid`; without a kid, the client's only key that fits `alg`. */
function pickKey(keys: readonly ClientJwk[], alg: AssertionAlg, kid: unknown): ClientJwk | undefined {
  const fitting = keys.filter((k) => keyFits(k, alg));
  if (kid !== undefined) return typeof kid === 'string' ? fitting.find((k) => k.kid === kid) : undefined;
  return fitting.length === 1 ? fitting[0] : undefined;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function reject(reason: AssertionRejection): { ok: false; reason: AssertionRejection } {
  return { ok: false, reason };
}
