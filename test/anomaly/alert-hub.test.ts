// The alert hub (an agents Agent): repeats grouped, acknowledgement, state pushed to WebSocket clients, and its admin routes.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AlertInput, AlertView } from '../../src/contracts/alert-hub.ts';
import { admin, auditOf, hubClient } from './support.ts';

const hub = () => env.ALERT_HUB.get(env.ALERT_HUB.idFromName('default'));

function alert(group: string, overrides: Partial<AlertInput> = {}): AlertInput {
  return { source: 'anomaly', rule: 'baseline', severity: 'medium', title: `test ${group}`, group, actor: { agent_id: 'a1', key_id: 'k1' }, reasons: ['first use of list_tables by this principal'], score: 0.9, tool: 'list_tables', time: new Date().toISOString(), ...overrides };
}

describe('alert hub', () => {
  it('folds repeats of an open alert into one with a count, keeping the highest severity', async () => {
    const group = `g-${crypto.randomUUID()}`;
    const first = await hub().publish(alert(group));
    const second = await hub().publish(alert(group, { severity: 'high', reasons: ['again'] }));
    expect(second.id).toBe(first.id);
    expect(second.count).toBe(2);
    expect(second.severity).toBe('high');
    expect(second.reasons).toEqual(['again']);
    const other = await hub().publish(alert(`${group}-other`));
    expect(other.id).not.toBe(first.id);
    expect(other.count).toBe(1);
  });

  it('acknowledges an alert once; a repeat after acknowledgement opens a new alert', async () => {
    const group = `g-${crypto.randomUUID()}`;
    const opened = await hub().publish(alert(group));
    const acked = await hub().acknowledge(opened.id, 'ops', Date.parse('2026-12-01T10:00:00Z'));
    expect(acked?.acknowledged).toEqual({ by: 'ops', at: '2026-12-01T10:00:00.000Z' });
    const again = await hub().acknowledge(opened.id, 'someone-else', Date.now());
    expect(again?.acknowledged?.by).toBe('ops');
    const repeat = await hub().publish(alert(group));
    expect(repeat.id).not.toBe(opened.id);
    expect(repeat.count).toBe(1);
    expect(await hub().acknowledge('0'.repeat(26), 'ops', Date.now())).toBeNull();
    const open = await hub().list({ open: true, limit: 1000 });
    expect(open.some((a) => a.id === opened.id)).toBe(false);
    expect(open.some((a) => a.id === repeat.id)).toBe(true);
  });

  it('pushes each new alert and each acknowledgement to a connected WebSocket client (cf_agent_state)', async () => {
    const client = await hubClient();
    const group = `ws-${crypto.randomUUID()}`;
    const published = await hub().publish(alert(group));
    const pushed = await client.next((s) => s.alerts.some((a) => a.id === published.id));
    expect(pushed.alerts[0]?.id).toBe(published.id);
    expect(pushed.open).toBeGreaterThan(0);
    const ack = await admin(`/admin/alerts/${published.id}/ack`, { method: 'POST' });
    expect(ack.status).toBe(200);
    const acked = await client.next((s) => s.alerts.some((a) => a.id === published.id && a.acknowledged !== null));
    expect(acked.open).toBe(pushed.open - 1);
    client.close();
  });

  it('a client cannot change the hub state over its WebSocket', async () => {
    const client = await hubClient();
    await client.next(() => true);
    const before = await hub().list({ limit: 1000 });
    // The connection is read-only; the server answers with an error and keeps its state.
    const response = await admin('/admin/alerts/live', { headers: { upgrade: 'websocket' } });
    const ws = response.webSocket;
    if (!ws) throw new Error('no WebSocket');
    ws.accept();
    const errors: string[] = [];
    const gotError = new Promise<void>((resolve) => ws.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as { type?: string };
      if (m.type === 'cf_agent_state_error') {
        errors.push(String(e.data));
        resolve();
      }
    }));
    ws.send(JSON.stringify({ type: 'cf_agent_state', state: { alerts: [], open: 0, updated_at: 'x' } }));
    await gotError;
    expect(errors.length).toBe(1);
    expect(await hub().list({ limit: 1000 })).toEqual(before);
    ws.close(1000, 'done');
    client.close();
  });

  it('GET /admin/alerts lists with limit, before and open, and is audited as admin.read', async () => {
    const group = `list-${crypto.randomUUID()}`;
    const a = await hub().publish(alert(`${group}-a`));
    const b = await hub().publish(alert(`${group}-b`));
    const response = await admin('/admin/alerts?limit=1');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const page = (await response.json()) as { alerts: AlertView[]; next_before: string | null };
    expect(page.alerts.map((x) => x.id)).toEqual([b.id]);
    expect(page.next_before).toBe(b.id);
    const next = (await (await admin(`/admin/alerts?limit=1&before=${b.id}`)).json()) as { alerts: AlertView[] };
    expect(next.alerts.map((x) => x.id)).toEqual([a.id]);
    const bad = await admin('/admin/alerts?limit=0');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_request');
    const reads = await auditOf((e) => e.type === 'admin.read' && (e.params as { route?: string } | undefined)?.route === '/admin/alerts');
    expect(reads.length).toBeGreaterThanOrEqual(2);
  });

  it('POST /admin/alerts/:id/ack: 404 for an unknown alert, 401 without the credential (nothing acknowledged)', async () => {
    const opened = await hub().publish(alert(`ack-${crypto.randomUUID()}`));
    const unknown = await admin(`/admin/alerts/${'0'.repeat(26)}/ack`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    const anonymous = await admin(`/admin/alerts/${opened.id}/ack`, { method: 'POST', headers: { authorization: 'Bearer wrong' } });
    expect(anonymous.status).toBe(401);
    const still = (await hub().list({ limit: 1000 })).find((x) => x.id === opened.id);
    expect(still?.acknowledged).toBeNull();
    const ok = await admin(`/admin/alerts/${opened.id}/ack`, { method: 'POST' });
    expect(ok.status).toBe(200);
    const actions = await auditOf((e) => e.type === 'admin.action' && (e.params as { alert_id?: string } | undefined)?.alert_id === opened.id);
    expect(actions.map((e) => e.outcome)).toEqual(['success']);
  });
});
