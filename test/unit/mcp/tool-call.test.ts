// The one argument check of a tools/call (issue 13): the SDK lists the tool's schema but leaves the check to
// callCatalogTool, which parses once, records a refusal with its reason, and answers as the SDK would.
import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { DataPort } from '../../../src/db/port.ts';
import type { CatalogTool } from '../../../src/mcp/catalog.ts';
import { createMcpServer, SERVER_INFO, type ServerDeps } from '../../../src/mcp/server.ts';
import { callCatalogTool, listedOnly } from '../../../src/mcp/tool-call.ts';
import { listServedTools } from '../../../src/mcp/tool-definitions.ts';
import { connected, recordingDeps } from '../../support/mcp-server.ts';

/** A tool whose schema counts how often it is checked, and whose body records what it ran on. */
function countingTool(): { tool: CatalogTool; checks: () => number; ran: unknown[] } {
  let checks = 0;
  const ran: unknown[] = [];
  const input = z
    .object({ n: z.number().int().describe('A number.'), label: z.string().default('none') })
    .superRefine(() => {
      checks += 1;
    });
  const tool: CatalogTool = {
    name: 'counting',
    title: 'Counting',
    description: 'Counts its schema checks.',
    input,
    scope: 'support:read',
    annotations: {},
    streams: false,
    run(parsed) {
      ran.push(parsed);
      return Promise.resolve({ content: [{ type: 'text', text: 'ran' }] });
    },
    call(args, ctx) {
      return this.run(input.parse(args), ctx);
    },
  };
  return { tool, checks: () => checks, ran };
}

function serve(tool: CatalogTool, deps: ServerDeps): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });
  server.registerTool(tool.name, { description: tool.description, inputSchema: listedOnly(tool.input) }, (args: unknown, ctx) =>
    callCatalogTool(tool, deps, args, { requestId: ctx.mcpReq.id, signal: ctx.mcpReq.signal, progress: async () => undefined, log: async () => undefined }),
  );
  return server;
}

describe('listedOnly', () => {
  it('lists exactly the JSON Schema the SDK lists for the zod schema itself', async () => {
    const input = z.object({ customer_id: z.number().int().positive().describe('The customer id.'), limit: z.number().int().min(1).max(100).default(20) });
    const plain = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });
    plain.registerTool('t', { description: 'd', inputSchema: input }, () => ({ content: [] }));
    const wrapped = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });
    wrapped.registerTool('t', { description: 'd', inputSchema: listedOnly(input) }, () => ({ content: [] }));
    const [a] = await listServedTools(plain);
    const [b] = await listServedTools(wrapped);
    expect(b?.inputSchema).toEqual(a?.inputSchema);
    expect(b?.inputSchema).toMatchObject({ type: 'object', required: ['customer_id'] });
  });
});

describe('callCatalogTool: one argument check', () => {
  it('valid arguments are checked once and the tool runs on the parsed value (defaults applied)', async () => {
    const { tool, checks, ran } = countingTool();
    const { deps, refused, audited } = recordingDeps();
    // The counting tool never touches its database; the context still asks for one.
    const client = await connected(serve(tool, { ...deps, db: () => ({}) as DataPort }));
    const result = await client.callTool({ name: 'counting', arguments: { n: 3 } });
    expect(result.isError).toBeFalsy();
    expect(checks()).toBe(1);
    expect(ran).toEqual([{ n: 3, label: 'none' }]);
    expect(refused).toEqual([]);
    expect(audited).toEqual([expect.objectContaining({ tool: 'counting', args: { n: 3 }, outcome: 'success' })]);
    await client.close();
  });

  it('arguments that fail the schema: checked once, refused with the reason, answered as the SDK answers, the tool never runs', async () => {
    const { tool, checks, ran } = countingTool();
    const { deps, refused, audited } = recordingDeps();
    const client = await connected(serve(tool, deps));
    const result = await client.callTool({ name: 'counting', arguments: { n: 'three', password: 'hunter2' } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: 'text', text: expect.stringMatching(/^Input validation error: Invalid arguments for tool counting: n: /u) }]);
    expect(checks()).toBeLessThanOrEqual(1);
    expect(ran).toEqual([]);
    expect(audited).toEqual([]);
    expect(refused).toEqual([{ requestId: expect.anything(), tool: 'counting', args: { n: 'three', password: 'hunter2' }, reason: expect.stringMatching(/^arguments\.n: /u) }]);
    await client.close();
  });

  it('through the server builder: a catalog tool refused for its arguments reaches neither the database nor the audit of a run', async () => {
    const { deps, refused, audited } = recordingDeps();
    const { server } = createMcpServer(deps, 'session');
    const client = await connected(server);
    const result = await client.callTool({ name: 'get_customer', arguments: { customer_id: 'x' } });
    expect(result.isError).toBe(true);
    expect(refused).toEqual([expect.objectContaining({ tool: 'get_customer', reason: expect.stringMatching(/^arguments\.customer_id: /u) })]);
    expect(audited).toEqual([]);
    await client.close();
  });
});
