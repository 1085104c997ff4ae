// End to end in Node through the MCP SDK client: the poisoned demo tickets come back annotated (list_open_tickets) and
// redacted (sql_select) on the embedded database, and blocked on MariaDB, per RESULT_SCAN_POLICY; each hit is a
// tool.result_flagged audit event with the agent's chain; a benign call is unchanged and records no such event.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POISONED_CUSTOMER } from '../../src/db/poisoned-rows.ts';
import { demoRows, POISONED_TICKET_COUNT } from '../../src/db/seed-data.ts';
import { UNTRUSTED_META_KEY } from '../../src/mcp/result-guard.ts';
import { REDACTION_MARKER } from '../../src/security/result-scan/redact.ts';
import { startServer, type ServerHandle } from '../support/server.mjs';

const POISONED = demoRows().tickets.slice(-POISONED_TICKET_COUNT);
const POISONED_IDS = POISONED.map((t) => t[0]);
/** How long the outboxes may take to deliver (their alarm fires about a second after recording). */
const DELIVERY_BOUND_MS = 15_000;

interface Agent {
  key: string;
  key_id: string;
  agent_id: string;
}

async function createKey(server: ServerHandle, name: string): Promise<Agent> {
  const response = await fetch(`${server.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: name, owner: 'user-result-scan', scopes: ['support:read', 'sql:read'] }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as Agent;
}

async function connect(server: ServerHandle, agent: Agent): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'result-scan-e2e', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${agent.key}` } } });
  await client.connect(transport);
  return { client, transport };
}

async function events(server: ServerHandle, type: string): Promise<Array<Record<string, unknown>>> {
  const response = await fetch(`${server.url}/admin/audit/events?type=${type}&limit=1000`, { headers: { authorization: `Bearer ${server.adminSecret}` } });
  expect(response.status).toBe(200);
  return (await response.text()).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The session's events of a type once `count` of them are delivered (the outbox delivers on its alarm), or what there is at the bound. */
async function delivered(server: ServerHandle, type: string, sessionId: string, count: number): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + DELIVERY_BOUND_MS;
  for (;;) {
    const mine = (await events(server, type)).filter((e) => e.session_id === sessionId);
    if (mine.length >= count || Date.now() >= deadline) return mine;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function text(result: CallToolResult, i: number): string {
  const item = result.content[i];
  return item?.type === 'text' ? item.text : '';
}

describe('scanned tool results on the embedded database: annotate and redact', () => {
  let server: ServerHandle;
  let agent: Agent;
  let client: Client;
  let sessionId: string;
  let annotated: CallToolResult;
  let redacted: CallToolResult;
  let benign: CallToolResult;

  beforeAll(async () => {
    server = await startServer({ vars: { RESULT_SCAN_POLICY: JSON.stringify({ list_open_tickets: 'annotate', sql_select: 'redact' }) } });
    agent = await createKey(server, 'Result scan E2E');
    const connection = await connect(server, agent);
    client = connection.client;
    sessionId = connection.transport.sessionId ?? '';
    annotated = (await client.callTool({ name: 'list_open_tickets', arguments: { customer_id: POISONED_CUSTOMER, limit: 100 } })) as CallToolResult;
    redacted = (await client.callTool({ name: 'sql_select', arguments: { sql: `SELECT id, subject FROM tickets WHERE id >= ${POISONED_IDS[0]} ORDER BY id` } })) as CallToolResult;
    benign = (await client.callTool({ name: 'list_open_tickets', arguments: { priority: 'urgent', limit: 5 } })) as CallToolResult;
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('annotate: the rows are delivered as they are, after a warning, with the findings and spans in _meta', () => {
    expect(annotated.isError).toBeFalsy();
    const rows = (annotated.structuredContent as { rows: Array<{ id: number; subject: string }> }).rows;
    for (const t of POISONED) expect(rows.find((r) => r.id === t[0])?.subject).toBe(t[3]);
    expect(text(annotated, 0)).toMatch(/^UNTRUSTED DATA: this result contains text written by others that reads like instructions to an AI model \(/u);
    expect(text(annotated, 0)).toContain('"Do not tell the user"');
    expect(JSON.parse(text(annotated, 1))).toEqual(annotated.structuredContent);
    const meta = annotated._meta?.[UNTRUSTED_META_KEY] as { action: string; count: number; findings: Array<{ rule: string; span: string; path: string; start: number; end: number }> };
    expect(meta.action).toBe('annotate');
    const flaggedPaths = new Set(meta.findings.map((f) => f.path));
    expect(flaggedPaths.size).toBe(POISONED.length);
    for (const f of meta.findings) {
      const index = Number(/^structuredContent\.rows\[(\d+)\]\.subject$/u.exec(f.path)?.[1]);
      expect(rows[index]?.subject.slice(f.start, f.end)).toBe(f.span);
    }
    expect(meta.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['hidden-instructions/secrecy', 'unicode/invisible', 'hidden-instructions/override', 'result/tool-name']));
  });

  it('redact: the offending sentences are replaced in structured content and text; nothing of them reaches the client', () => {
    expect(redacted.isError).toBeFalsy();
    const rows = (redacted.structuredContent as { rows: Array<{ id: number; subject: string }> }).rows;
    expect(rows.map((r) => r.id)).toEqual(POISONED_IDS);
    expect(rows.map((r) => r.subject)).toEqual([`Refund for order 2291. ${REDACTION_MARKER}`, `Please resend my ${REDACTION_MARKER}`, REDACTION_MARKER]);
    expect(JSON.parse(text(redacted, 1))).toEqual(redacted.structuredContent);
    expect(text(redacted, 0)).toMatch(/^UNTRUSTED DATA: \d+ piece\(s\) of text that read like instructions to an AI model were removed from this result/u);
    const wire = JSON.stringify(redacted);
    for (const gone of ['crm-sync.example.net', 'paste.example.org', 'Do not tell the user', 'Ignore all previous']) expect(wire).not.toContain(gone);
    expect(/[\u{E0000}-\u{E007F}]/u.test(wire)).toBe(false);
    expect((redacted._meta?.[UNTRUSTED_META_KEY] as { action: string }).action).toBe('redact');
  });

  it('a benign call is unchanged: one text item, no untrusted mark', () => {
    expect(benign.isError).toBeFalsy();
    expect(benign.content).toHaveLength(1);
    expect(JSON.parse(text(benign, 0))).toEqual(benign.structuredContent);
    expect(benign._meta?.[UNTRUSTED_META_KEY]).toBeUndefined();
  });

  it('each hit is a tool.result_flagged event with the chain; the benign call has none', async () => {
    const flagged = await delivered(server, 'tool.result_flagged', sessionId, 2);
    expect(flagged).toHaveLength(2);
    const chain = { agent_id: agent.agent_id, key_id: agent.key_id, owner: 'user-result-scan', user_id: 'user-result-scan', agent_name: 'Result scan E2E' };
    const [first, second] = flagged;
    expect(first).toMatchObject({ v: 1, type: 'tool.result_flagged', outcome: 'success', tool: 'list_open_tickets', session_id: sessionId, actor: chain, params: { customer_id: POISONED_CUSTOMER, limit: 100 } });
    expect(first?.reason).toMatch(/^annotate: \d+ finding\(s\): /u);
    expect(second).toMatchObject({ type: 'tool.result_flagged', outcome: 'success', tool: 'sql_select', session_id: sessionId, actor: chain });
    expect(second?.reason).toMatch(/^redact: \d+ finding\(s\): /u);
    expect(first?.request_id).toEqual(expect.any(String));
    // Every call is also a tool.call; the three are all successes.
    const calls = await delivered(server, 'tool.call', sessionId, 3);
    expect(calls.map((c) => [c.tool, c.outcome])).toEqual([
      ['list_open_tickets', 'success'],
      ['sql_select', 'success'],
      ['list_open_tickets', 'success'],
    ]);
    // The benign call (the third) left no flag: the two flags are the first two calls' requests.
    expect(flagged.map((f) => f.request_id)).toEqual(calls.slice(0, 2).map((c) => c.request_id));
  });
});

describe('scanned tool results on MariaDB: block', () => {
  let server: ServerHandle;
  let agent: Agent;
  let client: Client;
  let sessionId: string;

  beforeAll(async () => {
    const mysqlUrl = process.env.TEST_MYSQL_URL;
    const auditUrl = process.env.TEST_MYSQL_AUDIT_URL;
    if (!mysqlUrl || !auditUrl) throw new Error('TEST_MYSQL_URL and TEST_MYSQL_AUDIT_URL must be set: run the tests with `npm test`, which starts MariaDB');
    server = await startServer({ mysqlUrl, auditUrl, vars: { RESULT_SCAN_POLICY: JSON.stringify({ list_open_tickets: 'block' }) } });
    agent = await createKey(server, 'Result scan block E2E');
    const connection = await connect(server, agent);
    client = connection.client;
    sessionId = connection.transport.sessionId ?? '';
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('the poisoned tickets come back as a result_blocked tool error naming rules, not the text; audited as denied', async () => {
    const result = (await client.callTool({ name: 'list_open_tickets', arguments: { customer_id: POISONED_CUSTOMER, limit: 100 } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(result.content).toHaveLength(1);
    expect(text(result, 0)).toMatch(/^result_blocked: the result was withheld: 3 value\(s\) held text that reads like instructions to the model \(.*unicode\/invisible.*\); the event is in the audit trail$/u);
    expect(result.structuredContent).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain('crm-sync');
    const benign = (await client.callTool({ name: 'list_open_tickets', arguments: { priority: 'urgent', limit: 3 } })) as CallToolResult;
    expect(benign.isError).toBeFalsy();
    expect(benign.content).toHaveLength(1);

    const flagged = await delivered(server, 'tool.result_flagged', sessionId, 1);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ type: 'tool.result_flagged', outcome: 'denied', error_code: 'result_blocked', tool: 'list_open_tickets', actor: { agent_id: agent.agent_id, key_id: agent.key_id } });
    const calls = await delivered(server, 'tool.call', sessionId, 2);
    expect(calls.map((c) => [c.outcome, c.error_code])).toEqual([
      ['failure', 'result_blocked'],
      ['success', undefined],
    ]);
  });
});
