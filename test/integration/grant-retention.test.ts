// A revoked grant's tombstone in the Workers runtime: the audit flush alarm does not delete it, a late refresh is refused and audited with its chain, and the cleanup comes only when due, after delivery.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuthTransaction } from '../../durable/auth-transaction.ts';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import { call, FETCHERS, ORIGIN } from '../support/mcp-http.ts';
import { signIn, tokenRequest, type SignedIn } from '../support/oauth-flow.ts';

const DAY = 24 * 3600 * 1000;
const admin = { authorization: `Bearer ${env.ADMIN_SECRET}` };

function grantStub(gid: string) {
  return env.AUTH_TXN.get(env.AUTH_TXN.idFromName(gid));
}

/** The stored state and the time the object's alarm is set for. */
function look(gid: string): Promise<{ view: ReturnType<AuthTransaction['inspect']>; alarm: number | null; pending: number }> {
  return runInDurableObject(grantStub(gid), async (instance: AuthTransaction, state) => ({ view: instance.inspect(), alarm: await state.storage.getAlarm(), pending: instance.auditPending() }));
}

/** The user's events of one type as the admin API exports them. */
async function eventsOf(user: SignedIn, type: string): Promise<AuditEvent[]> {
  const sub = String(decodeJwt(user.accessToken).sub);
  const response = await call(`/admin/audit/events?type=${type}&user=${encodeURIComponent(sub)}&limit=100`, { headers: admin });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text === '' ? [] : text.trim().split('\n').map((line) => AuditEventSchema.parse(JSON.parse(line)));
}

function refreshWith(user: SignedIn, refreshToken: string): ReturnType<typeof tokenRequest> {
  return tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: user.clientId });
}

/** Signs in, refreshes once, replays the first refresh token: the grant is revoked for reuse. Returns the newest (now revoked) refresh token. */
async function revokedByReuse(login: string): Promise<{ user: SignedIn; gid: string; newest: string }> {
  const user = await signIn(ORIGIN, FETCHERS, { login });
  const gid = user.refreshToken.split('.')[0] as string;
  const rotated = await refreshWith(user, user.refreshToken);
  expect(rotated.status).toBe(200);
  const replay = await refreshWith(user, user.refreshToken);
  expect(replay.status).toBe(400);
  expect(replay.body.error).toBe('invalid_grant');
  return { user, gid, newest: String(rotated.body.refresh_token) };
}

describe('a revoked grant keeps its tombstone past the audit flush (issue 9: the lost event)', () => {
  it('the flush alarm delivers the events but keeps the tombstone and re-arms for its cleanup time', async () => {
    const before = Date.now();
    const { gid } = await revokedByReuse('retention-flush');
    const revoked = await look(gid);
    expect(revoked.view.txn?.phase).toBe('revoked');
    const cleanupAt = revoked.view.txn?.cleanupAt ?? 0;
    // Not before the grant's last refresh token expires (REFRESH_TOKEN_TTL_SECONDS, 30 days), nor the 24 h retention.
    expect(cleanupAt).toBeGreaterThanOrEqual(revoked.view.txn?.refreshExpiresAt ?? Infinity);
    expect(cleanupAt).toBeGreaterThanOrEqual(before + DAY);
    // The outbox asked for an earlier wake-up (its flush, about a second away; on a slow machine it may have run already).
    expect(revoked.alarm).not.toBeNull();
    expect(revoked.alarm).toBeLessThanOrEqual(cleanupAt);

    expect(await runDurableObjectAlarm(grantStub(gid))).toBe(true);
    const flushed = await look(gid);
    expect(flushed.pending).toBe(0);
    expect(flushed.view.txn?.phase).toBe('revoked');
    expect(flushed.view.refreshTokens.map((t) => t.status)).toEqual(['rotated', 'revoked']);
    expect(flushed.alarm).toBe(cleanupAt);
  });

  it('a refresh after the flush is refused (invalid_grant) and recorded as auth.refresh failure with its delegation chain', async () => {
    const { user, gid, newest } = await revokedByReuse('retention-late');
    expect(await runDurableObjectAlarm(grantStub(gid))).toBe(true);
    expect((await look(gid)).pending).toBe(0);

    const late = await refreshWith(user, newest);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('invalid_grant');
    expect(late.body.access_token).toBeUndefined();

    // Delivers the late event (or, if its flush already ran, wakes at cleanupAt and re-arms).
    expect(await runDurableObjectAlarm(grantStub(gid))).toBe(true);
    const failures = (await eventsOf(user, 'auth.refresh')).filter((e) => e.outcome === 'failure' && e.actor.grant_id === gid);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      type: 'auth.refresh',
      outcome: 'failure',
      error_code: 'invalid_grant',
      reason: 'the grant has been revoked',
      actor: { user_id: decodeJwt(user.accessToken).sub, client_id: user.clientId, grant_id: gid, upstream_subject: 'user-retention-late' },
    });
    // The reuse itself was recorded once too, and the tombstone is still there for the next late attempt.
    expect((await eventsOf(user, 'auth.refresh_reuse')).filter((e) => e.actor.grant_id === gid)).toHaveLength(1);
    expect((await look(gid)).view.txn?.phase).toBe('revoked');
  });

  it('an admin revocation keeps the tombstone through the flush as well: sessions are still refused and a late refresh is still audited', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'retention-admin' });
    const gid = user.refreshToken.split('.')[0] as string;
    const response = await call(`/admin/grants/${gid}/revoke`, { method: 'POST', headers: admin });
    expect(response.status).toBe(200);
    await response.text();
    expect(await runDurableObjectAlarm(grantStub(gid))).toBe(true);
    expect((await look(gid)).view.txn?.phase).toBe('revoked');
    expect(await runInDurableObject(grantStub(gid), (instance: AuthTransaction) => instance.attachSession('s'.repeat(43), Date.now()))).toBe(false);
    const late = await refreshWith(user, user.refreshToken);
    expect(late.body.error).toBe('invalid_grant');
    expect(await runDurableObjectAlarm(grantStub(gid))).toBe(true);
    expect((await eventsOf(user, 'auth.refresh')).filter((e) => e.outcome === 'failure' && e.actor.grant_id === gid)).toMatchObject([{ reason: 'the grant has been revoked', actor: { client_id: user.clientId } }]);
    expect((await look(gid)).view.txn?.phase).toBe('revoked');
  });

  it('once cleanupAt has passed, the alarm first delivers the pending events, then deletes the tombstone', async () => {
    const { user, gid, newest } = await revokedByReuse('retention-cleanup');
    expect(await runDurableObjectAlarm(grantStub(gid))).toBe(true);
    // Inside the object, so no real alarm runs in between: a late attempt leaves an event
    // waiting, then the cleanup falls due.
    const pending = await runInDurableObject(grantStub(gid), async (instance: AuthTransaction, state) => {
      const reply = await instance.refresh({ token: newest.split('.')[1] ?? '', clientId: user.clientId, now: Date.now() });
      expect(reply).toMatchObject({ ok: false, error: 'invalid_grant', description: 'the grant has been revoked' });
      const txn = instance.inspect().txn;
      state.storage.sql.exec('UPDATE txn SET state = ? WHERE id = 1', JSON.stringify({ ...txn, cleanupAt: Date.now() - 1000 }));
      // Far enough ahead that only the test runs it (runDurableObjectAlarm ignores the time).
      await state.storage.setAlarm(Date.now() + 3600_000);
      return instance.auditPending();
    });
    expect(pending).toBe(1);

    expect(await runDurableObjectAlarm(grantStub(gid))).toBe(true);
    const gone = await look(gid);
    expect(gone.view.txn).toBeNull();
    expect(gone.pending).toBe(0);
    expect(gone.alarm).toBeNull();
    // Nothing was lost on the way out: the late refresh's failure reached the store.
    expect((await eventsOf(user, 'auth.refresh')).filter((e) => e.outcome === 'failure' && e.actor.grant_id === gid)).toHaveLength(1);
    // After the retention a token of the grant is still refused (there is no grant at all).
    expect((await refreshWith(user, newest)).body.error).toBe('invalid_grant');
    expect((await look(gid)).view.txn).toBeNull();
  });
});
