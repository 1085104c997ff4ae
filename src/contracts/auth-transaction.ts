/** What the router asks of an `AuthTransaction` Durable Object over RPC, and the shapes it gets back. */
import type { RequestMeta } from '../audit/emit.ts';
import type { Phase, Txn, UpstreamUser } from '../auth/transaction/state.ts';
import type { OAuthErrorCode } from '../errors.ts';
import type { BaselineView, PrincipalBaselineRpc } from './principal-baseline.ts';

export type { UpstreamUser } from '../auth/transaction/state.ts';

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
  meta?: RequestMeta | undefined;
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

/** The consent form's answer. */
export interface DecideInput {
  approve: boolean;
  binding: string;
  csrf: string;
  now: number;
  meta?: RequestMeta | undefined;
}

/** The upstream callback's `state`, from the browser holding the binding cookie. */
export interface TakeUpstreamInput {
  state: string;
  binding: string;
  now: number;
}

/** What the upstream code exchange needs, or why the callback is refused. */
export type TakeUpstreamOutcome = { ok: true; verifier: string; nonce: string } | { ok: false; reason: string };

/** A successful upstream sign-in. */
export interface CompleteLoginInput {
  user: UpstreamUser;
  remembered: boolean;
  csrf: string;
  now: number;
  meta?: RequestMeta | undefined;
}

/** Who signed in and which client is asking. */
export interface TransactionSummary {
  clientId: string;
  scope: string;
  redirectUri: string;
  user?: UpstreamUser | undefined;
  phase: Phase;
}

/** An authorization-code redemption at /token. */
export interface ExchangeCodeInput {
  code: string;
  clientId: string;
  redirectUri?: string | undefined;
  verifier?: string | undefined;
  resource?: string | undefined;
  now: number;
  meta?: RequestMeta | undefined;
}

/** A refresh-token grant at /token. */
export interface RefreshInput {
  token: string;
  clientId: string;
  scope?: string | undefined;
  resource?: string | undefined;
  now: number;
  meta?: RequestMeta | undefined;
}

/** An RFC 7009 revocation by the client (with the refresh token's secret, or for an access token's grant). */
export interface RevokeByClientInput {
  clientId: string;
  refreshToken?: string | undefined;
  /** The revocation request's address and user agent, for the audit. */
  meta?: RequestMeta | undefined;
}

/** Diagnostics: the stored state, the refresh tokens' statuses (oldest first) and the attached sessions. */
export interface TransactionView {
  txn: Txn | null;
  refreshTokens: Array<{ status: string }>;
  sessions: string[];
}

/** The RPC surface of one authorization transaction (and, after the code exchange, its grant). */
export interface AuthTransactionObject extends Rpc.DurableObjectBranded, PrincipalBaselineRpc {
  /** Starts the transaction; refuses to start twice. */
  begin(id: string, input: BeginInput): Promise<Step>;
  /** The consent form's answer, checked against the browser binding and CSRF token. */
  decide(input: DecideInput): Promise<Step>;
  /** Creates a machine client's grant and mints its one access token. */
  grantClientCredentials(id: string, input: ClientCredentialsInput): Promise<ClientCredentialsOutcome>;
  /** Consumes the upstream `state` once, from the browser that started. */
  takeUpstream(input: TakeUpstreamInput): Promise<TakeUpstreamOutcome>;
  /** The upstream said no (or failed): the client gets `access_denied`. */
  upstreamFailed(reason?: string, meta?: RequestMeta): Promise<Step>;
  /** The upstream sign-in succeeded: a code, or consent first. */
  completeLogin(input: CompleteLoginInput): Promise<Step>;
  /** Who signed in and which client is asking; null when there is no transaction. */
  summary(): TransactionSummary | null;
  /** Redeems the code (exactly once; a replay revokes the grant). */
  exchangeCode(input: ExchangeCodeInput): Promise<TokenOutcome>;
  /** Rotates a refresh token (a reused one revokes the grant). */
  refresh(input: RefreshInput): Promise<TokenOutcome>;
  /** RFC 7009 revocation by the client the grant belongs to. */
  revokeByClient(input: RevokeByClientInput): Promise<'revoked' | 'not_ours' | 'unknown'>;
  /** Revokes the grant for an administrator; false when there is no live grant. */
  revokeByAdmin(meta?: RequestMeta): Promise<boolean>;
  /** A session using this grant registers itself; false once revoked. */
  attachSession(sessionId: string, now: number): boolean;
  /** Whether the grant is live; a stateless (2026-07-28) request asks on every call and nothing is stored. */
  grantActive(): boolean;
  /** The same answer and, when asked (a stateless tool call with baselines on), the grant's baseline view in the same round trip. */
  grantStatus(withBaseline: boolean): GrantStatus;
  /** Diagnostics and tests: the stored state (never secrets: only digests are stored). */
  inspect(): TransactionView;
  /** Diagnostics and tests: audit events waiting for delivery. */
  auditPending(): number;
}

/** Whether a grant is live, with its baseline view when it was asked for (and the grant is live). */
export interface GrantStatus {
  active: boolean;
  baseline?: BaselineView;
}
