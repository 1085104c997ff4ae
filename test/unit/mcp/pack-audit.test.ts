// Issue 14 found the conformance pack's tools unaudited (a benchmark of its cheap tool measured a call with no
// audit entry); src/mcp/pack-audit.ts gives them the result guard and the audit entry every catalog tool gets.
import type { Client } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { createMcpServer, type ToolAudit } from '../../../src/mcp/server.ts';
import { connected, recordingDeps } from '../../support/mcp-server.ts';

/** A client of a server with the conformance pack on, and what its audit sink received. */
async function packClient(): Promise<{ client: Client; audited: ToolAudit[] }> {
  const { deps, audited } = recordingDeps({ ENABLE_CONFORMANCE_PACK: 'true' });
  return { client: await connected(createMcpServer(deps, 'session').server), audited };
}

describe('the conformance pack is audited like the catalog', () => {
  it('a pack tool with no input schema: one success entry with its request id, byte count and latency, before the result', async () => {
    const { client, audited } = await packClient();
    const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ tool: 'test_simple_text', outcome: 'success', bytes: JSON.stringify(result.content).length, requestId: expect.anything() });
    expect(audited[0]?.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('a pack tool with an input schema is audited with its arguments', async () => {
    const { client, audited } = await packClient();
    await client.callTool({ name: 'json_schema_2020_12_tool', arguments: { name: 'n', address: { street: 's', city: 'c' } } });
    expect(audited).toEqual([expect.objectContaining({ tool: 'json_schema_2020_12_tool', args: { name: 'n', address: { street: 's', city: 'c' } } })]);
  });

  it('a pack tool that fails is audited as a failure, and the client still gets the error result', async () => {
    const { client, audited } = await packClient();
    const result = await client.callTool({ name: 'test_error_handling', arguments: {} });
    expect(result.isError).toBe(true);
    expect(audited).toEqual([expect.objectContaining({ tool: 'test_error_handling', outcome: 'failure' })]);
  });
});
