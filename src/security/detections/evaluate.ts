/** Runs a rule set over ECS documents: standalone detection rules hit per event, correlation rules per group and window. Pure. */
import { correlate, hitOf, type Matched } from './correlate.ts';
import { compileDetection, fieldValue, type CompiledDetection } from './match.ts';
import type { CorrelationRule, Doc, Hit, Rule } from './types.ts';

/** A compiled rule set. */
export interface RuleSet {
  rules: readonly Rule[];
  detections: CompiledDetection[];
  correlations: CorrelationRule[];
  /** Detection rules referred to by a correlation: not hits on their own (Sigma's `generate: false`). */
  referenced: Set<string>;
}

/** Compiles the rules; throws on a rule outside the supported subset or a correlation naming an unknown rule. */
export function compileRules(rules: readonly Rule[]): RuleSet {
  const detections = rules.filter((r) => r.kind === 'detection').map(compileDetection);
  const correlations = rules.filter((r): r is CorrelationRule => r.kind === 'correlation');
  const known = new Set(rules.flatMap((r) => [r.id, ...(r.name ? [r.name] : [])]));
  const referenced = new Set<string>();
  for (const c of correlations) {
    for (const ref of c.correlation.rules) {
      if (!known.has(ref)) throw new Error(`${c.title}: refers to an unknown rule '${ref}'`);
      referenced.add(ref);
    }
    if (c.correlation.type === 'value_count' && !c.correlation.condition?.field) throw new Error(`${c.title}: value_count needs condition.field`);
  }
  return { rules, detections, correlations, referenced };
}

/** The time of an ECS document in milliseconds (its `@timestamp`). */
function timeOf(doc: Doc): number {
  const value = fieldValue(doc, '@timestamp');
  const t = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(t) ? t : 0;
}

/** The event id of a document (`event.id`), or the empty string. */
function idOf(doc: Doc): string {
  const id = fieldValue(doc, 'event.id');
  return typeof id === 'string' ? id : '';
}

/** Every hit of every rule over the documents (any order). */
export function evaluate(set: RuleSet, docs: readonly Doc[]): Hit[] {
  const matched: Matched[] = [];
  const hits: Hit[] = [];
  for (const doc of docs) {
    const names = new Set<string>();
    for (const d of set.detections) {
      if (!d.matches(doc)) continue;
      names.add(d.rule.id);
      if (d.rule.name) names.add(d.rule.name);
    }
    if (names.size === 0) continue;
    const m: Matched = { doc, time: timeOf(doc), id: idOf(doc), rules: names };
    matched.push(m);
    for (const d of set.detections) {
      if (!names.has(d.rule.id) || set.referenced.has(d.rule.id) || (d.rule.name && set.referenced.has(d.rule.name))) continue;
      hits.push(hitOf(d.rule, { 'event.id': m.id }, m.id, [m], 1));
    }
  }
  for (const c of set.correlations) hits.push(...correlate(c, matched));
  return hits.sort((a, b) => a.windowStart.localeCompare(b.windowStart) || a.ruleId.localeCompare(b.ruleId));
}
