/**
 * Stateless MCP 2026-07-28 at /mcp, beside the 2025-11-25 sessions: which revision a request
 * speaks, and serving a modern one in the Worker with the SDK v2 (no session object to reach).
 */
import { createMcpHandler, isLegacyRequest, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { actorOf, newEvent, type RequestMeta } from '../audit/emit.ts';
import { policyFrom, sanitizeParams } from '../audit/redact.ts';
import { recordForPrincipal } from '../audit/relay.ts';
import { dataPort } from '../db/index.ts';
import { bearerError } from '../errors.ts';
import type { McpMessage } from '../mcp/message.ts';
import type { Principal } from '../mcp/principal.ts';
import { auditIntegrityFailures } from '../mcp/integrity-audit.ts';
import { resultFlaggedRecorder } from '../mcp/result-audit.ts';
import { createMcpServer, type ToolAudit } from '../mcp/server.ts';
import { toolIntegrity } from '../mcp/tool-integrity.ts';
import { anomalyRefusal } from '../mcp/anomaly-response.ts';
import { StatelessBaseline } from './mcp-modern-baseline.ts';
import { advertiseServedVersions, MODERN_PROTOCOL_VERSION } from './mcp-versions.ts';
import type { ServerUrls } from './urls.ts';
import type { BaselineView } from '../contracts/principal-baseline.ts';

export { MODERN_PROTOCOL_VERSION } from './mcp-versions.ts';

/**
 * Whether a request speaks 2026-07-28: a POST whose message carries the per-request `_meta`
 * envelope claim (or names the revision in `MCP-Protocol-Version`), decided by the SDK's own
 * classifier. GET and DELETE, the initialize handshake and claim-less messages stay on the sessions.
 */
export async function isModernRequest(request: Request, message: McpMessage | undefined): Promise<boolean> {
  if (request.method !== 'POST' || message === undefined || message.kind === 'invalid_params') {
    return request.method === 'POST' && request.headers.get('mcp-protocol-version') === MODERN_PROTOCOL_VERSION;
  }
  return !(await isLegacyRequest(request, message.raw));
}

/** Whether a classified message carries the 2026-07-28 envelope claim (`_meta` naming a protocol version). */
export function carriesEnvelope(message: McpMessage | undefined): boolean {
  if (!message || message.kind === 'invalid_params' || message.kind === 'response') return false;
  const params = (message.raw as { params?: { _meta?: Record<string, unknown> } }).params;
  return typeof params?._meta?.[PROTOCOL_VERSION_META_KEY] === 'string';
}

/** What serving one stateless request needs from the gate, which has authenticated, rate-limited and scope-checked it. */
export interface ModernCall {
  principal: Principal;
  message: McpMessage | undefined;
  meta: RequestMeta;
  urls: ServerUrls;
  /** An unread copy of the body, kept when the request names 2026-07-28: params the 2025 schemas refuse go to the SDK as sent. */
  copy?: Request | undefined;
  /** The principal's baseline view, when the key's check already brought it (issue 14: no separate round trip). */
  baseline?: BaselineView | undefined;
  /** Work to finish after the answer (the request's ExecutionContext): a plain baseline observation is sent this way. */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
}

/**
 * Serves one 2026-07-28 request in the Worker. The only state it needs is the grant's status,
 * asked of the grant's own Durable Object (chosen by the token's grant id, never by the client);
 * tool calls are audited in the principal's relay (src/audit/relay.ts), durably, before the result goes back.
 */
export async function serveModern(request: Request, env: Env, config: Config, given: ModernCall): Promise<Response> {
  // A stateless request belongs to no session, whatever Mcp-Session-Id it carries: its events name none.
  const { sessionId: _ignored, ...meta } = given.meta;
  const call: ModernCall = { ...given, meta };
  const { principal, message } = call;
  // A tool call with baselines on gets the grant's baseline view in the same answer as its status (one round trip).
  const grant = principal.kind === 'user' ? await env.AUTH_TXN.get(env.AUTH_TXN.idFromName(principal.grantId)).grantStatus(config.ANOMALY_ENABLED && message?.kind === 'tool_call') : undefined;
  if (grant && !grant.active) {
    await record(env, config, principal, newEvent({ type: 'auth.token_rejected', outcome: 'denied', actor: actorOf(principal), error_code: 'invalid_token', reason: 'the grant has been revoked', ...(message?.kind === 'tool_call' ? { tool: message.name } : {}), meta }));
    return bearerError('invalid_token', { resourceMetadata: call.urls.resourceMetadata, description: 'the grant has been revoked' });
  }
  const view = (grant?.baseline as BaselineView | undefined) ?? given.baseline;
  const baseline = new StatelessBaseline({ env, config, principal, meta, record: (event) => record(env, config, principal, event), view, waitUntil: given.waitUntil });
  if (message?.kind === 'invalid_params' && message.method === 'tools/call') {
    const name = message.params?.name;
    await auditRefusal(env, config, call, baseline, { tool: typeof name === 'string' ? name.slice(0, 100) : undefined, args: message.params?.arguments, errorCode: 'invalid_params', reason: `${message.param} ${message.detail}` });
  }
  const deps = {
    config,
    db: () => dataPort(env, config),
    principal,
    logLevel: () => 'info' as const,
    // The baseline learns from the tool's answer before it goes back (src/http/mcp-modern-baseline.ts).
    audit: config.AUDIT_ENABLED || baseline.enabled ? async (entry: ToolAudit) => {
      await baseline.afterTool(entry);
      await auditTool(env, config, call, entry);
    } : undefined,
    // Arguments that fail the input schema are checked once, in the tool-running path, and recorded as in a session.
    refused: (r: { tool: string; args: unknown; reason: string }) => auditRefusal(env, config, call, baseline, { tool: r.tool, args: r.args, errorCode: 'invalid_params', reason: r.reason }),
    integrity: await toolIntegrity(config, auditIntegrityFailures(env, config)),
    // Flagged results (issue 10) are recorded as in a session, in the principal's relay; no session id.
    resultFlagged: resultFlaggedRecorder({ env, config, record: (event) => record(env, config, principal, event), callOf: () => ({ meta: call.meta, principal }), principal, sessionId: () => undefined }),
  };
  const live = createMcpServer(deps, 'stateless');
  if (message?.kind === 'tool_call') {
    if (!live.hasTool(message.name)) {
      await auditRefusal(env, config, call, baseline, { tool: message.name.slice(0, 100), args: message.arguments, errorCode: 'unknown_tool', reason: 'no such tool' });
    } else {
      // An anomaly policy in force (or started by these arguments) refuses as in a session, before the tool runs.
      const refusal = await baseline.before(message.name, message.arguments);
      if (refusal?.action === 'reauth' && principal.kind === 'user') await env.AUTH_TXN.get(env.AUTH_TXN.idFromName(principal.grantId)).revokeByAdmin();
      if (refusal) return anomalyRefusal(refusal, call.urls.resourceMetadata);
    }
  }
  const handler = createMcpHandler(() => live.server, {
    legacy: 'reject',
    keepAliveMs: config.SSE_HEARTBEAT_MS,
    onerror: (error) => console.error(JSON.stringify({ event: 'mcp_modern_error', error: String(error) })),
  });
  const forwarded = new Request(request.url, { method: request.method, headers: request.headers, signal: request.signal });
  const response = await handler.fetch(forwarded, message === undefined ? {} : { parsedBody: await rawOf(message, call.copy) });
  // One endpoint serves both eras: its discovery and version errors name both (src/http/mcp-versions.ts).
  return advertiseServedVersions(response, methodOf(message));
}

function methodOf(message: McpMessage | undefined): string | undefined {
  if (message?.kind === 'tool_call') return 'tools/call';
  return message?.kind === 'request' || message?.kind === 'invalid_params' ? message.method : undefined;
}

/**
 * The message as the client sent it. Params that fail the 2025 schemas are not refused here: the
 * SDK v2 answers them as 2026-07-28 says (for example -32601 with HTTP 404 for a method the
 * revision removed, such as `initialize` or `logging/setLevel`).
 */
async function rawOf(message: McpMessage, copy: Request | undefined): Promise<unknown> {
  if (message.kind !== 'invalid_params') return message.raw;
  // The gate has read and checked this body already (size, depth, one JSON-RPC message).
  if (copy) return copy.json();
  return { jsonrpc: '2.0', id: message.id, method: message.method, ...(message.params ? { params: message.params } : {}) };
}

/** Durably, before the answer, in the principal's own relay (issue 14: not through the one AuditStore). */
async function record(env: Env, config: Config, principal: Principal, event: ReturnType<typeof newEvent>): Promise<void> {
  if (!config.AUDIT_ENABLED) return;
  await recordForPrincipal(env, principal.id, event);
}

/** The same `tool.call` event a session records, with the delegation chain; no session id (there is none). */
function auditTool(env: Env, config: Config, call: ModernCall, entry: ToolAudit): Promise<void> {
  return record(
    env,
    config,
    call.principal,
    newEvent({
      type: 'tool.call',
      outcome: entry.outcome,
      actor: actorOf(call.principal),
      tool: entry.tool,
      params: sanitizeParams(entry.args, policyFrom(config.AUDIT_SENSITIVE_FIELDS)),
      result: { ...(entry.rows !== undefined ? { rows: entry.rows } : {}), bytes: entry.bytes },
      latency_ms: entry.latencyMs,
      ...(entry.errorCode ? { error_code: entry.errorCode } : {}),
      ...(entry.reason ? { reason: entry.reason } : {}),
      meta: call.meta,
    }),
  );
}

/** A tools/call refused before any tool ran: a `tool.call` failure with its error code, as in a session. */
async function auditRefusal(env: Env, config: Config, call: ModernCall, baseline: StatelessBaseline, refusal: { tool: string | undefined; args: unknown; errorCode: 'invalid_params' | 'unknown_tool'; reason: string }): Promise<void> {
  if (refusal.tool !== undefined) await baseline.after({ tool: refusal.tool, args: refusal.args, status: 'denied' });
  return record(
    env,
    config,
    call.principal,
    newEvent({
      type: 'tool.call',
      outcome: 'failure',
      actor: actorOf(call.principal),
      ...(refusal.tool !== undefined ? { tool: refusal.tool } : {}),
      ...(refusal.args !== undefined ? { params: sanitizeParams(refusal.args, policyFrom(config.AUDIT_SENSITIVE_FIELDS)) } : {}),
      latency_ms: 0,
      error_code: refusal.errorCode,
      reason: refusal.reason,
      meta: call.meta,
    }),
  );
}
