// The Sigma rules in detections/: each validates against the JSON Schemas written from the Sigma specification, carries the metadata a SIEM team needs, and the Worker's generated copy is current.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Validator, type Schema } from '@cfworker/json-schema';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module without type declarations
import { GENERATED, RULES_DIR, generatedModule, readRuleDocuments } from '../../bin/lib/detections.mjs';

const root = path.join(import.meta.dirname, '../..');
const schema = (name: string) => new Validator(JSON.parse(readFileSync(path.join(root, RULES_DIR, 'schema', name), 'utf8')) as Schema, '2020-12', false);
const detectionSchema = schema('sigma-rule.schema.json');
const correlationSchema = schema('sigma-correlation.schema.json');
type Doc = { file: string; rule: Record<string, unknown> };
const docs = readRuleDocuments(path.join(root, RULES_DIR)) as Doc[];
const validate = (rule: Record<string, unknown>) => (rule['correlation'] ? correlationSchema : detectionSchema).validate(rule);
/** Rules a correlation refers to by name or id (building blocks, not alerts of their own). */
const referenced = new Set(docs.flatMap(({ rule }) => ((rule['correlation'] as { rules?: string[] } | undefined)?.rules ?? [])));
const alerting = docs.filter(({ rule }) => !referenced.has(String(rule['name'])) && !referenced.has(String(rule['id'])));

describe('detections/', () => {
  it.each(docs.map((d) => [`${d.file}: ${String(d.rule['title'])}`, d] as const))('%s validates against the Sigma schema', (_name, { rule }) => {
    const result = validate(rule);
    expect(result.errors.map((e) => `${e.instanceLocation}: ${e.error}`)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it.each(alerting.map((d) => [`${d.file}: ${String(d.rule['title'])}`, d] as const))('%s has id, description, level, false positives, tags, author, date and the server logsource', (_name, { rule }) => {
    for (const field of ['id', 'description', 'level', 'falsepositives', 'tags', 'author', 'date', 'status']) expect(rule[field], field).toBeDefined();
    expect((rule['tags'] as string[]).length).toBeGreaterThan(0);
    if (!rule['correlation']) expect(rule['logsource']).toEqual({ product: 'own-mcp-server', service: 'audit' });
  });

  it('every rule id is a unique UUID v4 and every name unique; a correlation refers only to rules that exist', () => {
    const ids = docs.map((d) => String(d.rule['id']));
    expect(new Set(ids).size).toBe(ids.length);
    const names = docs.map((d) => d.rule['name']).filter((n): n is string => typeof n === 'string');
    expect(new Set(names).size).toBe(names.length);
    for (const ref of referenced) expect(names.includes(ref) || ids.includes(ref), ref).toBe(true);
  });

  it('every technique tag is a MITRE ATT&CK technique id, and all but the flagged-result rule name one', () => {
    for (const { rule } of alerting) {
      const tags = rule['tags'] as string[];
      for (const t of tags.filter((x) => /^attack\.t/.test(x))) expect(t).toMatch(/^attack\.t\d{4}(\.\d{3})?$/);
      if (rule['title'] !== 'MCP tool result flagged as possible prompt injection') expect(tags.some((t) => /^attack\.t\d{4}/.test(t)), String(rule['title'])).toBe(true);
    }
  });

  it('the schemas refuse what the specification forbids', () => {
    const base = { title: 't', logsource: { product: 'own-mcp-server' }, detection: { sel: { 'event.action': 'x' }, condition: 'sel' } };
    expect(detectionSchema.validate(base).valid).toBe(true);
    expect(detectionSchema.validate({ ...base, detection: { sel: { 'event.action': 'x' } } }).valid).toBe(false);
    expect(detectionSchema.validate({ ...base, level: 'severe' }).valid).toBe(false);
    expect(detectionSchema.validate({ ...base, detection: { sel: { 'event.action|sounds_like': 'x' }, condition: 'sel' } }).valid).toBe(false);
    expect(detectionSchema.validate({ ...base, id: 'not-a-uuid' }).valid).toBe(false);
    const corr = { title: 'c', correlation: { type: 'event_count', rules: ['a'], 'group-by': ['source.ip'], timespan: '10m', condition: { gte: 5 } } };
    expect(correlationSchema.validate(corr).valid).toBe(true);
    expect(correlationSchema.validate({ ...corr, correlation: { ...corr.correlation, timespan: '10 minutes' } }).valid).toBe(false);
    const { condition: _dropped, ...noCondition } = corr.correlation;
    expect(correlationSchema.validate({ ...corr, correlation: noCondition }).valid).toBe(false);
    expect(correlationSchema.validate({ ...corr, correlation: { ...corr.correlation, type: 'value_count' } }).valid).toBe(false);
    expect(correlationSchema.validate({ ...corr, correlation: { ...corr.correlation, type: 'sum' } }).valid).toBe(false);
  });

  it('covers every threat issue 16 names', () => {
    const files = new Set(docs.map((d) => d.file));
    for (const f of ['mcp_refresh_token_reuse.yml', 'mcp_code_failures_burst.yml', 'mcp_registration_flood.yml', 'mcp_credential_guessing.yml', 'mcp_api_key_new_origin.yml', 'mcp_scope_denial_burst.yml', 'mcp_sql_rejected_burst.yml', 'mcp_rate_limit_storm.yml', 'mcp_admin_key_change_off_hours.yml', 'mcp_tool_integrity_failed.yml', 'mcp_tool_result_flagged.yml', 'mcp_anomaly_cluster.yml']) {
      expect(files.has(f), f).toBe(true);
    }
  });

  it(`${GENERATED} is generated from the current rules (run npm run detections:build)`, () => {
    expect(readFileSync(path.join(root, GENERATED), 'utf8')).toBe(generatedModule(docs));
  });
});
