// End to end in Node: the MCP SDK's client with an API key against the real server (wrangler dev): tools, scope refusal, revocation and the rate bucket.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

/** What POST /admin/keys answers (the fields these tests read). */
interface CreatedKey {
  key: string;
  key_id: string;
  scopes: string[];
  last_used_at: string | null;
}

/** One HTTP exchange the SDK's transport made with /mcp. */
interface Exchange {
  method: string;
  status: number;
  body?: string;
}

let server: Server;

async function admin(path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function createKey(body: Record<string, unknown>): Promise<CreatedKey> {
  const response = await admin('/admin/keys', { agent_name: 'E2E Agent', owner: 'user-e2e', ...body });
  expect(response.status).toBe(201);
  return (await response.json()) as CreatedKey;
}

/** The SDK client with the key in the Authorization header; every HTTP exchange is recorded. */
async function connect(key: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport; exchanges: Exchange[] }> {
  const exchanges: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const exchange: Exchange = { method: init?.method ?? 'GET', status: response.status };
    if (response.status === 429) exchange.body = await response.clone().text();
    exchanges.push(exchange);
    return response;
  };
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${key}` } }, fetch: recording });
  await client.connect(transport);
  return { client, transport, exchanges };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the SDK client with an API key', () => {
  beforeAll(async () => {
    server = (await startServer());
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists the tools and calls get_customer with a key in the Authorization header; the admin API records the use', async () => {
    const created = await createKey({ scopes: ['support:read', 'sql:read'] });
    expect(created.last_used_at).toBeNull();
    const { client, transport } = await connect(created.key);
    expect(client.getServerVersion()).toMatchObject({ name: 'own-mcp-server' });
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['get_customer', 'sql_select']));
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 42 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: 42 });
    const sql = await client.callTool({ name: 'sql_select', arguments: { sql: 'SELECT 7 AS seven' } });
    expect(sql.structuredContent).toMatchObject({ rows: [{ seven: 7 }] });
    await client.close();

    const shown = (await (await admin(`/admin/keys/${created.key_id}`)).json()) as { last_used_at: string | null };
    expect(Date.parse(shown.last_used_at ?? '')).toBeGreaterThan(Date.now() - 60_000);
  });

  it('52: a key with only support:read calling sql_select → the SDK throws StreamableHTTPError 403 insufficient_scope; support tools still work', async () => {
    const created = await createKey({ scopes: ['support:read'] });
    const { client, exchanges } = await connect(created.key);
    const error = await client.callTool({ name: 'sql_select', arguments: { sql: 'SELECT 1' } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(403);
    expect((error as Error).message).toContain('Forbidden: insufficient scope');
    expect((error as Error).message).toContain('"reason":"insufficient_scope"');
    expect(exchanges.filter((x) => x.status === 403)).toHaveLength(1);
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 1 } });
    expect(result.structuredContent).toMatchObject({ id: 1 });
    await client.close();
  });

  it('52: a revoked key → the next call throws StreamableHTTPError 401', async () => {
    const created = await createKey({ scopes: ['support:read'] });
    const { client } = await connect(created.key);
    expect((await client.callTool({ name: 'get_customer', arguments: { customer_id: 3 } })).structuredContent).toMatchObject({ id: 3 });
    const revoked = await admin(`/admin/keys/${created.key_id}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ key_id: created.key_id, status: 'revoked' });
    const error = await client.callTool({ name: 'get_customer', arguments: { customer_id: 3 } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    expect((error as Error).message).toContain('"reason":"invalid_token"');
    await client.close();
  });

  it('52: a flood from the SDK client against a bucket of 5 per 60 s gets exactly 5 admitted requests, then StreamableHTTPError 429', async () => {
    const created = await createKey({ scopes: ['support:read'], rate_limit: { requests: 5, per_seconds: 60 } });
    const { client, exchanges } = await connect(created.key);
    // The handshake (initialize, notifications/initialized) and the SDK's GET stream also take tokens.
    await until(() => exchanges.some((x) => x.method === 'GET'));
    expect(exchanges).toEqual([
      { method: 'POST', status: 200 },
      { method: 'POST', status: 202 },
      { method: 'GET', status: 200 },
    ]);
    const spent = exchanges.length;

    const flood = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => client.callTool({ name: 'get_customer', arguments: { customer_id: i + 1 } })));
    const ok = flood.filter((r) => r.status === 'fulfilled');
    const failed = flood.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(5 - spent);
    expect(failed).toHaveLength(12 - (5 - spent));
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(StreamableHTTPError);
      expect((f.reason as StreamableHTTPError).code).toBe(429);
      expect((f.reason as Error).message).toContain('Too many requests: the key rate limit is exhausted');
    }
    // Over the wire: exactly 5 requests admitted in all, every other one refused with 429 naming the key's limit.
    expect(exchanges.filter((x) => x.status !== 429)).toHaveLength(5);
    const refused = exchanges.filter((x) => x.status === 429);
    expect(refused).toHaveLength(12 - (5 - spent));
    for (const r of refused) {
      expect(JSON.parse(r.body ?? '{}')).toMatchObject({ error: { code: -32029, data: { reason: 'rate_limited', limit: 'key' } } });
    }
    await client.close();
  });
});
