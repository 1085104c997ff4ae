// The audit redaction policy: each fixed rule on realistic params, configured fields, and that no secret survives.
import { describe, expect, it } from 'vitest';
import { base64url } from '../../../src/auth/encoding.ts';
import { AuditEventSchema } from '../../../src/audit/event.ts';
import {
  containsSecretLike,
  DEFAULT_POLICY,
  policyFrom,
  REDACTED,
  REDACTION_LIMITS,
  sanitizeParams,
  sanitizeReason,
} from '../../../src/audit/redact.ts';

/** Deterministic "random" bytes, so a test never depends on luck. */
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 73 + seed * 151 + 41) & 255);
const b64 = (text: string) => base64url(new TextEncoder().encode(text));

const JWT = `${b64('{"alg":"RS256","kid":"k1","typ":"at+jwt"}')}.${b64('{"sub":"user-1","aud":"https://mcp.example","exp":1893456000}')}.${base64url(bytes(64, 1))}`;
const API_KEY = `mcpk_${base64url(bytes(32, 2))}.${base64url(bytes(32, 3))}`;
const OPAQUE = base64url(bytes(32, 4));
const HEX = [...bytes(32, 5)].map((b) => b.toString(16).padStart(2, '0')).join('');
const PEM = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...bytes(48, 6)))}\n${btoa(String.fromCharCode(...bytes(48, 7)))}\n-----END PRIVATE KEY-----`;

/** Sanitises with the default policy and checks the security property every output must have. */
function clean(params: unknown, policy = DEFAULT_POLICY): Record<string, unknown> | undefined {
  const out = sanitizeParams(params, policy);
  expect(containsSecretLike(out)).toBe(false);
  const text = JSON.stringify(out) ?? '';
  for (const secret of [JWT, API_KEY, OPAQUE, HEX, 'hunter2', 's3cr3t-pa55']) expect(text).not.toContain(secret);
  return out;
}

describe('the test secrets look like credentials', () => {
  it.each([
    ['a JWT', JWT],
    ['an mcpk_ API key', API_KEY],
    ['an opaque base64url token', OPAQUE],
    ['a hex key', HEX],
    ['a PEM block', PEM],
  ])('%s', (_name, secret) => {
    expect(containsSecretLike(secret)).toBe(true);
    expect(containsSecretLike({ deep: [{ x: secret }] })).toBe(true);
    expect(containsSecretLike({ [secret]: 1 })).toBe(true);
  });
});

describe('rule (a): sensitive key names', () => {
  it('redacts the password of a sql_select call and keeps the query and options', () => {
    const out = clean({ sql: 'SELECT id, name FROM customers WHERE country = ? LIMIT 50', params: ['DE'], dialect: 'mysql', password: 'hunter2' });
    expect(out).toEqual({ sql: 'SELECT id, name FROM customers WHERE country = ? LIMIT 50', params: ['DE'], dialect: 'mysql', password: REDACTED });
  });

  it('redacts a nested Authorization header and any value type under a sensitive key', () => {
    const out = clean({
      request: { url: 'https://api.example.com/v1/orders', headers: { Authorization: `Bearer ${JWT}`, Accept: 'application/json' } },
      credentials: { user: 'svc', password: 's3cr3t-pa55' },
      session_id: 42,
      refresh_token: null,
    });
    expect(out).toEqual({
      request: { url: 'https://api.example.com/v1/orders', headers: { Authorization: REDACTED, Accept: 'application/json' } },
      credentials: REDACTED,
      session_id: REDACTED,
      refresh_token: REDACTED,
    });
  });

  it.each([
    'password', 'PASSWORD', 'db_passwd', 'passphrase', 'client_secret', 'access_token', 'apiKey', 'api-key', 'x_api_key',
    'Authorization', 'X-Auth-User', 'Cookie', 'set-cookie', 'aws_credentials', 'private_key', 'code_verifier',
    'client_assertion', 'refresh', 'sessionId', 'Proxy-Authorization',
  ])('%j is sensitive', (key) => {
    expect(clean({ [key]: 'visible?' })).toEqual({ [key]: REDACTED });
  });

  it.each(['customer_id', 'sql', 'limit', 'email', 'country', 'dialect', 'query'])('%j is not sensitive by default', (key) => {
    expect(clean({ [key]: 'kept' })).toEqual({ [key]: 'kept' });
  });

  it('redacts the configured fields by exact name, case-insensitively (AUDIT_SENSITIVE_FIELDS)', () => {
    const policy = policyFrom([' Email ', 'ssn', '']);
    expect(policy.sensitiveFields).toEqual(new Set(['email', 'ssn']));
    const out = clean({ email: 'ann@example.com', EMAIL: 'b@example.com', SSN: '078-05-1120', email_verified: true, filter: { Ssn: '1' } }, policy);
    expect(out).toEqual({ email: REDACTED, EMAIL: REDACTED, SSN: REDACTED, email_verified: true, filter: { Ssn: REDACTED } });
  });

  it('the default policy has no configured fields', () => {
    expect(DEFAULT_POLICY.sensitiveFields.size).toBe(0);
  });
});

describe('rule (b): credential-looking text anywhere', () => {
  it('redacts a JWT inside free text and keeps the words around it', () => {
    expect(clean({ note: `The agent pasted ${JWT} into the ticket.` })).toEqual({ note: `The agent pasted ${REDACTED} into the ticket.` });
  });

  it('redacts an mcpk_ key inside an array', () => {
    expect(clean({ tags: ['support', API_KEY, 'billing'] })).toEqual({ tags: ['support', REDACTED, 'billing'] });
  });

  it('redacts a Bearer credential, a PEM block, an opaque token and a hex key in values', () => {
    const out = clean({ header: `Bearer ${OPAQUE}`, cert: PEM, token_hint: 'x', blob: OPAQUE, digest: HEX });
    expect(out).toEqual({ header: REDACTED, cert: REDACTED, token_hint: REDACTED, blob: REDACTED, digest: REDACTED });
  });

  it('redacts a PEM block cut before its END line', () => {
    expect(clean({ pasted: `key: ${PEM.slice(0, 60)}` })).toEqual({ pasted: `key: ${REDACTED}` });
  });

  it('redacts secrets written inside SQL, JSON text, URLs and header lines', () => {
    const out = clean({
      sql: "SELECT id FROM users WHERE password = 'hunter2' AND api_key='s3cr3t-pa55' LIMIT 5",
      body: '{"user":"ann","password":"hunter2","remember":true}',
      escaped: '{\\"client_secret\\":\\"s3cr3t-pa55\\"}',
      dsn: 'mysql://reader:s3cr3t-pa55@db.internal:3306/support',
      query: 'https://api.example.com/cb?state=abc&access_token=s3cr3t-pa55&x=1',
      raw: 'GET / HTTP/1.1\r\nAuthorization: Basic aHVudGVyMjpodW50ZXIy\r\nAccept: */*',
    });
    expect(out).toEqual({
      sql: `SELECT id FROM users WHERE password = '${REDACTED}' AND api_key='${REDACTED}' LIMIT 5`,
      body: `{"user":"ann","password":"${REDACTED}","remember":true}`,
      escaped: `{\\"client_secret\\":\\"${REDACTED}\\"}`,
      dsn: `mysql://reader:${REDACTED}@db.internal:3306/support`,
      query: `https://api.example.com/cb?state=abc&access_token=${REDACTED}&x=1`,
      raw: `GET / HTTP/1.1\r\nAuthorization: ${REDACTED}\r\nAccept: */*`,
    });
  });

  it.each([
    ['a JSON string with an escaped quote', '{"password":"a\\"b-hunter2","x":1}', `{"password":"${REDACTED}","x":1}`],
    ['an unclosed JSON string', '{"password": "hunter2', `{"password": "${REDACTED}"`],
    ['a JSON number', '"apiKey": 12345, "b": 2', `"apiKey": ${REDACTED}, "b": 2`],
    ['a quoted SQL value with a space', "WHERE password='hunter 2' AND x=1", `WHERE password='${REDACTED}' AND x=1`],
  ])('redacts the value of a sensitive name in %s', (_name, text, expected) => {
    expect(clean({ text })).toEqual({ text: expected });
  });

  it('redacts a credential used as an object key', () => {
    expect(clean({ [API_KEY]: 'active', [OPAQUE]: 'x' })).toEqual({ [REDACTED]: 'active', [`${REDACTED}#2`]: 'x' });
  });

  it('redacts UUIDs (some services use them as API keys)', () => {
    expect(clean({ customer: '123e4567-e89b-12d3-a456-426614174000' })).toEqual({ customer: REDACTED });
  });

  it.each([
    'getCustomerOrdersByRegionAndDateRange',
    'customer_lifetime_value_by_region_2024',
    'CUSTOMER_LIFETIME_VALUE_BY_REGION_AND_YEAR',
    '/api/v1/customers/12345/orders/summary/monthly',
    'https://support.example.com/tickets/4711/attachments/screenshot-final.png',
    '----------------------------------------',
    'SELECT c.id, c.name, COUNT(o.id) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id',
    'ann.lee@example.com',
  ])('keeps plain text %j', (text) => {
    expect(clean({ text })).toEqual({ text });
  });
});

describe('rule (c): long strings', () => {
  it('cuts a 10 kB string to 256 characters and says how many were dropped', () => {
    const input = `SELECT * FROM notes WHERE body LIKE '${'lorem ipsum '.repeat(900)}'`;
    expect(input.length).toBeGreaterThan(10_000);
    const sql = clean({ sql: input })?.['sql'];
    expect(typeof sql).toBe('string');
    expect(sql).toMatch(/^SELECT \* FROM notes WHERE body LIKE 'lorem ipsum /);
    expect((sql as string).endsWith(`…[+${input.length - 256} chars]`)).toBe(true);
    expect((sql as string).indexOf('…')).toBe(REDACTION_LIMITS.string);
  });

  it('keeps a string of exactly 256 characters and cuts one of 257', () => {
    expect(clean({ s: 'a'.repeat(256) })).toEqual({ s: 'a'.repeat(256) });
    expect(clean({ s: 'a'.repeat(257) })).toEqual({ s: `${'a'.repeat(256)}…[+1 chars]` });
  });

  it('redacts before cutting, so a secret across the cut is neither shown nor half-shown', () => {
    const out = clean({ s: `${'word '.repeat(40)}${JWT}${' tail'.repeat(100)}` });
    expect(out?.['s']).toMatch(/^(word ){40}\[REDACTED\]( tail)+ ?…\[\+\d+ chars\]$/);
    expect(clean({ s: `${'word '.repeat(50)}${JWT}` })).toEqual({ s: `${'word '.repeat(50)}…[+10 chars]` });
  });

  it('scans a megabyte of adversarial text in bounded work and still cuts it', () => {
    for (const unit of ['a.', 'password', 'x_token-', 'Ab1-', '"auth": ']) {
      const input = unit.repeat(Math.ceil(1_000_000 / unit.length));
      const s = clean({ s: input })?.['s'];
      expect((s as string).endsWith(' chars]')).toBe(true);
      expect((s as string).length).toBeLessThan(300);
    }
  });

  it('does not split a surrogate pair', () => {
    const out = clean({ s: `${'a'.repeat(255)}😀${'b'.repeat(10)}` });
    expect(out).toEqual({ s: `${'a'.repeat(255)}…[+12 chars]` });
  });
});

describe('rule (d): long arrays', () => {
  it('keeps 20 of 100 items and adds a marker', () => {
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, name: `customer ${i}` }));
    const out = clean({ rows });
    const kept = out?.['rows'];
    expect(Array.isArray(kept) && kept.length).toBe(21);
    expect((kept as unknown[])[0]).toEqual({ id: 0, name: 'customer 0' });
    expect((kept as unknown[])[19]).toEqual({ id: 19, name: 'customer 19' });
    expect((kept as unknown[])[20]).toBe('[+80 items]');
  });

  it('keeps an array of exactly 20', () => {
    const ids = Array.from({ length: 20 }, (_, i) => i);
    expect(clean({ ids })).toEqual({ ids });
  });
});

describe('rule (e): deep nesting', () => {
  it('replaces objects and arrays below level 4 with a marker', () => {
    const out = clean({ a: { b: { c: { d: { e: 1 } }, list: [[1, 2]], n: 3 } } });
    expect(out).toEqual({ a: { b: { c: { d: '[depth limit]' }, list: ['[depth limit]'], n: 3 } } });
  });

  it('survives a cycle', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop['self'] = loop;
    expect(clean(loop)).toEqual({ name: 'loop', self: { name: 'loop', self: { name: 'loop', self: { name: 'loop', self: '[depth limit]' } } } });
  });
});

describe('rule (f): other values', () => {
  it('passes numbers, booleans and null through', () => {
    expect(clean({ limit: 50, ratio: 0.25, negative: -1, dry_run: false, cursor: null })).toEqual({ limit: 50, ratio: 0.25, negative: -1, dry_run: false, cursor: null });
  });

  it('drops undefined keys, nulls undefined array slots, and marks what JSON cannot hold', () => {
    const out = clean({ a: undefined, list: [1, undefined], at: new Date(Date.UTC(2025, 0, 2)), fn: () => 1, big: 10n, map: new Map(), raw: new Uint8Array(4) });
    expect(out).toEqual({ list: [1, null], at: '2025-01-02T00:00:00.000Z', fn: '[unsupported]', big: '10', map: '[unsupported]', raw: '[unsupported]' });
  });
});

describe('rule (g): params that are not an object', () => {
  it.each([
    ['a string', 'SELECT 1', { value: 'SELECT 1' }],
    ['a number', 7, { value: 7 }],
    ['null', null, { value: null }],
    ['an array', ['a', API_KEY], { value: ['a', REDACTED] }],
    ['a secret', JWT, { value: REDACTED }],
  ])('%s becomes { value }', (_name, input, expected) => {
    expect(clean(input)).toEqual(expected);
  });

  it('no params stay undefined', () => {
    expect(sanitizeParams(undefined, DEFAULT_POLICY)).toBeUndefined();
  });
});

describe('rule (h): objects with many keys', () => {
  it('keeps 50 keys and counts the rest', () => {
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`col${i}`, i]));
    const out = clean(wide);
    expect(Object.keys(out ?? {})).toHaveLength(51);
    expect(out?.['col49']).toBe(49);
    expect(out?.['col50']).toBeUndefined();
    expect(out?.['…']).toBe('[+10 keys]');
  });

  it('keeps a `__proto__` key as data', () => {
    const out = clean(JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out ?? {})).toEqual(['__proto__', 'ok']);
  });
});

describe('sanitised params', () => {
  const samples: unknown[] = [
    { sql: `SELECT * FROM t WHERE token = '${OPAQUE}'`, rows: Array.from({ length: 100 }, (_, i) => i) },
    { headers: { authorization: `Bearer ${JWT}` }, note: 'x'.repeat(10_000), deep: { a: { b: { c: { d: 1 } } } } },
    [API_KEY, PEM, HEX],
  ];

  it('redaction is a fixed point: sanitising again redacts nothing more', () => {
    const once = clean({ sql: `SELECT * FROM t WHERE token = '${OPAQUE}'`, body: `{"password":"hunter2","jwt":"${JWT}"}`, keys: [API_KEY, PEM, HEX] });
    expect(clean(once)).toEqual(once);
  });

  it.each(samples)('fit the audit event schema %#', (input) => {
    const event = { v: 1, id: '01JQ3ZK7Y8N4X2M6P9R5T0V1W3', time: '2025-03-01T10:00:00.000Z', type: 'tool.call', outcome: 'success', actor: {}, params: clean(input) };
    expect(AuditEventSchema.safeParse(event).success).toBe(true);
  });
});

describe('sanitizeReason', () => {
  it('keeps a short safe reason as it is', () => {
    expect(sanitizeReason('refresh token reused: grant revoked')).toBe('refresh token reused: grant revoked');
  });

  it('redacts credential-looking substrings', () => {
    expect(sanitizeReason(`upstream rejected ${JWT} (expired)`)).toBe(`upstream rejected ${REDACTED} (expired)`);
    expect(sanitizeReason(`key ${API_KEY} revoked`)).toBe(`key ${REDACTED} revoked`);
  });

  it('cuts to 500 characters', () => {
    expect(sanitizeReason('r'.repeat(500))).toBe('r'.repeat(500));
    const cut = sanitizeReason(`${'reason '.repeat(200)}${JWT}`);
    expect(cut).toHaveLength(500);
    expect(cut.endsWith('…')).toBe(true);
    expect(containsSecretLike(cut)).toBe(false);
  });
});
