/** The sign-in leg of the transaction as pure transitions: start, consent, the upstream round trip, and the code. */
import type { RequestMeta } from '../../audit/emit.ts';
import type { BeginInput, Step, TakeUpstreamOutcome } from '../../contracts/auth-transaction.ts';
import { timingSafeEqual } from '../encoding.ts';
import { audit, refuse, type Transition } from './effects.ts';
import type { Lifetimes, Txn, UpstreamUser } from './state.ts';

/** The upstream leg's fresh values, made (random) and digested by the object before the transition. */
export interface UpstreamSecrets {
  /** `<transaction id>.<random>`, sent upstream as `state`. */
  state: string;
  /** SHA-256 of `state`. */
  stateHash: string;
  nonce: string;
  verifier: string;
  /** S256 of `verifier`. */
  challenge: string;
}

/** A fresh secret (of a code or refresh token) and its SHA-256. */
export interface FreshSecret {
  secret: string;
  hash: string;
}

/** Start a transaction. */
export interface BeginStep {
  kind: 'begin';
  id: string;
  request: Omit<BeginInput, 'now'>;
  upstream: UpstreamSecrets;
}

/** The consent form's answer (digests of the binding cookie and CSRF token). */
export interface DecideStep {
  kind: 'decide';
  approve: boolean;
  bindingHash: string;
  csrfHash: string;
  meta?: RequestMeta | undefined;
  upstream: UpstreamSecrets;
  code: FreshSecret;
}

/** The upstream callback's `state` and binding cookie, as digests. */
export interface TakeUpstreamStep {
  kind: 'take_upstream';
  stateHash: string;
  bindingHash: string;
}

/** The upstream refused or failed. */
export interface UpstreamFailedStep {
  kind: 'upstream_failed';
  reason: string;
  meta?: RequestMeta | undefined;
}

/** The upstream sign-in succeeded. */
export interface CompleteLoginStep {
  kind: 'complete_login';
  user: UpstreamUser;
  /** This user already approved this client for this scope (remembered consent). */
  remembered: boolean;
  csrf: string;
  csrfHash: string;
  meta?: RequestMeta | undefined;
  code: FreshSecret;
}

/** Starts: consent first, or straight upstream when the browser's remembered consent covers the request. */
export function begin(state: Txn | null, input: BeginStep, now: number, life: Lifetimes): Transition<Step> {
  if (state) return refuse({ kind: 'error', reason: 'transaction exists' });
  const { rememberedFor, ...request } = input.request;
  const txn: Txn = {
    id: input.id,
    phase: 'consent',
    issuer: request.issuer,
    resource: request.resource,
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    clientState: request.clientState,
    codeChallenge: request.codeChallenge,
    scope: request.scope,
    createdAt: now,
    expiresAt: now + life.transaction * 1000,
    bindingHash: request.bindingHash,
    csrfHash: request.csrfHash,
    consentGiven: rememberedFor !== undefined,
    consentUser: rememberedFor,
  };
  const expire = { kind: 'schedule_alarm', at: txn.expiresAt } as const;
  if (!txn.consentGiven) return { next: txn, effects: [expire], reply: { kind: 'consent', csrf: '' } };
  const up = goUpstream(txn, input.upstream);
  return { ...up, effects: [expire, ...up.effects] };
}

/** The consent answer, from the browser that started (binding) and the form we served (CSRF). */
export function decide(txn: Txn | null, input: DecideStep, now: number, life: Lifetimes): Transition<Step> {
  if (!txn || (txn.phase !== 'consent' && txn.phase !== 'login_consent') || now > txn.expiresAt) return refuse({ kind: 'error', reason: 'no consent is pending' });
  if (!timingSafeEqual(input.bindingHash, txn.bindingHash) || !timingSafeEqual(input.csrfHash, txn.csrfHash)) return refuse({ kind: 'error', reason: 'consent form is not from this browser' });
  const recorded = audit(txn, { type: 'auth.consent', outcome: input.approve ? 'success' : 'denied', reason: input.approve ? `approved ${txn.scope}` : 'the person denied consent', meta: input.meta });
  if (!input.approve) return { next: { ...txn, phase: 'ended' }, effects: [recorded], reply: { kind: 'deny', redirectUri: txn.redirectUri, clientState: txn.clientState } };
  // Consent given here, by the person in this browser, holds for whoever signs in next.
  const consented: Txn = { ...txn, consentGiven: true, consentUser: undefined };
  const then = txn.phase === 'consent' ? goUpstream(consented, input.upstream) : issueCode(consented, input.code, now, life, input.meta);
  return { ...then, effects: [recorded, ...then.effects] };
}

/** Consumes the upstream `state` once; hands out what the upstream code exchange needs. */
export function takeUpstream(txn: Txn | null, input: TakeUpstreamStep, now: number): Transition<TakeUpstreamOutcome> {
  if (!txn || txn.phase !== 'upstream' || !txn.upstreamStateHash || !txn.verifier || !txn.nonce) return refuse({ ok: false, reason: 'state is unknown or was already used' });
  if (now > txn.expiresAt) return refuse({ ok: false, reason: 'the sign-in took too long' });
  if (!timingSafeEqual(input.stateHash, txn.upstreamStateHash)) return refuse({ ok: false, reason: 'state does not match' });
  if (!timingSafeEqual(input.bindingHash, txn.bindingHash)) return refuse({ ok: false, reason: 'state belongs to another browser' });
  return { next: { ...txn, phase: 'upstream_used' }, effects: [], reply: { ok: true, verifier: txn.verifier, nonce: txn.nonce } };
}

/** The upstream said no: the transaction ends and the client gets `access_denied`. */
export function upstreamFailed(txn: Txn | null, input: UpstreamFailedStep): Transition<Step> {
  if (!txn || txn.phase !== 'upstream_used') return refuse({ kind: 'error', reason: 'no sign-in is pending' });
  return {
    next: { ...txn, phase: 'ended' },
    effects: [audit(txn, { type: 'auth.sign_in', outcome: 'failure', reason: input.reason, meta: input.meta })],
    reply: { kind: 'deny', redirectUri: txn.redirectUri, clientState: txn.clientState },
  };
}

/** The person signed in upstream: a code, or consent first when it was not given for this user. */
export function completeLogin(txn: Txn | null, input: CompleteLoginStep, now: number, life: Lifetimes): Transition<Step> {
  if (!txn || txn.phase !== 'upstream_used') return refuse({ kind: 'error', reason: 'no sign-in is pending' });
  const withUser: Txn = { ...txn, user: input.user };
  const signedIn = audit(withUser, { type: 'auth.sign_in', outcome: 'success', meta: input.meta });
  // Consent remembered for the browser's previous user does not cover a different user.
  const consentHolds = txn.consentGiven && (txn.consentUser === undefined || txn.consentUser === input.user.id);
  if (input.remembered || consentHolds) {
    const issued = issueCode(withUser, input.code, now, life, input.meta);
    return { ...issued, effects: [signedIn, ...issued.effects] };
  }
  return { next: { ...withUser, phase: 'login_consent', csrfHash: input.csrfHash }, effects: [signedIn], reply: { kind: 'consent', csrf: input.csrf } };
}

function goUpstream(txn: Txn, up: UpstreamSecrets): Transition<Step> {
  return {
    next: { ...txn, phase: 'upstream', upstreamStateHash: up.stateHash, nonce: up.nonce, verifier: up.verifier },
    effects: [],
    reply: { kind: 'upstream', state: up.state, nonce: up.nonce, challenge: up.challenge },
  };
}

function issueCode(txn: Txn, code: FreshSecret, now: number, life: Lifetimes, meta?: RequestMeta): Transition<Step> {
  // The upstream leg's secrets are not needed any more once the code exists.
  const issued: Txn = { ...txn, phase: 'code', codeHash: code.hash, codeExpiresAt: now + life.code * 1000, verifier: undefined, nonce: undefined };
  return {
    next: issued,
    effects: [audit(issued, { type: 'auth.code_issued', outcome: 'success', meta })],
    reply: { kind: 'code', code: `${txn.id}.${code.secret}`, redirectUri: txn.redirectUri, clientState: txn.clientState },
  };
}
