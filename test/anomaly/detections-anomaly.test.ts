// Issue 16: the anomaly-cluster detection played against the server on this project's learning settings: three
// principals (three owners' keys) each learn a habit and then call list_tables for the first time, so three
// anomaly.detected for three users on one tool within minutes; the look-alike is three anomalies on another tool from
// only two principals. The trail is exported as ECS through the admin API and the Sigma rule evaluated on it.
import { describe, expect, it } from 'vitest';
import { AuditEventSchema } from '../../src/audit/event.ts';
import { compileRules, evaluate } from '../../src/security/detections/evaluate.ts';
import { RULES } from '../../src/security/detections/rules.generated.ts';
import type { Doc } from '../../src/security/detections/types.ts';
import { settleDeliveries } from '../support/settle.ts';
import { admin, auditOf, learn, okCall, openWith } from './support.ts';

const started = new Date(Date.now() - 1000).toISOString();
const TITLE = 'MCP behavioural anomalies on one tool across several principals';
const ruleId = RULES.find((r) => r.title === TITLE)?.id ?? '';

/** A key of its own owner (the principal the ECS export names as user.id). */
async function keyOf(owner: string, agentName: string): Promise<{ key: string; keyId: string }> {
  const response = await admin('/admin/keys', { body: { agent_name: agentName, owner, scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1000, per_seconds: 3600 } } });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { key: string; key_id: string };
  return { key: body.key, keyId: body.key_id };
}

/** A principal that learns a habit of customer look-ups and then calls `tool` for the first time. */
async function habitThenFirstUse(owner: string, agentName: string, tool: string, args: Record<string, unknown>): Promise<string> {
  const { key, keyId } = await keyOf(owner, agentName);
  const { headers } = await openWith(key);
  await learn(headers, 6);
  await okCall(headers, tool, args);
  return keyId;
}

async function exportEcs(): Promise<Doc[]> {
  await settleDeliveries();
  const response = await admin(`/admin/audit/events?format=ecs&since=${started}&limit=10000`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return text === '' ? [] : text.trim().split('\n').map((line) => JSON.parse(line) as Doc);
}

describe('anomalies clustering across principals, the rule on the ECS export', () => {
  it('three principals with a first use of list_tables fire once for that tool; three anomalies from two principals on another tool do not', async () => {
    const clustered: string[] = [];
    for (const owner of ['det-owner-a', 'det-owner-b', 'det-owner-c']) clustered.push(await habitThenFirstUse(owner, `Cluster ${owner}`, 'list_tables', {}));
    const spread: string[] = [];
    for (const [owner, name] of [['det-owner-d', 'Lookalike 1'], ['det-owner-e', 'Lookalike 2'], ['det-owner-d', 'Lookalike 3']] as const) spread.push(await habitThenFirstUse(owner, name, 'list_open_tickets', { customer_id: 1, limit: 5 }));
    // Each principal's unusual call was recorded as an anomaly (so the look-alike is a real near miss, not silence).
    const detected = await auditOf((e) => e.type === 'anomaly.detected' && [...clustered, ...spread].includes(e.actor.key_id ?? ''));
    expect(detected.filter((e) => e.tool === 'list_tables').map((e) => e.actor.key_id).sort()).toEqual([...clustered].sort());
    expect(detected.filter((e) => e.tool === 'list_open_tickets').map((e) => e.actor.key_id).sort()).toEqual([...spread].sort());

    const docs = await exportEcs();
    const hits = evaluate(compileRules(RULES), docs).filter((h) => h.ruleId === ruleId);
    expect(hits.filter((h) => h.group['mcp.tool'] === 'list_tables')).toEqual([expect.objectContaining({ count: 3, level: 'high' })]);
    expect(hits.filter((h) => h.group['mcp.tool'] === 'list_open_tickets')).toEqual([]);

    // The server's own run (POST /admin/detections/run, the AuditStore's scheduled run) records it once as
    // detection.fired (or had already, if an alarm ran it), and never twice; the look-alike's tool never.
    await settleDeliveries();
    for (let i = 0; i < 2; i++) {
      const run = await admin('/admin/detections/run', { method: 'POST' });
      expect(run.status).toBe(200);
      expect(((await run.json()) as { events: number }).events).toBeGreaterThan(0);
    }
    const response = await admin(`/admin/audit/events?type=detection.fired&since=${started}`);
    const fired = (await response.text()).trim().split('\n').filter((l) => l !== '').map((l) => AuditEventSchema.parse(JSON.parse(l)));
    const mine = fired.filter((e) => e.params?.['rule_id'] === ruleId);
    expect(mine.map((e) => (e.params?.['group'] as Record<string, string>)['mcp.tool'])).toEqual(['list_tables']);
    expect(mine[0]).toMatchObject({ outcome: 'success', params: { rule_title: TITLE } });
  });
});
