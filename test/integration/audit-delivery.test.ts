// Issue 12: audit delivery measured. A session's outbox reports each batch it delivered to the AuditStore's delivery record; GET /admin/audit/delivery shows events per minute and their lag (the failing side is played end to end in test/e2e/console-more.test.ts, with the webhook down).
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import type { McpSession } from '../../durable/session.ts';
import type { DeliveryView } from '../../src/audit/delivery-stats.ts';
import { call, callTool, openSession } from '../support/mcp-http.ts';
import { settleDeliveries } from '../support/settle.ts';

const ADMIN = { authorization: `Bearer ${env.ADMIN_SECRET}` };

async function delivery(query = ''): Promise<DeliveryView> {
  const response = await call(`/admin/audit/delivery${query}`, { headers: ADMIN });
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as DeliveryView;
}

afterAll(async () => {
  await settleDeliveries();
});

describe('GET /admin/audit/delivery', () => {
  it('counts the events a session outbox delivered, with their lag, in the current minute; nothing failing', async () => {
    const { sessionId, headers } = await openSession();
    for (let id = 1; id <= 3; id++) await callTool(headers, 'get_customer', { customer_id: id }, id);
    const stub = env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId));
    const waiting = await runInDurableObject(stub, (instance: McpSession) => instance.auditPending());
    expect(waiting).toBeGreaterThanOrEqual(3);
    const before = await delivery('?minutes=5');
    await runDurableObjectAlarm(stub);
    expect(await runInDurableObject(stub, (instance: McpSession) => instance.auditPending())).toBe(0);
    const after = await delivery('?minutes=5');
    expect(after.window_minutes).toBe(5);
    expect(after.per_minute).toHaveLength(5);
    expect(after.delivered - before.delivered).toBeGreaterThanOrEqual(waiting);
    expect(after.lag_max_ms).toEqual(expect.any(Number));
    expect(after.lag_p50_ms).toEqual(expect.any(Number));
    expect(after.lag_p50_ms ?? 0).toBeLessThanOrEqual(after.lag_max_ms ?? 0);
    expect(after).toMatchObject({ failing_outboxes: 0, pending: 0, last_error: null });
  });

  it('refuses a window outside 1–60 minutes (400) and anyone without the credential (401)', async () => {
    const bad = await call('/admin/audit/delivery?minutes=61', { headers: ADMIN });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_request', error_description: 'minutes: a whole number from 1 to 60' });
    expect((await call('/admin/audit/delivery')).status).toBe(401);
  });
});
