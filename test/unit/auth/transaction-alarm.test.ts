// The pure transaction machine's alarm on a frozen clock: grant expiry, the revoked grant's tombstone (issue 9) and abandoned transactions, never dropping audit events.
import { describe, expect, it } from 'vitest';
import { transition } from '../../../src/auth/transaction/machine.ts';
import { DAY, kinds, LIFE, NOW, S, txnAt } from './transaction-fixtures.ts';

const alarm = (auditPending = 0) => ({ kind: 'alarm', auditPending }) as const;

describe('alarm: a live grant', () => {
  it('before the end of its refresh lifetime: only wakes again then (an early flush alarm changes nothing)', () => {
    const state = txnAt('granted');
    expect(transition(state, alarm(), NOW, LIFE)).toEqual({ effects: [{ kind: 'schedule_alarm', at: NOW + 20 * DAY }], reply: undefined });
  });

  it('at the end of its refresh lifetime: revoked as expired, sessions told, tombstone kept for the retention', () => {
    const t = transition(txnAt('granted', { refreshExpiresAt: NOW }), alarm(), NOW, LIFE);
    expect(t.next).toMatchObject({ phase: 'revoked', revokedReason: 'grant expired', cleanupAt: NOW + DAY });
    expect(kinds(t.effects)).toEqual(['audit:auth.revoke:success', 'revoke_refresh_tokens', 'notify_revoked', 'schedule_alarm']);
    expect(t.effects.at(-1)).toEqual({ kind: 'schedule_alarm', at: NOW + DAY });
  });
});

describe('alarm: a revoked grant (the tombstone)', () => {
  it('the audit flush a second after revocation does not delete it: it re-arms for cleanupAt (issue 9: the lost event)', () => {
    const revoked = transition(txnAt('granted'), { kind: 'revoke_by_admin' }, NOW, LIFE).next ?? null;
    const t = transition(revoked, alarm(0), NOW + S, LIFE);
    expect(t.effects).toEqual([{ kind: 'schedule_alarm', at: NOW + 20 * DAY }]);
    expect(t.next).toBeUndefined();
  });

  it('one millisecond before cleanupAt: still kept', () => {
    const state = txnAt('revoked', { cleanupAt: NOW + DAY });
    expect(kinds(transition(state, alarm(), NOW + DAY - 1, LIFE).effects)).toEqual(['schedule_alarm']);
  });

  it('at cleanupAt with nothing waiting: all storage deleted', () => {
    const state = txnAt('revoked', { cleanupAt: NOW + DAY });
    expect(transition(state, alarm(0), NOW + DAY, LIFE)).toEqual({ effects: [{ kind: 'delete_all' }], reply: undefined });
  });

  it('at cleanupAt with audit events still undelivered: nothing deleted (the outbox retry brings the alarm back)', () => {
    const state = txnAt('revoked', { cleanupAt: NOW + DAY });
    expect(transition(state, alarm(3), NOW + DAY, LIFE)).toEqual({ effects: [], reply: undefined });
  });

  it('a tombstone written before cleanupAt existed is kept until its refresh lifetime ends', () => {
    const legacy = txnAt('revoked', { cleanupAt: undefined, refreshExpiresAt: NOW + 5 * DAY });
    expect(transition(legacy, alarm(), NOW + DAY, LIFE).effects).toEqual([{ kind: 'schedule_alarm', at: NOW + 5 * DAY }]);
    expect(transition(legacy, alarm(), NOW + 5 * DAY, LIFE).effects).toEqual([{ kind: 'delete_all' }]);
  });
});

describe('alarm: a transaction that never became a grant', () => {
  it.each(['consent', 'upstream', 'upstream_used', 'login_consent', 'code', 'ended'] as const)('in %s: kept until the transaction lifetime, then deleted unless events wait', (phase) => {
    const state = txnAt(phase);
    expect(transition(state, alarm(), state.expiresAt - 1, LIFE).effects).toEqual([{ kind: 'schedule_alarm', at: state.expiresAt }]);
    expect(transition(state, alarm(), state.expiresAt, LIFE).effects).toEqual([{ kind: 'delete_all' }]);
    expect(transition(state, alarm(1), state.expiresAt, LIFE).effects).toEqual([]);
  });

  it('no transaction at all: nothing to do', () => {
    expect(transition(null, alarm(), NOW, LIFE)).toEqual({ effects: [], reply: undefined });
  });
});
