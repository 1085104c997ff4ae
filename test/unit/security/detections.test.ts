// The Sigma evaluator (src/security/detections/): modifiers, condition expressions, and the windows of event_count, value_count and temporal correlations.
import { describe, expect, it } from 'vitest';
import { parseCondition } from '../../../src/security/detections/condition.ts';
import { timespanMs } from '../../../src/security/detections/correlate.ts';
import { compileRules, evaluate } from '../../../src/security/detections/evaluate.ts';
import { fieldMatches } from '../../../src/security/detections/match.ts';
import type { CorrelationRule, DetectionRule, Doc } from '../../../src/security/detections/types.ts';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const doc = (seconds: number, fields: Record<string, unknown>, id = `e${seconds}`): Doc => ({ '@timestamp': new Date(T0 + seconds * 1000).toISOString(), event: { id, action: 'x' }, ...fields });
const base = (name: string, detection: DetectionRule['detection']): DetectionRule => ({ kind: 'detection', title: name, id: `id-${name}`, name, logsource: { product: 'p' }, detection });
const corr = (c: CorrelationRule['correlation']): CorrelationRule => ({ kind: 'correlation', title: 'c', id: 'id-c', level: 'high', correlation: c });

describe('field modifiers', () => {
  const d: Doc = { source: { ip: '10.0.0.1' }, event: { type: ['access', 'denied'], reason: 'Multiple_Statements: only one' }, mcp: { params: { count: 12 } }, '@timestamp': '2026-12-07T23:01:00.000Z' };
  it.each([
    ['source.ip', '10.0.0.1', true],
    ['source.ip', '10.0.0.*', true],
    ['source.ip', '10.0.0.?', true],
    ['source.ip', '10.0.1.*', false],
    ['event.type', 'DENIED', true],
    ['event.type|all', ['access', 'denied'], true],
    ['event.type|all', ['access', 'start'], false],
    ['event.reason|startswith', 'multiple_statements', true],
    ['event.reason|startswith|cased', 'multiple_statements', false],
    ['event.reason|contains', 'ONLY', true],
    ['event.reason|endswith', 'one', true],
    ['mcp.params.count|gte', 12, true],
    ['mcp.params.count|gt', 12, false],
    ['mcp.params.count|lt', 13, true],
    ['mcp.params.count|lte', 11, false],
    ['mcp.params.missing|exists', true, false],
    ['mcp.params.count|exists', true, true],
    ['mcp.params.missing', null, true],
    ['@timestamp|re', 'T(2[2-3]|0[0-5]):', true],
    ['source.ip', ['1.1.1.1', '10.0.0.1'], true],
  ] as const)('%s against %j → %s', (key, value, expected) => {
    expect(fieldMatches(d, key, value as never)).toBe(expected);
  });

  it('refuses a modifier outside the subset, and a prototype key is not a field', () => {
    expect(() => fieldMatches(d, 'source.ip|base64', 'x')).toThrow(/unsupported modifier/);
    expect(fieldMatches(d, 'constructor|exists', true)).toBe(false);
  });
});

describe('conditions', () => {
  it('parses and, or, not, parentheses and quantifiers with the usual precedence', () => {
    expect(parseCondition('a or b and not c')).toEqual({ kind: 'or', left: { kind: 'ref', name: 'a' }, right: { kind: 'and', left: { kind: 'ref', name: 'b' }, right: { kind: 'not', operand: { kind: 'ref', name: 'c' } } } });
    expect(parseCondition('1 of sel* and not all of them')).toMatchObject({ kind: 'and', left: { kind: 'of', quantifier: '1', pattern: 'sel*' }, right: { kind: 'not', operand: { kind: 'of', quantifier: 'all', pattern: 'them' } } });
    for (const bad of ['a and', '(a or b', 'a | count() > 5', 'a near b', '']) expect(() => parseCondition(bad), bad).toThrow();
  });

  it('evaluates a rule with a filter', () => {
    const set = compileRules([{ ...base('r', { sel_a: { 'event.action': 'x' }, sel_b: { 'source.ip': '10.*' }, filter: { 'user.id': 'trusted' }, condition: 'all of sel_* and not filter' }), name: undefined }]);
    expect(evaluate(set, [doc(0, { source: { ip: '10.1.1.1' } })])).toHaveLength(1);
    expect(evaluate(set, [doc(0, { source: { ip: '10.1.1.1' }, user: { id: 'trusted' } })])).toEqual([]);
    expect(evaluate(set, [doc(0, { source: { ip: '11.1.1.1' } })])).toEqual([]);
  });
});

describe('correlations', () => {
  const failed = base('failed', { sel: { 'event.outcome': 'failure' }, condition: 'sel' });
  const ok = base('ok', { sel: { 'event.outcome': 'success' }, condition: 'sel' });

  it('event_count: five in ten minutes per group fires once; a slower trickle does not; a group missing the field is not counted', () => {
    const set = compileRules([failed, corr({ type: 'event_count', rules: ['failed'], 'group-by': ['source.ip'], timespan: '10m', condition: { gte: 5 } })]);
    const burst = [0, 60, 120, 180, 240, 300, 360].map((s) => doc(s, { event: { id: `b${s}`, outcome: 'failure' }, source: { ip: 'A' } }));
    const trickle = [0, 400, 800, 1200, 1600].map((s) => doc(s, { event: { id: `t${s}`, outcome: 'failure' }, source: { ip: 'B' } }));
    const nameless = [0, 1, 2, 3, 4].map((s) => doc(s, { event: { id: `n${s}`, outcome: 'failure' } }));
    const hits = evaluate(set, [...burst, ...trickle, ...nameless]);
    expect(hits).toEqual([expect.objectContaining({ ruleId: 'id-c', group: { 'source.ip': 'A' }, count: 7, windowStart: '2026-12-07T10:00:00.000Z', level: 'high' })]);
    // The same hit (same window start) when the run sees only part of the burst: deduplication holds.
    expect(evaluate(set, burst.slice(0, 5))[0]?.windowStart).toBe(hits[0]?.windowStart);
  });

  it('value_count counts distinct values; temporal needs every rule in the window', () => {
    const vc = compileRules([ok, corr({ type: 'value_count', rules: ['ok'], 'group-by': ['labels.key_id'], timespan: '1d', condition: { field: 'source.ip', gte: 2 } })]);
    const use = (s: number, key: string, ip: string) => doc(s, { event: { id: `${key}${s}`, outcome: 'success' }, labels: { key_id: key }, source: { ip } });
    expect(evaluate(vc, [use(0, 'k1', 'A'), use(10, 'k1', 'A'), use(20, 'k2', 'A'), use(30, 'k2', 'B')]).map((h) => h.group)).toEqual([{ 'labels.key_id': 'k2' }]);
    const tp = compileRules([failed, ok, corr({ type: 'temporal', rules: ['failed', 'ok'], 'group-by': ['source.ip'], timespan: '1h' })]);
    const ev = (s: number, ip: string, outcome: string) => doc(s, { event: { id: `${ip}${s}`, outcome }, source: { ip } });
    expect(evaluate(tp, [ev(0, 'A', 'failure'), ev(600, 'A', 'success'), ev(0, 'B', 'failure'), ev(7200, 'B', 'success'), ev(0, 'C', 'success')]).map((h) => h.group)).toEqual([{ 'source.ip': 'A' }]);
  });

  it('refuses a correlation naming an unknown rule, a value_count without a field, and a bad timespan', () => {
    expect(() => compileRules([corr({ type: 'event_count', rules: ['nope'], 'group-by': [], timespan: '1m', condition: { gte: 1 } })])).toThrow(/unknown rule/);
    expect(() => compileRules([ok, corr({ type: 'value_count', rules: ['ok'], 'group-by': [], timespan: '1m', condition: { gte: 1 } })])).toThrow(/condition.field/);
    expect(() => timespanMs('5 minutes')).toThrow();
    expect(timespanMs('90m')).toBe(5_400_000);
  });
});
