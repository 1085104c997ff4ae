/** One Durable Object per MCP session: protocol state, SSE event log, principal binding, idle expiry. */
import { DurableObject } from 'cloudflare:workers';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, WebStandardStreamableHTTPServerTransport, type JSONRPCRequest, type McpServer } from '@modelcontextprotocol/server';
import { loadConfig, type Config } from '../src/config.ts';
import { dataPort } from '../src/db/index.ts';
import type { Env } from '../src/env.ts';
import type { McpSessionObject } from '../src/contracts/session.ts';
import { bearerError, gateError, rpcError } from '../src/errors.ts';
import { requestIdOf, SessionCallSchema, type McpMessage, type RequestId, type SessionCall } from '../src/mcp/message.ts';
import { createMcpServer, type ToolAudit } from '../src/mcp/server.ts';
import { toolIntegrity } from '../src/mcp/tool-integrity.ts';
import { auditIntegrityFailures } from '../src/mcp/integrity-audit.ts';
import { resultFlaggedRecorder } from '../src/mcp/result-audit.ts';
import { actorOf, newEvent, type RequestMeta } from '../src/audit/emit.ts';
import { policyFrom, sanitizeParams } from '../src/audit/redact.ts';
import { recordForPrincipal } from '../src/audit/relay.ts';
import { sessionOpened } from '../src/audit/session-opened.ts';
import { sessionEndedByAdmin } from '../src/audit/session-ended.ts';
import { noteOpened, noteSessionEnded } from '../src/sessions/index.ts';
import { AuditOutbox } from './audit-outbox.ts';
import { scheduleAlarm } from './alarm.ts';
import { releasedAtEnd, syntheticPost, drain } from './session-http.ts';
import { answersPlain, PlainReplies } from './plain-replies.ts';
import { SessionBaseline } from './session-baseline.ts';
import { anomalyRefusal } from '../src/mcp/anomaly-response.ts';
import { grantStatus, migrate, parseLevel, readMeta, setGrantStatus, SqlEventStore, writeMeta, type SessionMeta } from './session-store.ts';

export { SessionCallSchema, type SessionCall } from '../src/mcp/message.ts';

interface Live {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
  /** The transport the server is connected to: the SDK's, plus requests answered as JSON. */
  replies: PlainReplies;
  hasTool: (name: string) => boolean;
  streams: (name: string) => boolean;
}

const SSE_RETRY_MS = 1000;
/** The stream id the SDK's transport gives the standalone GET stream in the event store. */
const STANDALONE_STREAM = '_GET_stream';

/** The session. Its name is the session id; all protocol state is in storage, so it survives eviction. */
export class McpSession extends DurableObject<Env> implements McpSessionObject {
  readonly #config: Config;
  readonly #events: SqlEventStore;
  readonly #outbox: AuditOutbox;
  readonly #baseline: SessionBaseline;
  /**
   * The requests in flight, by JSON-RPC id: their request facts and caller (its current token)
   * for the audit, and the guard that refuses a second request with an id still in use.
   */
  readonly #inFlight = new Map<RequestId, { meta: RequestMeta | undefined; principal: SessionCall['principal'] }>();
  #live: Live | undefined;
  #meta: SessionMeta | null = null;
  /** Requests handed to the MCP server since this object was loaded (tests: whether a request reached the session's server). */
  #served = 0;
  /** Grant statuses read or written by this object (see #grantStatus). */
  readonly #grants = new Map<string, boolean>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = loadConfig(env);
    this.#events = new SqlEventStore(ctx.storage.sql, this.#config.SESSION_EVENT_LOG_MAX, Date.now);
    this.#outbox = new AuditOutbox(ctx.storage, env, this.#config.AUDIT_OUTBOX_MAX);
    this.#baseline = new SessionBaseline({ storage: ctx.storage, env, config: this.#config, record: (e) => this.#outbox.record(e), waitUntil: (p) => ctx.waitUntil(p) });
    // Nothing is written until an initialize succeeds: a refused request leaves no stored object.
    void ctx.blockConcurrencyWhile(() => {
      this.#meta = readMeta(ctx.storage.sql);
      return Promise.resolve();
    });
  }

  /** Serves one HTTP request of this session (POST, GET or DELETE on /mcp). */
  async handle(request: Request, rawCall: SessionCall): Promise<Response> {
    const call = SessionCallSchema.parse(rawCall);
    const message = call.message;
    if (message?.kind === 'initialize') {
      if (this.#meta) return gateError('already_initialized');
      if (!(await this.#askGrant(call))) return await this.#revoked(call);
      return this.#initialize(request, call, message);
    }

    const meta = this.#meta;
    // Unknown, ended, or another principal's session: all look the same from outside.
    if (!meta || meta.endedAt !== null || meta.sessionId !== call.sessionId || meta.principal.id !== call.principal.id) {
      return gateError('session_not_found');
    }
    const id = requestIdOf(message);
    if (id === undefined) return this.#serve(request, call, meta, message);
    // Checked and taken with no await in between: of two requests with one id, the second is
    // refused while the first is in flight (the transport would cross their results otherwise).
    if (this.#inFlight.has(id)) return gateError('request_id_in_use', `id ${JSON.stringify(id)}`);
    this.#inFlight.set(id, { meta: call.meta, principal: call.principal });
    const release = () => this.#inFlight.delete(id);
    try {
      return releasedAtEnd(await this.#serve(request, call, meta, message), release);
    } catch (error) {
      release();
      throw error;
    }
  }

  async #serve(request: Request, call: SessionCall, meta: SessionMeta, message: McpMessage | undefined): Promise<Response> {
    if (!(await this.#grantActive(call))) return await this.#revoked(call);
    const now = Date.now();
    if (now - meta.lastSeenAt > 1000) {
      meta.lastSeenAt = now;
      this.ctx.storage.sql.exec('UPDATE session SET last_seen_at = ? WHERE id = 1', now);
    }
    if (message?.kind === 'invalid_params') {
      if (message.method === 'tools/call') {
        const name = message.params?.name;
        await this.#auditRefusedCall(call, meta.sessionId, { tool: typeof name === 'string' ? name.slice(0, 100) : undefined, args: message.params?.arguments, errorCode: 'invalid_params', reason: `${message.param} ${message.detail}` });
      }
      return rpcError('invalid_params', message.id, `${message.param} ${message.detail}`, { method: message.method, param: message.param });
    }
    const level = message?.kind === 'request' && message.method === 'logging/setLevel' ? parseLevel(message.params?.level) : null;
    if (level) {
      meta.logLevel = level;
      this.ctx.storage.sql.exec('UPDATE session SET log_level = ? WHERE id = 1', level);
    }
    const live = await this.#ensureLive(meta);
    // MCP 2025-11-25: a call of an unknown tool is a protocol error, not a tool result.
    if (message?.kind === 'tool_call' && !live.hasTool(message.name)) {
      await this.#auditRefusedCall(call, meta.sessionId, { tool: message.name.slice(0, 100), args: message.arguments, errorCode: 'unknown_tool', reason: 'no such tool' });
      return rpcError('unknown_tool', message.id, message.name, { tool: message.name });
    }
    if (message?.kind === 'tool_call') {
      const refusal = await this.#baseline.before(call.principal, meta.sessionId, message.name, message.arguments, call.meta);
      if (refusal?.action === 'reauth' && call.principal.kind === 'user') await this.env.AUTH_TXN.get(this.env.AUTH_TXN.idFromName(call.principal.grantId)).revokeByAdmin();
      if (refusal) return anomalyRefusal(refusal, call.resourceMetadata);
    }
    // Arguments that fail the tool's input schema are checked once, in the tool-running path, which records the refusal (src/mcp/tool-call.ts).
    // One standalone stream per session: a new GET (or a resume of that stream) takes it over, so
    // a client that dropped the old one (its cancel may reach us late) is not refused with 409.
    if (request.method === 'GET') {
      const last = request.headers.get('last-event-id');
      const stream = last === null ? STANDALONE_STREAM : await this.#events.getStreamIdForEventId(last);
      if (stream === STANDALONE_STREAM) live.transport.closeStandaloneSSEStream();
    }
    // A request that can only produce its answer is answered as one JSON body (no SSE, no stored events).
    this.#served += 1;
    const response = answersPlain(request, message, meta.sessionId, live.streams)
      ? await live.replies.answer(request, message.raw as JSONRPCRequest)
      : await live.transport.handleRequest(request, message === undefined ? undefined : { parsedBody: message.raw });
    if (request.method === 'DELETE' && response.ok) await this.#end(now);
    return response;
  }

  async #revoked(call: SessionCall): Promise<Response> {
    await this.#auditRefusal(call, 'the grant has been revoked');
    return bearerError('invalid_token', { resourceMetadata: call.resourceMetadata, description: 'the grant has been revoked' });
  }

  /** Called by a grant's Durable Object when it is revoked: its tokens stop working here at once. */
  grantRevoked(grantId: string): void {
    if (!this.#meta) return;
    this.#setGrant(grantId, false, Date.now());
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
    const known = this.#grantStatus(gid);
    if (known !== null) return known;
    const active = await this.#askGrant(call);
    // A revocation that raced the question above has already written `false`; keep it.
    if (this.#grantStatus(gid) === null) this.#setGrant(gid, active, Date.now());
    return this.#grantStatus(gid) === true;
  }

  /** A grant's stored status; kept in memory once read or written, as this object is its only writer (issue 14: not a SELECT per call). */
  #grantStatus(gid: string): boolean | null {
    const kept = this.#grants.get(gid);
    if (kept !== undefined) return kept;
    const stored = grantStatus(this.ctx.storage.sql, gid);
    if (stored !== null) this.#grants.set(gid, stored);
    return stored;
  }

  #setGrant(gid: string, active: boolean, now: number): void {
    setGrantStatus(this.ctx.storage.sql, gid, active, now);
    this.#grants.set(gid, active);
  }

  /** Delivers audit events, trims the event log, and ends the session once it has been idle too long. */
  override async alarm(): Promise<void> {
    await this.#outbox.flush();
    await this.#baseline.flush(this.#meta?.principal);
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

  /** Issue 12: an administrator ends this session alone (its next request gets 404); false when it is not open. */
  async endByAdmin(admin: string, meta?: RequestMeta): Promise<boolean> {
    const m = this.#meta;
    if (!m || m.endedAt !== null) return false;
    await this.#end(Date.now());
    if (this.#config.AUDIT_ENABLED) await this.#outbox.record(sessionEndedByAdmin(m.sessionId, m.principal, admin, meta));
    return true;
  }

  /** Baseline observations waiting to be sent to the principal's object (tests and diagnostics). */
  baselinePending(): number {
    return this.#baseline.pending();
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
      ...(call.message?.kind === 'tool_call' ? { tool: call.message.name } : {}),
      meta: { ...call.meta, sessionId: this.#meta ? call.sessionId : undefined },
    });
    if (this.#meta) await this.#outbox.record(event);
    else await recordForPrincipal(this.env, call.principal.id, event);
  }

  /**
   * A tools/call refused before any tool ran (malformed params, an unknown tool, arguments that
   * fail the input schema): a `tool.call` failure with its error code, in this session's outbox.
   */
  async #auditRefusedCall(call: Pick<SessionCall, 'principal' | 'meta'>, sessionId: string, refusal: { tool: string | undefined; args: unknown; errorCode: 'invalid_params' | 'unknown_tool'; reason: string }): Promise<void> {
    if (refusal.tool !== undefined) await this.#baseline.after(call.principal, sessionId, { tool: refusal.tool, args: refusal.args, status: 'denied', meta: call.meta });
    if (!this.#config.AUDIT_ENABLED) return;
    await this.#outbox.record(
      newEvent({
        type: 'tool.call',
        outcome: 'failure',
        actor: actorOf(call.principal),
        session_id: sessionId,
        ...(refusal.tool !== undefined ? { tool: refusal.tool } : {}),
        ...(refusal.args !== undefined ? { params: sanitizeParams(refusal.args, policyFrom(this.#config.AUDIT_SENSITIVE_FIELDS)) } : {}),
        latency_ms: 0,
        error_code: refusal.errorCode,
        reason: refusal.reason,
        meta: call.meta,
      }),
    );
  }

  /** Records a tool call in the outbox before its result is sent. */
  async #auditTool(entry: ToolAudit, sessionPrincipal: SessionMeta['principal']): Promise<void> {
    const inFlight = this.#inFlight.get(entry.requestId);
    // The request's own principal: after a refresh it carries the new token's id.
    const principal = inFlight?.principal ?? sessionPrincipal;
    const meta = inFlight?.meta;
    await this.#baseline.after(principal, this.#meta?.sessionId, { tool: entry.tool, args: entry.args, status: entry.outcome === 'success' ? 'ok' : 'error', rows: entry.rows, bytes: entry.bytes, meta });
    if (!this.#config.AUDIT_ENABLED) return;
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
        ...(entry.reason ? { reason: entry.reason } : {}),
        meta,
      }),
    );
  }

  /** Test and diagnostics view of the stored state. */
  inspect(): { meta: SessionMeta | null; events: number; live: boolean; served: number } {
    return { meta: this.#meta, events: this.#events.count(), live: this.#live !== undefined, served: this.#served };
  }

  async #initialize(request: Request, call: SessionCall, message: Extract<McpMessage, { kind: 'initialize' }>): Promise<Response> {
    const params = { data: message.params };
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
    this.#served += 1;
    const response = await live.transport.handleRequest(request, { parsedBody: message.raw });
    if (!response.ok) {
      await live.transport.close();
      await this.ctx.storage.deleteAll();
      return response;
    }
    writeMeta(this.ctx.storage.sql, meta);
    if (call.principal.kind === 'user') this.#setGrant(call.principal.grantId, true, now);
    this.#meta = meta;
    this.#live = live;
    // The opening is recorded in this session's own outbox (issue 14: not through the one AuditStore), beside the principal's baseline snapshot.
    const indexed = noteOpened(this.env, call, params.data, meta.protocolVersion, now);
    await Promise.all([this.#config.AUDIT_ENABLED ? this.#outbox.record(sessionOpened(call, params.data, meta.protocolVersion)) : undefined, this.#baseline.connect(call.principal)]);
    await indexed;
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
      // A `: keepalive` comment on every open stream (the standalone GET and long tool calls).
      keepAliveMs: this.#config.SSE_HEARTBEAT_MS,
    });
    const { server, hasTool, streams } = createMcpServer({
      config: this.#config,
      db: () => dataPort(this.env, this.#config),
      principal: meta.principal,
      logLevel: () => this.#meta?.logLevel ?? 'info',
      audit: this.#config.AUDIT_ENABLED || this.#baseline.enabled ? (entry) => this.#auditTool(entry, meta.principal) : undefined,
      // The request's own caller (its current token), as for a tool call that ran.
      refused: (r) => this.#auditRefusedCall(this.#inFlight.get(r.requestId) ?? { principal: meta.principal, meta: undefined }, meta.sessionId, { tool: r.tool, args: r.args, errorCode: 'invalid_params', reason: r.reason }),
      integrity: await toolIntegrity(this.#config, auditIntegrityFailures(this.env, this.#config)),
      resultFlagged: resultFlaggedRecorder({ env: this.env, config: this.#config, record: (e) => this.#outbox.record(e), callOf: (id) => this.#inFlight.get(id), principal: meta.principal, sessionId: () => this.#meta?.sessionId }),
    }, 'session');
    const replies = new PlainReplies(transport);
    await server.connect(replies);
    return { server, transport, replies, hasTool, streams };
  }

  /** Ends the session for good: a tombstone stays so the id keeps answering 404. */
  async #end(now: number): Promise<void> {
    const live = this.#live;
    this.#live = undefined;
    if (live) await live.server.close();
    this.ctx.storage.sql.exec('UPDATE session SET ended_at = ? WHERE id = 1', now);
    this.ctx.storage.sql.exec('DELETE FROM events');
    if (this.#meta) this.#meta.endedAt = now;
    if (this.#meta) await noteSessionEnded(this.env, this.#meta.sessionId);
    // The alarm stays only while audit events wait for delivery.
    if (this.#outbox.count() === 0 && this.#baseline.pending() === 0) await this.ctx.storage.deleteAlarm();
  }
}
