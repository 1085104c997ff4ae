// Shared by the workerd tests that play detection scenarios: the compiled rules, the trail exported as ECS, fetchers from one address, the failure counter, and the server's own run (POST /admin/detections/run) with what it must fire.
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { AuditEventSchema, type AuditEvent } from '../../src/audit/event.ts';
import type { DetectionRun } from '../../src/contracts/audit-store.ts';
import { compileRules, evaluate } from '../../src/security/detections/evaluate.ts';
import { RULES } from '../../src/security/detections/rules.generated.ts';
import type { Doc, Hit } from '../../src/security/detections/types.ts';
import { INITIALIZE, MCP_HEADERS, ORIGIN, post } from './mcp-http.ts';
import type { FlowFetchers } from './oauth-flow.ts';
import { settleDeliveries } from './settle.ts';

/** The admin API's credential in the workerd test environment. */
export const admin = { authorization: `Bearer ${env.ADMIN_SECRET}` };
/** Every rule of detections/, compiled as the server compiles it. */
export const ruleSet = compileRules(RULES);

/** A rule's id from its title (a typo fails loudly). */
export function idOf(title: string): string {
  const rule = RULES.find((r) => r.title === title);
  if (!rule) throw new Error(`no rule titled ${title}`);
  return rule.id;
}

/** `n` random base64url characters. */
export const randomPart = (n: number): string => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[b % 64]).join('');

/** The one embedded audit store. */
export const store = () => env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default'));

/** The failure counter of one caller address. */
export function counter(address: string) {
  const ns = env.FAILURE_COUNTER;
  if (!ns) throw new Error('FAILURE_COUNTER is not bound');
  return ns.get(ns.idFromName(address));
}

/** The trail since `started`, exported as ECS by the admin API (the export's own mapping), and the hits of one rule on it. */
export function trailSince(started: string): { exportEcs: () => Promise<Doc[]>; hitsOf: (title: string, field: string, value: string) => Promise<Hit[]> } {
  const exportEcs = async (): Promise<Doc[]> => {
    await settleDeliveries();
    const response = await SELF.fetch(`${ORIGIN}/admin/audit/events?format=ecs&since=${started}&limit=10000`, { headers: admin });
    expect(response.status).toBe(200);
    const text = await response.text();
    return text === '' ? [] : text.trim().split('\n').map((line) => JSON.parse(line) as Doc);
  };
  const hitsOf = async (title: string, field: string, value: string): Promise<Hit[]> => evaluate(ruleSet, await exportEcs()).filter((h) => h.ruleId === idOf(title) && h.group[field] === value);
  return { exportEcs, hitsOf };
}

/** Fetchers that send every request to our server from `address` (and `userAgent`, when given), as Cloudflare would report them. */
export function fromAddress(address: string, userAgent?: string): FlowFetchers {
  return {
    server: (url, init) => {
      const request = new Request(url, init);
      const headers = new Headers(request.headers);
      headers.set('cf-connecting-ip', address);
      if (userAgent !== undefined) headers.set('user-agent', userAgent);
      return SELF.fetch(new Request(request, { headers }));
    },
    idp: (url, init) => fetch(url, init),
  };
}

/**
 * What the server's own run must show for the scenarios of a file: each scenario's rule fired once for its group
 * (`fired`), and never for its look-alike, named by its group (`quiet`) or by the look-alike's own stored events
 * (`quietEvents`: no detection.fired of that rule may cite one of them).
 */
export interface InServerExpectations {
  fired: Array<[title: string, field: string, value: string]>;
  quiet: Array<[title: string, field: string, value: string]>;
  quietEvents: Array<[title: string, eventIds: string[]]>;
}

/** An empty set of expectations, filled in by the scenarios. */
export const inServerExpectations = (): InServerExpectations => ({ fired: [], quiet: [], quietEvents: [] });

/** Runs the server's detections now through the admin API (POST /admin/detections/run: the AuditStore's scheduled run). */
export async function runDetectionsNow(): Promise<DetectionRun> {
  const response = await SELF.fetch(`${ORIGIN}/admin/detections/run`, { method: 'POST', headers: admin });
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as DetectionRun;
}

/** The detection.fired events stored since `started` (the audit export). */
export async function firedSince(started: string): Promise<AuditEvent[]> {
  const response = await SELF.fetch(`${ORIGIN}/admin/audit/events?type=detection.fired&since=${started}&limit=10000`, { headers: admin });
  expect(response.status).toBe(200);
  return (await response.text()).split('\n').filter((l) => l.trim() !== '').map((l) => AuditEventSchema.parse(JSON.parse(l)));
}

/** The ids of the stored events since `started` (as the ECS export names them) that `pick` selects: a look-alike's own events. */
export async function eventIdsWhere(started: string, pick: (doc: Doc) => boolean): Promise<string[]> {
  return (await trailSince(started).exportEcs()).filter(pick).map((d) => String((d['event'] as { id: string }).id));
}

/**
 * Checks the expectations against the stored detection.fired events: each `fired` exactly once (with its rule's
 * title), no `quiet` group and no cited look-alike event.
 */
export function expectInServer(fired: AuditEvent[], x: InServerExpectations): void {
  const ofRule = (title: string) => fired.filter((e) => e.params?.['rule_id'] === idOf(title));
  const groupOf = (e: AuditEvent) => (e.params?.['group'] ?? {}) as Record<string, string>;
  for (const [title, field, value] of x.fired) {
    const mine = ofRule(title).filter((e) => groupOf(e)[field] === value);
    expect(mine, `${title}: ${field}=${value}`).toHaveLength(1);
    expect(mine[0]).toMatchObject({ type: 'detection.fired', outcome: 'success', params: { rule_title: title } });
  }
  for (const [title, field, value] of x.quiet) expect(ofRule(title).filter((e) => groupOf(e)[field] === value), `${title}: look-alike ${field}=${value}`).toEqual([]);
  for (const [title, ids] of x.quietEvents) {
    const cited = ofRule(title).filter((e) => ((e.params?.['event_ids'] ?? []) as string[]).some((id) => ids.includes(id)));
    expect(cited, `${title}: look-alike events`).toEqual([]);
  }
}

/** An API key made through the admin API (agent "Scenario", owner "user-scenario", both read scopes unless `body` says otherwise). */
export async function createKey(body: Record<string, unknown>): Promise<{ key: string; key_id: string }> {
  const response = await SELF.fetch(`${ORIGIN}/admin/keys`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ agent_name: 'Scenario', owner: 'user-scenario', scopes: ['support:read', 'sql:read'], ...body }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { key: string; key_id: string };
}

/** An `initialize` with this credential from `address` (and user agent): its status only. */
export async function initializeWith(authorization: string, address: string, userAgent = 'agent/1.0'): Promise<number> {
  const response = await SELF.fetch(`${ORIGIN}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization, 'cf-connecting-ip': address, 'user-agent': userAgent }, body: JSON.stringify(INITIALIZE) });
  await response.body?.cancel();
  return response.status;
}

/** An initialized 2025-11-25 session for a bearer credential (token or API key): the headers of its next requests. */
export async function session(credential: string): Promise<Record<string, string>> {
  const init = await post(INITIALIZE, { authorization: `Bearer ${credential}` });
  expect(init.status).toBe(200);
  const sessionId = init.headers.get('mcp-session-id') ?? '';
  await init.text();
  const headers = { authorization: `Bearer ${credential}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  return headers;
}
