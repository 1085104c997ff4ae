// Issue 14: a request that reaches no session (a stateless 2026-07-28 call) is audited in its principal's own AuditRelay, durably before the answer, not through the one AuditStore.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AuditRelay } from '../../durable/audit-relay.ts';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import { call, FETCHERS, messages, ORIGIN, statelessToolCall, subjectOf } from '../support/mcp-http.ts';
import { signIn } from '../support/oauth-flow.ts';

const admin = { authorization: `Bearer ${env.ADMIN_SECRET}` };
const relay = (principalId: string) => env.AUDIT_RELAY.get(env.AUDIT_RELAY.idFromName(principalId));
const pending = (principalId: string) => runInDurableObject(relay(principalId), (i: AuditRelay) => i.pending());

const statelessCall = (credential: string, id: number) => statelessToolCall(credential, 'get_customer', { customer_id: 13 }, id, 'vitest-relay');

async function toolEvents(filter: (e: AuditEvent) => boolean): Promise<AuditEvent[]> {
  const response = await call('/admin/audit/events?type=tool.call&limit=10000', { headers: admin });
  expect(response.status).toBe(200);
  const text = await response.text();
  return (text === '' ? [] : text.trim().split('\n').map((line) => AuditEventSchema.parse(JSON.parse(line)))).filter(filter);
}

describe('audit relay (durable/audit-relay.ts)', () => {
  it("a person's stateless calls are stored in that person's relay before each answer, reach the store only by its alarm, once each", async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'relay-person' });
    const other = await signIn(ORIGIN, FETCHERS, { login: 'relay-other' });
    const me = subjectOf(user.accessToken);
    const gid = user.refreshToken.split('.')[0] as string;
    for (const id of [1, 2]) {
      const response = await statelessCall(user.accessToken, id);
      expect(response.status).toBe(200);
      expect((await messages(response))[0]).toMatchObject({ id, result: { structuredContent: { id: 13 } } });
    }
    expect(await pending(me)).toBe(2);
    expect(await pending(subjectOf(other.accessToken))).toBe(0);
    expect(await toolEvents((e) => e.actor.grant_id === gid)).toEqual([]);

    expect(await runDurableObjectAlarm(relay(me))).toBe(true);
    expect(await pending(me)).toBe(0);
    const events = await toolEvents((e) => e.actor.grant_id === gid);
    expect(events.map((e) => [e.outcome, e.tool, e.session_id, e.actor.user_id])).toEqual([
      ['success', 'get_customer', undefined, me],
      ['success', 'get_customer', undefined, me],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
    // Nothing left to deliver: a second alarm run stores nothing twice.
    await runDurableObjectAlarm(relay(me));
    expect(await toolEvents((e) => e.actor.grant_id === gid)).toHaveLength(2);
  });

  it("an API key's stateless call is stored in the key's relay (key:<id>), with the agent and its owner", async () => {
    const created = await call('/admin/keys', {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ agent_name: 'Relay agent', owner: 'user-relay', scopes: ['support:read'], rate_limit: { requests: 100, per_seconds: 3600 } }),
    });
    expect(created.status).toBe(201);
    const { key, key_id } = (await created.json()) as { key: string; key_id: string };
    const response = await statelessCall(key, 5);
    expect(response.status).toBe(200);
    await response.text();
    expect(await pending(`key:${key_id}`)).toBe(1);
    await runDurableObjectAlarm(relay(`key:${key_id}`));
    const events = await toolEvents((e) => e.actor.key_id === key_id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'success', tool: 'get_customer', actor: { key_id, agent_name: 'Relay agent', owner: 'user-relay' } });
  });
});
