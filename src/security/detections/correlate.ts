/** Correlation rules over matched events: event_count, value_count and temporal, per group-by and within a timespan. Pure. */
import { fieldValue } from './match.ts';
import type { CorrelationRule, Doc, Hit, MetricCondition, SigmaLevel } from './types.ts';

/** A matched event: its document, time (ms), id, and the base rules (names or ids) it matched. */
export interface Matched {
  doc: Doc;
  time: number;
  id: string;
  rules: Set<string>;
}

/** `30s`, `10m`, `1h`, `1d` in milliseconds. */
export function timespanMs(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m?.[1] || !m[2]) throw new Error(`timespan '${text}' is not a number and one of s, m, h, d`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** Whether a count meets every comparison of the condition. */
export function meets(count: number, c: MetricCondition): boolean {
  return (
    (c.gt === undefined || count > c.gt) &&
    (c.gte === undefined || count >= c.gte) &&
    (c.lt === undefined || count < c.lt) &&
    (c.lte === undefined || count <= c.lte) &&
    (c.eq === undefined || count === c.eq)
  );
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The metric of a window of events: how many, how many distinct values of a field, or how many of the rules appear. */
function metric(rule: CorrelationRule, events: Matched[]): number {
  const c = rule.correlation;
  if (c.type === 'event_count') return events.length;
  if (c.type === 'value_count') {
    const field = c.condition?.field ?? '';
    return new Set(events.map((e) => text(fieldValue(e.doc, field))).filter((v) => v !== undefined)).size;
  }
  return c.rules.filter((r) => events.some((e) => e.rules.has(r))).length;
}

function fires(rule: CorrelationRule, events: Matched[]): boolean {
  const c = rule.correlation;
  const count = metric(rule, events);
  // temporal: every referred rule must appear (or the count the condition asks for).
  if (c.type === 'temporal') return c.condition ? meets(count, c.condition) : count === c.rules.length;
  return c.condition ? meets(count, c.condition) : false;
}

/**
 * The hits of one correlation rule. Events are grouped by the group-by values (an event missing
 * one of them is not counted); within a group a window slides over the events in time order, and
 * the first time it fires a hit opens at the window's first event. The hit then takes in every
 * event up to one timespan after its start, so a sustained burst is one hit per timespan, and a
 * later run over more of the same events finds the same hit (same group, same start).
 */
export function correlate(rule: CorrelationRule, matched: Matched[]): Hit[] {
  const c = rule.correlation;
  const span = timespanMs(c.timespan);
  const groups = new Map<string, { values: Record<string, string>; events: Matched[] }>();
  for (const e of matched) {
    if (!c.rules.some((r) => e.rules.has(r))) continue;
    const values: Record<string, string> = {};
    let complete = true;
    for (const field of c['group-by']) {
      const v = text(fieldValue(e.doc, field));
      if (v === undefined) complete = false;
      else values[field] = v;
    }
    if (!complete) continue;
    const key = JSON.stringify(c['group-by'].map((f) => values[f]));
    const group = groups.get(key) ?? { values, events: [] };
    group.events.push(e);
    groups.set(key, group);
  }
  const hits: Hit[] = [];
  for (const [key, group] of groups) {
    const events = group.events.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
    let start = 0;
    for (let i = 0; i < events.length; i++) {
      while ((events[i]?.time ?? 0) - (events[start]?.time ?? 0) > span) start++;
      const window = events.slice(start, i + 1);
      if (!fires(rule, window)) continue;
      const first = events[start];
      if (!first) continue;
      let end = i;
      while (end + 1 < events.length && (events[end + 1]?.time ?? Infinity) - first.time <= span) end++;
      const taken = events.slice(start, end + 1);
      hits.push(hitOf(rule, group.values, key, taken, metric(rule, taken)));
      start = end + 1;
      i = end;
    }
  }
  return hits;
}

/** A hit from its events. */
export function hitOf(rule: { id: string; title: string; level?: SigmaLevel | undefined }, group: Record<string, string>, groupKey: string, events: Matched[], count: number): Hit {
  const iso = (t: number) => new Date(t).toISOString();
  return {
    ruleId: rule.id,
    title: rule.title,
    level: rule.level ?? 'medium',
    group,
    groupKey,
    windowStart: iso(events[0]?.time ?? 0),
    windowEnd: iso(events.at(-1)?.time ?? 0),
    count,
    eventIds: events.slice(0, 20).map((e) => e.id),
  };
}
