/** One Durable Object per MCP session: protocol state, SSE event log, principal binding, idle expiry. */
import { DurableObject } from 'cloudflare:workers';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { loadConfig, type Config } from '../src/config.ts';
import { dataPort } from '../src/db/index.ts';
import type { Env } from '../src/env.ts';
import type { McpSessionObject } from '../src/contracts/session.ts';
import { bearerError, gateError } from '../src/errors.ts';
import { PrincipalSchema } from '../src/mcp/principal.ts';
import { createMcpServer, type ToolAudit } from '../src/mcp/server.ts';
import { toolIntegrity } from '../src/mcp/tool-integrity.ts';
import { auditIntegrityFailures } from '../src/mcp/integrity-audit.ts';
import { actorOf, newEvent, RequestMetaSchema, type RequestMeta } from '../src/audit/emit.ts';
import { policyFrom, sanitizeParams } from '../src/audit/redact.ts';
import { AuditOutbox } from './audit-outbox.ts';
import { scheduleAlarm } from './alarm.ts';
import { grantStatus, InitializeParamsSchema, migrate, parseLevel, readMeta, setGrantStatus, SqlEventStore, writeMeta, type SessionMeta } from './session-store.ts';

/** What the router tells the session about a request, besides the request itself. */
export const SessionCallSchema = z.object({
  sessionId: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  principal: PrincipalSchema,
  /** The parsed JSON-RPC message of a POST (the router has read and checked the body). */
  message: z.unknown().optional(),
  /** The RFC 9728 metadata URL, for a 401 when the grant turns out to be revoked. */
  resourceMetadata: z.string(),
  /** Request id, client address and user agent, for the audit trail. */
  meta: RequestMetaSchema.optional(),
});

/** A parsed session call. */
export type SessionCall = z.infer<typeof SessionCallSchema>;

interface Live {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
}

const SSE_RETRY_MS = 1000;

/** The session. Its name is the session id; all protocol state is in storage, so it survives eviction. */
export class McpSession extends DurableObject<Env> implements McpSessionObject {
  readonly #config: Config;
  readonly #events: SqlEventStore;
  readonly #outbox: AuditOutbox;
  /** Request facts and the caller (its current token) of the tools/call requests in flight, by JSON-RPC id. */
  readonly #inFlight = new Map<string | number, { meta: RequestMeta | undefined; principal: SessionCall['principal'] }>();
  #live: Live | undefined;
  #meta: SessionMeta | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = loadConfig(env);
    this.#events = new SqlEventStore(ctx.storage.sql, this.#config.SESSION_EVENT_LOG_MAX, Date.now);
    this.#outbox = new AuditOutbox(ctx.storage, env, this.#config.AUDIT_OUTBOX_MAX);
    // Nothing is written until an initialize succeeds: a refused request leaves no stored object.
    void ctx.blockConcurrencyWhile(async () => {
      this.#meta = readMeta(ctx.storage.sql);
    });
  }

  /** Serves one HTTP request of this session (POST, GET or DELETE on /mcp). */
  async handle(request: Request, rawCall: SessionCall): Promise<Response> {
    const call = SessionCallSchema.parse(rawCall);
    const message = call.message;
    const revoked = async () => {
      await this.#auditRefusal(call, 'the grant has been revoked');
      return bearerError('invalid_token', { resourceMetadata: call.resourceMetadata, description: 'the grant has been revoked' });
    };
    if (isInitialize(message)) {
      if (this.#meta) return gateError('already_initialized');
      if (!(await this.#askGrant(call))) return await revoked();
      return this.#initialize(request, call, message);
    }

    const meta = this.#meta;
    // Unknown, ended, or another principal's session: all look the same from outside.
    if (!meta || meta.endedAt !== null || meta.sessionId !== call.sessionId || meta.principal.id !== call.principal.id) {
      return gateError('session_not_found');
    }
    if (!(await this.#grantActive(call))) return await revoked();
    const now = Date.now();
    if (now - meta.lastSeenAt > 1000) {
      meta.lastSeenAt = now;
      this.ctx.storage.sql.exec('UPDATE session SET last_seen_at = ? WHERE id = 1', now);
    }
    const level = methodOf(message) === 'logging/setLevel' ? parseLevel(paramsOf(message)?.level) : null;
    if (level) {
      meta.logLevel = level;
      this.ctx.storage.sql.exec('UPDATE session SET log_level = ? WHERE id = 1', level);
    }
    const live = await this.#ensureLive(meta);
    const rpcId = idOf(message);
    if (rpcId !== undefined && methodOf(message) === 'tools/call') {
      // Calls refused by the SDK's schema check never reach the audit hook: keep the map bounded.
      if (this.#inFlight.size >= 256) this.#inFlight.delete(this.#inFlight.keys().next().value as string | number);
      this.#inFlight.set(rpcId, { meta: call.meta, principal: call.principal });
    }
    const response = await live.transport.handleRequest(request, message === undefined ? undefined : { parsedBody: message });
    if (request.method === 'DELETE' && response.ok) await this.#end(now);
    return response;
  }

  /** Called by a grant's Durable Object when it is revoked: its tokens stop working here at once. */
  grantRevoked(grantId: string): void {
    if (!this.#meta) return;
    setGrantStatus(this.ctx.storage.sql, grantId, false, Date.now());
  }

  /** Asks the grant whether it is active; the grant registers this session so revocation reaches it. */
  async #askGrant(call: SessionCall): Promise<boolean> {
    // API keys are checked by their own Durable Object on every request, at the gate.
    if (call.principal.kind !== 'user') return true;
    const stub = this.env.AUTH_TXN.get(this.env.AUTH_TXN.idFromName(call.principal.grantId));
    return stub.attachSession(call.sessionId, Date.now());
  }

  /** The grant's status, asked once per grant and then remembered (revocation writes `false` here). */
  async #grantActive(call: SessionCall): Promise<boolean> {
    if (call.principal.kind !== 'user') return true;
    const gid = call.principal.grantId;
    const known = grantStatus(this.ctx.storage.sql, gid);
    if (known !== null) return known;
    const active = await this.#askGrant(call);
    // A revocation that raced the question above has already written `false`; keep it.
    if (grantStatus(this.ctx.storage.sql, gid) === null) setGrantStatus(this.ctx.storage.sql, gid, active, Date.now());
    return grantStatus(this.ctx.storage.sql, gid) === true;
  }

  /** Delivers audit events, trims the event log, and ends the session once it has been idle too long. */
  override async alarm(): Promise<void> {
    await this.#outbox.flush();
    this.#events.trim();
    const meta = this.#meta;
    if (!meta || meta.endedAt !== null) return;
    const idleUntil = meta.lastSeenAt + this.#config.SESSION_IDLE_SECONDS * 1000;
    if (Date.now() >= idleUntil) {
      await this.#end(Date.now());
    } else {
      await scheduleAlarm(this.ctx.storage, idleUntil);
    }
  }

  /** Audit events waiting for delivery (tests and diagnostics). */
  auditPending(): number {
    return this.#outbox.count();
  }

  /** A request refused because its grant is revoked: in this session's outbox, or the audit store before initialize. */
  async #auditRefusal(call: SessionCall, reason: string): Promise<void> {
    if (!this.#config.AUDIT_ENABLED) return;
    const event = newEvent({
      type: 'auth.token_rejected',
      outcome: 'denied',
      actor: actorOf(call.principal),
      error_code: 'invalid_token',
      reason,
      ...(methodOf(call.message) === 'tools/call' ? { tool: String(paramsOf(call.message)?.name ?? '') } : {}),
      meta: { ...call.meta, sessionId: this.#meta ? call.sessionId : undefined },
    });
    if (this.#meta) await this.#outbox.record(event);
    else await this.env.AUDIT_STORE.get(this.env.AUDIT_STORE.idFromName('default')).record(event);
  }

  /** Records a tool call in the outbox before its result is sent. */
  async #auditTool(entry: ToolAudit, sessionPrincipal: SessionMeta['principal']): Promise<void> {
    const inFlight = this.#inFlight.get(entry.requestId);
    this.#inFlight.delete(entry.requestId);
    // The request's own principal: after a refresh it carries the new token's id.
    const principal = inFlight?.principal ?? sessionPrincipal;
    const meta = inFlight?.meta;
    await this.#outbox.record(
      newEvent({
        type: 'tool.call',
        outcome: entry.outcome,
        actor: actorOf(principal),
        session_id: this.#meta?.sessionId,
        tool: entry.tool,
        params: sanitizeParams(entry.args, policyFrom(this.#config.AUDIT_SENSITIVE_FIELDS)),
        result: { ...(entry.rows !== undefined ? { rows: entry.rows } : {}), bytes: entry.bytes },
        latency_ms: entry.latencyMs,
        ...(entry.errorCode ? { error_code: entry.errorCode } : {}),
        meta,
      }),
    );
  }

  /** Test and diagnostics view of the stored state. */
  inspect(): { meta: SessionMeta | null; events: number; live: boolean } {
    return { meta: this.#meta, events: this.#events.count(), live: this.#live !== undefined };
  }

  async #initialize(request: Request, call: SessionCall, message: InitializeMessage): Promise<Response> {
    const params = InitializeParamsSchema.safeParse(message.params);
    if (!params.success) return gateError('invalid_request', 'initialize params are malformed');
    const now = Date.now();
    const meta: SessionMeta = {
      sessionId: call.sessionId,
      principal: call.principal,
      protocolVersion: SUPPORTED_PROTOCOL_VERSIONS.includes(params.data.protocolVersion) ? params.data.protocolVersion : LATEST_PROTOCOL_VERSION,
      initialize: params.data,
      logLevel: 'info',
      createdAt: now,
      lastSeenAt: now,
      endedAt: null,
    };
    migrate(this.ctx.storage.sql);
    const live = await this.#connect(meta);
    const response = await live.transport.handleRequest(request, { parsedBody: message });
    if (!response.ok) {
      await live.transport.close();
      await this.ctx.storage.deleteAll();
      return response;
    }
    writeMeta(this.ctx.storage.sql, meta);
    if (call.principal.kind === 'user') setGrantStatus(this.ctx.storage.sql, call.principal.grantId, true, now);
    this.#meta = meta;
    this.#live = live;
    await scheduleAlarm(this.ctx.storage, now + this.#config.SESSION_IDLE_SECONDS * 1000);
    return response;
  }

  /** The live server for this session, rebuilt from storage after an eviction or restart. */
  async #ensureLive(meta: SessionMeta): Promise<Live> {
    if (this.#live) return this.#live;
    const live = await this.#connect(meta);
    // Replay the stored handshake through the public transport API so the SDK's server and
    // transport reach the same state they had before eviction. Nothing is recorded meanwhile.
    this.#events.muted = true;
    try {
      await drain(await live.transport.handleRequest(syntheticPost(meta.sessionId, null), {
        parsedBody: { jsonrpc: '2.0', id: '_rehydrate', method: 'initialize', params: meta.initialize },
      }));
      await drain(await live.transport.handleRequest(syntheticPost(meta.sessionId, meta.protocolVersion), {
        parsedBody: { jsonrpc: '2.0', method: 'notifications/initialized' },
      }));
    } finally {
      this.#events.muted = false;
    }
    this.#live = live;
    return live;
  }

  async #connect(meta: SessionMeta): Promise<Live> {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => meta.sessionId,
      eventStore: this.#events,
      retryInterval: SSE_RETRY_MS,
    });
    const server = createMcpServer({
      config: this.#config,
      db: () => dataPort(this.env, this.#config),
      principal: meta.principal,
      logLevel: () => this.#meta?.logLevel ?? 'info',
      audit: this.#config.AUDIT_ENABLED ? (entry) => this.#auditTool(entry, meta.principal) : undefined,
      integrity: await toolIntegrity(this.#config, auditIntegrityFailures(this.env, this.#config)),
    });
    await server.connect(transport);
    return { server, transport };
  }

  /** Ends the session for good: a tombstone stays so the id keeps answering 404. */
  async #end(now: number): Promise<void> {
    const live = this.#live;
    this.#live = undefined;
    if (live) await live.server.close();
    this.ctx.storage.sql.exec('UPDATE session SET ended_at = ? WHERE id = 1', now);
    this.ctx.storage.sql.exec('DELETE FROM events');
    if (this.#meta) this.#meta.endedAt = now;
    // The alarm stays only while audit events wait for delivery.
    if (this.#outbox.count() === 0) await this.ctx.storage.deleteAlarm();
  }
}

type InitializeMessage = { method: 'initialize'; params?: unknown };

function isInitialize(message: unknown): message is InitializeMessage {
  return methodOf(message) === 'initialize';
}

function idOf(message: unknown): string | number | undefined {
  if (typeof message !== 'object' || message === null || !('id' in message)) return undefined;
  return typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined;
}

function methodOf(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || !('method' in message)) return undefined;
  return typeof message.method === 'string' ? message.method : undefined;
}

function paramsOf(message: unknown): Record<string, unknown> | undefined {
  if (typeof message !== 'object' || message === null || !('params' in message)) return undefined;
  const params = message.params;
  return typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : undefined;
}

function syntheticPost(sessionId: string, protocolVersion: string | null): Request {
  const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
  if (protocolVersion) {
    headers.set('mcp-session-id', sessionId);
    headers.set('mcp-protocol-version', protocolVersion);
  }
  return new Request('http://session.internal/mcp', { method: 'POST', headers });
}

/** Reads a replayed response to its end: the SDK has then applied the message to its state. */
async function drain(response: Response): Promise<void> {
  if (!response.ok) throw new Error(`replaying the stored handshake failed with ${response.status}`);
  await response.text();
}
