// Issue 16: the detection schedule when the audit database is down, in a store of its own (not the shared "default"): the run fails,
// the alarm's call does not (it also delivers and purges), nothing is recorded or marked as run, and the next attempt is within a minute.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DetectionSchedule } from '../../durable/detection-schedule.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import type { Env } from '../../src/env.ts';

describe('the detection schedule with the audit database down', () => {
  it('a run that cannot read MySQL is logged and retried within a minute, never thrown at the alarm; nothing is recorded', async () => {
    const down = env.TEST_HYPERDRIVE_DOWN;
    if (!down) throw new Error('TEST_HYPERDRIVE_DOWN is not bound: run the tests with `npm test`, which starts MariaDB');
    const stub = env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('detections-mysql-down'));
    await runInDurableObject(stub, async (_instance, state) => {
      const recorded: AuditEvent[] = [];
      // The Worker's env as the store sees it, with the audit trail on a MySQL that refuses connections.
      const downEnv: Env = { ...(env as unknown as Env), AUDIT_HYPERDRIVE: down, DETECTIONS_ENABLED: 'true', DETECTIONS_INTERVAL_SECONDS: '300' };
      const schedule = new DetectionSchedule(state.storage.sql, downEnv, async (event) => {
        recorded.push(event);
      }, () => []);
      const now = Date.now();
      // Never ran: due at once. The run itself fails (the reader cannot connect).
      expect(schedule.nextRunAt(now)).toBe(now);
      await expect(schedule.run(now)).rejects.toThrow();
      // The alarm's call swallows it and sets the next attempt a minute on, not an interval (and not at once: no tight loop).
      expect(await schedule.runIfDue(now)).toBeNull();
      expect(schedule.nextRunAt(now)).toBe(now + 60_000);
      expect(await schedule.runIfDue(now + 30_000)).toBeNull();
      expect(recorded).toEqual([]);
      expect(state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM detections_runs').one().n).toBe(0);
      expect(state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM detections_fired').one().n).toBe(0);
    });
  });
});
