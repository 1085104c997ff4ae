/**
 * Access tokens already verified in this isolate, remembered until they expire: a token string
 * that verified once (signature, type, issuer, audience) verifies the same way until its `exp`,
 * so a repeated token skips the ES256 check and the claim parsing. Pure: `now` is passed in.
 */
import type { AccessClaims, TokenRejection } from './access-token.ts';
import type { SigningKeys } from './signing-keys.ts';

/** What verifying one token answers. */
export type Verification = { ok: true; claims: AccessClaims } | { ok: false; reason: TokenRejection };

/** The expectations a token was verified against; a hit must match all of them. */
export interface TokenExpectation {
  issuer: string;
  resource: string;
  now: number;
}

/** Verifies a token without the cache (src/auth/access-token.ts). */
export type TokenVerifier = (keys: SigningKeys, token: string, expected: TokenExpectation) => Promise<Verification>;

interface Entry {
  keys: SigningKeys;
  claims: AccessClaims;
  /** `exp` in milliseconds: from this instant on the token is verified again (and refused as expired). */
  expiresAt: number;
}

/**
 * A bounded map from (issuer, resource, token) to verified claims. Only successes are kept; an
 * entry serves only the same key set (a changed signing-key secret is a different set), and only
 * before its `exp`. When full, the oldest entry goes first. Revocation is not the cache's concern:
 * the grant's status is checked after authentication on every request, as without the cache.
 */
export class VerifiedTokens {
  readonly #max: number;
  readonly #verify: TokenVerifier;
  readonly #entries = new Map<string, Entry>();

  constructor(verify: TokenVerifier, max = 4096) {
    this.#verify = verify;
    this.#max = max;
  }

  /** The claims of a valid token (from the cache while it has not expired), or why it was refused. */
  async verify(keys: SigningKeys, token: string, expected: TokenExpectation): Promise<Verification> {
    const id = `${expected.issuer}\n${expected.resource}\n${token}`;
    const hit = this.#entries.get(id);
    if (hit && hit.keys === keys && expected.now < hit.expiresAt) return { ok: true, claims: hit.claims };
    if (hit) this.#entries.delete(id);
    const result = await this.#verify(keys, token, expected);
    if (result.ok) {
      if (this.#entries.size >= this.#max) {
        const oldest = this.#entries.keys().next();
        if (!oldest.done) this.#entries.delete(oldest.value);
      }
      this.#entries.set(id, { keys, claims: Object.freeze({ ...result.claims }), expiresAt: result.claims.exp * 1000 });
    }
    return result;
  }

  /** How many tokens are remembered (tests). */
  get size(): number {
    return this.#entries.size;
  }
}
