/** A generic OpenID Connect client for the upstream login (Google in production): discovery, code exchange, ID token checks. */
import { createRemoteJWKSet, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { sha256Base64url } from '../auth/encoding.ts';

const DiscoverySchema = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
});

/** The upstream provider's endpoints. */
export type UpstreamMetadata = z.infer<typeof DiscoverySchema>;

/** Raised when the upstream provider cannot be used; `message` is safe to show. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
}

const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const TIMEOUT_MS = 10_000;
const discovered = new Map<string, { at: number; metadata: Promise<UpstreamMetadata> }>();
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/** Fetches (and caches per isolate for an hour) the provider's discovery document; its issuer must match exactly. */
export function discover(issuer: string, now: number): Promise<UpstreamMetadata> {
  const hit = discovered.get(issuer);
  if (hit && now - hit.at < DISCOVERY_TTL_MS) return hit.metadata;
  const metadata = (async () => {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers: { accept: 'application/json' } }).catch(() => null);
    if (!response?.ok) throw new UpstreamError('the sign-in provider is unreachable');
    const parsed = DiscoverySchema.safeParse(await response.json().catch(() => null));
    if (!parsed.success || parsed.data.issuer !== issuer) throw new UpstreamError('the sign-in provider published unusable metadata');
    return parsed.data;
  })();
  discovered.set(issuer, { at: now, metadata });
  metadata.catch(() => discovered.delete(issuer));
  return metadata;
}

/** The URL that sends the browser to the provider, always with PKCE S256, state and nonce. */
export function authorizationUrl(metadata: UpstreamMetadata, p: { clientId: string; redirectUri: string; scope: string; state: string; nonce: string; challenge: string }): string {
  const url = new URL(metadata.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', p.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('scope', p.scope);
  url.searchParams.set('state', p.state);
  url.searchParams.set('nonce', p.nonce);
  url.searchParams.set('code_challenge', p.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

/** Who signed in, after the ID token passed every check. */
export interface UpstreamIdentity {
  issuer: string;
  subject: string;
  email?: string | undefined;
  /** Whether the provider says it verified `email` (Google's `email_verified`). */
  emailVerified: boolean;
  name?: string | undefined;
  /** Our user id: a stable hash of issuer and subject. */
  userId: string;
}

const TokenResponseSchema = z.looseObject({ id_token: z.string().min(10) });
const IdClaimsSchema = z.looseObject({ sub: z.string().min(1), email: z.string().optional(), email_verified: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(), name: z.string().optional(), nonce: z.string().optional() });

/**
 * Exchanges the upstream code (client_secret_basic + the PKCE verifier) and verifies the ID
 * token: signature against the provider's JWKS, `iss`, `aud`, `exp` and our `nonce`. The
 * upstream tokens are used for nothing else and are not kept.
 */
export async function signIn(
  metadata: UpstreamMetadata,
  p: { clientId: string; clientSecret: string; code: string; redirectUri: string; verifier: string; nonce: string; now: number },
): Promise<UpstreamIdentity> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, code_verifier: p.verifier });
  const basic = btoa(`${encodeURIComponent(p.clientId)}:${encodeURIComponent(p.clientSecret)}`);
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).catch(() => null);
  if (!response) throw new UpstreamError('the sign-in provider is unreachable');
  if (!response.ok) throw new UpstreamError(`the sign-in provider refused the code (${response.status})`);
  const tokens = TokenResponseSchema.safeParse(await response.json().catch(() => null));
  if (!tokens.success) throw new UpstreamError('the sign-in provider returned no ID token');
  let keys = keySets.get(metadata.jwks_uri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: TIMEOUT_MS });
    keySets.set(metadata.jwks_uri, keys);
  }
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(tokens.data.id_token, keys, { issuer: metadata.issuer, audience: p.clientId, currentDate: new Date(p.now), requiredClaims: ['exp', 'iat', 'sub'] }));
  } catch (error) {
    const what = error instanceof joseErrors.JWTExpired ? 'expired' : error instanceof joseErrors.JWTClaimValidationFailed ? `wrong ${error.claim}` : 'invalid';
    throw new UpstreamError(`the ID token is ${what}`);
  }
  const claims = IdClaimsSchema.safeParse(payload);
  if (!claims.success) throw new UpstreamError('the ID token has no subject');
  if (claims.data.nonce !== p.nonce) throw new UpstreamError('the ID token nonce does not match');
  const userId = `u_${(await sha256Base64url(`${metadata.issuer}|${claims.data.sub}`)).slice(0, 27)}`;
  return { issuer: metadata.issuer, subject: claims.data.sub, email: claims.data.email, emailVerified: claims.data.email_verified === true || claims.data.email_verified === 'true', name: claims.data.name, userId };
}
