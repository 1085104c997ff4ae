// Properties of the pure transaction machine over random command sequences (fast-check, fixed seed): one redemption, one live refresh token, revocation is final, nothing deleted early.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transition, type Effect, type Input, type Transition } from '../../../src/auth/transaction/machine.ts';
import type { RefreshStatus, Txn } from '../../../src/auth/transaction/state.ts';
import { CHALLENGE, CLIENT, CODE_HASH, LIFE, NOW, REDIRECT, S, TOKEN_ID, txnAt } from './transaction-fixtures.ts';

type Command =
  | { kind: 'exchange'; rightCode: boolean; rightVerifier: boolean }
  | { kind: 'refresh'; pick: number; rightClient: boolean }
  | { kind: 'revoke_client' }
  | { kind: 'revoke_admin' }
  | { kind: 'alarm'; pending: number }
  | { kind: 'attach' }
  | { kind: 'wait'; ms: number };

// Weighted towards refreshes (where rotation and reuse happen), with short waits more often than long ones.
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('exchange' as const), rightCode: fc.boolean(), rightVerifier: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('refresh' as const), pick: fc.nat(8), rightClient: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'revoke_client' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'revoke_admin' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('alarm' as const), pending: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'attach' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 120 * S }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 * 24 * 3600 * S }) }) }) },
);


/** The object's refresh_tokens table, as a map from hash to status. */
type Tokens = Map<string, RefreshStatus>;

function input(c: Exclude<Command, { kind: 'wait' }>, tokens: Tokens, n: number): Input {
  const refresh = { secret: `s${n}`, hash: `h${n}` };
  switch (c.kind) {
    case 'exchange':
      return { kind: 'exchange_code', codeHash: c.rightCode ? CODE_HASH : 'wrong', clientId: CLIENT, redirectUri: REDIRECT, verifierGiven: true, challenge: c.rightVerifier ? CHALLENGE : 'wrong', refresh, tokenId: TOKEN_ID };
    case 'refresh': {
      const hashes = [...tokens.keys()];
      const hash = hashes[c.pick % (hashes.length + 1)] ?? 'unknown';
      return { kind: 'refresh', tokenHash: hash, presented: tokens.get(hash) ?? null, clientId: c.rightClient ? CLIENT : 'client-b', refresh, tokenId: TOKEN_ID };
    }
    case 'revoke_client':
      return { kind: 'revoke_by_client', clientId: CLIENT, token: 'none' };
    case 'revoke_admin':
      return { kind: 'revoke_by_admin' };
    case 'alarm':
      return { kind: 'alarm', auditPending: c.pending };
    case 'attach':
      return { kind: 'attach_session', sessionId: 's' };
  }
}

function applyStorage(tokens: Tokens, effects: Effect[]): void {
  for (const e of effects) {
    if (e.kind === 'store_refresh') tokens.set(e.hash, 'active');
    if (e.kind === 'rotate_refresh') tokens.set(e.hash, 'rotated');
    if (e.kind === 'revoke_refresh_tokens') for (const [h, s] of tokens) if (s === 'active') tokens.set(h, 'revoked');
    if (e.kind === 'delete_all') tokens.clear();
  }
}

const TOKEN_EVENTS = new Set(['auth.token_issued', 'auth.code_replay', 'auth.refresh', 'auth.refresh_reuse']);

describe('the transaction machine over random command sequences', () => {
  it('keeps its security invariants', () => {
    fc.assert(
      // From a code waiting for redemption, or from a live grant with its first refresh token.
      fc.property(fc.boolean(), fc.array(command, { maxLength: 30 }), (fromGrant, commands) => {
        let state: Txn | null = txnAt(fromGrant ? 'granted' : 'code');
        let now = NOW;
        const tokens: Tokens = new Map(fromGrant ? [['h-first', 'active']] : []);
        let redeemed = fromGrant ? 1 : 0;
        for (const [n, c] of commands.entries()) {
          if (c.kind === 'wait') {
            now += c.ms;
            continue;
          }
          const before: Txn | null = state;
          const i = input(c, tokens, n);
          const t: Transition<unknown> = transition(before, i, now, LIFE);
          const minted = t.effects.some((e) => e.kind === 'mint_access_token');
          // Revocation is final: a revoked grant never mints, never answers tokens, never changes phase.
          if (before?.phase === 'revoked') {
            expect(minted).toBe(false);
            expect(t.next?.phase ?? 'revoked').toBe('revoked');
            if (typeof t.reply === 'object' && t.reply && 'ok' in t.reply) expect(t.reply.ok).toBe(false);
          }
          // Nothing is deleted while audit events wait, nor a tombstone before its cleanup time.
          if (t.effects.some((e) => e.kind === 'delete_all')) {
            expect(i.kind === 'alarm' && i.auditPending === 0).toBe(true);
            if (before?.phase === 'revoked') expect(now).toBeGreaterThanOrEqual(before.cleanupAt ?? Infinity);
            expect(before?.phase).not.toBe('granted');
          }
          // Every token request against an existing transaction is audited exactly once.
          if (before && (i.kind === 'exchange_code' || i.kind === 'refresh')) {
            expect(t.effects.filter((e) => e.kind === 'audit' && TOKEN_EVENTS.has(e.event.type))).toHaveLength(1);
          }
          if (i.kind === 'exchange_code' && minted) redeemed++;
          applyStorage(tokens, t.effects);
          if (t.next) state = t.next;
          if (t.effects.some((e) => e.kind === 'delete_all')) state = null;
          // One code, one redemption; at most one live refresh token, none once revoked.
          expect(redeemed).toBeLessThanOrEqual(1);
          const active = [...tokens.values()].filter((s) => s === 'active').length;
          expect(active).toBeLessThanOrEqual(1);
          if (state?.phase === 'revoked') {
            expect(active).toBe(0);
            expect(state.cleanupAt).toBeGreaterThanOrEqual(state.refreshExpiresAt ?? 0);
          }
        }
      }),
      { seed: 20261207, numRuns: 300 },
    );
  });
});
