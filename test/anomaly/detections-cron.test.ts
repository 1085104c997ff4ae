// Issue 16: the Worker's cron keeps the in-server detections' schedule armed. This project runs with detections on
// (test/integration/detections-cron.test.ts is the same with them off). A fresh store that nothing was recorded through
// has no alarm and has never run; after one cron tick it runs the rules on its own alarm.
import { createScheduledController, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/index.ts';
import type { Env } from '../../src/env.ts';

/** One cron tick through the Worker's own `scheduled` handler. */
async function tick(): Promise<void> {
  await worker.scheduled(createScheduledController({ cron: '*/5 * * * *', scheduledTime: Date.now() }), env as unknown as Env);
}

const store = () => env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default'));

function lastRun(): Promise<number | null> {
  return runInDurableObject(store(), (_instance, state) => state.storage.sql.exec<{ last_run_at: number }>('SELECT last_run_at FROM detections_runs WHERE id = 1').toArray()[0]?.last_run_at ?? null);
}

describe('the cron and the detection schedule (detections on)', () => {
  it('a store with nothing recorded has no alarm and no run; one cron tick arms it and the rules run on the alarm', async () => {
    const before = await runInDurableObject(store(), (_instance, state) => state.storage.getAlarm());
    expect(before).toBeNull();
    expect(await lastRun()).toBeNull();

    const started = Date.now();
    await tick();

    // The run is due at once (never ran): wait for the alarm to record it, up to a deadline.
    let ran: number | null = null;
    for (const deadline = Date.now() + 15_000; ran === null && Date.now() < deadline; ) {
      ran = await lastRun();
      if (ran === null) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ran).not.toBeNull();
    expect(ran ?? 0).toBeGreaterThanOrEqual(started);
  });
});
