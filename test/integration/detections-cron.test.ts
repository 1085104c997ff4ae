// Issue 16: the Worker's cron with detections off (this project's setting): a tick reaches the store, arms no alarm and
// runs nothing (test/anomaly/detections-cron.test.ts is the same with detections on).
import { createScheduledController, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import type { Env } from '../../src/env.ts';

/** One cron tick through the Worker's own `scheduled` handler. */
async function tick(): Promise<void> {
  await worker.scheduled(createScheduledController({ cron: '*/5 * * * *', scheduledTime: Date.now() }), env as unknown as Env);
}

describe('the cron and the detection schedule (detections off)', () => {
  it('a tick leaves the store with no alarm and no run', async () => {
    await tick();
    const stub = env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default'));
    const state = await runInDurableObject(stub, async (_instance, s) => ({
      alarm: await s.storage.getAlarm(),
      runs: s.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM detections_runs').one().n,
    }));
    expect(state.alarm).toBeNull();
    expect(state.runs).toBe(0);
  });
});
