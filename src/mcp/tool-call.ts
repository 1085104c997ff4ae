/** The one tool-running path of both revisions: the argument check, the tool, the result guard and the audit entry. */
import type { CallToolResult, StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { ToolError, toolFailureResult, type ToolFailure } from '../errors.ts';
import type { CatalogTool, ToolContext } from './catalog.ts';
import { guardResult } from './result-guard.ts';
import type { ServerDeps } from './server.ts';

/** What a protocol revision gives the one tool-running path: the request id, cancellation, and its ways to notify. */
export interface ToolIo {
  requestId: string | number;
  signal: AbortSignal;
  progress: ToolContext['progress'];
  log: ToolContext['log'];
}

/**
 * The tool's input schema as the SDK lists it (the same JSON Schema the SDK derives from zod), with
 * a check that passes everything: the arguments are checked once, by `callCatalogTool`, which can
 * audit a refusal with its reason (the SDK's own check answers without reaching any handler).
 */
export function listedOnly(input: z.ZodObject): StandardSchemaWithJSON<Record<string, unknown>, Record<string, unknown>> {
  const std = input['~standard'];
  return {
    '~standard': {
      version: 1,
      vendor: std.vendor,
      validate: (value: unknown) => ({ value: value as Record<string, unknown> }),
      jsonSchema: std.jsonSchema,
    },
  };
}

/**
 * Checks the arguments against the tool's input schema (once), runs the tool, and records it in the
 * audit trail before the result goes back; arguments that fail the schema are answered as the SDK
 * answers them (an `isError` result naming the issues) and recorded as a refused call.
 */
export async function callCatalogTool(tool: CatalogTool, deps: ServerDeps, args: unknown, io: ToolIo): Promise<CallToolResult> {
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    await deps.refused?.({ requestId: io.requestId, tool: tool.name, args, reason: `arguments.${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}` });
    const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join(', ');
    return { content: [{ type: 'text', text: `Input validation error: Invalid arguments for tool ${tool.name}: ${issues}` }], isError: true };
  }
  const ctx: ToolContext = { db: deps.db(), config: deps.config, principal: deps.principal, signal: io.signal, progress: io.progress, log: io.log };
  const started = Date.now();
  const { result, failure } = await guardResult(tool.name, await runTool(tool, parsed.data, ctx), deps, { requestId: io.requestId, args });
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

/** Runs a tool on parsed arguments; a failure stays data (its code) beside the one wire form, an `isError` result. */
async function runTool(tool: CatalogTool, parsed: unknown, ctx: ToolContext): Promise<{ result: CallToolResult; failure?: ToolFailure }> {
  let failure: ToolFailure;
  try {
    return { result: await tool.run(parsed, ctx) };
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
