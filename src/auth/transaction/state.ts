/** The authorization transaction's stored state: one JSON row holding its phase and everything each phase needs. */
import { z } from 'zod';

/** The signed-in person as stored (from the upstream ID token). */
export const UserSchema = z.object({ id: z.string(), issuer: z.string(), subject: z.string(), email: z.string().optional(), name: z.string().optional() });

/** The signed-in person, from the upstream ID token. */
export type UpstreamUser = z.infer<typeof UserSchema>;

/** The eight phases: consent → upstream → upstream_used → [login_consent] → code → granted, or ended / revoked. */
export const PhaseSchema = z.enum(['consent', 'upstream', 'upstream_used', 'login_consent', 'code', 'granted', 'revoked', 'ended']);

/** A transaction phase. */
export type Phase = z.infer<typeof PhaseSchema>;

/** The transaction's whole state. */
export const TxnSchema = z.object({
  id: z.string(),
  phase: PhaseSchema,
  issuer: z.string(),
  resource: z.string(),
  clientId: z.string(),
  redirectUri: z.string(),
  clientState: z.string().optional(),
  codeChallenge: z.string(),
  scope: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  bindingHash: z.string(),
  csrfHash: z.string(),
  consentGiven: z.boolean(),
  /** Set when consent was remembered (not given here): it holds only if this user signs in. */
  consentUser: z.string().optional(),
  upstreamStateHash: z.string().optional(),
  nonce: z.string().optional(),
  verifier: z.string().optional(),
  user: UserSchema.optional(),
  codeHash: z.string().optional(),
  codeExpiresAt: z.number().optional(),
  refreshExpiresAt: z.number().optional(),
  revokedReason: z.string().optional(),
  /** When a revoked grant's tombstone may be deleted (it outlives every token of the grant). */
  cleanupAt: z.number().optional(),
  /** Absent for the authorization-code flow; 'client_credentials' for a machine client's grant. */
  grantType: z.literal('client_credentials').optional(),
  /** The user a machine client acts for (audit trail). */
  owner: z.string().optional(),
});

/** A parsed transaction state. */
export type Txn = z.infer<typeof TxnSchema>;

/** Status of a stored refresh token (only its SHA-256 is stored). */
export type RefreshStatus = 'active' | 'rotated' | 'revoked';

/** The lifetimes the machine applies, in seconds (from the validated config). */
export interface Lifetimes {
  transaction: number;
  code: number;
  accessToken: number;
  refreshToken: number;
}

/** How long a revoked grant is kept at least (24 h, which also outlives any access token: their TTL is at most 24 h). */
export const REVOKED_RETENTION_MS = 24 * 3600 * 1000;
