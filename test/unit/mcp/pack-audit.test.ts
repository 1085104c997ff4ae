// Issue 14 found the conformance pack's tools unaudited (a benchmark of its cheap tool measured a call with no
// audit entry); src/mcp/pack-audit.ts gives them the result guard and the audit entry every catalog tool gets.
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import type { Principal } from '../../../src/mcp/principal.ts';
import { createMcpServer, type ServerDeps, type ToolAudit } from '../../../src/mcp/server.ts';

const NOBODY: Principal = { kind: 'agent', id: 'key:t', keyId: 'k'.repeat(16), agentId: 'a', agentName: 'a', owner: 'o', scopes: [] };

async function packClient(audited: ToolAudit[]): Promise<Client> {
  const deps: ServerDeps = {
    config: loadConfig({ ENABLE_CONFORMANCE_PACK: 'true' }),
    db: () => {
      throw new Error('no database in this test');
    },
    principal: NOBODY,
    logLevel: () => 'info',
    integrity: 'unchecked',
    audit: async (entry) => void audited.push(entry),
  };
  const { server } = createMcpServer(deps, 'session');
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'vitest', version: '1' });
  await client.connect(clientSide);
  return client;
}

describe('the conformance pack is audited like the catalog', () => {
  it('a pack tool with no input schema: one success entry with its request id, byte count and latency, before the result', async () => {
    const audited: ToolAudit[] = [];
    const client = await packClient(audited);
    const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ tool: 'test_simple_text', outcome: 'success', bytes: JSON.stringify(result.content).length, requestId: expect.anything() });
    expect(audited[0]?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('a pack tool with an input schema is audited with its arguments', async () => {
    const audited: ToolAudit[] = [];
    const client = await packClient(audited);
    await client.callTool({ name: 'json_schema_2020_12_tool', arguments: { name: 'n', address: { street: 's', city: 'c' } } });
    expect(audited).toEqual([expect.objectContaining({ tool: 'json_schema_2020_12_tool', args: { name: 'n', address: { street: 's', city: 'c' } } })]);
  });

  it('a pack tool that fails is audited as a failure, and the client still gets the error result', async () => {
    const audited: ToolAudit[] = [];
    const client = await packClient(audited);
    const result = await client.callTool({ name: 'test_error_handling', arguments: {} });
    expect(result.isError).toBe(true);
    expect(audited).toEqual([expect.objectContaining({ tool: 'test_error_handling', outcome: 'failure' })]);
  });
});
