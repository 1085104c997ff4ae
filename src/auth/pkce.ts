/** PKCE (RFC 7636) with S256 only: verifier and challenge syntax, the challenge check at /authorize, verification at /token. Pure. */
import { sha256Base64url, timingSafeEqual } from './encoding.ts';

/** RFC 7636 §4.1/§4.2: 43–128 unreserved characters (the syntax of both verifier and challenge). */
export const PKCE_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

/** True when `s` is a string of 43–128 unreserved characters. */
export function isPkceString(s: unknown): s is string {
  return typeof s === 'string' && PKCE_PATTERN.test(s);
}

/** The S256 challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export function s256Challenge(verifier: string): Promise<string> {
  return sha256Base64url(verifier);
}

/**
 * True when `verifier` is well-formed and its S256 challenge equals `challenge`, compared in
 * constant time. A malformed verifier or stored challenge is false, never an exception.
 */
export async function verifyPkce(input: { verifier: string; challenge: string }): Promise<boolean> {
  if (!isPkceString(input.verifier) || !isPkceString(input.challenge)) return false;
  return timingSafeEqual(await s256Challenge(input.verifier), input.challenge);
}

/** Why an authorization request's PKCE parameters were refused (each maps to `invalid_request`). */
export type PkceRejectionReason = 'missing_challenge' | 'missing_method' | 'unsupported_method' | 'malformed_challenge';

/** A refused authorization request; `description` is safe to send as `error_description`. */
export type PkceRejection = { ok: false; reason: PkceRejectionReason; description: string };

const DESCRIPTIONS: Record<PkceRejectionReason, string> = {
  missing_challenge: 'code_challenge is required (PKCE)',
  missing_method: 'code_challenge_method is required and must be S256',
  unsupported_method: 'code_challenge_method must be S256',
  malformed_challenge: 'code_challenge must be 43-128 characters of A-Z a-z 0-9 - . _ ~',
};

/**
 * The PKCE check of an authorization request: a challenge is required, and the method must be
 * given and be exactly `S256` (case-sensitive; `plain` is refused, OAuth 2.1 §4.1.1).
 * Absent and empty are the same thing here (see readParams).
 */
export function checkChallengeRequest(params: {
  code_challenge?: string;
  code_challenge_method?: string;
}): { ok: true; challenge: string } | PkceRejection {
  const challenge = params.code_challenge;
  const method = params.code_challenge_method;
  if (challenge === undefined || challenge === '') return reject('missing_challenge');
  if (method === undefined || method === '') return reject('missing_method');
  if (method !== 'S256') return reject('unsupported_method');
  if (!isPkceString(challenge)) return reject('malformed_challenge');
  return { ok: true, challenge };
}

function reject(reason: PkceRejectionReason): PkceRejection {
  return { ok: false, reason, description: DESCRIPTIONS[reason] };
}
