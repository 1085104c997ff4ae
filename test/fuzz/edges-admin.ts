/** Fuzz edge of the admin API: every method, path, credential, body and audit-export query. */
import fc from 'fast-check';
import { exchange, headerSafe, unchanged, type FuzzContext } from './context.ts';
import { adminShape } from './invariants.ts';
import type { Probe, Violation } from './runner.ts';

/** The admin credential and a key that exists (made by the test before fuzzing). */
export interface AdminSetup {
  adminSecret: string;
  keyId: string;
}

/** One admin request. */
export interface AdminInput {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string;
  body: string | null;
}

const short = fc.string({ maxLength: 30 });
const anyJson = fc.jsonValue({ maxDepth: 3 });
const SCOPES = ['support:read', 'sql:read', 'customers:read', 'admin', ''];
const TOOLS = ['list_tables', 'find_customers', 'nope', '__proto__'];

const rate = fc.oneof(fc.record({ requests: fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), anyJson), per_seconds: fc.oneof(fc.integer({ min: -5, max: 100_000 }), anyJson) }, { requiredKeys: [] }), anyJson);

/** POST /admin/keys bodies, mostly near-valid. */
const keyBody = fc.record(
  {
    agent_name: fc.oneof(short, fc.constant(''), fc.constant(' '), fc.string({ minLength: 101, maxLength: 300 }), anyJson),
    agent_id: fc.oneof(fc.constantFrom('agent-1', '-bad', 'a b', '../x', ''), short, anyJson),
    owner: fc.oneof(short, fc.constant(''), anyJson),
    scopes: fc.oneof(fc.subarray(SCOPES), fc.array(short, { maxLength: 3 }), anyJson),
    expires_in: fc.oneof(fc.integer({ min: -10, max: 40_000_000 }), fc.double(), anyJson),
    rate_limit: rate,
    tool_limits: fc.oneof(fc.dictionary(fc.constantFrom(...TOOLS), rate, { maxKeys: 2 }), anyJson),
    extra: anyJson,
  },
  { requiredKeys: [] },
);

const clientBody = fc.record(
  { client_name: fc.oneof(short, anyJson), owner: fc.oneof(short, anyJson), scope: fc.oneof(fc.constantFrom('support:read', 'sql:read', 'admin', ''), short, anyJson), jwks: fc.oneof(fc.constant({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'BBBB' }] }), fc.record({ keys: fc.array(fc.dictionary(short, anyJson, { maxKeys: 4 }), { maxLength: 2 }) }), anyJson) },
  { requiredKeys: [] },
);

const auditQuery = fc
  .dictionary(fc.constantFrom('after', 'cursor', 'since', 'until', 'user', 'agent', 'tool', 'type', 'outcome', 'format', 'limit', 'x'), fc.oneof(short, fc.constantFrom('01J00000000000000000000000', '-1', '0', '10001', 'NaN', '1e3', '2026-12-07T00:00:00Z', 'ocsf', 'ecs', 'raw', 'tool.call', 'denied')), { maxKeys: 4 })
  .map((q) => new URLSearchParams(q).toString());

export function adminInput(setup: AdminSetup): fc.Arbitrary<AdminInput> {
  const path = fc.oneof(
    fc.constantFrom('/admin/keys', '/admin/keys/', `/admin/keys/${setup.keyId}`, `/admin/keys/${setup.keyId}/rotate`, `/admin/keys/${setup.keyId}/nope`, `/admin/keys/${'A'.repeat(43)}`, `/admin/keys/${'A'.repeat(43)}/revoke`, '/admin/clients', `/admin/grants/${'A'.repeat(43)}/revoke`, '/admin', '/admin/', '/admin/keys/..%2F..%2Fclients', '/admin//keys'),
    auditQuery.map((q) => `/admin/audit/events?${q}`),
    short.map((s) => `/admin/${encodeURIComponent(s)}`),
  );
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH'),
      path,
      authorization: fc.oneof(
        { weight: 4, arbitrary: fc.constant(`Bearer ${setup.adminSecret}`) },
        { weight: 1, arbitrary: fc.constantFrom(`Bearer ${setup.adminSecret}x`, `Bearer ${setup.adminSecret.slice(0, -1)}`, `bearer  ${setup.adminSecret}`, `Basic ${setup.adminSecret}`, `Bearer ${setup.adminSecret} x`, '') },
        { weight: 1, arbitrary: short.map((s) => `Bearer ${headerSafe(s)}`) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', '') }),
      body: fc.oneof(keyBody.map((b) => JSON.stringify(b)), clientBody.map((b) => JSON.stringify(b)), fc.record({ overlap_seconds: fc.oneof(fc.integer({ min: -5, max: 1_000_000 }), anyJson) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), fc.string({ maxLength: 60 }), fc.constant(null), fc.constant('{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}')),
    })
    .map((r) => ({ ...r, body: r.method === 'GET' ? null : r.body }));
}

/** Edge `admin`: typed admin errors; a refused request (or any unauthenticated one) changes no key and no client. */
export function adminProbe(ctx: FuzzContext): Probe<AdminInput> {
  return async ({ method, path, authorization, contentType, body }) => {
    const before = await ctx.snapshot(['keys', 'clients']);
    const headers: Record<string, string> = { 'content-type': contentType };
    if (authorization !== undefined) headers.authorization = authorization;
    const result = await exchange(ctx, new Request(`${ctx.origin}${path}`, { method, headers, body }), path + (body ?? ''));
    const out: Violation[] = [...result.violations];
    if (!result.seen) return out;
    out.push(...adminShape(result.seen));
    if (result.seen.status >= 400) out.push(...unchanged(before, await ctx.snapshot(['keys', 'clients'])));
    return out;
  };
}
