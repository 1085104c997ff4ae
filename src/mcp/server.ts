/**
 * The one server definition of both protocol revisions, on the TypeScript SDK v2: the tool catalog,
 * its integrity `_meta`, the conformance pack and the logging/progress adapters. A 2025-11-25
 * session (durable/session.ts) and a stateless 2026-07-28 request (src/http/mcp-modern.ts) build it.
 */
import { McpServer, type CallToolResult, type LoggingLevel, type ServerCapabilities, type ServerContext } from '@modelcontextprotocol/server';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/server/validators/cf-worker';
import type { Config } from '../config.ts';
import type { DataPort } from '../db/port.ts';
import type { ToolErrorCode } from '../errors.ts';
import { supportTools } from '../tools/support.ts';
import { sqlTools } from '../tools/sql.ts';
import { conformanceCapabilities, QUIET_CONFORMANCE_TOOLS, registerConformancePack } from '../tools/conformance.ts';
import type { CatalogTool } from './catalog.ts';
import { captureTools, enforceIntegrity, type IntegrityGate } from './integrity-gate.ts';
import { withAuditedTools } from './pack-audit.ts';
import type { Principal } from './principal.ts';
import type { ResultFlaggedSink } from './result-guard.ts';
import { callCatalogTool, listedOnly } from './tool-call.ts';

export { callCatalogTool, type ToolIo } from './tool-call.ts';

/** Name and version the server reports in `initialize` and `server/discover`. */
export const SERVER_INFO = { name: 'own-mcp-server', version: '0.1.0' } as const;

/** Every tool the server offers (the conformance pack comes on top when enabled). */
export const CATALOG: readonly CatalogTool[] = [...supportTools, ...sqlTools];

const INSTRUCTIONS =
  'Tools over a customer-support database (customers, orders, tickets). Use find_customers to locate a customer, then get_customer, list_customer_orders and list_open_tickets. sql_select runs one read-only SELECT; list_tables and describe_table show the schema.';

const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/**
 * Which revision the server is built for. `session`: a 2025-11-25 session (logging level kept by
 * the session, server-to-client requests, stream resumption). `stateless`: one 2026-07-28 request
 * (its envelope names the logging level; the revision removed server-to-client requests).
 */
export type Era = 'session' | 'stateless';

/** What a revision gives the server: data, settings, caller, the logging level it keeps, and its audit. */
export interface ServerDeps {
  config: Config;
  db: () => DataPort;
  principal: Principal;
  /** The session's logging level (logging/setLevel); a stateless request's envelope names its own. */
  logLevel: () => LoggingLevel;
  /** Records the tool call in the audit trail before the result goes back (absent when auditing is off). */
  audit?: ((entry: ToolAudit) => Promise<void>) | undefined;
  /** Records a call refused before the tool ran (arguments that fail its input schema). */
  refused?: ((refusal: ToolRefusal) => Promise<void>) | undefined;
  /** The start-up verdict against tools.lock.json: only verified tools are served (src/mcp/tool-integrity.ts). */
  integrity: IntegrityGate;
  /** Records a tool result the result scan flagged (src/mcp/result-guard.ts). */
  resultFlagged?: ResultFlaggedSink | undefined;
}

/** What the audit trail learns from one tool call. */
export interface ToolAudit {
  /** The JSON-RPC id of the tools/call request. */
  requestId: string | number;
  tool: string;
  args: unknown;
  outcome: 'success' | 'failure';
  errorCode?: ToolErrorCode | undefined;
  /** Why the tool refused, for the audit (e.g. the SQL guard's reason: `multiple_statements: …`). */
  reason?: string | undefined;
  rows?: number | undefined;
  bytes: number;
  latencyMs: number;
}

/** A tools/call whose arguments failed the tool's input schema: no tool ran. */
export interface ToolRefusal {
  requestId: string | number;
  tool: string;
  args: unknown;
  /** `arguments.<path>: <message>` of the first issue. */
  reason: string;
}

/** A live server and the names of the tools it serves (a call of any other name is a protocol error). */
export interface LiveServer {
  server: McpServer;
  /** Whether the live server serves this tool (registered and verified). */
  hasTool: (name: string) => boolean;
  /** Whether a call of this tool may send anything (progress, log messages, requests) before its result; true for a name not served. */
  streams: (name: string) => boolean;
}

/** A new McpServer with the catalog registered: one per live session, or one per stateless request. */
export function createMcpServer(deps: ServerDeps, era: Era = 'session'): LiveServer {
  const capabilities: ServerCapabilities = {
    tools: { listChanged: false },
    logging: {},
    ...(deps.config.ENABLE_CONFORMANCE_PACK ? conformanceCapabilities : {}),
  };
  const server = new McpServer(SERVER_INFO, { capabilities, jsonSchemaValidator: new CfWorkerJsonSchemaValidator(), instructions: INSTRUCTIONS });
  // Every registration goes through captureTools, ours and the conformance pack's, so the names are exact.
  const tools = captureTools(server);
  for (const tool of CATALOG) register(server, tool, deps, era);
  // The pack's tools are audited, guarded and observed like the catalog's (src/mcp/pack-audit.ts).
  if (deps.config.ENABLE_CONFORMANCE_PACK) withAuditedTools(server, deps, () => registerConformancePack(server, era));
  enforceIntegrity(tools, deps.integrity);
  const integrity = deps.integrity;
  const served = new Set([...tools.keys()].filter((name) => integrity === 'unchecked' || integrity.passed.has(name)));
  const quiet = new Set([...CATALOG.filter((t) => !t.streams).map((t) => t.name), ...(deps.config.ENABLE_CONFORMANCE_PACK ? QUIET_CONFORMANCE_TOOLS : [])]);
  return { server, hasTool: (name) => served.has(name), streams: (name) => !(served.has(name) && quiet.has(name)) };
}

function register(server: McpServer, tool: CatalogTool, deps: ServerDeps, era: Era): void {
  server.registerTool(
    tool.name,
    // The schema is listed as the SDK lists zod; the arguments are checked once, by callCatalogTool, so a refusal is audited.
    { title: tool.title, description: tool.description, inputSchema: listedOnly(tool.input), annotations: tool.annotations, _meta: { scope: tool.scope } },
    async (args: unknown, ctx: ServerContext): Promise<CallToolResult> => {
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
          if (era === 'stateless') return ctx.mcpReq.log(level, data, tool.name);
          // 2025-11-25: the session keeps the level (it outlives the SDK's in-memory state across evictions).
          if (LEVELS.indexOf(level) < LEVELS.indexOf(deps.logLevel())) return;
          await ctx.mcpReq.notify({ method: 'notifications/message', params: { level, logger: tool.name, data } });
        },
      });
    },
  );
}
