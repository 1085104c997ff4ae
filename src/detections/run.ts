/** Running the Sigma rules over the stored audit trail (MySQL or the embedded store, through the audit port), as the ECS export shows it. */
import { toEcs } from '../audit/ecs.ts';
import { newEvent } from '../audit/emit.ts';
import type { AuditEvent } from '../audit/event.ts';
import { readAudit } from '../audit/sink.ts';
import type { AlertInput } from '../contracts/alert-hub.ts';
import type { AuditQuery } from '../db/audit-port.ts';
import type { Env } from '../env.ts';
import { timespanMs } from '../security/detections/correlate.ts';
import { compileRules, evaluate, type RuleSet } from '../security/detections/evaluate.ts';
import { RULES } from '../security/detections/rules.generated.ts';
import type { Doc, Hit } from '../security/detections/types.ts';

/** Events read for one evaluation at most (ten pages); a busier range is evaluated on its first events and says so. */
export const MAX_EVENTS = 100_000;
const PAGE = 10_000;

let compiled: RuleSet | undefined;

/** The checked-in rules, compiled once per isolate. */
export function ruleSet(): RuleSet {
  compiled ??= compileRules(RULES);
  return compiled;
}

/** The longest correlation timespan: how far back a run must read to see whole windows. */
export function lookbackMs(set: RuleSet = ruleSet()): number {
  return Math.max(0, ...set.correlations.map((c) => timespanMs(c.correlation.timespan)));
}

/** Reads stored events (an audit search); the audit port's by default. */
export type AuditReader = (q: AuditQuery) => Promise<AuditEvent[]>;

/** The audit port's search (MySQL, or the embedded store through its stub). */
export function portReader(env: Env): AuditReader {
  return async (q) => (await readAudit(env, q)).map((r) => r.event);
}

/** The stored events in [since, until) as ECS documents (the export's own mapping), oldest first; `truncated` when MAX_EVENTS was reached. */
export async function readEcs(read: AuditReader, since: string, until: string): Promise<{ docs: Doc[]; truncated: boolean }> {
  const docs: Doc[] = [];
  let after: string | undefined;
  while (docs.length < MAX_EVENTS) {
    const events = await read({ since, until, after, limit: PAGE });
    for (const e of events) docs.push(toEcs(e));
    if (events.length < PAGE) return { docs, truncated: false };
    after = events.at(-1)?.id;
  }
  return { docs, truncated: true };
}

/** Every hit of the rules over the stored events in [since, until). */
export async function findHits(read: AuditReader, since: string, until: string): Promise<{ hits: Hit[]; events: number; truncated: boolean }> {
  const { docs, truncated } = await readEcs(read, since, until);
  return { hits: evaluate(ruleSet(), docs), events: docs.length, truncated };
}

/** The key that makes a hit fire once: the rule, its group and the start of its window. */
export function hitKey(hit: Hit): string {
  return `${hit.ruleId} ${hit.groupKey} ${hit.windowStart}`;
}

/** The `detection.fired` audit event of a hit. */
export function firedEvent(hit: Hit): AuditEvent {
  const group = hit.group;
  return newEvent({
    type: 'detection.fired',
    outcome: 'success',
    actor: {
      ...(group['user.id'] ? { user_id: group['user.id'] } : {}),
      ...(group['labels.key_id'] ? { key_id: group['labels.key_id'] } : {}),
    },
    reason: `${hit.title}: ${hit.count} in ${hit.windowStart} .. ${hit.windowEnd}`,
    params: { rule_id: hit.ruleId, rule_title: hit.title, level: hit.level, group, window_start: hit.windowStart, window_end: hit.windowEnd, count: hit.count, event_ids: hit.eventIds },
  });
}

/** The alert of a hit for the alert hub (source `detection`), pointing at its audit event. */
export function hitAlert(hit: Hit, event: AuditEvent): AlertInput {
  const groupText = Object.entries(hit.group).map(([k, v]) => `${k}=${v}`).join(' ');
  return {
    source: 'detection',
    rule: hit.ruleId,
    severity: hit.level,
    title: hit.title.slice(0, 300),
    group: `${hit.ruleId}:${groupText}`.slice(0, 300),
    actor: event.actor,
    reasons: [`${hit.count} matching in ${hit.windowStart} .. ${hit.windowEnd}`.slice(0, 500), groupText.slice(0, 500)].filter((r) => r !== ''),
    event_id: event.id,
    time: hit.windowEnd,
  };
}
