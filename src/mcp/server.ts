/** Builds the McpServer of one session: the tool catalog, logging, and the conformance pack when enabled. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import type { CallToolResult, LoggingLevel, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.ts';
import type { DataPort } from '../db/port.ts';
import { ToolError } from '../errors.ts';
import { supportTools } from '../tools/support.ts';
import { sqlTools } from '../tools/sql.ts';
import { conformanceCapabilities, registerConformancePack } from '../tools/conformance.ts';
import type { CatalogTool, ToolContext } from './catalog.ts';
import { captureTools, enforceIntegrity, type IntegrityGate } from './integrity-gate.ts';
import type { Principal } from './principal.ts';

/** Name and version the server reports in `initialize`. */
export const SERVER_INFO = { name: 'own-mcp-server', version: '0.1.0' } as const;

/** Every tool the server offers (the conformance pack comes on top when enabled). */
export const CATALOG: readonly CatalogTool[] = [...supportTools, ...sqlTools];

const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** What the session gives the server: data, settings, caller, and the logging level it keeps. */
export interface ServerDeps {
  config: Config;
  db: () => DataPort;
  principal: Principal;
  logLevel: () => LoggingLevel;
  /** Records the tool call in the audit trail before the result goes back (absent when auditing is off). */
  audit?: ((entry: ToolAudit) => Promise<void>) | undefined;
  /** The start-up verdict against tools.lock.json: only verified tools are served (src/mcp/tool-integrity.ts). */
  integrity: IntegrityGate;
}

/** What the audit trail learns from one tool call. */
export interface ToolAudit {
  /** The JSON-RPC id of the tools/call request. */
  requestId: string | number;
  tool: string;
  args: unknown;
  outcome: 'success' | 'failure';
  errorCode?: string | undefined;
  rows?: number | undefined;
  bytes: number;
  latencyMs: number;
}

/** A new McpServer with the catalog registered; one per live session. */
export function createMcpServer(deps: ServerDeps): McpServer {
  const capabilities: ServerCapabilities = {
    tools: { listChanged: false },
    logging: {},
    ...(deps.config.ENABLE_CONFORMANCE_PACK ? conformanceCapabilities : {}),
  };
  const server = new McpServer(SERVER_INFO, {
    capabilities,
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    instructions:
      'Tools over a customer-support database (customers, orders, tickets). Use find_customers to locate a customer, then get_customer, list_customer_orders and list_open_tickets. sql_select runs one read-only SELECT; list_tables and describe_table show the schema.',
  });
  const tools = captureTools(server);
  for (const tool of CATALOG) register(server, tool, deps);
  if (deps.config.ENABLE_CONFORMANCE_PACK) registerConformancePack(server);
  enforceIntegrity(tools, deps.integrity);
  return server;
}

function register(server: McpServer, tool: CatalogTool, deps: ServerDeps): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      annotations: tool.annotations,
      _meta: { scope: tool.scope },
    },
    async (args, extra): Promise<CallToolResult> => {
      const progressToken = extra._meta?.progressToken;
      const ctx: ToolContext = {
        db: deps.db(),
        config: deps.config,
        principal: deps.principal,
        signal: extra.signal,
        async progress(progress, total, message) {
          if (progressToken === undefined) return;
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total, message } });
        },
        async log(level, data) {
          if (LEVELS.indexOf(level) < LEVELS.indexOf(deps.logLevel())) return;
          await extra.sendNotification({ method: 'notifications/message', params: { level, logger: tool.name, data } });
        },
      };
      const started = Date.now();
      const result = await runTool(tool, args, ctx);
      if (deps.audit) {
        const first = result.content[0];
        const errorCode = result.isError && first?.type === 'text' ? first.text.split(':', 1)[0] : undefined;
        const rows = (result.structuredContent as { rowCount?: unknown } | undefined)?.rowCount;
        await deps.audit({
          requestId: extra.requestId,
          tool: tool.name,
          args,
          outcome: result.isError ? 'failure' : 'success',
          errorCode,
          rows: typeof rows === 'number' ? rows : undefined,
          bytes: JSON.stringify(result.content).length,
          latencyMs: Date.now() - started,
        });
      }
      return result;
    },
  );
}

/** Runs a tool; every failure becomes an `isError` result whose text starts with its code. */
async function runTool(tool: CatalogTool, args: unknown, ctx: ToolContext): Promise<CallToolResult> {
  try {
    return await tool.call(args, ctx);
  } catch (error) {
    if (error instanceof ToolError) {
      return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}` }] };
    }
    console.error(JSON.stringify({ event: 'tool_failed', tool: tool.name, error: String(error) }));
    return { isError: true, content: [{ type: 'text', text: 'internal_error: the tool failed unexpectedly' }] };
  }
}
