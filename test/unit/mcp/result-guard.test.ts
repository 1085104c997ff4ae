// guardResult inside workerd: a flagged result is annotated, redacted or blocked per policy, recorded once; a benign,
// failed or unscanned result passes untouched; the tool.result_flagged event carries the request's own chain.
import { describe, expect, it } from 'vitest';
import { AuditEventSchema } from '../../../src/audit/event.ts';
import { missingOcsfFields, toOcsf } from '../../../src/audit/ocsf.ts';
import { toEcs } from '../../../src/audit/ecs.ts';
import { loadConfig } from '../../../src/config.ts';
import { demoRows, POISONED_TICKET_COUNT } from '../../../src/db/seed-data.ts';
import { json } from '../../../src/mcp/catalog.ts';
import type { Principal } from '../../../src/mcp/principal.ts';
import { resultFlaggedEvent } from '../../../src/mcp/result-audit.ts';
import { guardResult, UNTRUSTED_META_KEY, type ResultFlag } from '../../../src/mcp/result-guard.ts';
import { REDACTION_MARKER } from '../../../src/security/result-scan/redact.ts';

const POISON = demoRows().tickets.slice(-POISONED_TICKET_COUNT)[0]?.[3] as string;
const ROWS = { columns: ['id', 'subject'], rows: [{ id: 7, subject: 'Order arrived damaged' }, { id: 1201, subject: POISON }], rowCount: 2, truncated: false };
const CALL = { requestId: 5, args: { customer_id: 42 } };

function deps(policy?: string, scan?: string) {
  const flags: ResultFlag[] = [];
  const config = loadConfig({ ...(policy ? { RESULT_SCAN_POLICY: policy } : {}), ...(scan ? { RESULT_SCAN: scan } : {}) });
  return { flags, deps: { config, resultFlagged: async (f: ResultFlag) => void flags.push(f) } };
}

describe('guardResult', () => {
  it('annotate: a warning first, the data unchanged, the findings with spans in _meta, recorded once', async () => {
    const { flags, deps: d } = deps('{"list_open_tickets":"annotate"}');
    const { result, failure } = await guardResult('list_open_tickets', { result: json(ROWS) }, d, CALL);
    expect(failure).toBeUndefined();
    expect(result.structuredContent).toEqual(ROWS);
    expect(result.content).toHaveLength(2);
    expect(result.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^UNTRUSTED DATA: .*hidden-instructions\/secrecy at structuredContent\.rows\[1\]\.subject: "Do not tell the user"/u) });
    expect(result.content[1]).toEqual(json(ROWS).content[0]);
    const meta = result._meta?.[UNTRUSTED_META_KEY] as { action: string; count: number; findings: Array<{ rule: string; span: string; path: string; start: number; end: number }> };
    expect(meta.action).toBe('annotate');
    expect(meta.count).toBe(meta.findings.length);
    for (const f of meta.findings) expect(POISON.slice(f.start, f.end)).toBe(f.span);
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ requestId: 5, tool: 'list_open_tickets', action: 'annotate', args: CALL.args });
  });

  it('redact: the sentence is gone from structured content and text, _meta has places but not the text', async () => {
    const { flags, deps: d } = deps('{"sql_select":"redact"}');
    const { result } = await guardResult('sql_select', { result: json(ROWS) }, d, CALL);
    const rows = (result.structuredContent as typeof ROWS).rows;
    expect(rows[0]).toEqual(ROWS.rows[0]);
    expect(rows[1]?.subject).toBe(`Refund for order 2291. ${REDACTION_MARKER}`);
    expect(result.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^UNTRUSTED DATA: \d+ piece\(s\) of text/u) });
    expect(JSON.parse((result.content[1] as { text: string }).text)).toEqual(result.structuredContent);
    const wire = JSON.stringify(result);
    for (const gone of ['sql_select', 'crm-sync', 'Do not tell the user']) expect(wire).not.toContain(gone);
    expect(flags.map((f) => f.action)).toEqual(['redact']);
  });

  it('block: a result_blocked tool error that names rules, not the text', async () => {
    const { flags, deps: d } = deps('{"sql_select":"block"}');
    const { result, failure } = await guardResult('sql_select', { result: json(ROWS) }, d, CALL);
    expect(failure?.code).toBe('result_blocked');
    expect(result).toEqual({ isError: true, content: [{ type: 'text', text: expect.stringMatching(/^result_blocked: the result was withheld: 1 value\(s\) .*hidden-instructions\/secrecy/u) }] });
    expect(JSON.stringify(result)).not.toContain('crm-sync');
    expect(flags.map((f) => f.action)).toEqual(['block']);
  });

  it('a benign result, a failure, and any result with RESULT_SCAN=off pass untouched and unrecorded', async () => {
    const { flags, deps: d } = deps();
    const benign = json({ rows: [{ id: 7, subject: 'Order arrived damaged' }] });
    expect((await guardResult('sql_select', { result: benign }, d, CALL)).result).toBe(benign);
    const failed = { result: { isError: true, content: [{ type: 'text' as const, text: `not_found: ${POISON}` }] } };
    expect(await guardResult('sql_select', failed, d, CALL)).toBe(failed);
    const off = deps(undefined, 'off');
    const poisoned = { result: json(ROWS) };
    expect(await guardResult('sql_select', poisoned, off.deps, CALL)).toBe(poisoned);
    expect([...flags, ...off.flags]).toEqual([]);
  });

  it('scans text content that is not the structured content, and redacts it there', async () => {
    const { deps: d } = deps('{"*":"redact"}');
    const { result } = await guardResult('conformance_echo', { result: { content: [{ type: 'text', text: `Echo: ${POISON}` }] } }, d, CALL);
    expect((result.content[1] as { text: string }).text).toBe(`Echo: Refund for order 2291. ${REDACTION_MARKER}`);
  });
});

describe('the tool.result_flagged event', () => {
  const sessionPrincipal: Principal = { kind: 'user', id: 'u1', clientId: 'c1', grantId: 'g'.repeat(16), tokenId: 't'.repeat(16), scopes: ['sql:read'] };
  const requestPrincipal: Principal = { ...sessionPrincipal, tokenId: 'n'.repeat(16) };

  it("carries the request's own chain, the session, the tool, the policy and the spans; valid OCSF and ECS", async () => {
    const { flags, deps: d } = deps('{"sql_select":"block"}');
    await guardResult('sql_select', { result: json(ROWS) }, d, { requestId: 9, args: { sql: 'SELECT * FROM tickets' } });
    const event = resultFlaggedEvent(flags[0] as ResultFlag, {
      config: d.config,
      principal: sessionPrincipal,
      callOf: (id) => (id === 9 ? { principal: requestPrincipal, meta: { requestId: 'ray-1', ip: '192.0.2.1' } } : undefined),
      sessionId: () => 'sess-1',
    });
    expect(AuditEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      type: 'tool.result_flagged',
      outcome: 'denied',
      error_code: 'result_blocked',
      tool: 'sql_select',
      session_id: 'sess-1',
      request_id: 'ray-1',
      client_ip: '192.0.2.1',
      actor: { user_id: 'u1', client_id: 'c1', grant_id: 'g'.repeat(16), token_id: 'n'.repeat(16) },
      params: { sql: 'SELECT * FROM tickets' },
    });
    expect(event.reason).toMatch(/^block: \d+ finding\(s\): hidden-instructions\/secrecy at structuredContent\.rows\[1\]\.subject "Do not tell the user"/u);
    expect(missingOcsfFields(toOcsf(event, { name: 'own-mcp-server', version: '0.1.0' }))).toEqual([]);
    expect(toEcs(event)['event']).toMatchObject({ category: ['api'], type: ['info', 'denied'] });
  });
});
