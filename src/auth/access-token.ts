/** Access tokens: short-lived ES256 JWTs (RFC 9068 `at+jwt`) bound to the MCP resource; minted and verified without I/O. */
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { z } from 'zod';
import type { SigningKeys } from './signing-keys.ts';

/** The claims the server puts in every access token. */
export const AccessClaimsSchema = z.object({
  iss: z.string(),
  aud: z.string(),
  sub: z.string().min(1),
  client_id: z.string().min(1),
  scope: z.string(),
  jti: z.string().min(16),
  /** The grant (authorization transaction) this token belongs to. */
  gid: z.string().min(16),
  iat: z.number(),
  exp: z.number(),
  /** Upstream identity, for the audit trail. */
  idp_iss: z.string().optional(),
  idp_sub: z.string().optional(),
  email: z.string().optional(),
});

/** Verified access-token claims. */
export type AccessClaims = z.infer<typeof AccessClaimsSchema>;

/** What to put in a new token. */
export interface MintInput {
  issuer: string;
  resource: string;
  subject: string;
  clientId: string;
  scope: string;
  grantId: string;
  tokenId: string;
  now: number;
  ttlSeconds: number;
  upstream?: { issuer: string; subject: string; email?: string | undefined };
}

/** Signs an access token with the current key. */
export async function mintAccessToken(keys: SigningKeys, input: MintInput): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  const upstream = input.upstream ? { idp_iss: input.upstream.issuer, idp_sub: input.upstream.subject, ...(input.upstream.email ? { email: input.upstream.email } : {}) } : {};
  return new SignJWT({ client_id: input.clientId, scope: input.scope, gid: input.grantId, ...upstream })
    .setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'at+jwt' })
    .setIssuer(input.issuer)
    .setAudience(input.resource)
    .setSubject(input.subject)
    .setJti(input.tokenId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + input.ttlSeconds)
    .sign(keys.privateKey);
}

/** Why a presented token was refused (goes to the log; the wire says only `invalid_token`). */
export type TokenRejection = 'malformed' | 'bad_signature' | 'unknown_key' | 'expired' | 'wrong_issuer' | 'wrong_audience' | 'wrong_type' | 'bad_claims';

/** Verifies signature, type, issuer, audience and expiry; returns the claims or why not. */
export async function verifyAccessToken(
  keys: SigningKeys,
  token: string,
  expected: { issuer: string; resource: string; now: number },
): Promise<{ ok: true; claims: AccessClaims } | { ok: false; reason: TokenRejection }> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? keys.publicKeys.get(header.kid) : undefined;
        if (!key) throw new joseErrors.JWKSNoMatchingKey();
        return key;
      },
      {
        algorithms: ['ES256'],
        typ: 'at+jwt',
        issuer: expected.issuer,
        audience: expected.resource,
        currentDate: new Date(expected.now),
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      },
    );
    const claims = AccessClaimsSchema.safeParse(payload);
    return claims.success ? { ok: true, claims: claims.data } : { ok: false, reason: 'bad_claims' };
  } catch (error) {
    return { ok: false, reason: rejection(error) };
  }
}

function rejection(error: unknown): TokenRejection {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'unknown_key';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'aud') return 'wrong_audience';
    if (error.claim === 'typ') return 'wrong_type';
    return 'bad_claims';
  }
  return 'malformed';
}
