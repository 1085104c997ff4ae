/** Builds the McpServer of one session: the tool catalog, logging, and the conformance pack when enabled. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import type { CallToolResult, LoggingLevel, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.ts';
import type { DataPort } from '../db/port.ts';
import { ToolError, toolFailureResult, type ToolErrorCode, type ToolFailure } from '../errors.ts';
import { supportTools } from '../tools/support.ts';
import { sqlTools } from '../tools/sql.ts';
import { conformanceCapabilities, registerConformancePack } from '../tools/conformance.ts';
import type { CatalogTool, ToolContext } from './catalog.ts';
import { captureTools, enforceIntegrity, type IntegrityGate } from './integrity-gate.ts';
import type { Principal } from './principal.ts';
import { guardResult, type ResultFlaggedSink } from './result-guard.ts';

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

/** A live server and the names of the tools it serves (a call of any other name is a protocol error). */
export interface LiveServer {
  server: McpServer;
  /** Whether the live server serves this tool (registered and verified). */
  hasTool: (name: string) => boolean;
}

/** A new McpServer with the catalog registered; one per live session. */
export function createMcpServer(deps: ServerDeps): LiveServer {
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
  // Every registration goes through captureTools, ours and the conformance pack's, so the names are exact.
  const tools = captureTools(server);
  for (const tool of CATALOG) register(server, tool, deps);
  if (deps.config.ENABLE_CONFORMANCE_PACK) registerConformancePack(server);
  enforceIntegrity(tools, deps.integrity);
  const integrity = deps.integrity;
  const served = new Set([...tools.keys()].filter((name) => integrity === 'unchecked' || integrity.passed.has(name)));
  return { server, hasTool: (name) => served.has(name) };
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
      return callCatalogTool(tool, deps, args, {
        requestId: extra.requestId,
        signal: extra.signal,
        async progress(progress, total, message) {
          if (progressToken === undefined) return;
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total, message } });
        },
        async log(level, data) {
          if (LEVELS.indexOf(level) < LEVELS.indexOf(deps.logLevel())) return;
          await extra.sendNotification({ method: 'notifications/message', params: { level, logger: tool.name, data } });
        },
      });
    },
  );
}

/** What a protocol revision gives the one tool-running path: the request id, cancellation, and its ways to notify. */
export interface ToolIo {
  requestId: string | number;
  signal: AbortSignal;
  progress: ToolContext['progress'];
  log: ToolContext['log'];
}

/**
 * Runs one catalog tool and records it in the audit trail before the result goes back: the one
 * tool-running path of both revisions (the 2025-11-25 session and the stateless 2026-07-28 request).
 */
export async function callCatalogTool(tool: CatalogTool, deps: ServerDeps, args: unknown, io: ToolIo): Promise<CallToolResult> {
  const ctx: ToolContext = { db: deps.db(), config: deps.config, principal: deps.principal, signal: io.signal, progress: io.progress, log: io.log };
  const started = Date.now();
  const { result, failure } = await guardResult(tool.name, await runTool(tool, args, ctx), deps, { requestId: io.requestId, args });
  if (deps.audit) {
    const errorCode = failure?.code;
    const rows = (result.structuredContent as { rowCount?: unknown } | undefined)?.rowCount;
    await deps.audit({
      requestId: io.requestId,
      tool: tool.name,
      args,
      outcome: result.isError ? 'failure' : 'success',
      errorCode,
      reason: failure?.detail ? `${failure.detail}: ${failure.message}` : undefined,
      rows: typeof rows === 'number' ? rows : undefined,
      bytes: JSON.stringify(result.content).length,
      latencyMs: Date.now() - started,
    });
  }
  return result;
}

/** Runs a tool; a failure stays data (its code) beside the one wire form, an `isError` result. */
async function runTool(tool: CatalogTool, args: unknown, ctx: ToolContext): Promise<{ result: CallToolResult; failure?: ToolFailure }> {
  let failure: ToolFailure;
  try {
    return { result: await tool.call(args, ctx) };
  } catch (error) {
    if (error instanceof ToolError) {
      failure = { code: error.code, message: error.message, detail: error.detail };
    } else {
      console.error(JSON.stringify({ event: 'tool_failed', tool: tool.name, error: String(error) }));
      failure = { code: 'internal_error', message: 'the tool failed unexpectedly' };
    }
  }
  return { result: toolFailureResult(failure), failure };
}
