/**
 * One Durable Object per OAuth authorization transaction: consent, the upstream leg, the
 * single-use code, then the grant. The rules live in the pure machine
 * (src/auth/transaction/machine.ts); this object digests secrets, loads the state, runs one
 * transition, persists the next state and carries out the effects.
 */
import { DurableObject } from 'cloudflare:workers';
import { newEvent, type RequestMeta } from '../src/audit/emit.ts';
import { mintAccessToken } from '../src/auth/access-token.ts';
import { sha256Base64url } from '../src/auth/encoding.ts';
import { isPkceString, s256Challenge } from '../src/auth/pkce.ts';
import { signingKeys } from '../src/auth/signing-keys.ts';
import { fail } from '../src/auth/transaction/effects.ts';
import { transition, type Effect, type Input, type Replies, type TokenReply } from '../src/auth/transaction/machine.ts';
import { UserSchema, type Lifetimes, type Txn } from '../src/auth/transaction/state.ts';
import { loadConfig } from '../src/config.ts';
import type {
  AuthTransactionObject,
  BeginInput,
  ClientCredentialsInput,
  ClientCredentialsOutcome,
  CompleteLoginInput,
  DecideInput,
  ExchangeCodeInput,
  GrantStatus,
  RefreshInput,
  RevokeByClientInput,
  Step,
  TakeUpstreamInput,
  TakeUpstreamOutcome,
  TokenOutcome,
  TransactionSummary,
  TransactionView,
} from '../src/contracts/auth-transaction.ts';
import type { Env } from '../src/env.ts';
import { scheduleAlarm } from './alarm.ts';
import { AuditOutbox } from './audit-outbox.ts';
import { randomToken } from '../src/lib/random.ts';
import { freshSecret, TxnTables, upstreamSecrets } from './auth-transaction-state.ts';
import { PrincipalBaseline } from './principal-baseline.ts';
import type { BaselineView, ObservationBatch, ThrottleRefusal } from '../src/contracts/principal-baseline.ts';

export type { BeginInput, ClientCredentialsInput, ClientCredentialsOutcome, Step, TokenOutcome, UpstreamUser } from '../src/contracts/auth-transaction.ts';

type Kind = Input['kind'];

/** The effects that only write this object's SQLite: run synchronously with the state write, so every check-and-set is atomic. */
type StorageEffect = Extract<Effect, { kind: 'store_refresh' | 'rotate_refresh' | 'revoke_refresh_tokens' | 'attach_session' }>;

function isStorageEffect(effect: Effect): effect is StorageEffect {
  return effect.kind === 'store_refresh' || effect.kind === 'rotate_refresh' || effect.kind === 'revoke_refresh_tokens' || effect.kind === 'attach_session';
}

/** The transaction, named by its id; the id is also the grant id and the prefix of its codes and refresh tokens. */
export class AuthTransaction extends DurableObject<Env> implements AuthTransactionObject {
  // Tables are created by the first state written (begin, or a client_credentials grant): a
  // made-up id (from a forged code or token) reads as empty and leaves no stored object behind.
  readonly #tables: TxnTables;
  readonly #life: Lifetimes;
  readonly #auditEnabled: boolean;
  readonly #outboxMax: number;
  #outbox: AuditOutbox;
  readonly #baseline: PrincipalBaseline;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const config = loadConfig(env);
    this.#tables = new TxnTables(ctx.storage.sql);
    this.#life = { transaction: config.AUTH_TRANSACTION_TTL_SECONDS, code: config.AUTH_CODE_TTL_SECONDS, accessToken: config.ACCESS_TOKEN_TTL_SECONDS, refreshToken: config.REFRESH_TOKEN_TTL_SECONDS };
    this.#auditEnabled = config.AUDIT_ENABLED;
    this.#outboxMax = config.AUDIT_OUTBOX_MAX;
    this.#outbox = new AuditOutbox(ctx.storage, env, this.#outboxMax);
    this.#baseline = new PrincipalBaseline(ctx.storage.sql, env);
  }

  /** The grant's behavioural baseline (durable/principal-baseline.ts); empty unless this is a live grant. */
  baseline(): BaselineView {
    return this.#tables.read()?.phase === 'granted' ? this.#baseline.view() : { state: null, enforcement: null };
  }

  /** Folds a session's batch of observations into the grant's baseline (only while the grant is live). */
  observeBaseline(batch: ObservationBatch): BaselineView {
    if (this.#tables.read()?.phase !== 'granted') return { state: null, enforcement: null };
    return this.#baseline.observe(batch, Date.now());
  }

  /** A stateless call's token from the grant's anomaly throttle, if one is in force. */
  takeThrottle(): ThrottleRefusal | null {
    return this.#tables.read()?.phase === 'granted' ? this.#baseline.takeThrottle(Date.now()) : null;
  }

  /** Starts the transaction; refuses to start twice. */
  async begin(id: string, input: BeginInput): Promise<Step> {
    const upstream = await upstreamSecrets(id);
    const { now, ...request } = input;
    return (await this.#step(now, () => ({ kind: 'begin', id, request, upstream }))).reply;
  }

  /** The consent form's answer (before or after login), checked against the browser binding and CSRF token. */
  async decide(input: DecideInput): Promise<Step> {
    const [bindingHash, csrfHash, upstream, code] = await Promise.all([sha256Base64url(input.binding), sha256Base64url(input.csrf), upstreamSecrets(this.#tables.read()?.id ?? ''), freshSecret()]);
    return (await this.#step(input.now, () => ({ kind: 'decide', approve: input.approve, bindingHash, csrfHash, meta: input.meta, upstream, code }))).reply;
  }

  /**
   * Creates a machine client's grant, already 'granted', and mints its one access token (subject
   * `client:<client id>`; no code, no refresh token). The grant lives as long as the token, so
   * revoking it (admin or RFC 7009) reaches every session the token opened. Refuses to start twice.
   */
  async grantClientCredentials(id: string, input: ClientCredentialsInput): Promise<ClientCredentialsOutcome> {
    const { now, ...request } = input;
    const { reply, accessToken } = await this.#step(now, () => ({ kind: 'client_credentials', id, request, tokenId: randomToken(16) }));
    if (!reply.ok) return reply;
    if (accessToken === undefined) return fail('server_error', 'no access token was minted');
    return { ok: true, access_token: accessToken, expires_in: reply.expires_in, scope: reply.scope, token_type: 'Bearer' };
  }

  /** Consumes the upstream `state` once, from the browser that started; returns what the code exchange needs. */
  async takeUpstream(input: TakeUpstreamInput): Promise<TakeUpstreamOutcome> {
    const [stateHash, bindingHash] = await Promise.all([sha256Base64url(input.state), sha256Base64url(input.binding)]);
    return (await this.#step(input.now, () => ({ kind: 'take_upstream', stateHash, bindingHash }))).reply;
  }

  /** The upstream said no (or failed): the client gets `access_denied` with its own state. */
  async upstreamFailed(reason = 'the sign-in provider refused or failed', meta?: RequestMeta): Promise<Step> {
    return (await this.#step(Date.now(), () => ({ kind: 'upstream_failed', reason, meta }))).reply;
  }

  /** The upstream sign-in succeeded: issue the code, or ask consent first if this user has not given it. */
  async completeLogin(input: CompleteLoginInput): Promise<Step> {
    const user = UserSchema.parse(input.user);
    const [csrfHash, code] = await Promise.all([sha256Base64url(input.csrf), freshSecret()]);
    // The code's lifetime starts now, at issue: the router's `now` was read before the upstream round trip.
    return (await this.#step(Date.now(), () => ({ kind: 'complete_login', user, remembered: input.remembered, csrf: input.csrf, csrfHash, meta: input.meta, code }))).reply;
  }

  /** Who signed in and which client is asking (for the consent page after login and for remembering consent). */
  summary(): TransactionSummary | null {
    const txn = this.#tables.read();
    return txn ? { clientId: txn.clientId, scope: txn.scope, redirectUri: txn.redirectUri, user: txn.user, phase: txn.phase } : null;
  }

  /**
   * Redeems the code. Exactly one redemption can succeed; a replay revokes the grant. A wrong
   * PKCE verifier does not burn the code. The digests are computed before the state is read,
   * so the check-and-set has no await inside it.
   */
  async exchangeCode(input: ExchangeCodeInput): Promise<TokenOutcome> {
    const [codeHash, refresh, challenge] = await Promise.all([sha256Base64url(input.code), freshSecret(), isPkceString(input.verifier) ? s256Challenge(input.verifier) : Promise.resolve(null)]);
    const done = await this.#step(input.now, () => ({
      kind: 'exchange_code',
      codeHash,
      clientId: input.clientId,
      redirectUri: input.redirectUri,
      verifierGiven: input.verifier !== undefined,
      challenge,
      resource: input.resource,
      meta: input.meta,
      refresh,
      tokenId: randomToken(16),
    }));
    return withAccessToken(done.reply, done.accessToken);
  }

  /** Rotates a refresh token; a rotated or revoked one presented again revokes the whole grant. */
  async refresh(input: RefreshInput): Promise<TokenOutcome> {
    const [tokenHash, refresh] = await Promise.all([sha256Base64url(input.token), freshSecret()]);
    const done = await this.#step(input.now, (txn) => ({
      kind: 'refresh',
      tokenHash,
      presented: txn ? this.#tables.refreshStatus(tokenHash) : null,
      clientId: input.clientId,
      scope: input.scope,
      resource: input.resource,
      meta: input.meta,
      refresh,
      tokenId: randomToken(16),
    }));
    return withAccessToken(done.reply, done.accessToken);
  }

  /** RFC 7009: revokes the grant when the token (refresh token hash, or an access token's grant) belongs to this client. */
  async revokeByClient(input: RevokeByClientInput): Promise<'revoked' | 'not_ours' | 'unknown'> {
    const hash = input.refreshToken ? await sha256Base64url(input.refreshToken) : null;
    const token = (): 'none' | 'known' | 'unknown' => (hash === null ? 'none' : this.#tables.refreshStatus(hash) ? 'known' : 'unknown');
    return (await this.#step(Date.now(), () => ({ kind: 'revoke_by_client', clientId: input.clientId, token: token(), meta: input.meta }))).reply;
  }

  /** Revokes the grant for an administrator; false when there is no live grant here. */
  async revokeByAdmin(meta?: RequestMeta): Promise<boolean> {
    return (await this.#step(Date.now(), () => ({ kind: 'revoke_by_admin', meta }))).reply;
  }

  /** A session using this grant registers itself, so revocation reaches it; false once revoked. */
  attachSession(sessionId: string, now: number): boolean {
    // Only a storage effect comes of it, so this stays synchronous.
    return this.#apply(now, () => ({ kind: 'attach_session', sessionId })).reply;
  }

  /** Whether the grant is live; a stateless (2026-07-28) request asks on every call and nothing is stored. */
  grantActive(): boolean {
    return this.#tables.read()?.phase === 'granted';
  }

  /** `grantActive()` and, when asked, the baseline view: one round trip for a stateless tool call (issue 14). */
  grantStatus(withBaseline: boolean): GrantStatus {
    const active = this.grantActive();
    return active && withBaseline ? { active, baseline: this.#baseline.view() } : { active };
  }

  /** Delivers audit events, then the transaction's own duties: expiry of abandoned transactions and grants, and the tombstone's cleanup. */
  override async alarm(): Promise<void> {
    const flushed = await this.#outbox.flush();
    await this.#step(Date.now(), () => ({ kind: 'alarm', auditPending: flushed.pending }));
  }

  /** Test and diagnostics view. */
  inspect(): TransactionView {
    const txn = this.#tables.read();
    if (!txn) return { txn: null, refreshTokens: [], sessions: [] };
    return { txn, refreshTokens: this.#tables.refreshTokens(), sessions: this.#tables.sessions() };
  }

  /** Audit events waiting for delivery (tests and diagnostics). */
  auditPending(): number {
    return this.#outbox.count();
  }

  /** One transition, then its remaining effects; resolves with the reply and the access token minted, if any. */
  async #step<K extends Kind>(now: number, build: (state: Txn | null) => Extract<Input, { kind: K }>): Promise<{ reply: Replies[K]; accessToken?: string | undefined }> {
    const { reply, later } = this.#apply(now, build);
    let accessToken: string | undefined;
    for (const effect of later) accessToken = (await this.#run(effect)) ?? accessToken;
    return { reply, accessToken };
  }

  /**
   * Reads the state, runs the machine, writes the next state and the storage effects, all with
   * no await in between (atomic in a Durable Object); returns the effects left to run.
   */
  #apply<K extends Kind>(now: number, build: (state: Txn | null) => Extract<Input, { kind: K }>): { reply: Replies[K]; later: Array<Exclude<Effect, StorageEffect>> } {
    const state = this.#tables.read();
    const result = transition(state, build(state), now, this.#life);
    if (result.next) this.#tables.write(result.next);
    const later: Array<Exclude<Effect, StorageEffect>> = [];
    for (const effect of result.effects) {
      if (isStorageEffect(effect)) this.#store(effect);
      else later.push(effect);
    }
    return { reply: result.reply, later };
  }

  #store(effect: StorageEffect): void {
    switch (effect.kind) {
      case 'store_refresh':
        return this.#tables.storeRefresh(effect.hash, effect.createdAt);
      case 'rotate_refresh':
        return this.#tables.rotateRefresh(effect.hash);
      case 'revoke_refresh_tokens':
        return this.#tables.revokeRefreshTokens();
      case 'attach_session':
        return this.#tables.attachSession(effect.sessionId, effect.attachedAt);
    }
  }

  /** Runs one effect that leaves the object's tables (or its whole storage); a minted token is returned. */
  async #run(effect: Exclude<Effect, StorageEffect>): Promise<string | undefined> {
    switch (effect.kind) {
      case 'mint_access_token': {
        const keys = await signingKeys(this.env.OAUTH_SIGNING_KEY, this.env.OAUTH_PREVIOUS_PUBLIC_KEYS);
        return mintAccessToken(keys, effect.claims);
      }
      case 'audit':
        if (this.#auditEnabled) await this.#outbox.record(newEvent(effect.event));
        return undefined;
      case 'notify_revoked':
        await this.#notifyRevoked(effect.grantId);
        return undefined;
      case 'schedule_alarm':
        await scheduleAlarm(this.ctx.storage, effect.at);
        return undefined;
      case 'delete_all':
        await this.ctx.storage.deleteAll();
        this.#tables.forget();
        this.#baseline.forget();
        this.#outbox = new AuditOutbox(this.ctx.storage, this.env, this.#outboxMax);
        return undefined;
    }
  }

  /** Every session that uses the grant is told at once. */
  async #notifyRevoked(grantId: string): Promise<void> {
    await Promise.all(
      this.#tables.sessions().map(async (sessionId) => {
        const stub = this.env.MCP_SESSION.get(this.env.MCP_SESSION.idFromName(sessionId));
        await stub.grantRevoked(grantId).catch((error: unknown) => console.error(JSON.stringify({ event: 'revoke_notify_failed', error: String(error) })));
      }),
    );
  }
}

/** The token endpoint's answer: the machine's reply with the access token the object signed. */
function withAccessToken(reply: TokenReply, accessToken: string | undefined): TokenOutcome {
  if (!reply.ok) return reply;
  if (accessToken === undefined || reply.refresh_token === undefined) return fail('server_error', 'no tokens were minted');
  return { ok: true, access_token: accessToken, refresh_token: reply.refresh_token, expires_in: reply.expires_in, scope: reply.scope, token_type: 'Bearer' };
}
