// OCSF export: class and activity per event type, every required attribute, the delegation chain, and event ids.
import { describe, expect, it } from 'vitest';
import { AUDIT_TYPES, AuditEventSchema, eventId, type AuditEvent, type AuditType } from '../../../src/audit/event.ts';
import { missingOcsfFields, OCSF_MAPPING, OCSF_REQUIRED, toOcsf } from '../../../src/audit/ocsf.ts';
import { DEFAULT_POLICY, sanitizeParams } from '../../../src/audit/redact.ts';

const PRODUCT = { name: 'own-mcp-server', version: '0.1.0' };
const T0 = Date.UTC(2025, 2, 1, 10, 0, 0, 123);
const random = (seed: number) => Uint8Array.from({ length: 10 }, (_, i) => (i * 31 + seed * 7) & 255);

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
function event(type: AuditType, extra: Partial<AuditEvent> = {}, seed = 1): AuditEvent {
  const agentic = type.startsWith('key.');
  return AuditEventSchema.parse({
    v: 1,
    id: eventId(T0 + seed, random(seed)),
    time: new Date(T0 + seed).toISOString(),
    type,
    outcome: 'success',
    actor: agentic ? AGENT : USER,
    session_id: 's_Zp0q',
    request_id: '8f1c2d3e4a5b6c7d-FRA',
    client_ip: '203.0.113.9',
    user_agent: 'claude-desktop/0.9',
    ...(type === 'tool.call'
      ? {
          tool: 'sql_select',
          params: sanitizeParams({ sql: 'SELECT id FROM customers LIMIT 5', password: 'hunter2' }, DEFAULT_POLICY),
          result: { rows: 5, bytes: 312 },
          latency_ms: 41.6,
        }
      : {}),
    ...extra,
  });
}

describe('toOcsf: class and activity', () => {
  it.each([
    ['tool.call', 6003, 2],
    ['admin.action', 6003, 99],
    ['key.created', 6003, 1],
    ['key.rotated', 6003, 3],
    ['key.revoked', 6003, 4],
    ['key.rate_limited', 6003, 99],
    ['auth.sign_in', 3002, 1],
    ['auth.token_issued', 3002, 1],
    ['auth.refresh', 3002, 1],
    ['auth.revoke', 3002, 2],
    ['auth.consent', 3002, 99],
    ['auth.code_issued', 3002, 99],
    ['auth.refresh_reuse', 3002, 99],
    ['auth.code_replay', 3002, 99],
    ['auth.token_rejected', 3002, 99],
    ['client.registered', 3002, 99],
  ] as const)('%s → class %i, activity %i', (type, classUid, activityId) => {
    const record = toOcsf(event(type), PRODUCT);
    expect(record['class_uid']).toBe(classUid);
    expect(record['category_uid']).toBe(classUid === 6003 ? 6 : 3);
    expect(record['activity_id']).toBe(activityId);
    expect(record['type_uid']).toBe(classUid * 100 + activityId);
  });

  it('maps every audit type (the table is exhaustive)', () => {
    expect(Object.keys(OCSF_MAPPING).sort()).toEqual([...AUDIT_TYPES].sort());
  });

  it('type_uid is class_uid * 100 + activity_id', () => {
    expect(toOcsf(event('tool.call'), PRODUCT)['type_uid']).toBe(600302);
    expect(toOcsf(event('key.revoked'), PRODUCT)['type_uid']).toBe(600304);
    expect(toOcsf(event('auth.sign_in'), PRODUCT)['type_uid']).toBe(300201);
    expect(toOcsf(event('auth.revoke'), PRODUCT)['type_uid']).toBe(300202);
    expect(toOcsf(event('auth.code_replay'), PRODUCT)['type_uid']).toBe(300299);
  });

  it('names an Other activity after the event type', () => {
    const record = toOcsf(event('auth.refresh_reuse'), PRODUCT);
    expect(record['activity_name']).toBe('auth.refresh_reuse');
    expect(record['type_name']).toBe('Authentication: Other');
  });
});

describe('toOcsf: required attributes', () => {
  it.each(AUDIT_TYPES)('%s has every required attribute', (type) => {
    const record = toOcsf(event(type), PRODUCT);
    expect(missingOcsfFields(record)).toEqual([]);
  });

  it.each(AUDIT_TYPES)('%s has every required attribute with a bare chain (no ip, user agent, request or user)', (type) => {
    const record = toOcsf(AuditEventSchema.parse({ v: 1, id: eventId(T0, random(9)), time: new Date(T0).toISOString(), type, outcome: 'failure', actor: {} }), PRODUCT);
    expect(missingOcsfFields(record)).toEqual([]);
  });

  it('missingOcsfFields finds what is absent, alternatives included', () => {
    const record = toOcsf(event('tool.call'), PRODUCT);
    const { actor: _actor, time: _time, ...rest } = record;
    expect(missingOcsfFields({ ...rest, api: { request: {} } })).toEqual([
      'time',
      'actor',
      'actor.user|actor.app_name|actor.app_uid|actor.session|actor.process|actor.invoked_by',
      'api.operation',
      'api.request.uid',
    ]);
    expect(missingOcsfFields({ class_uid: 4001 })).toEqual(['class_uid']);
    expect(OCSF_REQUIRED[3002]).toContain('user');
  });

  it('fills the base attributes', () => {
    const e = event('tool.call');
    const record = toOcsf(e, PRODUCT);
    expect(record).toMatchObject({
      time: T0 + 1,
      severity_id: 1,
      status_id: 1,
      status: 'Success',
      duration: 42,
      metadata: { version: '1.3.0', uid: e.id, event_code: 'tool.call', product: { name: 'own-mcp-server', vendor_name: 'own-mcp-server', version: '0.1.0' } },
    });
  });
});

describe('toOcsf: API Activity (6003)', () => {
  it('puts the tool call, request, endpoint and user agent where OCSF has them', () => {
    const record = toOcsf(event('tool.call'), PRODUCT);
    expect(record).toMatchObject({
      api: { operation: 'sql_select', request: { uid: '8f1c2d3e4a5b6c7d-FRA' }, service: { name: 'own-mcp-server' } },
      src_endpoint: { ip: '203.0.113.9' },
      http_request: { user_agent: 'claude-desktop/0.9' },
      resources: [{ type: 'MCP tool', name: 'sql_select' }],
    });
  });

  it('puts the delegation chain in actor', () => {
    expect(toOcsf(event('tool.call'), PRODUCT)['actor']).toEqual({
      user: { uid: 'u_3f9a1c', email_addr: 'ann@example.com', uid_alt: 'auth0|5f7c', credential_uid: 'jti_01JQ3ZK7Y8N4X2M6', type_id: 1, type: 'User' },
      app_uid: 'c_claude_desktop',
      app_name: 'c_claude_desktop',
      session: { uid: 's_Zp0q', credential_uid: 'jti_01JQ3ZK7Y8N4X2M6' },
      idp: { uid: 'https://idp.example.com', name: 'https://idp.example.com' },
    });
  });

  it('an agent acts for its owner, with its key as the credential', () => {
    const record = toOcsf(event('key.rotated'), PRODUCT);
    expect(record['actor']).toMatchObject({ user: { uid: 'u_3f9a1c', credential_uid: 'k_4Rt8' }, app_uid: 'ag_nightly', app_name: 'nightly-report' });
    expect(record['resources']).toEqual([{ type: 'API key', uid: 'k_4Rt8' }]);
    expect(record['api']).toMatchObject({ operation: 'key.rotated' });
  });

  it('keeps the ids OCSF has no attribute for, the params and the result in unmapped', () => {
    expect(toOcsf(event('tool.call'), PRODUCT)['unmapped']).toMatchObject({
      grant_id: 'g_7Hq2kP9xLm3N',
      token_id: 'jti_01JQ3ZK7Y8N4X2M6',
      session_id: 's_Zp0q',
      client_id: 'c_claude_desktop',
      outcome: 'success',
      params: { sql: 'SELECT id FROM customers LIMIT 5', password: '[REDACTED]' },
      result: { rows: 5, bytes: 312 },
    });
    expect(toOcsf(event('key.created'), PRODUCT)['unmapped']).toMatchObject({ key_id: 'k_4Rt8', agent_id: 'ag_nightly', owner: 'u_3f9a1c' });
  });

  it('a denial is a failure with the denial in status_detail and the error in api.response', () => {
    const record = toOcsf(event('tool.call', { outcome: 'denied', error_code: 'insufficient_scope', reason: 'scope sql:read missing' }), PRODUCT);
    expect(record).toMatchObject({
      status_id: 2,
      status: 'Failure',
      status_code: 'insufficient_scope',
      status_detail: 'Denied: scope sql:read missing',
      severity_id: 3,
      api: { response: { error: 'insufficient_scope', error_message: 'scope sql:read missing' } },
    });
  });

  it('a failure is status 2 with severity Low', () => {
    const record = toOcsf(event('tool.call', { outcome: 'failure', error_code: 'sql_timeout' }), PRODUCT);
    expect(record).toMatchObject({ status_id: 2, severity_id: 2, status_code: 'sql_timeout' });
    expect(record['status_detail']).toBeUndefined();
  });
});

describe('toOcsf: Authentication (3002)', () => {
  it('fills user, protocol, service and endpoint', () => {
    const record = toOcsf(event('auth.sign_in'), PRODUCT);
    expect(record).toMatchObject({
      user: { uid: 'u_3f9a1c', email_addr: 'ann@example.com' },
      auth_protocol_id: 6,
      auth_protocol: 'OAUTH 2.0',
      service: { name: 'own-mcp-server', version: '0.1.0' },
      src_endpoint: { ip: '203.0.113.9' },
      actor: { app_uid: 'c_claude_desktop', idp: { uid: 'https://idp.example.com' } },
      unmapped: { grant_id: 'g_7Hq2kP9xLm3N' },
    });
    expect(record['api']).toBeUndefined();
  });

  it('a registration without a user names the client, and one with nothing names nobody', () => {
    const registered = toOcsf(event('client.registered', { actor: { client_id: 'c_new' } }), PRODUCT);
    expect(registered['user']).toEqual({ uid: 'c_new', name: 'c_new', type_id: 99, type: 'Other' });
    const rejected = toOcsf(event('auth.token_rejected', { outcome: 'denied', actor: {}, client_ip: undefined, session_id: undefined }), PRODUCT);
    expect(rejected['user']).toEqual({ name: 'unknown', type_id: 0, type: 'Unknown' });
    expect(rejected['actor']).toEqual({ app_name: 'unknown' });
    expect(rejected['src_endpoint']).toEqual({ name: 'unknown' });
  });

  it('refresh-token reuse and code replay are High severity', () => {
    expect(toOcsf(event('auth.refresh_reuse', { outcome: 'denied' }), PRODUCT)['severity_id']).toBe(4);
    expect(toOcsf(event('auth.code_replay', { outcome: 'denied' }), PRODUCT)['severity_id']).toBe(4);
  });
});

describe('toOcsf: secrets', () => {
  it('no secret from the params reaches the record', () => {
    const text = JSON.stringify(toOcsf(event('tool.call'), PRODUCT));
    expect(text).not.toContain('hunter2');
    expect(text).toContain('[REDACTED]');
  });
});

describe('eventId (src/audit/event.ts)', () => {
  it('is 26 Crockford base32 characters', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(eventId(T0 + seed * 1000, random(seed))).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    }
    expect(eventId(0, new Uint8Array(10))).toBe('0'.repeat(26));
    expect(eventId(2 ** 48 - 1, new Uint8Array(10).fill(255))).toBe('7ZZZZZZZZZZZZZZZZZZZZZZZZZ');
  });

  it('sorts by time, whatever the random part', () => {
    const ids = [5, 1, 4, 2, 3].map((n) => eventId(T0 + n, random(10 - n)));
    const byTime = [1, 2, 3, 4, 5].map((n) => eventId(T0 + n, random(10 - n)));
    expect([...ids].sort()).toEqual(byTime);
    expect(eventId(T0, new Uint8Array(10).fill(255)) < eventId(T0 + 1, new Uint8Array(10))).toBe(true);
  });

  it('differs when only the random part differs', () => {
    expect(eventId(T0, random(1))).not.toBe(eventId(T0, random(2)));
    expect(eventId(T0, random(1)).slice(0, 10)).toBe(eventId(T0, random(2)).slice(0, 10));
  });

  it('refuses a random part that is not 10 bytes', () => {
    expect(() => eventId(T0, new Uint8Array(9))).toThrow('eventId needs 10 random bytes');
  });
});
