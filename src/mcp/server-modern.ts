/** The McpServer of one stateless MCP 2026-07-28 request, on the TypeScript SDK v2: the same catalog, integrity gate and tool-running path as a session. */
import { McpServer, type CallToolResult, type RegisteredTool, type ServerCapabilities } from '@modelcontextprotocol/server';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/server/validators/cf-worker';
import { withIntegrityMeta } from '../security/integrity/verify.ts';
import { conformanceCapabilities } from '../tools/conformance.ts';
import { registerModernConformancePack } from '../tools/conformance-modern.ts';
import type { CatalogTool } from './catalog.ts';
import { CATALOG, callCatalogTool, SERVER_INFO, type LiveServer, type ServerDeps } from './server.ts';

/** A live v2 server and the names of the tools it serves. */
export interface LiveModernServer extends Omit<LiveServer, 'server'> {
  server: McpServer;
}

const INSTRUCTIONS =
  'Tools over a customer-support database (customers, orders, tickets). Use find_customers to locate a customer, then get_customer, list_customer_orders and list_open_tickets. sql_select runs one read-only SELECT; list_tables and describe_table show the schema.';

/** A new v2 McpServer with the catalog registered; one per stateless request. */
export function createModernServer(deps: ServerDeps): LiveModernServer {
  const capabilities: ServerCapabilities = {
    tools: { listChanged: false },
    logging: {},
    ...(deps.config.ENABLE_CONFORMANCE_PACK ? (conformanceCapabilities as ServerCapabilities) : {}),
  };
  const server = new McpServer(SERVER_INFO, { capabilities, jsonSchemaValidator: new CfWorkerJsonSchemaValidator(), instructions: INSTRUCTIONS });
  const handles = new Map<string, RegisteredTool>();
  for (const tool of CATALOG) handles.set(tool.name, register(server, tool, deps));
  if (deps.config.ENABLE_CONFORMANCE_PACK) for (const [name, handle] of registerModernConformancePack(server)) handles.set(name, handle);
  // The verdict is the session's (computed from the v1 reference listing): the same tools are
  // served, with the same digests and signatures in `_meta`; an unverified tool is removed.
  const gate = deps.integrity;
  if (gate !== 'unchecked') {
    for (const [name, handle] of handles) {
      const meta = gate.passed.get(name);
      if (meta) handle.update({ _meta: withIntegrityMeta(handle._meta, meta) });
      else handle.remove();
    }
  }
  const served = new Set([...handles.keys()].filter((name) => gate === 'unchecked' || gate.passed.has(name)));
  return { server, hasTool: (name) => served.has(name) };
}

function register(server: McpServer, tool: CatalogTool, deps: ServerDeps): RegisteredTool {
  return server.registerTool(
    tool.name,
    { title: tool.title, description: tool.description, inputSchema: tool.input, annotations: tool.annotations, _meta: { scope: tool.scope } },
    async (args: unknown, ctx): Promise<CallToolResult> => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      return callCatalogTool(tool, deps, args, {
        requestId: ctx.mcpReq.id,
        signal: ctx.mcpReq.signal,
        async progress(progress, total, message) {
          if (progressToken === undefined) return;
          await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total, message } });
        },
        async log(level, data) {
          // 2026-07-28: the request's own envelope names its log level (the SDK filters by it); a
          // request that names none has not asked for log messages and gets none.
          await ctx.mcpReq.log(level, data, tool.name);
        },
      });
    },
  );
}
