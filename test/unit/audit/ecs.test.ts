// ECS export: categories and types per event type, the outcome mapping, the delegation chain in user, related and labels.
import { describe, expect, it } from 'vitest';
import { AUDIT_TYPES, AuditEventSchema, eventId, type AuditEvent, type AuditType } from '../../../src/audit/event.ts';
import { ECS_MAPPING, ecsOutcome, toEcs } from '../../../src/audit/ecs.ts';
import { DEFAULT_POLICY, sanitizeParams } from '../../../src/audit/redact.ts';

const T0 = Date.UTC(2025, 2, 1, 10, 0, 0, 123);

const USER = {
  user_id: 'u_3f9a1c',
  upstream_issuer: 'https://idp.example.com',
  upstream_subject: 'auth0|5f7c',
  email: 'ann@example.com',
  client_id: 'c_claude_desktop',
  token_id: 'jti_01JQ3ZK7Y8N4X2M6',
  grant_id: 'g_7Hq2kP9xLm3N',
};
const AGENT = { agent_id: 'ag_nightly', agent_name: 'nightly-report', key_id: 'k_4Rt8', owner: 'u_3f9a1c', user_id: 'u_3f9a1c' };

/** A realistic event of `type`, parsed by the schema so fixtures cannot drift from it. */
function event(type: AuditType, extra: Partial<AuditEvent> = {}): AuditEvent {
  return AuditEventSchema.parse({
    v: 1,
    id: eventId(T0, new Uint8Array(10).fill(7)),
    time: new Date(T0).toISOString(),
    type,
    outcome: 'success',
    actor: type.startsWith('key.') ? AGENT : USER,
    session_id: 's_Zp0q',
    request_id: '8f1c2d3e4a5b6c7d-FRA',
    client_ip: '203.0.113.9',
    user_agent: 'claude-desktop/0.9',
    ...extra,
  });
}

/** ECS 8.11 `event.type` values allowed with each `event.category` used here. */
const EXPECTED_TYPES: Record<string, string[]> = {
  api: ['access', 'admin', 'allowed', 'change', 'creation', 'deletion', 'denied', 'end', 'info', 'start', 'user'],
  authentication: ['start', 'end', 'info'],
  iam: ['admin', 'change', 'creation', 'deletion', 'group', 'info', 'user'],
};

describe('toEcs: event', () => {
  it.each([
    ['success', 'success'],
    ['failure', 'failure'],
    ['denied', 'failure'],
  ] as const)('outcome %s → event.outcome %s', (outcome, ecs) => {
    expect(ecsOutcome(outcome)).toBe(ecs);
    const doc = toEcs(event('tool.call', { outcome }));
    expect(doc['event']).toMatchObject({ outcome: ecs });
    expect(doc['mcp']).toMatchObject({ outcome });
  });

  it.each(AUDIT_TYPES)('%s has a category and types ECS 8.11 allows together', (type) => {
    for (const outcome of ['success', 'failure', 'denied'] as const) {
      const ev = toEcs(event(type, { outcome }))['event'] as { category: string[]; type: string[]; kind: string; action: string };
      expect(ev.kind).toBe('event');
      expect(ev.action).toBe(type);
      expect(ev.category).toHaveLength(1);
      const category = ev.category[0] ?? '';
      expect(Object.keys(EXPECTED_TYPES)).toContain(category);
      for (const t of ev.type) expect(EXPECTED_TYPES[category]).toContain(t);
    }
  });

  it('maps every audit type (the table is exhaustive)', () => {
    expect(Object.keys(ECS_MAPPING).sort()).toEqual([...AUDIT_TYPES].sort());
  });

  it.each([
    ['auth.sign_in', 'success', ['authentication'], ['start']],
    ['auth.revoke', 'success', ['authentication'], ['end']],
    ['auth.token_rejected', 'denied', ['authentication'], ['info']],
    ['tool.call', 'success', ['api'], ['access', 'allowed']],
    ['tool.call', 'denied', ['api'], ['access', 'denied']],
    ['tool.call', 'failure', ['api'], ['access']],
    ['admin.action', 'success', ['api'], ['admin', 'allowed']],
    ['key.created', 'success', ['iam'], ['creation']],
    ['key.rotated', 'success', ['iam'], ['change']],
    ['key.revoked', 'success', ['iam'], ['deletion']],
    ['key.rate_limited', 'denied', ['api'], ['denied']],
    ['client.registered', 'success', ['iam'], ['creation']],
  ] as const)('%s (%s) → category %j, type %j', (type, outcome, category, types) => {
    expect(toEcs(event(type, { outcome }))['event']).toMatchObject({ category, type: types });
  });

  it('fills the base fields of a tool call', () => {
    const e = event('tool.call', {
      tool: 'sql_select',
      params: sanitizeParams({ sql: 'SELECT id FROM customers LIMIT 5', password: 'hunter2' }, DEFAULT_POLICY),
      result: { rows: 5, bytes: 312 },
      latency_ms: 41.6,
    });
    expect(toEcs(e)).toEqual({
      '@timestamp': '2025-03-01T10:00:00.123Z',
      ecs: { version: '8.11.0' },
      event: {
        id: e.id,
        kind: 'event',
        category: ['api'],
        type: ['access', 'allowed'],
        action: 'tool.call',
        outcome: 'success',
        duration: 41_600_000,
        dataset: 'mcp.audit',
      },
      user: { id: 'u_3f9a1c', email: 'ann@example.com' },
      client: { ip: '203.0.113.9' },
      source: { ip: '203.0.113.9' },
      user_agent: { original: 'claude-desktop/0.9' },
      http: { request: { id: '8f1c2d3e4a5b6c7d-FRA' } },
      related: { user: ['u_3f9a1c', 'ann@example.com', 'auth0|5f7c'], ip: ['203.0.113.9'] },
      labels: { grant_id: 'g_7Hq2kP9xLm3N', session_id: 's_Zp0q', token_id: 'jti_01JQ3ZK7Y8N4X2M6', client_id: 'c_claude_desktop' },
      mcp: {
        schema_version: 1,
        outcome: 'success',
        tool: 'sql_select',
        params: { sql: 'SELECT id FROM customers LIMIT 5', password: '[REDACTED]' },
        result: { rows: 5, bytes: 312 },
        upstream: { issuer: 'https://idp.example.com', subject: 'auth0|5f7c' },
      },
    });
  });

  it('puts the error code and reason of a denial where ECS has them', () => {
    const doc = toEcs(event('tool.call', { outcome: 'denied', error_code: 'insufficient_scope', reason: 'scope sql:read missing' }));
    expect(doc['error']).toEqual({ code: 'insufficient_scope' });
    expect(doc['event']).toMatchObject({ outcome: 'failure', reason: 'scope sql:read missing' });
  });
});

describe('toEcs: delegation chain', () => {
  it('an agent is its key and agent id in labels, accountable to its owner', () => {
    const doc = toEcs(event('key.rotated'));
    expect(doc['user']).toEqual({ id: 'u_3f9a1c' });
    expect(doc['labels']).toEqual({ key_id: 'k_4Rt8', session_id: 's_Zp0q', agent_id: 'ag_nightly' });
    expect(doc['related']).toMatchObject({ user: ['u_3f9a1c'] });
    expect(doc['mcp']).toMatchObject({ agent_name: 'nightly-report', owner: 'u_3f9a1c' });
  });

  it('an event with a bare chain leaves out what it does not know', () => {
    const doc = toEcs(AuditEventSchema.parse({ v: 1, id: eventId(T0, new Uint8Array(10)), time: new Date(T0).toISOString(), type: 'auth.token_rejected', outcome: 'denied', actor: {} }));
    expect(Object.keys(doc).sort()).toEqual(['@timestamp', 'ecs', 'event', 'mcp']);
    expect(doc['event']).not.toHaveProperty('duration');
  });

  it('no secret from the params reaches the document', () => {
    const e = event('tool.call', { tool: 'sql_select', params: sanitizeParams({ headers: { Authorization: 'Bearer hunter2hunter2' } }, DEFAULT_POLICY) });
    expect(JSON.stringify(toEcs(e))).not.toContain('hunter2');
  });
});
