/** The authorization transaction's stored state and the shapes it exchanges with the HTTP layer. */
import { z } from 'zod';
import type { OAuthErrorCode } from '../src/errors.ts';
import { base64url } from '../src/auth/encoding.ts';

/** The signed-in person as stored (from the upstream ID token). */
export const UserSchema = z.object({ id: z.string(), issuer: z.string(), subject: z.string(), email: z.string().optional(), name: z.string().optional() });

/** The signed-in person, from the upstream ID token. */
export type UpstreamUser = z.infer<typeof UserSchema>;

/** The transaction's whole state, one JSON row: its phase and everything each phase needs. */
export const TxnSchema = z.object({
  id: z.string(),
  phase: z.enum(['consent', 'upstream', 'upstream_used', 'login_consent', 'code', 'granted', 'revoked', 'ended']),
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
  /** Absent for the authorization-code flow; 'client_credentials' for a machine client's grant. */
  grantType: z.literal('client_credentials').optional(),
  /** The user a machine client acts for (audit trail). */
  owner: z.string().optional(),
});
/** A parsed transaction state. */
export type Txn = z.infer<typeof TxnSchema>;

/** What /authorize hands the transaction when it starts. */
export interface BeginInput {
  issuer: string;
  resource: string;
  clientId: string;
  redirectUri: string;
  clientState?: string | undefined;
  codeChallenge: string;
  scope: string;
  bindingHash: string;
  csrfHash: string;
  /** The user whose remembered consent covers this request (from the browser's cookie), if any. */
  rememberedFor?: string | undefined;
  now: number;
}

/** A step's outcome: go upstream, back to the client with a code, show consent, or an OAuth error. */
export type Step =
  | { kind: 'upstream'; state: string; nonce: string; challenge: string }
  | { kind: 'code'; code: string; redirectUri: string; clientState?: string | undefined }
  | { kind: 'consent'; csrf: string }
  | { kind: 'deny'; redirectUri: string; clientState?: string | undefined }
  | { kind: 'error'; reason: string };

/** Tokens, or the RFC 6749 error to answer with. */
export type TokenOutcome =
  | { ok: true; access_token: string; refresh_token: string; expires_in: number; scope: string; token_type: 'Bearer' }
  | { ok: false; error: OAuthErrorCode; description: string };

/** What /token hands a client_credentials grant. */
export interface ClientCredentialsInput {
  meta?: import('../src/audit/emit.ts').RequestMeta | undefined;
  issuer: string;
  resource: string;
  clientId: string;
  /** The user the client acts for. */
  owner: string;
  /** The scope of the token (already checked against the client's registered scope). */
  scope: string;
  now: number;
}

/** An access token without a refresh token, or why not. */
export type ClientCredentialsOutcome =
  | { ok: true; access_token: string; expires_in: number; scope: string; token_type: 'Bearer' }
  | { ok: false; error: OAuthErrorCode; description: string };

/** The transaction's tables (created by begin or a client_credentials grant, never by a lookup). */
export const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS txn (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, attached_at INTEGER NOT NULL)',
];

/** Random bytes as base64url (256 bits unless said otherwise). */
export function random(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A refused token request. */
export function fail(error: OAuthErrorCode, description: string): TokenOutcome {
  return { ok: false, error, description };
}
