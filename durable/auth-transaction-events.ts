/** Audit events of the authorization transaction's token requests. */
import { decodeJwt } from 'jose';
import type { EventInput, RequestMeta } from '../src/audit/emit.ts';
import type { Actor } from '../src/audit/event.ts';
import type { ClientCredentialsOutcome, TokenOutcome } from './auth-transaction-state.ts';

/** The audit event of a token request: issued (with the new token's id) or refused (with the code). */
export function tokenEvent(outcome: TokenOutcome | ClientCredentialsOutcome, type: 'auth.token_issued' | 'auth.refresh' | 'auth.code_replay' | 'auth.refresh_reuse', clientId: string, meta: RequestMeta | undefined): Omit<EventInput, 'actor'> & { actor: Actor } {
  if (!outcome.ok) return { type, outcome: type === 'auth.token_issued' || type === 'auth.refresh' ? 'failure' : 'denied', actor: { client_id: clientId }, error_code: outcome.error, reason: outcome.description, meta };
  let jti: unknown;
  try {
    jti = decodeJwt(outcome.access_token).jti;
  } catch {
    jti = undefined;
  }
  return { type, outcome: 'success', actor: { client_id: clientId, ...(typeof jti === 'string' ? { token_id: jti } : {}) }, meta };
}

