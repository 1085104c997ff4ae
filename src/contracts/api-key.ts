/** What the router may ask of an API key's Durable Object (ApiKey implements it), and the key record both sides share. */
import { z } from 'zod';
import type { RequestMeta } from '../audit/emit.ts';
import type { BaselineView, PrincipalBaselineRpc } from './principal-baseline.ts';

const RateSchema = z.object({ requests: z.number().int().min(1).max(1_000_000), perSeconds: z.number().int().min(1).max(86_400) });

/** What the admin API stores about a key. */
export const KeyRecordSchema = z.object({
  keyId: z.string(),
  owner: z.string().min(1).max(200),
  agentId: z.string().min(1).max(200),
  agentName: z.string().min(1).max(200),
  scopes: z.array(z.string()),
  createdAt: z.number(),
  expiresAt: z.number(),
  lastUsedAt: z.number().nullable(),
  status: z.enum(['active', 'revoked']),
  revokedAt: z.number().nullable(),
  rate: RateSchema,
  toolRates: z.record(z.string(), RateSchema),
});

/** A stored key (never its secret). */
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

/** Why a key was refused at /mcp. */
export type KeyRefusal = 'invalid' | 'expired' | 'revoked' | 'rotated_out' | 'insufficient_scope' | 'rate_limited';

/** The outcome of presenting a key for one request. */
export type KeyCheck =
  | { ok: true; record: KeyRecord; headers: Record<string, string>; baseline?: BaselineView }
  | { ok: false; reason: KeyRefusal; limit?: string | undefined; retryAfterSeconds?: number | undefined; headers: Record<string, string> };

/** What presenting a key for one request carries. */
export interface KeyCheckInput {
  secret: string;
  tool?: string | undefined;
  neededScope?: string | undefined;
  now: number;
  meta?: RequestMeta | undefined;
  /** A stateless tool call with baselines on: the key's baseline view comes back with an admitted check (one round trip, issue 14). */
  withBaseline?: boolean | undefined;
}

/** Who asked for an administrative change of a key, for its audit event: the administrator and the request's address and user agent. */
export interface AdminContext {
  admin: string;
  meta?: RequestMeta | undefined;
}

/** A key's record and its secrets' lifetimes (no hashes). */
export interface KeyView {
  record: KeyRecord;
  secrets: Array<{ createdAt: number; retiresAt: number | null }>;
}

/** One Durable Object per API key, named by the key id. */
export interface ApiKeyObject extends Rpc.DurableObjectBranded, PrincipalBaselineRpc {
  /** Creates the key; returns its first secret (shown once). */
  create(record: KeyRecord, by?: AdminContext): Promise<{ secret: string } | { error: string }>;
  /** Checks secret, status, expiry and scope, then takes one token from the key's (and the tool's) bucket. */
  check(input: KeyCheckInput): Promise<KeyCheck>;
  /** Issues a successor secret; the current ones keep working for `overlapSeconds`. */
  rotate(overlapSeconds: number, now: number, by?: AdminContext): Promise<{ secret: string; previousRetiresAt: number } | { error: 'not_found' | 'revoked' }>;
  /** Revokes the key; null when there is no such key. */
  revoke(now: number, by?: AdminContext): Promise<KeyRecord | null>;
  /** The key's record and its secrets' lifetimes, or null. */
  show(): KeyView | null;
  /** Audit events waiting for delivery (tests and diagnostics). */
  auditPending(): number;
}
