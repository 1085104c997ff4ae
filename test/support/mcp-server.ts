// An MCP server built by createMcpServer with recording audit sinks, and an SDK client linked to it in memory (unit tests of src/mcp).
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { McpServer } from '@modelcontextprotocol/server';
import { loadConfig } from '../../src/config.ts';
import type { Principal } from '../../src/mcp/principal.ts';
import type { ServerDeps, ToolAudit, ToolRefusal } from '../../src/mcp/server.ts';

const NOBODY: Principal = { kind: 'agent', id: 'key:t', keyId: 'k'.repeat(16), agentId: 'a', agentName: 'a', owner: 'o', scopes: [] };

/** Server dependencies whose audit and refusal sinks record into arrays; no database; `vars` as the Worker's settings. */
export function recordingDeps(vars: Record<string, string> = {}): { deps: ServerDeps; refused: ToolRefusal[]; audited: ToolAudit[] } {
  const refused: ToolRefusal[] = [];
  const audited: ToolAudit[] = [];
  const deps: ServerDeps = {
    config: loadConfig(vars),
    db: () => {
      throw new Error('no database in this test');
    },
    principal: NOBODY,
    logLevel: () => 'info',
    integrity: 'unchecked',
    audit: async (entry) => void audited.push(entry),
    refused: async (refusal) => void refused.push(refusal),
  };
  return { deps, refused, audited };
}

/** An SDK client connected to `server` through a linked in-memory pair. */
export async function connected(server: McpServer): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'vitest', version: '1' });
  await client.connect(clientSide);
  return client;
}
