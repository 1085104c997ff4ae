// Fixtures for the pure OAuth transaction machine: a frozen clock, lifetimes, fresh secrets and a transaction in each phase.
import type { FreshSecret, UpstreamSecrets } from '../../../src/auth/transaction/machine.ts';
import type { Effect } from '../../../src/auth/transaction/machine.ts';
import type { Lifetimes, Phase, Txn, UpstreamUser } from '../../../src/auth/transaction/state.ts';

/** The frozen clock: 2026-01-01T00:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1);
/** Milliseconds in a second and a day. */
export const S = 1000;
export const DAY = 24 * 3600 * S;

/** The defaults of the config (transaction 600 s, code 60 s, access 600 s, refresh 30 days). */
export const LIFE: Lifetimes = { transaction: 600, code: 60, accessToken: 600, refreshToken: 30 * 24 * 3600 };

/** The transaction's id (also the grant id). */
export const ID = 'T'.repeat(43);
export const CLIENT = 'client-a';
export const REDIRECT = 'http://127.0.0.1:9/callback';
export const RESOURCE = 'https://mcp.example.test/mcp';
export const CHALLENGE = 'C'.repeat(43);
export const BINDING_HASH = 'B'.repeat(43);
export const CSRF_HASH = 'X'.repeat(43);
export const CODE_HASH = 'K'.repeat(43);

/** The person who signs in upstream. */
export const USER: UpstreamUser = { id: 'u_alice', issuer: 'https://idp.example.test', subject: 'alice', email: 'alice@example.test' };

/** Fresh upstream values as the object would make them. */
export const UPSTREAM: UpstreamSecrets = { state: `${ID}.state-secret`, stateHash: 'S'.repeat(43), nonce: 'n'.repeat(43), verifier: 'v'.repeat(64), challenge: 'c'.repeat(43) };
/** A fresh code secret and its digest. */
export const CODE: FreshSecret = { secret: 'code-secret', hash: CODE_HASH };
/** A fresh refresh-token secret and its digest. */
export const REFRESH: FreshSecret = { secret: 'refresh-secret', hash: 'R'.repeat(43) };
/** The access token id the object would draw. */
export const TOKEN_ID = 'j'.repeat(22);

/** A transaction in `phase`, with what that phase carries; `over` replaces fields. */
export function txnAt(phase: Phase, over: Partial<Txn> = {}): Txn {
  const base: Txn = {
    id: ID,
    phase,
    issuer: 'https://mcp.example.test',
    resource: RESOURCE,
    clientId: CLIENT,
    redirectUri: REDIRECT,
    clientState: 'client-state',
    codeChallenge: CHALLENGE,
    scope: 'support:read sql:read',
    createdAt: NOW - 10 * S,
    expiresAt: NOW - 10 * S + LIFE.transaction * S,
    bindingHash: BINDING_HASH,
    csrfHash: CSRF_HASH,
    consentGiven: false,
  };
  const upstream = { upstreamStateHash: UPSTREAM.stateHash, nonce: UPSTREAM.nonce, verifier: UPSTREAM.verifier, consentGiven: true };
  const coded = { consentGiven: true, upstreamStateHash: UPSTREAM.stateHash, user: USER, codeHash: CODE_HASH, codeExpiresAt: NOW + 50 * S };
  const byPhase: Record<Phase, Partial<Txn>> = {
    consent: {},
    upstream,
    upstream_used: upstream,
    login_consent: { ...upstream, consentGiven: false, user: USER },
    code: coded,
    granted: { ...coded, refreshExpiresAt: NOW + 20 * DAY },
    revoked: { ...coded, refreshExpiresAt: NOW + 20 * DAY, revokedReason: 'revoked by the client', cleanupAt: NOW + 20 * DAY },
    ended: {},
  };
  return deepFreeze({ ...base, ...byPhase[phase], ...over });
}

/** Freezes a value and everything in it, so a transition that mutated its input would throw. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The kinds of the effects, in order. */
export function kinds(effects: Effect[]): string[] {
  return effects.map((e) => (e.kind === 'audit' ? `audit:${e.event.type}:${e.event.outcome}` : e.kind));
}

/** The audit events among the effects. */
export function audits(effects: Effect[]): Array<Extract<Effect, { kind: 'audit' }>['event']> {
  return effects.flatMap((e) => (e.kind === 'audit' ? [e.event] : []));
}
