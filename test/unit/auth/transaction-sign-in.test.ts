// The pure transaction machine, sign-in leg, on a frozen clock: begin, consent, the upstream round trip and the code, with every refusal.
import { describe, expect, it } from 'vitest';
import { transition } from '../../../src/auth/transaction/machine.ts';
import { audits, BINDING_HASH, CODE, CSRF_HASH, ID, kinds, LIFE, NOW, REDIRECT, S, txnAt, UPSTREAM, USER } from './transaction-fixtures.ts';

const request = { issuer: 'https://mcp.example.test', resource: 'https://mcp.example.test/mcp', clientId: 'client-a', redirectUri: REDIRECT, clientState: 'cs', codeChallenge: 'C'.repeat(43), scope: 'sql:read', bindingHash: BINDING_HASH, csrfHash: CSRF_HASH };
const decideInput = { kind: 'decide', approve: true, bindingHash: BINDING_HASH, csrfHash: CSRF_HASH, upstream: UPSTREAM, code: CODE } as const;
const loginInput = { kind: 'complete_login', user: USER, remembered: false, csrf: 'fresh-csrf', csrfHash: 'Y'.repeat(43), code: CODE } as const;

describe('begin', () => {
  it('starts in consent, expiring after the transaction lifetime, and asks for consent', () => {
    const t = transition(null, { kind: 'begin', id: ID, request, upstream: UPSTREAM }, NOW, LIFE);
    expect(t.reply).toEqual({ kind: 'consent', csrf: '' });
    expect(t.next).toMatchObject({ id: ID, phase: 'consent', createdAt: NOW, expiresAt: NOW + 600 * S, consentGiven: false, clientId: 'client-a', codeChallenge: 'C'.repeat(43) });
    expect(t.next?.upstreamStateHash).toBeUndefined();
    expect(t.effects).toEqual([{ kind: 'schedule_alarm', at: NOW + 600 * S }]);
  });

  it('with consent remembered for a user, goes straight upstream with fresh state, nonce and PKCE challenge', () => {
    const t = transition(null, { kind: 'begin', id: ID, request: { ...request, rememberedFor: 'u_alice' }, upstream: UPSTREAM }, NOW, LIFE);
    expect(t.reply).toEqual({ kind: 'upstream', state: UPSTREAM.state, nonce: UPSTREAM.nonce, challenge: UPSTREAM.challenge });
    expect(t.next).toMatchObject({ phase: 'upstream', consentGiven: true, consentUser: 'u_alice', upstreamStateHash: UPSTREAM.stateHash, nonce: UPSTREAM.nonce, verifier: UPSTREAM.verifier });
    expect(kinds(t.effects)).toEqual(['schedule_alarm']);
  });

  it('refuses to start twice: nothing written, nothing done', () => {
    const t = transition(txnAt('consent'), { kind: 'begin', id: ID, request, upstream: UPSTREAM }, NOW, LIFE);
    expect(t).toEqual({ effects: [], reply: { kind: 'error', reason: 'transaction exists' } });
  });
});

describe('decide (the consent form)', () => {
  it('approve before login: consent audited, then upstream; consent holds for whoever signs in', () => {
    const t = transition(txnAt('consent', { consentUser: 'someone' }), decideInput, NOW, LIFE);
    expect(t.reply).toMatchObject({ kind: 'upstream', state: UPSTREAM.state });
    expect(t.next).toMatchObject({ phase: 'upstream', consentGiven: true, consentUser: undefined });
    expect(kinds(t.effects)).toEqual(['audit:auth.consent:success']);
    expect(audits(t.effects)[0]).toMatchObject({ reason: 'approved support:read sql:read', actor: { client_id: 'client-a', grant_id: ID } });
  });

  it('approve after login: consent and code issued, the code short-lived, the upstream secrets dropped', () => {
    const t = transition(txnAt('login_consent'), decideInput, NOW, LIFE);
    expect(t.reply).toEqual({ kind: 'code', code: `${ID}.${CODE.secret}`, redirectUri: REDIRECT, clientState: 'client-state' });
    expect(t.next).toMatchObject({ phase: 'code', codeHash: CODE.hash, codeExpiresAt: NOW + 60 * S, verifier: undefined, nonce: undefined });
    expect(kinds(t.effects)).toEqual(['audit:auth.consent:success', 'audit:auth.code_issued:success']);
    expect(audits(t.effects)[1]?.actor).toMatchObject({ user_id: USER.id, upstream_subject: USER.subject, email: USER.email });
  });

  it('deny: the transaction ends, the denial is audited, the client gets its redirect (access_denied)', () => {
    const t = transition(txnAt('consent'), { ...decideInput, approve: false }, NOW, LIFE);
    expect(t.reply).toEqual({ kind: 'deny', redirectUri: REDIRECT, clientState: 'client-state' });
    expect(t.next?.phase).toBe('ended');
    expect(kinds(t.effects)).toEqual(['audit:auth.consent:denied']);
  });

  it.each([
    ['no transaction', null],
    ['the wrong phase (upstream)', txnAt('upstream')],
    ['the wrong phase (code)', txnAt('code')],
    ['a decided transaction (ended)', txnAt('ended')],
  ])('refuses %s: no consent is pending', (_label, state) => {
    expect(transition(state, decideInput, NOW, LIFE)).toEqual({ effects: [], reply: { kind: 'error', reason: 'no consent is pending' } });
  });

  it('refuses after the transaction expired (one millisecond late), but not at the instant', () => {
    const state = txnAt('consent', { expiresAt: NOW });
    expect(transition(state, decideInput, NOW + 1, LIFE).reply).toEqual({ kind: 'error', reason: 'no consent is pending' });
    expect(transition(state, decideInput, NOW, LIFE).reply.kind).toBe('upstream');
  });

  it.each([
    ['another browser (binding)', { bindingHash: 'b'.repeat(43) }],
    ['a forged form (CSRF)', { csrfHash: 'x'.repeat(43) }],
  ])('refuses %s, records nothing', (_label, over) => {
    const t = transition(txnAt('consent'), { ...decideInput, ...over }, NOW, LIFE);
    expect(t).toEqual({ effects: [], reply: { kind: 'error', reason: 'consent form is not from this browser' } });
  });
});

describe('takeUpstream (the callback\'s state)', () => {
  const take = { kind: 'take_upstream', stateHash: UPSTREAM.stateHash, bindingHash: BINDING_HASH } as const;

  it('hands out the verifier and nonce once and moves to upstream_used', () => {
    const t = transition(txnAt('upstream'), take, NOW, LIFE);
    expect(t.reply).toEqual({ ok: true, verifier: UPSTREAM.verifier, nonce: UPSTREAM.nonce });
    expect(t.next?.phase).toBe('upstream_used');
    expect(t.effects).toEqual([]);
  });

  it('a replayed state is refused (the phase moved on)', () => {
    const used = transition(txnAt('upstream'), take, NOW, LIFE).next ?? null;
    expect(transition(used, take, NOW, LIFE).reply).toEqual({ ok: false, reason: 'state is unknown or was already used' });
  });

  it.each([
    ['no transaction', null, take, NOW, 'state is unknown or was already used'],
    ['the consent phase', txnAt('consent'), take, NOW, 'state is unknown or was already used'],
    ['an expired transaction', txnAt('upstream'), take, NOW + LIFE.transaction * S, 'the sign-in took too long'],
    ['another state', txnAt('upstream'), { ...take, stateHash: 's'.repeat(43) }, NOW, 'state does not match'],
    ['another browser', txnAt('upstream'), { ...take, bindingHash: 'b'.repeat(43) }, NOW, 'state belongs to another browser'],
  ] as const)('refuses %s, nothing written', (_label, state, input, now, reason) => {
    expect(transition(state, input, now, LIFE)).toEqual({ effects: [], reply: { ok: false, reason } });
  });
});

describe('upstreamFailed', () => {
  it('ends the transaction, records the sign-in failure, sends the client access_denied', () => {
    const t = transition(txnAt('upstream_used'), { kind: 'upstream_failed', reason: 'the sign-in provider answered access_denied' }, NOW, LIFE);
    expect(t.reply).toEqual({ kind: 'deny', redirectUri: REDIRECT, clientState: 'client-state' });
    expect(t.next?.phase).toBe('ended');
    expect(audits(t.effects)).toMatchObject([{ type: 'auth.sign_in', outcome: 'failure', reason: 'the sign-in provider answered access_denied' }]);
  });

  it.each(['upstream', 'code', 'ended'] as const)('refuses in phase %s', (phase) => {
    expect(transition(txnAt(phase), { kind: 'upstream_failed', reason: 'x' }, NOW, LIFE)).toEqual({ effects: [], reply: { kind: 'error', reason: 'no sign-in is pending' } });
  });
});

describe('completeLogin', () => {
  it('consent given in this browser: sign-in recorded with the person, then the code', () => {
    const t = transition(txnAt('upstream_used'), loginInput, NOW, LIFE);
    expect(t.reply).toMatchObject({ kind: 'code', code: `${ID}.${CODE.secret}` });
    expect(t.next).toMatchObject({ phase: 'code', user: USER, codeExpiresAt: NOW + 60 * S });
    expect(kinds(t.effects)).toEqual(['audit:auth.sign_in:success', 'audit:auth.code_issued:success']);
    expect(audits(t.effects)[0]?.actor).toMatchObject({ user_id: USER.id, client_id: 'client-a', grant_id: ID });
  });

  it('consent remembered for another user does not cover this one: consent again, with a fresh CSRF token', () => {
    const t = transition(txnAt('upstream_used', { consentUser: 'u_bob' }), loginInput, NOW, LIFE);
    expect(t.reply).toEqual({ kind: 'consent', csrf: 'fresh-csrf' });
    expect(t.next).toMatchObject({ phase: 'login_consent', user: USER, csrfHash: 'Y'.repeat(43) });
    expect(kinds(t.effects)).toEqual(['audit:auth.sign_in:success']);
  });

  it('consent remembered for this user (or in the registry) issues the code', () => {
    expect(transition(txnAt('upstream_used', { consentUser: USER.id }), loginInput, NOW, LIFE).reply.kind).toBe('code');
    expect(transition(txnAt('upstream_used', { consentGiven: false }), { ...loginInput, remembered: true }, NOW, LIFE).reply.kind).toBe('code');
  });

  it.each([['no transaction', null], ['phase upstream (state not yet taken)', txnAt('upstream')], ['phase code (a second login)', txnAt('code')]] as const)('refuses %s', (_label, state) => {
    expect(transition(state, loginInput, NOW, LIFE)).toEqual({ effects: [], reply: { kind: 'error', reason: 'no sign-in is pending' } });
  });
});

describe('the machine', () => {
  it('is deterministic and never mutates its input (the fixtures are frozen)', () => {
    const state = txnAt('login_consent');
    const a = transition(state, decideInput, NOW, LIFE);
    const b = transition(state, decideInput, NOW, LIFE);
    expect(a).toEqual(b);
    expect(state.phase).toBe('login_consent');
  });
});
