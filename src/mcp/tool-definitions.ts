/** The tool definitions exactly as tools/list serves them, read from a real McpServer over the SDK's in-memory transport. */
import { InMemoryTransport, LATEST_PROTOCOL_VERSION, type JSONRPCMessage, type McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config.ts';
import type { ToolEntry } from '../security/integrity/canonical.ts';
import type { ToolPack } from '../security/integrity/lock.ts';
import type { ServedTool } from '../security/integrity/verify.ts';
import { CATALOG, createMcpServer } from './server.ts';
import type { Principal } from './principal.ts';

/** A served tool with where it comes from. */
export interface ReferenceTool extends ServedTool {
  pack: ToolPack;
}

/** Stands in for a caller while the reference server is listed; no tool is ever called on it. */
const NOBODY: Principal = { kind: 'agent', id: 'key:integrity-check', keyId: 'integrity-check-0000', agentId: 'integrity-check', agentName: 'integrity check', owner: 'integrity-check', scopes: [] };

/**
 * Every tool a server with this configuration serves, as tools/list returns it (JSON, all pages),
 * with its scope and pack. The server is built by the same factory the sessions use, without the
 * integrity gate, so what is signed and checked is what a client receives.
 */
export async function referenceTools(config: Config): Promise<ReferenceTool[]> {
  const { server } = createMcpServer({
    config,
    db: () => {
      throw new Error('the reference server has no database');
    },
    principal: NOBODY,
    logLevel: () => 'info',
    integrity: 'unchecked',
  });
  const entries = await listServedTools(server);
  const scopes = new Map(CATALOG.map((tool) => [tool.name, tool.scope]));
  return entries.map((entry) => ({ entry, scope: scopes.get(entry.name) ?? null, pack: scopes.has(entry.name) ? 'catalog' : 'conformance' }));
}

/** Lists a server's tools through tools/list (following `nextCursor`), as JSON; closes the server afterwards. */
export async function listServedTools(server: McpServer): Promise<ToolEntry[]> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const waiting = new Map<number, (message: JSONRPCMessage) => void>();
  clientSide.onmessage = (message) => {
    const id = 'id' in message ? message.id : undefined;
    const resolve = typeof id === 'number' ? waiting.get(id) : undefined;
    if (resolve && typeof id === 'number') {
      waiting.delete(id);
      resolve(message);
    }
  };
  let next = 0;
  const request = async (method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const id = ++next;
    const answer = new Promise<JSONRPCMessage>((resolve) => waiting.set(id, resolve));
    await clientSide.send({ jsonrpc: '2.0', id, method, params });
    const message = (await answer) as { result?: Record<string, unknown>; error?: { message?: string } };
    if (!message.result) throw new Error(`${method} failed: ${message.error?.message ?? 'no result'}`);
    // The wire carries JSON: whatever does not survive serialisation is not served.
    return JSON.parse(JSON.stringify(message.result)) as Record<string, unknown>;
  };
  await server.connect(serverSide);
  try {
    await request('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'own-mcp-server-integrity', version: '1' } });
    await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const tools: ToolEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await request('tools/list', cursor === undefined ? {} : { cursor });
      tools.push(...((page['tools'] ?? []) as ToolEntry[]));
      cursor = typeof page['nextCursor'] === 'string' ? page['nextCursor'] : undefined;
    } while (cursor !== undefined);
    return tools;
  } finally {
    await server.close();
  }
}
