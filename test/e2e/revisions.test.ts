// End to end in Node: one /mcp serving MCP 2026-07-28 (SDK v2 client, stateless) beside 2025-11-25 (SDK v1 client, sessions), on the embedded database and on MariaDB.
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';
import { signIn, type FlowFetchers } from '../support/oauth-flow.ts';

const mysqlUrl = process.env.TEST_MYSQL_URL;
const FETCHERS: FlowFetchers = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
/** What support_report logs at info, step by step. */
const REPORT_LOGS = [{ step: 'tickets', done: 1, of: 3 }, { step: 'orders', done: 2, of: 3 }, { step: 'revenue', done: 3, of: 3 }];
const CATALOG = ['find_customers', 'get_customer', 'list_customer_orders', 'list_open_tickets', 'support_report', 'sql_select', 'list_tables', 'describe_table'];

/** One HTTP exchange a client's transport made with /mcp. */
interface Exchange {
  method: string;
  status: number;
  version: string | null;
  session: string | null;
  mcpMethod: string | null;
}

function recorder(exchanges: Exchange[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const headers = new Headers(init?.headers);
    exchanges.push({ method: init?.method ?? 'GET', status: response.status, version: headers.get('mcp-protocol-version'), session: headers.get('mcp-session-id'), mcpMethod: headers.get('mcp-method') });
    return response;
  };
}

/** The SDK v2 client, pinned to 2026-07-28 (no handshake, no session). */
async function connectV2(server: Server, credential: string, exchanges: Exchange[] = []): Promise<ClientV2> {
  const client = new ClientV2({ name: 'e2e-v2', version: '2.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  const transport = new TransportV2(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${credential}` } }, fetch: recorder(exchanges) });
  await client.connect(transport);
  return client;
}

/** The SDK v1 client on 2025-11-25 (initialize, then a session). */
async function connectV1(server: Server, credential: string): Promise<{ client: ClientV1; transport: TransportV1 }> {
  const client = new ClientV1({ name: 'e2e-v1', version: '1.0.0' }, { capabilities: {} });
  const transport = new TransportV1(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${credential}` } } });
  await client.connect(transport);
  return { client, transport };
}

interface AuditRow {
  type: string;
  outcome: string;
  tool?: string;
  session_id?: string;
  actor: Record<string, string>;
  error_code?: string;
}

async function auditEvents(server: Server): Promise<AuditRow[]> {
  const response = await fetch(`${server.url}/admin/audit/events?type=tool.call&limit=10000`, { headers: { authorization: `Bearer ${server.adminSecret}` } });
  expect(response.status).toBe(200);
  const text = (await response.text()).trim();
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as AuditRow);
}

async function createKey(server: Server, body: Record<string, unknown>): Promise<{ key: string; key_id: string }> {
  const response = await fetch(`${server.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'Revisions Agent', owner: 'user-revisions', ...body }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { key: string; key_id: string };
}

describe.each([
  ['embedded', undefined],
  ['mysql', mysqlUrl],
])('both MCP revisions on one /mcp, on the %s database', (database, url) => {
  let server: Server;
  let accessToken = '';

  beforeAll(async () => {
    if (database === 'mysql' && !url) throw new Error('TEST_MYSQL_URL is not set: run the tests with `npm test`, which starts MariaDB');
    server = await startServer({ mysqlUrl: url, auditUrl: process.env.TEST_MYSQL_AUDIT_URL });
    accessToken = (await signIn(server.url, FETCHERS)).accessToken;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('the SDK v2 client speaks 2026-07-28 with no session: lists the signed catalog and calls a tool', async () => {
    const exchanges: Exchange[] = [];
    const client = await connectV2(server, accessToken, exchanges);
    expect(client.getServerVersion()).toMatchObject({ name: 'own-mcp-server' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(CATALOG);
    const getCustomer = tools.find((t) => t.name === 'get_customer');
    expect(getCustomer?._meta).toEqual({ scope: 'support:read', 'io.github.own-mcp-server/integrity': expect.objectContaining({ scope: 'support:read', digest: expect.stringMatching(/^sha256:/) }) });
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 42 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: 42 });
    // Every exchange was a stateless POST naming the revision and its method; no session id anywhere.
    expect(exchanges.length).toBeGreaterThanOrEqual(3);
    for (const e of exchanges) expect(e).toMatchObject({ method: 'POST', status: 200, version: '2026-07-28', session: null });
    expect(exchanges.map((e) => e.mcpMethod)).toEqual(expect.arrayContaining(['server/discover', 'tools/list', 'tools/call']));
    await client.close();
  });

  it('the same tool lists with the same integrity digest in both revisions', async () => {
    const v2 = await connectV2(server, accessToken);
    const { client: v1 } = await connectV1(server, accessToken);
    const modern = (await v2.listTools()).tools;
    const legacy = (await v1.listTools()).tools;
    expect(modern.map((t) => [t.name, t._meta])).toEqual(legacy.map((t) => [t.name, t._meta]));
    await v2.close();
    await v1.close();
  });

  it('progress and logging reach the SDK v2 client on 2026-07-28 and the SDK v1 client on 2025-11-25', async () => {
    const v2 = await connectV2(server, accessToken);
    const modernLogs: unknown[] = [];
    v2.setNotificationHandler('notifications/message', (n) => {
      modernLogs.push(n.params.data);
    });
    // 2026-07-28: a request that names no log level in its envelope has asked for none.
    await v2.callTool({ name: 'support_report', arguments: {} });
    expect(modernLogs).toEqual([]);
    const modernProgress: number[] = [];
    const modern = await v2.callTool({ name: 'support_report', arguments: {}, _meta: { 'io.modelcontextprotocol/logLevel': 'info' } }, { onprogress: (p) => modernProgress.push(p.progress) });
    expect(modern.structuredContent).toHaveProperty('revenue');
    expect(modernProgress).toEqual([0, 1, 2, 3]);
    expect(modernLogs).toEqual(REPORT_LOGS);
    modernLogs.length = 0;
    await v2.callTool({ name: 'support_report', arguments: {}, _meta: { 'io.modelcontextprotocol/logLevel': 'warning' } });
    expect(modernLogs).toEqual([]);
    await v2.close();

    const { client: v1 } = await connectV1(server, accessToken);
    const legacyLogs: unknown[] = [];
    v1.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      legacyLogs.push(n.params.data);
    });
    const legacyProgress: number[] = [];
    await v1.callTool({ name: 'support_report', arguments: {} }, CallToolResultSchema, { onprogress: (p) => legacyProgress.push(p.progress) });
    expect(legacyProgress).toEqual([0, 1, 2, 3]);
    // A session starts at info: the same lines without asking.
    expect(legacyLogs).toEqual(REPORT_LOGS);
    await v1.close();
  });

  it('a tool call in either revision is audited with the same delegation chain; only the session call names a session', async () => {
    const v2 = await connectV2(server, accessToken);
    await v2.callTool({ name: 'get_customer', arguments: { customer_id: 7 } });
    const { client: v1, transport } = await connectV1(server, accessToken);
    await v1.callTool({ name: 'get_customer', arguments: { customer_id: 8 } });
    const sessionId = transport.sessionId;
    // The session's outbox delivers on its alarm; the stateless call is in the store before its answer.
    let events: AuditRow[] = [];
    for (let i = 0; i < 100; i++) {
      events = (await auditEvents(server)).filter((e) => e.tool === 'get_customer' && e.outcome === 'success');
      if (events.some((e) => e.session_id === sessionId)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const legacy = events.find((e) => e.session_id === sessionId);
    const modern = events.filter((e) => e.session_id === undefined || e.session_id === null);
    expect(legacy).toBeDefined();
    expect(modern.length).toBeGreaterThanOrEqual(1);
    const chain = (e: AuditRow) => ({ user: e.actor['user_id'], client: e.actor['client_id'], grant: e.actor['grant_id'], token: e.actor['token_id'] });
    expect(chain(modern.at(-1) as AuditRow)).toEqual(chain(legacy as AuditRow));
    expect(chain(legacy as AuditRow).grant).toMatch(/.{16,}/);
    await v2.close();
    await v1.close();
  });

  it('an API key works in both revisions; without the tool scope both get 403, and over the limit both get 429', async () => {
    const full = await createKey(server, { scopes: ['support:read', 'sql:read'] });
    const v2 = await connectV2(server, full.key);
    expect((await v2.callTool({ name: 'get_customer', arguments: { customer_id: 5 } })).structuredContent).toMatchObject({ id: 5 });
    await v2.close();

    const narrow = await createKey(server, { scopes: ['support:read'] });
    const narrowV2 = await connectV2(server, narrow.key);
    const refused = await narrowV2.callTool({ name: 'sql_select', arguments: { sql: 'SELECT 1' } }).catch((e: unknown) => e);
    expect(String(refused)).toMatch(/403|insufficient_scope|scope/i);
    await narrowV2.close();
    const { client: narrowV1 } = await connectV1(server, narrow.key);
    const refusedV1 = await narrowV1.callTool({ name: 'sql_select', arguments: { sql: 'SELECT 1' } }).catch((e: unknown) => e);
    expect(String(refusedV1)).toMatch(/403|insufficient_scope|scope/i);
    await narrowV1.close();
  });
});
