// The pure transaction machine, grant side, on a frozen clock: code redemption, refresh rotation and reuse, revocation, sessions, machine grants.
import { describe, expect, it } from 'vitest';
import { transition } from '../../../src/auth/transaction/machine.ts';
import { audits, CHALLENGE, CLIENT, CODE_HASH, DAY, ID, kinds, LIFE, NOW, REDIRECT, REFRESH, RESOURCE, S, TOKEN_ID, txnAt, USER } from './transaction-fixtures.ts';

const exchange = { kind: 'exchange_code', codeHash: CODE_HASH, clientId: CLIENT, redirectUri: REDIRECT, verifierGiven: true, challenge: CHALLENGE, resource: RESOURCE, refresh: REFRESH, tokenId: TOKEN_ID } as const;
const refresh = { kind: 'refresh', tokenHash: 'P'.repeat(43), presented: 'active', clientId: CLIENT, refresh: REFRESH, tokenId: TOKEN_ID } as const;
const REVOKE_TAIL = ['audit:auth.revoke:success', 'revoke_refresh_tokens', 'notify_revoked', 'schedule_alarm'];

describe('exchangeCode', () => {
  it('redeems: granted for the refresh lifetime, one active refresh token, a minted access token, audited with its id', () => {
    const t = transition(txnAt('code'), exchange, NOW, LIFE);
    expect(t.reply).toEqual({ ok: true, refresh_token: `${ID}.${REFRESH.secret}`, expires_in: 600, scope: 'support:read sql:read', token_type: 'Bearer' });
    expect(t.next).toMatchObject({ phase: 'granted', refreshExpiresAt: NOW + 30 * DAY });
    expect(kinds(t.effects)).toEqual(['store_refresh', 'schedule_alarm', 'mint_access_token', 'audit:auth.token_issued:success']);
    expect(t.effects[0]).toEqual({ kind: 'store_refresh', hash: REFRESH.hash, createdAt: NOW });
    expect(t.effects[1]).toEqual({ kind: 'schedule_alarm', at: NOW + 30 * DAY });
    expect(t.effects[2]).toEqual({
      kind: 'mint_access_token',
      claims: { issuer: 'https://mcp.example.test', resource: RESOURCE, subject: USER.id, clientId: CLIENT, scope: 'support:read sql:read', grantId: ID, tokenId: TOKEN_ID, now: NOW, ttlSeconds: 600, upstream: { issuer: USER.issuer, subject: USER.subject, email: USER.email } },
    });
    expect(audits(t.effects)[0]?.actor).toMatchObject({ user_id: USER.id, client_id: CLIENT, grant_id: ID, token_id: TOKEN_ID });
  });

  it('a replayed code revokes the grant its first use created (and every token of it), recorded as code_replay', () => {
    const granted = transition(txnAt('code'), exchange, NOW, LIFE).next ?? null;
    const t = transition(granted, exchange, NOW + S, LIFE);
    expect(t.reply).toEqual({ ok: false, error: 'invalid_grant', description: 'the code was already used' });
    expect(t.next).toMatchObject({ phase: 'revoked', revokedReason: 'authorization code replayed' });
    expect(kinds(t.effects)).toEqual([...REVOKE_TAIL, 'audit:auth.code_replay:denied']);
    // The tombstone outlives the grant's refresh tokens.
    expect(t.next?.cleanupAt).toBe(NOW + 30 * DAY);
    // Replayed again: still refused, no second revocation.
    expect(kinds(transition(t.next ?? null, exchange, NOW + 2 * S, LIFE).effects)).toEqual(['audit:auth.token_issued:failure']);
  });

  it('a wrong PKCE verifier does not burn the code: the right one still redeems it', () => {
    const state = txnAt('code');
    const wrong = transition(state, { ...exchange, challenge: 'w'.repeat(43) }, NOW, LIFE);
    expect(wrong.reply).toEqual({ ok: false, error: 'invalid_grant', description: 'code_verifier does not match the code_challenge' });
    expect(wrong.next).toBeUndefined();
    expect(kinds(wrong.effects)).toEqual(['audit:auth.token_issued:failure']);
    expect(transition(state, exchange, NOW, LIFE).reply.ok).toBe(true);
  });

  it.each([
    ['a wrong code', { codeHash: 'k'.repeat(43) }, NOW, 'invalid_grant', 'the code is invalid'],
    ['an expired code', {}, NOW + 51 * S, 'invalid_grant', 'the code has expired'],
    ['another client', { clientId: 'client-b' }, NOW, 'invalid_grant', 'the code was issued to another client'],
    ['another redirect_uri', { redirectUri: `${REDIRECT}/` }, NOW, 'invalid_grant', 'redirect_uri does not match the authorization request'],
    ['no redirect_uri', { redirectUri: undefined }, NOW, 'invalid_grant', 'redirect_uri is required'],
    ['another resource', { resource: 'https://other.example.test/mcp' }, NOW, 'invalid_target', 'resource does not match the authorization request'],
    ['no code_verifier', { verifierGiven: false, challenge: null }, NOW, 'invalid_grant', 'code_verifier is required'],
    ['a malformed code_verifier', { challenge: null }, NOW, 'invalid_grant', 'code_verifier must be 43-128 unreserved characters'],
  ] as const)('refuses %s: nothing written, the refusal audited with the asking client', (_label, over, now, error, description) => {
    const t = transition(txnAt('code'), { ...exchange, ...over }, now, LIFE);
    expect(t.reply).toEqual({ ok: false, error, description });
    expect(t.next).toBeUndefined();
    expect(audits(t.effects)).toMatchObject([{ type: 'auth.token_issued', outcome: 'failure', error_code: error, reason: description, actor: { client_id: 'clientId' in over ? over.clientId : CLIENT, grant_id: ID } }]);
  });

  it('the code is compared first: a wrong code against a live grant revokes nothing', () => {
    const t = transition(txnAt('granted'), { ...exchange, codeHash: 'k'.repeat(43) }, NOW, LIFE);
    expect(t.reply).toMatchObject({ ok: false, description: 'the code is invalid' });
    expect(t.next).toBeUndefined();
  });

  it('with no transaction: invalid, and nothing recorded (made-up ids leave no trace)', () => {
    expect(transition(null, exchange, NOW, LIFE)).toEqual({ effects: [], reply: { ok: false, error: 'invalid_grant', description: 'the code is invalid' } });
  });

  it('a phase without a code (ended) is refused as invalid', () => {
    expect(transition(txnAt('ended', { codeHash: CODE_HASH }), exchange, NOW, LIFE).reply).toMatchObject({ ok: false, description: 'the code is invalid' });
  });
});

describe('refresh', () => {
  it('rotates: the presented token becomes rotated, a new one active, same scope, a new access token', () => {
    const t = transition(txnAt('granted'), refresh, NOW, LIFE);
    expect(t.reply).toEqual({ ok: true, refresh_token: `${ID}.${REFRESH.secret}`, expires_in: 600, scope: 'support:read sql:read', token_type: 'Bearer' });
    expect(t.next).toBeUndefined();
    expect(t.effects.slice(0, 2)).toEqual([{ kind: 'rotate_refresh', hash: 'P'.repeat(43) }, { kind: 'store_refresh', hash: REFRESH.hash, createdAt: NOW }]);
    expect(kinds(t.effects)).toEqual(['rotate_refresh', 'store_refresh', 'mint_access_token', 'audit:auth.refresh:success']);
  });

  it('a narrower scope is allowed; a wider one is invalid_scope', () => {
    const narrow = transition(txnAt('granted'), { ...refresh, scope: 'sql:read' }, NOW, LIFE);
    expect(narrow.reply).toMatchObject({ ok: true, scope: 'sql:read' });
    expect(narrow.effects.find((e) => e.kind === 'mint_access_token')).toMatchObject({ claims: { scope: 'sql:read' } });
    const wide = transition(txnAt('granted', { scope: 'sql:read' }), { ...refresh, scope: 'sql:read support:read' }, NOW, LIFE);
    expect(wide.reply).toEqual({ ok: false, error: 'invalid_scope', description: 'the requested scope exceeds the grant' });
    expect(kinds(wide.effects)).toEqual(['audit:auth.refresh:failure']);
  });

  it.each(['rotated', 'revoked'] as const)('a %s token presented again revokes the whole grant (refresh_reuse)', (presented) => {
    const t = transition(txnAt('granted'), { ...refresh, presented }, NOW, LIFE);
    expect(t.reply).toEqual({ ok: false, error: 'invalid_grant', description: 'the refresh token was already used; the grant is revoked' });
    expect(t.next).toMatchObject({ phase: 'revoked', revokedReason: 'refresh token reused', cleanupAt: NOW + 20 * DAY });
    expect(kinds(t.effects)).toEqual([...REVOKE_TAIL, 'audit:auth.refresh_reuse:denied']);
    expect(t.effects).toContainEqual({ kind: 'notify_revoked', grantId: ID });
  });

  it('any token of a revoked grant is refused and recorded as auth.refresh failure with the whole chain (issue 9)', () => {
    const t = transition(txnAt('revoked'), { ...refresh, presented: 'revoked' }, NOW + 2 * DAY, LIFE);
    expect(t.reply).toEqual({ ok: false, error: 'invalid_grant', description: 'the grant has been revoked' });
    expect(t.next).toBeUndefined();
    expect(audits(t.effects)).toEqual([
      { type: 'auth.refresh', outcome: 'failure', error_code: 'invalid_grant', reason: 'the grant has been revoked', meta: undefined, actor: { client_id: CLIENT, grant_id: ID, user_id: USER.id, upstream_issuer: USER.issuer, upstream_subject: USER.subject, email: USER.email } },
    ]);
  });

  it.each([
    ['an unknown token', { presented: null }, NOW, 'invalid_grant', 'the refresh token is invalid'],
    ['another client', { clientId: 'client-b' }, NOW, 'invalid_grant', 'the refresh token was issued to another client'],
    ['an expired grant', {}, NOW + 20 * DAY + 1, 'invalid_grant', 'the refresh token has expired'],
    ['a resource outside the grant', { resource: 'https://other.example.test/mcp' }, NOW, 'invalid_target', 'resource is outside the grant'],
  ] as const)('refuses %s, nothing written, audited', (_label, over, now, error, description) => {
    const t = transition(txnAt('granted'), { ...refresh, ...over }, now, LIFE);
    expect(t.reply).toEqual({ ok: false, error, description });
    expect(t.next).toBeUndefined();
    expect(kinds(t.effects)).toEqual(['audit:auth.refresh:failure']);
  });

  it('with no transaction: invalid and nothing recorded', () => {
    expect(transition(null, { ...refresh, presented: null }, NOW, LIFE)).toEqual({ effects: [], reply: { ok: false, error: 'invalid_grant', description: 'the refresh token is invalid' } });
  });
});

describe('revocation', () => {
  it('RFC 7009 by the grant\'s client, with its refresh token or an access token: revoked, sessions told, tombstone kept', () => {
    for (const token of ['known', 'none'] as const) {
      const t = transition(txnAt('granted'), { kind: 'revoke_by_client', clientId: CLIENT, token }, NOW, LIFE);
      expect(t.reply).toBe('revoked');
      expect(t.next).toMatchObject({ phase: 'revoked', revokedReason: 'revoked by the client', cleanupAt: NOW + 20 * DAY });
      expect(kinds(t.effects)).toEqual(REVOKE_TAIL);
      expect(t.effects.at(-1)).toEqual({ kind: 'schedule_alarm', at: NOW + 20 * DAY });
    }
  });

  it.each([
    ['another client\'s grant', txnAt('granted'), { clientId: 'client-b', token: 'known' }, 'not_ours'],
    ['a token that is not this grant\'s', txnAt('granted'), { clientId: CLIENT, token: 'unknown' }, 'unknown'],
    ['a transaction that never became a grant', txnAt('code'), { clientId: CLIENT, token: 'none' }, 'unknown'],
    ['no transaction', null, { clientId: CLIENT, token: 'none' }, 'unknown'],
    ['an already revoked grant', txnAt('revoked'), { clientId: CLIENT, token: 'known' }, 'revoked'],
  ] as const)('RFC 7009: %s → %s, nothing changed', (_label, state, over, reply) => {
    expect(transition(state, { kind: 'revoke_by_client', ...over }, NOW, LIFE)).toEqual({ effects: [], reply });
  });

  it('by an administrator: true for a live grant, false otherwise', () => {
    const t = transition(txnAt('granted'), { kind: 'revoke_by_admin' }, NOW, LIFE);
    expect(t.reply).toBe(true);
    expect(t.next?.revokedReason).toBe('revoked by an administrator');
    expect(kinds(t.effects)).toEqual(REVOKE_TAIL);
    expect(transition(txnAt('revoked'), { kind: 'revoke_by_admin' }, NOW, LIFE)).toEqual({ effects: [], reply: false });
    expect(transition(null, { kind: 'revoke_by_admin' }, NOW, LIFE)).toEqual({ effects: [], reply: false });
  });

  it('near the end of the refresh lifetime the tombstone still stays the 24 h retention', () => {
    const t = transition(txnAt('granted', { refreshExpiresAt: NOW + 3600 * S }), { kind: 'revoke_by_admin' }, NOW, LIFE);
    expect(t.next?.cleanupAt).toBe(NOW + DAY);
  });
});

describe('sessions', () => {
  it('a live grant remembers the session; a revoked or missing one refuses it', () => {
    expect(transition(txnAt('granted'), { kind: 'attach_session', sessionId: 's1' }, NOW, LIFE)).toEqual({ effects: [{ kind: 'attach_session', sessionId: 's1', attachedAt: NOW }], reply: true });
    expect(transition(txnAt('revoked'), { kind: 'attach_session', sessionId: 's1' }, NOW, LIFE)).toEqual({ effects: [], reply: false });
    expect(transition(txnAt('code'), { kind: 'attach_session', sessionId: 's1' }, NOW, LIFE)).toEqual({ effects: [], reply: false });
    expect(transition(null, { kind: 'attach_session', sessionId: 's1' }, NOW, LIFE)).toEqual({ effects: [], reply: false });
  });
});

describe('client_credentials', () => {
  const input = { kind: 'client_credentials', id: ID, request: { issuer: 'https://mcp.example.test', resource: RESOURCE, clientId: 'machine', owner: 'u_owner', scope: 'sql:read' }, tokenId: TOKEN_ID } as const;

  it('creates a granted grant that ends with its one access token (no refresh token), audited with the owner', () => {
    const t = transition(null, input, NOW, LIFE);
    expect(t.reply).toEqual({ ok: true, expires_in: 600, scope: 'sql:read', token_type: 'Bearer' });
    expect(t.next).toMatchObject({ phase: 'granted', grantType: 'client_credentials', owner: 'u_owner', expiresAt: NOW + 600 * S, refreshExpiresAt: NOW + 600 * S });
    expect(kinds(t.effects)).toEqual(['schedule_alarm', 'mint_access_token', 'audit:auth.token_issued:success']);
    expect(t.effects[1]).toMatchObject({ claims: { subject: 'client:machine', clientId: 'machine', grantId: ID, tokenId: TOKEN_ID, ttlSeconds: 600 } });
    expect(audits(t.effects)[0]).toMatchObject({ reason: 'client_credentials', actor: { client_id: 'machine', owner: 'u_owner', user_id: 'u_owner', token_id: TOKEN_ID, grant_id: ID } });
  });

  it('refuses to create the grant twice', () => {
    expect(transition(txnAt('granted'), input, NOW, LIFE)).toEqual({ effects: [], reply: { ok: false, error: 'server_error', description: 'the grant already exists' } });
  });
});
