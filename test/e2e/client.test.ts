// End to end in Node: the MCP SDK's own client against the real server (wrangler dev), on the embedded database and on MariaDB.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, LoggingMessageNotificationSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';
import { signIn, type FlowFetchers } from '../support/oauth-flow.ts';

const mysqlUrl = process.env.TEST_MYSQL_URL;
const FETCHERS: FlowFetchers = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
let accessToken = '';
const CATALOG = ['find_customers', 'get_customer', 'list_customer_orders', 'list_open_tickets', 'support_report', 'sql_select', 'list_tables', 'describe_table'];

async function connect(server: Server): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'e2e', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } });
  await client.connect(transport);
  return { client, transport };
}

describe.each([
  ['embedded', undefined],
  ['mysql', mysqlUrl],
])('the SDK client against the server on the %s database', (database, url) => {
  let server: Server;

  beforeAll(async () => {
    if (database === 'mysql' && !url) throw new Error('TEST_MYSQL_URL is not set: run the tests with `npm test`, which starts MariaDB');
    server = await startServer({ mysqlUrl: url, auditUrl: process.env.TEST_MYSQL_AUDIT_URL });
    accessToken = (await signIn(server.url, FETCHERS)).accessToken;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('the server says which database it uses', async () => {
    const info = (await (await fetch(`${server.url}/`)).json()) as { database: string };
    expect(info.database).toBe(database);
  });

  it('initializes, lists the catalog with schemas and scopes, and calls a tool', async () => {
    const { client, transport } = await connect(server);
    expect(client.getServerVersion()).toMatchObject({ name: 'own-mcp-server' });
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(CATALOG);
    const getCustomer = tools.find((t) => t.name === 'get_customer');
    expect(getCustomer?.inputSchema).toMatchObject({ type: 'object', properties: { customer_id: { type: 'integer' } }, required: ['customer_id'] });
    expect(getCustomer?._meta).toEqual({ scope: 'support:read', 'io.github.own-mcp-server/integrity': expect.objectContaining({ scope: 'support:read', digest: expect.stringMatching(/^sha256:/) }) });
    expect(getCustomer?.annotations).toMatchObject({ readOnlyHint: true });
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 42 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: 42 });
    await client.close();
  });

  it('receives progress and log notifications while a tool runs', async () => {
    const { client } = await connect(server);
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params.data);
    });
    // No setLoggingLevel yet: a session starts at info, the level support_report logs at.
    const progress: number[] = [];
    const result = await client.callTool({ name: 'support_report', arguments: {} }, CallToolResultSchema, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([0, 1, 2, 3]);
    expect(logs).toEqual([{ step: 'tickets', done: 1, of: 3 }, { step: 'orders', done: 2, of: 3 }, { step: 'revenue', done: 3, of: 3 }]);
    expect(result.structuredContent).toHaveProperty('revenue');
    await client.setLoggingLevel('warning');
    logs.length = 0;
    await client.callTool({ name: 'support_report', arguments: {} });
    expect(logs).toEqual([]);
    await client.close();
  });

  it('a tool error comes back as isError with a safe message', async () => {
    const { client } = await connect(server);
    const result = await client.callTool({ name: 'sql_select', arguments: { sql: 'DROP TABLE customers' } });
    expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'sql_rejected: only SELECT statements are allowed' }] });
    await client.close();
  });

  it('resumes an SSE stream with Last-Event-ID and gets the missed events', async () => {
    const { client, transport } = await connect(server);
    const tokens: string[] = [];
    await client.request({ method: 'tools/call', params: { name: 'support_report', arguments: {}, _meta: { progressToken: 'resume-test' } } }, CallToolResultSchema, {
      onresumptiontoken: (token) => tokens.push(token),
    });
    expect(tokens.length).toBeGreaterThanOrEqual(5);
    // A second transport on the same session resumes after the first event, as a reconnecting client would.
    const replayed: JSONRPCMessage[] = [];
    const resumer = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { sessionId: transport.sessionId, requestInit: { headers: { authorization: `Bearer ${accessToken}` } } });
    const done = new Promise<void>((resolve) => {
      resumer.onmessage = (message) => {
        replayed.push(message);
        if ('result' in message) resolve();
      };
    });
    await resumer.start();
    resumer.setProtocolVersion('2025-11-25');
    await resumer.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'x', progress: 0 } }, { resumptionToken: tokens[1] });
    await done;
    const kinds = replayed.map((m) => ('method' in m ? m.method : 'result'));
    expect(kinds.at(-1)).toBe('result');
    expect(kinds.filter((k) => k === 'notifications/progress').length).toBeGreaterThanOrEqual(2);
    await resumer.close();
    await client.close();
  });

  it('the session survives a server restart', async () => {
    const { client, transport } = await connect(server);
    await client.callTool({ name: 'get_customer', arguments: { customer_id: 3 } });
    const sessionId = transport.sessionId;
    await server.restart();
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 4 } });
    expect(result.structuredContent).toMatchObject({ id: 4 });
    expect(transport.sessionId).toBe(sessionId);
    await client.close();
  });

  it('DELETE ends the session: a request with its id is refused with 404', async () => {
    const { client, transport } = await connect(server);
    const sessionId = transport.sessionId;
    await transport.terminateSession();
    await client.close();
    // The SDK forgets the id after DELETE; a client that kept it gets 404 (the session is gone).
    const staleTransport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { sessionId, requestInit: { headers: { authorization: `Bearer ${accessToken}` } } });
    await staleTransport.start();
    staleTransport.onmessage = (message) => {
      throw new Error(`unexpected message ${JSON.stringify(message)}`);
    };
    const error = await staleTransport.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(404);
    await staleTransport.close();
  });

  it('cancelling a call leaves the session usable', async () => {
    const { client } = await connect(server);
    const controller = new AbortController();
    const pending = client.callTool({ name: 'support_report', arguments: {} }, CallToolResultSchema, { signal: controller.signal });
    controller.abort('user pressed stop');
    await expect(pending).rejects.toThrow();
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 5 } });
    expect(result.structuredContent).toMatchObject({ id: 5 });
    await client.close();
  });
});
