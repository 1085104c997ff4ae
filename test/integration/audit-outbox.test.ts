// The audit outbox's table and flush in the Workers runtime (issue 14): one B-tree per event written, one flush at a time.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { AuditOutbox } from '../../durable/audit-outbox.ts';
import type { AuditStore } from '../../durable/audit-store.ts';
import { newEvent } from '../../src/audit/emit.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import type { Env } from '../../src/env.ts';

/** A fresh object to host an outbox of the test's own (the AuditStore class, under a name nothing else uses). */
const host = () => env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName(`outbox-test-${crypto.randomUUID()}`));
const workerEnv = env as unknown as Env;
const event = (tool: string): AuditEvent => newEvent({ type: 'tool.call', outcome: 'success', actor: { agent_id: 'outbox-test' }, tool });

describe('audit outbox (durable/audit-outbox.ts)', () => {
  it('stores each event in one table with no index and no AUTOINCREMENT counter', async () => {
    const objects = await runInDurableObject(host(), async (_i: AuditStore, state) => {
      const outbox = new AuditOutbox(state.storage, workerEnv, 100, () => Promise.resolve(), () => Promise.resolve());
      expect(await outbox.record(event('a'))).toBe(true);
      return state.storage.sql.exec<{ type: string; name: string }>("SELECT type, name FROM sqlite_master WHERE tbl_name IN ('audit_outbox', 'sqlite_sequence')").toArray();
    });
    expect(objects).toEqual([{ type: 'table', name: 'audit_outbox' }]);
  });

  it('two flushes at once deliver each event once, and an event recorded while a batch is sent is delivered after it', async () => {
    const result = await runInDurableObject(host(), async (_i: AuditStore, state) => {
      const sent: string[][] = [];
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      const outbox = new AuditOutbox(
        state.storage,
        workerEnv,
        100,
        async (events) => {
          sent.push(events.map((e) => e.tool ?? ''));
          await held;
        },
        () => Promise.resolve(),
      );
      await outbox.record(event('first'));
      await outbox.record(event('second'));
      const a = outbox.flush();
      const b = outbox.flush();
      await outbox.record(event('during'));
      release();
      const [ra, rb] = await Promise.all([a, b]);
      return { sent, ra, rb, pending: outbox.count(), rows: state.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM audit_outbox').one().n };
    });
    expect(result.sent).toEqual([['first', 'second'], ['during']]);
    expect(result.ra).toEqual({ delivered: 3, pending: 0 });
    expect(result.rb).toEqual(result.ra);
    expect(result.pending).toBe(0);
    expect(result.rows).toBe(0);
  });

  it('a batch the sink refused stays, in order, for the next flush', async () => {
    const result = await runInDurableObject(host(), async (_i: AuditStore, state) => {
      let fail = true;
      const sent: string[][] = [];
      const outbox = new AuditOutbox(
        state.storage,
        workerEnv,
        100,
        (events) => {
          if (fail) return Promise.reject(new Error('sink down'));
          sent.push(events.map((e) => e.tool ?? ''));
          return Promise.resolve();
        },
        () => Promise.resolve(),
      );
      for (const tool of ['one', 'two', 'three']) await outbox.record(event(tool));
      const failed = await outbox.flush();
      fail = false;
      const delivered = await outbox.flush();
      return { failed, delivered, sent };
    });
    expect(result.failed).toEqual({ delivered: 0, pending: 3, error: 'sink down' });
    expect(result.delivered).toEqual({ delivered: 3, pending: 0 });
    expect(result.sent).toEqual([['one', 'two', 'three']]);
  });
});
