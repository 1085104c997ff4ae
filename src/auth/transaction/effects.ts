/** What a transition of the authorization transaction asks its Durable Object to do, and the helpers shared by the transitions. */
import type { EventInput, RequestMeta } from '../../audit/emit.ts';
import type { Actor, AuditType } from '../../audit/event.ts';
import type { OAuthErrorCode } from '../../errors.ts';
import type { MintInput } from '../access-token.ts';
import { REVOKED_RETENTION_MS, type Lifetimes, type Txn } from './state.ts';

/** An audit event with its full delegation chain; the object adds id and time. */
export type AuditEffectEvent = Omit<EventInput, 'actor'> & { actor: Actor };

/**
 * Everything a transition wants done besides writing its next state, in order. The object
 * runs them after persisting the state; none of them feeds back into the machine.
 */
export type Effect =
  /** Store a new refresh token's hash as the grant's `active` one. */
  | { kind: 'store_refresh'; hash: string; createdAt: number }
  /** Mark a presented refresh token as `rotated` (a later replay of it is a reuse). */
  | { kind: 'rotate_refresh'; hash: string }
  /** Mark every `active` refresh token `revoked`. */
  | { kind: 'revoke_refresh_tokens' }
  /** Remember a session that uses this grant, so revocation reaches it. */
  | { kind: 'attach_session'; sessionId: string; attachedAt: number }
  /** Tell every attached session that the grant is revoked. */
  | { kind: 'notify_revoked'; grantId: string }
  /** Sign an access token with these claims; it goes into the reply. */
  | { kind: 'mint_access_token'; claims: MintInput }
  /** Record an audit event (durably, before the response). */
  | { kind: 'audit'; event: AuditEffectEvent }
  /** Wake the object at `at` (the earliest requested wake-up wins). */
  | { kind: 'schedule_alarm'; at: number }
  /** Delete all the object's storage (the transaction or grant is over and nothing is pending). */
  | { kind: 'delete_all' };

/** A transition's result: the state to persist (absent: unchanged), the effects in order, and the answer to the caller. */
export interface Transition<R> {
  next?: Txn | undefined;
  effects: Effect[];
  reply: R;
}

/** A token reply before the object signs the access token (it adds `access_token`). */
export type TokenReply =
  | { ok: true; refresh_token?: string | undefined; expires_in: number; scope: string; token_type: 'Bearer' }
  | { ok: false; error: OAuthErrorCode; description: string };

/** A transition that changes nothing and answers `reply`. */
export function refuse<R>(reply: R): Transition<R> {
  return { effects: [], reply };
}

/** A refused token request. */
export function fail(error: OAuthErrorCode, description: string): { ok: false; error: OAuthErrorCode; description: string } {
  return { ok: false, error, description };
}

/** The delegation chain of the transaction: its client and grant, the person once signed in, the owner of a machine client. */
export function chainOf(txn: Txn): Actor {
  const user = txn.user;
  return {
    client_id: txn.clientId,
    grant_id: txn.id,
    ...(user ? { user_id: user.id, upstream_issuer: user.issuer, upstream_subject: user.subject, ...(user.email ? { email: user.email } : {}) } : {}),
    ...(txn.owner ? { owner: txn.owner, user_id: txn.owner } : {}),
  };
}

/** An audit effect about `txn`, its chain overridden by `actor` where given. */
export function audit(txn: Txn, event: Omit<EventInput, 'actor'> & { actor?: Actor }): Effect {
  return { kind: 'audit', event: { ...event, actor: { ...chainOf(txn), ...event.actor } } };
}

/** The audit event of a token request: issued (with the new token's id) or refused (with the code). */
export function tokenAudit(txn: Txn, reply: TokenReply, type: Extract<AuditType, 'auth.token_issued' | 'auth.refresh' | 'auth.code_replay' | 'auth.refresh_reuse'>, clientId: string, tokenId: string, meta: RequestMeta | undefined): Effect {
  if (!reply.ok) return audit(txn, { type, outcome: type === 'auth.token_issued' || type === 'auth.refresh' ? 'failure' : 'denied', actor: { client_id: clientId }, error_code: reply.error, reason: reply.description, meta });
  return audit(txn, { type, outcome: 'success', actor: { client_id: clientId, token_id: tokenId }, meta });
}

/** When a revoked grant's tombstone may go: not before its last refresh token expires, and never sooner than the retention. */
export function cleanupTime(txn: Txn, now: number): number {
  return Math.max(txn.refreshExpiresAt ?? 0, now + REVOKED_RETENTION_MS);
}

/**
 * Revokes the grant: the tombstone (phase `revoked`) stays until `cleanupAt`, so a late use of
 * any of its tokens still finds it, is refused and is audited; every refresh token is revoked
 * and every attached session told.
 */
export function revokeGrant(txn: Txn, reason: string, now: number, meta?: RequestMeta): { next: Txn; effects: Effect[] } {
  const cleanupAt = cleanupTime(txn, now);
  return {
    next: { ...txn, phase: 'revoked', revokedReason: reason, cleanupAt },
    effects: [
      audit(txn, { type: 'auth.revoke', outcome: 'success', reason, meta }),
      { kind: 'revoke_refresh_tokens' },
      { kind: 'notify_revoked', grantId: txn.id },
      { kind: 'schedule_alarm', at: cleanupAt },
    ],
  };
}

/** The access-token claims of a grant's user (subject, client, scope, grant, upstream identity). */
export function userClaims(txn: Txn, scope: string, tokenId: string, now: number, life: Lifetimes): MintInput | null {
  const user = txn.user;
  if (!user) return null;
  return {
    issuer: txn.issuer,
    resource: txn.resource,
    subject: user.id,
    clientId: txn.clientId,
    scope,
    grantId: txn.id,
    tokenId,
    now,
    ttlSeconds: life.accessToken,
    upstream: { issuer: user.issuer, subject: user.subject, email: user.email },
  };
}
