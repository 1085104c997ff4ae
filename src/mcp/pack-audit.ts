/**
 * The conformance pack's tools get what a catalog tool gets after it runs: the result guard, the
 * audit entry and (through it) the behavioural baseline. Issue 14 found that they had none, so a
 * benchmark of the pack's cheap tool measured an unaudited call; every tool call is audited now.
 */
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { guardResult, type ToolOutcome } from './result-guard.ts';
import type { ServerDeps } from './server.ts';

type Handler = (...args: unknown[]) => unknown;

/** Runs `register` with every `registerTool` it makes wrapped by `audited`. */
export function withAuditedTools(server: McpServer, deps: ServerDeps, register: () => void): void {
  const previous: unknown = Reflect.get(server, 'registerTool');
  const registerTool = server.registerTool.bind(server) as unknown as (name: string, config: unknown, handler: Handler) => unknown;
  const wrapped = (name: string, config: unknown, handler: Handler): unknown => registerTool(name, config, audited(name, handler, deps));
  Reflect.set(server, 'registerTool', wrapped);
  try {
    register();
  } finally {
    Reflect.set(server, 'registerTool', previous);
  }
}

/** The handler, then the result guard and the audit entry before the result goes back; a throw is audited, then rethrown for the SDK to answer. */
function audited(tool: string, handler: Handler, deps: ServerDeps): Handler {
  return async (...callArgs: unknown[]): Promise<CallToolResult> => {
    // The SDK calls (args, ctx) for a tool with an input schema and (ctx) for one without.
    const ctx = callArgs[callArgs.length - 1] as ServerContext;
    const args = callArgs.length > 1 ? callArgs[0] : undefined;
    const requestId = ctx.mcpReq.id;
    const started = Date.now();
    let outcome: ToolOutcome;
    try {
      outcome = { result: (await handler(...callArgs)) as CallToolResult };
    } catch (error) {
      await deps.audit?.({ requestId, tool, args, outcome: 'failure', errorCode: 'internal_error', reason: String(error).slice(0, 200), bytes: 0, latencyMs: Date.now() - started });
      throw error;
    }
    const { result, failure } = await guardResult(tool, outcome, deps, { requestId, args });
    await deps.audit?.({
      requestId,
      tool,
      args,
      outcome: result.isError ? 'failure' : 'success',
      errorCode: failure?.code,
      bytes: JSON.stringify(result.content).length,
      latencyMs: Date.now() - started,
    });
    return result;
  };
}
