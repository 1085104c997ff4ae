// Shared by the workerd tests that play detection scenarios: the compiled rules, the trail exported as ECS, fetchers from one address, the failure counter.
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { compileRules, evaluate } from '../../src/security/detections/evaluate.ts';
import { RULES } from '../../src/security/detections/rules.generated.ts';
import type { Doc, Hit } from '../../src/security/detections/types.ts';
import { ORIGIN } from './mcp-http.ts';
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
