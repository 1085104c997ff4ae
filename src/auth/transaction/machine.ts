/**
 * The OAuth authorization transaction as one pure function: (state, input, now) → next state,
 * effects and reply. No I/O, no clock, no randomness: the Durable Object passes `now`, the fresh
 * secrets and their digests in, persists `next` and runs the effects.
 */
import type { Step, TakeUpstreamOutcome } from '../../contracts/auth-transaction.ts';
import type { Transition, TokenReply } from './effects.ts';
import * as grant from './grant.ts';
import * as signIn from './sign-in.ts';
import type { Lifetimes, Txn } from './state.ts';

export type { Effect, TokenReply, Transition } from './effects.ts';
export type { FreshSecret, UpstreamSecrets } from './sign-in.ts';

/** Every input the transaction accepts (a closed union, one per RPC method that changes state, plus the alarm). */
export type Input =
  | signIn.BeginStep
  | signIn.DecideStep
  | signIn.TakeUpstreamStep
  | signIn.UpstreamFailedStep
  | signIn.CompleteLoginStep
  | grant.ClientCredentialsStep
  | grant.ExchangeCodeStep
  | grant.RefreshStep
  | grant.RevokeByClientStep
  | grant.RevokeByAdminStep
  | grant.AttachSessionStep
  | grant.AlarmStep;

/** The reply type of each input kind. */
export interface Replies {
  begin: Step;
  decide: Step;
  take_upstream: TakeUpstreamOutcome;
  upstream_failed: Step;
  complete_login: Step;
  client_credentials: TokenReply;
  exchange_code: TokenReply;
  refresh: TokenReply;
  revoke_by_client: 'revoked' | 'not_ours' | 'unknown';
  revoke_by_admin: boolean;
  attach_session: boolean;
  alarm: void;
}

type Kind = Input['kind'];
type Handler<K extends Kind> = (state: Txn | null, input: Extract<Input, { kind: K }>, now: number, life: Lifetimes) => Transition<Replies[K]>;

const HANDLERS: { [K in Kind]: Handler<K> } = {
  begin: signIn.begin,
  decide: signIn.decide,
  take_upstream: (s, i, now) => signIn.takeUpstream(s, i, now),
  upstream_failed: (s, i) => signIn.upstreamFailed(s, i),
  complete_login: signIn.completeLogin,
  client_credentials: grant.clientCredentials,
  exchange_code: grant.exchangeCode,
  refresh: grant.refresh,
  revoke_by_client: (s, i, now) => grant.revokeByClient(s, i, now),
  revoke_by_admin: (s, i, now) => grant.revokeByAdmin(s, now, i.meta),
  attach_session: (s, i, now) => grant.attachSession(s, i, now),
  alarm: (s, i, now) => grant.alarm(s, i, now),
};

/**
 * One step of the transaction. `state` is the stored state (null: none yet, or deleted); the
 * result's `next` is the state to persist (absent: unchanged). Deterministic: the same
 * arguments always give the same result.
 */
export function transition<K extends Kind>(state: Txn | null, input: Extract<Input, { kind: K }>, now: number, life: Lifetimes): Transition<Replies[K]> {
  const handler = HANDLERS[input.kind] as Handler<K>;
  return handler(state, input, now, life);
}
