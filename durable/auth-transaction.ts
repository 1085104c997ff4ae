/** One Durable Object per OAuth authorization transaction: consent, the upstream leg, the single-use code, then the grant. */
import { DurableObject } from 'cloudflare:workers';
import { newEvent, type EventInput, type RequestMeta } from '../src/audit/emit.ts';
import type { Actor } from '../src/audit/event.ts';
import { AuditOutbox } from './audit-outbox.ts';
import { tokenEvent } from './auth-transaction-events.ts';
import { scheduleAlarm } from './alarm.ts';
import { mintAccessToken } from '../src/auth/access-token.ts';
import { sha256Base64url, timingSafeEqual } from '../src/auth/encoding.ts';
import { isPkceString, s256Challenge } from '../src/auth/pkce.ts';
import { isSubset, parseScope, formatScope } from '../src/auth/scopes.ts';
import { signingKeys } from '../src/auth/signing-keys.ts';
import { loadConfig } from '../src/config.ts';
import type { Env } from '../src/env.ts';
import { fail, random, SCHEMA, TxnSchema, UserSchema, type BeginInput, type ClientCredentialsInput, type ClientCredentialsOutcome, type Step, type TokenOutcome, type Txn, type UpstreamUser } from './auth-transaction-state.ts';

export type { BeginInput, ClientCredentialsInput, ClientCredentialsOutcome, Step, TokenOutcome, UpstreamUser } from './auth-transaction-state.ts';

/** The transaction, named by its id; the id is also the grant id and the prefix of its codes and refresh tokens. */
export class AuthTransaction extends DurableObject<Env> {
  // Tables are created by begin() only: a made-up id (from a forged code or token) reads as
  // empty and leaves no stored object behind.
  #created = false;
  readonly #outbox: AuditOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#outbox = new AuditOutbox(ctx.storage, env, loadConfig(env).AUDIT_OUTBOX_MAX);
  }

  /** Starts the transaction; refuses to start twice. */
  async begin(id: string, input: BeginInput): Promise<Step> {
    if (this.#read()) return { kind: 'error', reason: 'transaction exists' };
    for (const statement of SCHEMA) this.ctx.storage.sql.exec(statement);
    this.#created = true;
    const config = loadConfig(this.env);
    const txn: Txn = {
      id,
      phase: 'consent',
      issuer: input.issuer,
      resource: input.resource,
      clientId: input.clientId,
      redirectUri: input.redirectUri,
      clientState: input.clientState,
      codeChallenge: input.codeChallenge,
      scope: input.scope,
      createdAt: input.now,
      expiresAt: input.now + config.AUTH_TRANSACTION_TTL_SECONDS * 1000,
      bindingHash: input.bindingHash,
      csrfHash: input.csrfHash,
      consentGiven: input.rememberedFor !== undefined,
      consentUser: input.rememberedFor,
    };
    this.#write(txn);
    await scheduleAlarm(this.ctx.storage, txn.expiresAt);
    return txn.consentGiven ? this.#goUpstream(txn) : { kind: 'consent', csrf: '' };
  }

  /** The consent form's answer (before or after login), checked against the browser binding and CSRF token. */
  async decide(input: { approve: boolean; binding: string; csrf: string; now: number; meta?: RequestMeta | undefined }): Promise<Step> {
    const [bindingHash, csrfHash] = await Promise.all([sha256Base64url(input.binding), sha256Base64url(input.csrf)]);
    const txn = this.#read();
    if (!txn || (txn.phase !== 'consent' && txn.phase !== 'login_consent') || input.now > txn.expiresAt) return { kind: 'error', reason: 'no consent is pending' };
    if (!timingSafeEqual(bindingHash, txn.bindingHash) || !timingSafeEqual(csrfHash, txn.csrfHash)) return { kind: 'error', reason: 'consent form is not from this browser' };
    await this.#audit(txn, { type: 'auth.consent', outcome: input.approve ? 'success' : 'denied', reason: input.approve ? `approved ${txn.scope}` : 'the person denied consent', meta: input.meta });
    if (!input.approve) {
      this.#write({ ...txn, phase: 'ended' });
      return { kind: 'deny', redirectUri: txn.redirectUri, clientState: txn.clientState };
    }
    // Consent given here, by the person in this browser, holds for whoever signs in next.
    if (txn.phase === 'consent') return this.#goUpstream({ ...txn, consentGiven: true, consentUser: undefined });
    return this.#issueCode({ ...txn, consentGiven: true, consentUser: undefined });
  }

  /**
   * Creates a machine client's grant, already 'granted', and mints its one access token (subject
   * `client:<client id>`; no code, no refresh token). The grant lives as long as the token, so
   * revoking it (admin or RFC 7009) reaches every session the token opened. Refuses to start twice.
   */
  async grantClientCredentials(id: string, input: ClientCredentialsInput): Promise<ClientCredentialsOutcome> {
    if (this.#read()) return { ok: false, error: 'server_error', description: 'the grant already exists' };
    for (const statement of SCHEMA) this.ctx.storage.sql.exec(statement);
    this.#created = true;
    const config = loadConfig(this.env);
    const endsAt = input.now + config.ACCESS_TOKEN_TTL_SECONDS * 1000;
    const txn: Txn = {
      id,
      phase: 'granted',
      grantType: 'client_credentials',
      issuer: input.issuer,
      resource: input.resource,
      clientId: input.clientId,
      owner: input.owner,
      redirectUri: '',
      codeChallenge: '',
      scope: input.scope,
      createdAt: input.now,
      expiresAt: endsAt,
      bindingHash: '',
      csrfHash: '',
      consentGiven: false,
      // The grant ends with its token (the alarm below revokes it then).
      refreshExpiresAt: endsAt,
    };
    this.#write(txn);
    await scheduleAlarm(this.ctx.storage, endsAt);
    const keys = await signingKeys(this.env.OAUTH_SIGNING_KEY, this.env.OAUTH_PREVIOUS_PUBLIC_KEYS);
    const access = await mintAccessToken(keys, {
      issuer: input.issuer,
      resource: input.resource,
      subject: `client:${input.clientId}`,
      clientId: input.clientId,
      scope: input.scope,
      grantId: id,
      tokenId: random(16),
      now: input.now,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    });
    const issued: ClientCredentialsOutcome = { ok: true, access_token: access, expires_in: config.ACCESS_TOKEN_TTL_SECONDS, scope: input.scope, token_type: 'Bearer' };
    await this.#audit(txn, { ...tokenEvent(issued, 'auth.token_issued', input.clientId, input.meta), reason: 'client_credentials' });
    return issued;
  }

  /** Consumes the upstream `state` once, from the browser that started; returns what the code exchange needs. */
  async takeUpstream(input: { state: string; binding: string; now: number }): Promise<{ ok: true; verifier: string; nonce: string } | { ok: false; reason: string }> {
    const [stateHash, bindingHash] = await Promise.all([sha256Base64url(input.state), sha256Base64url(input.binding)]);
    const txn = this.#read();
    if (!txn || txn.phase !== 'upstream' || !txn.upstreamStateHash || !txn.verifier || !txn.nonce) return { ok: false, reason: 'state is unknown or was already used' };
    if (input.now > txn.expiresAt) return { ok: false, reason: 'the sign-in took too long' };
    if (!timingSafeEqual(stateHash, txn.upstreamStateHash)) return { ok: false, reason: 'state does not match' };
    if (!timingSafeEqual(bindingHash, txn.bindingHash)) return { ok: false, reason: 'state belongs to another browser' };
    this.#write({ ...txn, phase: 'upstream_used' });
    return { ok: true, verifier: txn.verifier, nonce: txn.nonce };
  }

  /** The upstream said no (or failed): the client gets `access_denied` with its own state. */
  async upstreamFailed(reason = 'the sign-in provider refused or failed', meta?: RequestMeta): Promise<Step> {
    const txn = this.#read();
    if (!txn || txn.phase !== 'upstream_used') return { kind: 'error', reason: 'no sign-in is pending' };
    await this.#audit(txn, { type: 'auth.sign_in', outcome: 'failure', reason, meta });
    this.#write({ ...txn, phase: 'ended' });
    return { kind: 'deny', redirectUri: txn.redirectUri, clientState: txn.clientState };
  }

  /** The upstream sign-in succeeded: issue the code, or ask consent first if this user has not given it. */
  async completeLogin(input: { user: UpstreamUser; remembered: boolean; csrf: string; now: number; meta?: RequestMeta | undefined }): Promise<Step> {
    const csrfHash = await sha256Base64url(input.csrf);
    const txn = this.#read();
    if (!txn || txn.phase !== 'upstream_used') return { kind: 'error', reason: 'no sign-in is pending' };
    const withUser: Txn = { ...txn, user: UserSchema.parse(input.user) };
    await this.#audit(withUser, { type: 'auth.sign_in', outcome: 'success', meta: input.meta });
    // Consent remembered for the browser's previous user does not cover a different user.
    const consentHolds = txn.consentGiven && (txn.consentUser === undefined || txn.consentUser === input.user.id);
    if (input.remembered || consentHolds) return this.#issueCode(withUser);
    this.#write({ ...withUser, phase: 'login_consent', csrfHash });
    return { kind: 'consent', csrf: input.csrf };
  }

  /** Who signed in and which client is asking (for the consent page after login and for remembering consent). */
  summary(): { clientId: string; scope: string; redirectUri: string; user?: UpstreamUser | undefined; phase: Txn['phase'] } | null {
    const txn = this.#read();
    return txn ? { clientId: txn.clientId, scope: txn.scope, redirectUri: txn.redirectUri, user: txn.user, phase: txn.phase } : null;
  }

  /**
   * Redeems the code. Exactly one redemption can succeed; a replay revokes the grant. A wrong
   * PKCE verifier does not burn the code. The digests are computed before the state is read
   * so that the check-and-set below has no await inside it.
   */
  async exchangeCode(input: { code: string; clientId: string; redirectUri?: string | undefined; verifier?: string | undefined; resource?: string | undefined; now: number; meta?: RequestMeta | undefined }): Promise<TokenOutcome> {
    const before = this.#read()?.phase;
    const outcome = await this.#exchangeCode(input);
    const after = this.#read();
    if (after) {
      const replay = before === 'granted' && after.phase === 'revoked';
      await this.#audit(after, tokenEvent(outcome, replay ? 'auth.code_replay' : 'auth.token_issued', input.clientId, input.meta));
    }
    return outcome;
  }

  async #exchangeCode(input: { code: string; clientId: string; redirectUri?: string | undefined; verifier?: string | undefined; resource?: string | undefined; now: number }): Promise<TokenOutcome> {
    const config = loadConfig(this.env);
    const refresh = random();
    const [codeHash, refreshHash, challenge] = await Promise.all([
      sha256Base64url(input.code),
      sha256Base64url(refresh),
      isPkceString(input.verifier) ? s256Challenge(input.verifier) : Promise.resolve(null),
    ]);
    // From here to the write below there is no await: the check-and-set is atomic.
    const txn = this.#read();
    if (!txn || !txn.codeHash || !timingSafeEqual(codeHash, txn.codeHash)) return fail('invalid_grant', 'the code is invalid');
    if (txn.phase === 'granted' || txn.phase === 'revoked') {
      if (txn.phase === 'granted') await this.#revoke(txn, 'authorization code replayed');
      return fail('invalid_grant', 'the code was already used');
    }
    if (txn.phase !== 'code') return fail('invalid_grant', 'the code is invalid');
    if (input.now > (txn.codeExpiresAt ?? 0)) return fail('invalid_grant', 'the code has expired');
    if (input.clientId !== txn.clientId) return fail('invalid_grant', 'the code was issued to another client');
    if (input.redirectUri !== undefined && input.redirectUri !== txn.redirectUri) return fail('invalid_grant', 'redirect_uri does not match the authorization request');
    if (input.redirectUri === undefined) return fail('invalid_grant', 'redirect_uri is required');
    if (input.resource !== undefined && input.resource !== txn.resource) return fail('invalid_target', 'resource does not match the authorization request');
    if (input.verifier === undefined) return fail('invalid_grant', 'code_verifier is required');
    if (!challenge) return fail('invalid_grant', 'code_verifier must be 43-128 unreserved characters');
    if (!timingSafeEqual(challenge, txn.codeChallenge)) return fail('invalid_grant', 'code_verifier does not match the code_challenge');
    this.#write({ ...txn, phase: 'granted', refreshExpiresAt: input.now + config.REFRESH_TOKEN_TTL_SECONDS * 1000 });
    this.ctx.storage.sql.exec("INSERT INTO refresh_tokens (hash, status, created_at) VALUES (?, 'active', ?)", refreshHash, input.now);
    await scheduleAlarm(this.ctx.storage, input.now + config.REFRESH_TOKEN_TTL_SECONDS * 1000);
    return this.#tokens(txn, txn.scope, `${txn.id}.${refresh}`, input.now);
  }

  /** Rotates a refresh token; a rotated or revoked one presented again revokes the whole grant. */
  async refresh(input: { token: string; clientId: string; scope?: string | undefined; resource?: string | undefined; now: number; meta?: RequestMeta | undefined }): Promise<TokenOutcome> {
    const before = this.#read()?.phase;
    const outcome = await this.#refresh(input);
    const after = this.#read();
    if (after) {
      const reuse = before === 'granted' && after.phase === 'revoked';
      await this.#audit(after, tokenEvent(outcome, reuse ? 'auth.refresh_reuse' : 'auth.refresh', input.clientId, input.meta));
    }
    return outcome;
  }

  async #refresh(input: { token: string; clientId: string; scope?: string | undefined; resource?: string | undefined; now: number }): Promise<TokenOutcome> {
    const hash = await sha256Base64url(input.token);
    const next = random();
    const nextHash = await sha256Base64url(next);
    const txn = this.#read();
    if (!txn) return fail('invalid_grant', 'the refresh token is invalid');
    const row = this.ctx.storage.sql.exec<{ status: string }>('SELECT status FROM refresh_tokens WHERE hash = ?', hash).toArray()[0];
    if (!row) return fail('invalid_grant', 'the refresh token is invalid');
    if (txn.phase !== 'granted') return fail('invalid_grant', 'the grant has been revoked');
    if (row.status !== 'active') {
      await this.#revoke(txn, 'refresh token reused');
      return fail('invalid_grant', 'the refresh token was already used; the grant is revoked');
    }
    if (input.clientId !== txn.clientId) return fail('invalid_grant', 'the refresh token was issued to another client');
    if (input.now > (txn.refreshExpiresAt ?? 0)) return fail('invalid_grant', 'the refresh token has expired');
    if (input.resource !== undefined && input.resource !== txn.resource) return fail('invalid_target', 'resource is outside the grant');
    let scope = txn.scope;
    if (input.scope !== undefined) {
      const asked = parseScope(input.scope);
      const granted = parseScope(txn.scope);
      if (!asked.ok || !granted.ok || !isSubset(asked.scopes, granted.scopes)) return fail('invalid_scope', 'the requested scope exceeds the grant');
      scope = formatScope(asked.scopes);
    }
    this.ctx.storage.sql.exec("UPDATE refresh_tokens SET status = 'rotated' WHERE hash = ?", hash);
    this.ctx.storage.sql.exec("INSERT INTO refresh_tokens (hash, status, created_at) VALUES (?, 'active', ?)", nextHash, input.now);
    return this.#tokens(txn, scope, `${txn.id}.${next}`, input.now);
  }

  /** RFC 7009: revokes the grant when the token (refresh token hash, or an access token's grant) belongs to this client. */
  async revokeByClient(input: { clientId: string; refreshToken?: string | undefined }): Promise<'revoked' | 'not_ours' | 'unknown'> {
    const hash = input.refreshToken ? await sha256Base64url(input.refreshToken) : null;
    const txn = this.#read();
    if (!txn || (txn.phase !== 'granted' && txn.phase !== 'revoked')) return 'unknown';
    if (hash && !this.ctx.storage.sql.exec('SELECT 1 FROM refresh_tokens WHERE hash = ?', hash).toArray()[0]) return 'unknown';
    if (txn.clientId !== input.clientId) return 'not_ours';
    if (txn.phase === 'granted') await this.#revoke(txn, 'revoked by the client');
    return 'revoked';
  }

  /** Revokes the grant for an administrator; false when there is no live grant here. */
  async revokeByAdmin(): Promise<boolean> {
    const txn = this.#read();
    if (!txn || txn.phase !== 'granted') return false;
    await this.#revoke(txn, 'revoked by an administrator');
    return true;
  }

  /** A session using this grant registers itself, so revocation reaches it; false once revoked. */
  attachSession(sessionId: string, now: number): boolean {
    const txn = this.#read();
    if (!txn || txn.phase !== 'granted') return false;
    this.ctx.storage.sql.exec('INSERT OR IGNORE INTO sessions (session_id, attached_at) VALUES (?, ?)', sessionId, now);
    return true;
  }

  /** Expires abandoned transactions and grants past their refresh lifetime. */
  override async alarm(): Promise<void> {
    const flushed = await this.#outbox.flush();
    const txn = this.#read();
    if (!txn) return;
    const now = Date.now();
    if (txn.phase === 'granted') {
      if (now >= (txn.refreshExpiresAt ?? 0)) await this.#revoke(txn, 'grant expired');
      else await scheduleAlarm(this.ctx.storage, txn.refreshExpiresAt ?? now);
      return;
    }
    if (txn.phase === 'revoked' || now >= txn.expiresAt) {
      // Never delete audit events that are still waiting: the flush retry comes back here.
      if (flushed.pending > 0) return;
      await this.ctx.storage.deleteAll();
      this.#created = false;
    } else {
      await scheduleAlarm(this.ctx.storage, txn.expiresAt);
    }
  }

  /** Test and diagnostics view. */
  inspect(): { txn: Txn | null; refreshTokens: Array<{ status: string }>; sessions: string[] } {
    if (!this.#read()) return { txn: null, refreshTokens: [], sessions: [] };
    return {
      txn: this.#read(),
      refreshTokens: this.ctx.storage.sql.exec<{ status: string }>('SELECT status FROM refresh_tokens ORDER BY created_at').toArray(),
      sessions: this.ctx.storage.sql.exec<{ session_id: string }>('SELECT session_id FROM sessions').toArray().map((r) => r.session_id),
    };
  }

  async #goUpstream(txn: Txn): Promise<Step> {
    const state = `${txn.id}.${random()}`;
    const nonce = random();
    const verifier = random(48);
    const [stateHash, challenge] = await Promise.all([sha256Base64url(state), s256Challenge(verifier)]);
    this.#write({ ...txn, phase: 'upstream', upstreamStateHash: stateHash, nonce, verifier });
    return { kind: 'upstream', state, nonce, challenge };
  }

  async #issueCode(txn: Txn): Promise<Step> {
    const config = loadConfig(this.env);
    const secret = random();
    const codeHash = await sha256Base64url(secret);
    const now = Date.now();
    const issued: Txn = { ...txn, phase: 'code', codeHash, codeExpiresAt: now + config.AUTH_CODE_TTL_SECONDS * 1000, verifier: undefined, nonce: undefined };
    this.#write(issued);
    await this.#audit(issued, { type: 'auth.code_issued', outcome: 'success' });
    return { kind: 'code', code: `${txn.id}.${secret}`, redirectUri: txn.redirectUri, clientState: txn.clientState };
  }

  async #tokens(txn: Txn, scope: string, refreshToken: string, now: number): Promise<TokenOutcome> {
    const config = loadConfig(this.env);
    const keys = await signingKeys(this.env.OAUTH_SIGNING_KEY, this.env.OAUTH_PREVIOUS_PUBLIC_KEYS);
    const user = txn.user;
    if (!user) return fail('server_error', 'the grant has no user');
    const access = await mintAccessToken(keys, {
      issuer: txn.issuer,
      resource: txn.resource,
      subject: user.id,
      clientId: txn.clientId,
      scope,
      grantId: txn.id,
      tokenId: random(16),
      now,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      upstream: { issuer: user.issuer, subject: user.subject, email: user.email },
    });
    return { ok: true, access_token: access, refresh_token: refreshToken, expires_in: config.ACCESS_TOKEN_TTL_SECONDS, scope, token_type: 'Bearer' };
  }

  /** Revokes the grant: every refresh token, and every session that uses it is told at once. */
  async #revoke(txn: Txn, reason: string): Promise<void> {
    this.#write({ ...txn, phase: 'revoked', revokedReason: reason });
    await this.#audit(txn, { type: 'auth.revoke', outcome: 'success', reason });
    this.ctx.storage.sql.exec("UPDATE refresh_tokens SET status = 'revoked' WHERE status = 'active'");
    const sessions = this.ctx.storage.sql.exec<{ session_id: string }>('SELECT session_id FROM sessions').toArray();
    await Promise.all(
      sessions.map(async ({ session_id }) => {
        const stub = this.env.MCP_SESSION.get(this.env.MCP_SESSION.idFromName(session_id));
        await stub.grantRevoked(txn.id).catch((error: unknown) => console.error(JSON.stringify({ event: 'revoke_notify_failed', error: String(error) })));
      }),
    );
    await scheduleAlarm(this.ctx.storage, Date.now() + 24 * 3600 * 1000);
  }

  /** Audit events waiting for delivery (tests and diagnostics). */
  auditPending(): number {
    return this.#outbox.count();
  }

  /** Records an event about this transaction with its delegation chain (only once the transaction exists). */
  async #audit(txn: Txn, event: Omit<EventInput, 'actor'> & { actor?: Actor }): Promise<void> {
    if (!loadConfig(this.env).AUDIT_ENABLED) return;
    const user = txn.user;
    const actor: Actor = {
      client_id: txn.clientId,
      grant_id: txn.id,
      ...(user ? { user_id: user.id, upstream_issuer: user.issuer, upstream_subject: user.subject, ...(user.email ? { email: user.email } : {}) } : {}),
      ...(txn.owner ? { owner: txn.owner, user_id: txn.owner } : {}),
      ...event.actor,
    };
    await this.#outbox.record(newEvent({ ...event, actor }));
  }

  #read(): Txn | null {
    if (!this.#created) {
      this.#created = this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'txn'").toArray().length > 0;
      if (!this.#created) return null;
    }
    const row = this.ctx.storage.sql.exec<{ state: string }>('SELECT state FROM txn WHERE id = 1').toArray()[0];
    return row ? TxnSchema.parse(JSON.parse(row.state)) : null;
  }

  #write(txn: Txn): void {
    this.ctx.storage.sql.exec('INSERT INTO txn (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state', JSON.stringify(txn));
  }
}
