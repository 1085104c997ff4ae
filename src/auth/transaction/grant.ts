/** The grant's life as pure transitions: code redemption, refresh rotation, revocation, sessions, machine grants and expiry. */
import type { RequestMeta } from '../../audit/emit.ts';
import type { ClientCredentialsInput } from '../../contracts/auth-transaction.ts';
import { timingSafeEqual } from '../encoding.ts';
import { formatScope, isSubset, parseScope } from '../scopes.ts';
import { audit, fail, refuse, revokeGrant, tokenAudit, userClaims, type Effect, type TokenReply, type Transition } from './effects.ts';
import type { FreshSecret } from './sign-in.ts';
import type { Lifetimes, RefreshStatus, Txn } from './state.ts';

/** A client_credentials issuance: a new grant, already granted, with one access token. */
export interface ClientCredentialsStep {
  kind: 'client_credentials';
  id: string;
  request: Omit<ClientCredentialsInput, 'now'>;
  tokenId: string;
}

/** A code redemption; the object digests the code and the PKCE verifier first. */
export interface ExchangeCodeStep {
  kind: 'exchange_code';
  codeHash: string;
  clientId: string;
  redirectUri?: string | undefined;
  /** True when the request carried a `code_verifier` at all. */
  verifierGiven: boolean;
  /** S256 of the verifier, or null when it is not 43-128 unreserved characters. */
  challenge: string | null;
  resource?: string | undefined;
  meta?: RequestMeta | undefined;
  refresh: FreshSecret;
  tokenId: string;
}

/** A refresh; `presented` is the stored status of the presented token's hash (null: not this grant's). */
export interface RefreshStep {
  kind: 'refresh';
  tokenHash: string;
  presented: RefreshStatus | null;
  clientId: string;
  scope?: string | undefined;
  resource?: string | undefined;
  meta?: RequestMeta | undefined;
  refresh: FreshSecret;
  tokenId: string;
}

/** RFC 7009 by the client; `token`: no refresh token given, or whether its hash is this grant's. */
export interface RevokeByClientStep {
  kind: 'revoke_by_client';
  clientId: string;
  token: 'none' | 'known' | 'unknown';
  meta?: RequestMeta | undefined;
}

/** An administrator revokes the grant. */
export interface RevokeByAdminStep {
  kind: 'revoke_by_admin';
  meta?: RequestMeta | undefined;
}

/** A session registers itself with the grant. */
export interface AttachSessionStep {
  kind: 'attach_session';
  sessionId: string;
}

/** The alarm fired (after the outbox flush, which left `auditPending` events undelivered). */
export interface AlarmStep {
  kind: 'alarm';
  auditPending: number;
}

/** A machine client's grant ends with its token; the alarm revokes it then. */
export function clientCredentials(state: Txn | null, input: ClientCredentialsStep, now: number, life: Lifetimes): Transition<TokenReply> {
  if (state) return refuse(fail('server_error', 'the grant already exists'));
  const r = input.request;
  const endsAt = now + life.accessToken * 1000;
  const txn: Txn = {
    id: input.id,
    phase: 'granted',
    grantType: 'client_credentials',
    issuer: r.issuer,
    resource: r.resource,
    clientId: r.clientId,
    owner: r.owner,
    redirectUri: '',
    codeChallenge: '',
    scope: r.scope,
    createdAt: now,
    expiresAt: endsAt,
    bindingHash: '',
    csrfHash: '',
    consentGiven: false,
    refreshExpiresAt: endsAt,
  };
  const claims = { issuer: r.issuer, resource: r.resource, subject: `client:${r.clientId}`, clientId: r.clientId, scope: r.scope, grantId: input.id, tokenId: input.tokenId, now, ttlSeconds: life.accessToken };
  const reply: TokenReply = { ok: true, expires_in: life.accessToken, scope: r.scope, token_type: 'Bearer' };
  const issued = audit(txn, { type: 'auth.token_issued', outcome: 'success', actor: { client_id: r.clientId, token_id: input.tokenId }, reason: 'client_credentials', meta: r.meta });
  const effects: Effect[] = [{ kind: 'schedule_alarm', at: endsAt }, { kind: 'mint_access_token', claims }, issued];
  return { next: txn, effects, reply };
}

/**
 * Redeems the code: exactly one redemption succeeds; a replay of a redeemed code revokes the
 * grant; a wrong PKCE verifier does not burn the code. Every attempt on an existing transaction
 * is audited.
 */
export function exchangeCode(txn: Txn | null, input: ExchangeCodeStep, now: number, life: Lifetimes): Transition<TokenReply> {
  if (!txn) return refuse(fail('invalid_grant', 'the code is invalid'));
  const t = redeem(txn, input, now, life);
  const replay = txn.phase === 'granted' && t.next?.phase === 'revoked';
  return { ...t, effects: [...t.effects, tokenAudit(t.next ?? txn, t.reply, replay ? 'auth.code_replay' : 'auth.token_issued', input.clientId, input.tokenId, input.meta)] };
}

function redeem(txn: Txn, input: ExchangeCodeStep, now: number, life: Lifetimes): Transition<TokenReply> {
  if (!txn.codeHash || !timingSafeEqual(input.codeHash, txn.codeHash)) return refuse(fail('invalid_grant', 'the code is invalid'));
  if (txn.phase === 'granted') return { ...revokeGrant(txn, 'authorization code replayed', now, input.meta), reply: fail('invalid_grant', 'the code was already used') };
  if (txn.phase === 'revoked') return refuse(fail('invalid_grant', 'the code was already used'));
  if (txn.phase !== 'code') return refuse(fail('invalid_grant', 'the code is invalid'));
  if (now > (txn.codeExpiresAt ?? 0)) return refuse(fail('invalid_grant', 'the code has expired'));
  if (input.clientId !== txn.clientId) return refuse(fail('invalid_grant', 'the code was issued to another client'));
  if (input.redirectUri !== undefined && input.redirectUri !== txn.redirectUri) return refuse(fail('invalid_grant', 'redirect_uri does not match the authorization request'));
  if (input.redirectUri === undefined) return refuse(fail('invalid_grant', 'redirect_uri is required'));
  if (input.resource !== undefined && input.resource !== txn.resource) return refuse(fail('invalid_target', 'resource does not match the authorization request'));
  if (!input.verifierGiven) return refuse(fail('invalid_grant', 'code_verifier is required'));
  if (!input.challenge) return refuse(fail('invalid_grant', 'code_verifier must be 43-128 unreserved characters'));
  if (!timingSafeEqual(input.challenge, txn.codeChallenge)) return refuse(fail('invalid_grant', 'code_verifier does not match the code_challenge'));
  const refreshExpiresAt = now + life.refreshToken * 1000;
  const granted: Txn = { ...txn, phase: 'granted', refreshExpiresAt };
  const effects: Effect[] = [{ kind: 'store_refresh', hash: input.refresh.hash, createdAt: now }, { kind: 'schedule_alarm', at: refreshExpiresAt }];
  return { next: granted, ...tokens(granted, txn.scope, `${txn.id}.${input.refresh.secret}`, input.tokenId, now, life, effects) };
}

/** Rotates the refresh token; a rotated or revoked one presented again revokes the whole grant. */
export function refresh(txn: Txn | null, input: RefreshStep, now: number, life: Lifetimes): Transition<TokenReply> {
  if (!txn) return refuse(fail('invalid_grant', 'the refresh token is invalid'));
  const t = rotate(txn, input, now, life);
  const reuse = txn.phase === 'granted' && t.next?.phase === 'revoked';
  return { ...t, effects: [...t.effects, tokenAudit(t.next ?? txn, t.reply, reuse ? 'auth.refresh_reuse' : 'auth.refresh', input.clientId, input.tokenId, input.meta)] };
}

function rotate(txn: Txn, input: RefreshStep, now: number, life: Lifetimes): Transition<TokenReply> {
  if (!input.presented) return refuse(fail('invalid_grant', 'the refresh token is invalid'));
  if (txn.phase !== 'granted') return refuse(fail('invalid_grant', 'the grant has been revoked'));
  if (input.presented !== 'active') return { ...revokeGrant(txn, 'refresh token reused', now, input.meta), reply: fail('invalid_grant', 'the refresh token was already used; the grant is revoked') };
  if (input.clientId !== txn.clientId) return refuse(fail('invalid_grant', 'the refresh token was issued to another client'));
  if (now > (txn.refreshExpiresAt ?? 0)) return refuse(fail('invalid_grant', 'the refresh token has expired'));
  if (input.resource !== undefined && input.resource !== txn.resource) return refuse(fail('invalid_target', 'resource is outside the grant'));
  let scope = txn.scope;
  if (input.scope !== undefined) {
    const asked = parseScope(input.scope);
    const granted = parseScope(txn.scope);
    if (!asked.ok || !granted.ok || !isSubset(asked.scopes, granted.scopes)) return refuse(fail('invalid_scope', 'the requested scope exceeds the grant'));
    scope = formatScope(asked.scopes);
  }
  const effects: Effect[] = [{ kind: 'rotate_refresh', hash: input.tokenHash }, { kind: 'store_refresh', hash: input.refresh.hash, createdAt: now }];
  return tokens(txn, scope, `${txn.id}.${input.refresh.secret}`, input.tokenId, now, life, effects);
}

/** RFC 7009: revokes the grant when the token is this grant's and the client is the grant's client. */
export function revokeByClient(txn: Txn | null, input: RevokeByClientStep, now: number): Transition<'revoked' | 'not_ours' | 'unknown'> {
  if (!txn || (txn.phase !== 'granted' && txn.phase !== 'revoked')) return refuse('unknown');
  if (input.token === 'unknown') return refuse('unknown');
  if (txn.clientId !== input.clientId) return refuse('not_ours');
  if (txn.phase === 'revoked') return refuse('revoked');
  return { ...revokeGrant(txn, 'revoked by the client', now, input.meta), reply: 'revoked' };
}

/** An administrator revokes the grant; false when there is no live grant. */
export function revokeByAdmin(txn: Txn | null, now: number, meta?: RequestMeta): Transition<boolean> {
  if (!txn || txn.phase !== 'granted') return refuse(false);
  return { ...revokeGrant(txn, 'revoked by an administrator', now, meta), reply: true };
}

/** A session registers with a live grant (so revocation reaches it); false once revoked. */
export function attachSession(txn: Txn | null, input: AttachSessionStep, now: number): Transition<boolean> {
  if (!txn || txn.phase !== 'granted') return refuse(false);
  return { effects: [{ kind: 'attach_session', sessionId: input.sessionId, attachedAt: now }], reply: true };
}

/**
 * The one alarm's duties for the transaction (the outbox flush ran just before): revoke a grant
 * past its refresh lifetime; delete an abandoned transaction, or a revoked grant's tombstone
 * once its `cleanupAt` has passed, but never while audit events wait; otherwise wake again at
 * the next due time.
 */
export function alarm(txn: Txn | null, input: AlarmStep, now: number): Transition<void> {
  if (!txn) return refuse(undefined);
  if (txn.phase === 'granted') {
    const ends = txn.refreshExpiresAt ?? 0;
    if (now >= ends) return { ...revokeGrant(txn, 'grant expired', now), reply: undefined };
    return { effects: [{ kind: 'schedule_alarm', at: ends }], reply: undefined };
  }
  // A tombstone stored before cleanupAt existed is kept for its refresh lifetime.
  const due = txn.phase === 'revoked' ? (txn.cleanupAt ?? txn.refreshExpiresAt ?? now) : txn.expiresAt;
  if (now < due) return { effects: [{ kind: 'schedule_alarm', at: due }], reply: undefined };
  // Never delete audit events that are still waiting: the outbox set the alarm for its retry.
  if (input.auditPending > 0) return refuse(undefined);
  return { effects: [{ kind: 'delete_all' }], reply: undefined };
}

function tokens(txn: Txn, scope: string, refreshToken: string, tokenId: string, now: number, life: Lifetimes, effects: Effect[]): Transition<TokenReply> {
  const claims = userClaims(txn, scope, tokenId, now, life);
  if (!claims) return { effects, reply: fail('server_error', 'the grant has no user') };
  return { effects: [...effects, { kind: 'mint_access_token', claims }], reply: { ok: true, refresh_token: refreshToken, expires_in: life.accessToken, scope, token_type: 'Bearer' } };
}
