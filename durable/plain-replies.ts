/**
 * Issue 14: a tool call that can only ever produce its own answer (no progress, log messages or
 * requests to the client before it) is answered as one `application/json` body instead of an
 * SSE stream: no priming event, no stored event rows, no stream piped through two objects.
 *
 * The SDK's transport chooses JSON or SSE once, for every request; this wraps it so the session
 * chooses per request. Everything not chosen goes to the SDK's transport unchanged (initialize,
 * GET, DELETE, notifications, streaming tools), and the SDK's server still handles every message.
 */
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCResultResponse,
  isJsonContentType,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
  type RequestId,
  type Transport,
  type TransportSendOptions,
  type WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { McpMessage } from '../src/mcp/message.ts';

type Pending = (response: Response) => void;

/** The SDK's streamable HTTP transport, plus `answer()`: one request answered as JSON. */
export class PlainReplies implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  readonly #inner: WebStandardStreamableHTTPServerTransport;
  /** Requests being answered as JSON, by JSON-RPC id, with what completes their HTTP response. */
  readonly #pending = new Map<RequestId, Pending>();

  constructor(inner: WebStandardStreamableHTTPServerTransport) {
    this.#inner = inner;
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => {
      this.onmessage?.(message, extra);
      this.#onCancelled(message);
    };
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  setSupportedProtocolVersions(versions: string[]): void {
    this.#inner.setSupportedProtocolVersions(versions);
  }

  /** Closes the SDK's transport; requests still waiting for their JSON answer get the SDK's 404. */
  async close(): Promise<void> {
    for (const [id, resolve] of this.#pending) resolve(sessionGone(id));
    this.#pending.clear();
    await this.#inner.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const isAnswer = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    const id = isAnswer ? message.id : options?.relatedRequestId;
    const resolve = id === undefined ? undefined : this.#pending.get(id);
    if (resolve === undefined || id === undefined) return this.#inner.send(message, options);
    if (isAnswer) {
      this.#pending.delete(id);
      resolve(Response.json(message, { headers: this.#headers() }));
      return;
    }
    // A message about a request answered as JSON has no stream of its own: it goes where messages
    // unrelated to a request go (the standalone GET stream, and the event log), never dropped.
    return this.#inner.send(message);
  }

  /**
   * Hands one request to the server and resolves with its answer as one JSON body. The caller
   * has checked what the SDK's transport would (media types, the session id, the version).
   */
  answer(request: Request, message: JSONRPCRequest): Promise<Response> {
    if (this.#pending.has(message.id)) throw new Error(`request id ${String(message.id)} is already waiting for its answer`);
    return new Promise((resolve) => {
      this.#pending.set(message.id, resolve);
      this.onmessage?.(message, { request });
    });
  }

  /**
   * The server sends no answer to a request the client cancelled (MCP: cancellation), but its
   * HTTP request still needs one: 202 with no body, as for a message that needs no reply.
   */
  #onCancelled(message: JSONRPCMessage): void {
    if (!isJSONRPCNotification(message) || message.method !== 'notifications/cancelled') return;
    const id = (message.params as { requestId?: RequestId } | undefined)?.requestId;
    const resolve = id === undefined ? undefined : this.#pending.get(id);
    if (resolve === undefined || id === undefined) return;
    this.#pending.delete(id);
    resolve(new Response(null, { status: 202 }));
  }

  #headers(): Record<string, string> {
    const sid = this.#inner.sessionId;
    return sid === undefined ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'mcp-session-id': sid };
  }
}

/** The SDK transport's own answer to a request on a closed session. */
function sessionGone(id: RequestId): Response {
  return Response.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id }, { status: 404 });
}

/**
 * Whether the session answers this POST as JSON: a `tools/call` of a tool that never streams
 * (`streams`), asking for no progress and starting no task, with the headers the SDK's transport
 * accepts (anything else goes to it, and it answers). Other requests keep their event stream:
 * they are rare next to tool calls, and the conformance suite's checks of concurrent POST streams
 * (tools/list) keep something to check.
 */
export function answersPlain(request: Request, message: McpMessage | undefined, sessionId: string, streams: (tool: string) => boolean): message is Extract<McpMessage, { kind: 'tool_call' }> {
  if (message?.kind !== 'tool_call' || streams(message.name)) return false;
  const params = (message.raw as { params?: { _meta?: { progressToken?: unknown }; task?: unknown } }).params;
  if (params?._meta?.progressToken !== undefined || params?.task !== undefined) return false;
  const accept = request.headers.get('accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
  if (!isJsonContentType(request.headers.get('content-type'))) return false;
  if (request.headers.get('mcp-session-id') !== sessionId) return false;
  const version = request.headers.get('mcp-protocol-version');
  return version === null || SUPPORTED_PROTOCOL_VERSIONS.includes(version);
}
