// Speaks MCP streamable HTTP to the Worker inside workerd, and reads SSE answers.
import { SELF } from 'cloudflare:test';
import { signIn, type FlowFetchers, type SignedIn } from './oauth-flow.ts';

/** Our server as SELF, the upstream provider over the network. */
export const FETCHERS: FlowFetchers = {
  server: (url, init) => SELF.fetch(url, init),
  idp: (url, init) => fetch(url, init),
};

/** The origin the Workers-runtime tests use. */
export const ORIGIN = 'http://localhost:8787';

let shared: Promise<SignedIn> | undefined;

/** A signed-in user's tokens (one real sign-in per test file, through the local OpenID provider). */
export function signedIn(): Promise<SignedIn> {
  shared ??= signIn(ORIGIN, FETCHERS);
  return shared;
}

/** Headers every well-formed MCP POST carries. */
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: 'localhost:8787' } as const;

/** The initialize request of a 2025-11-25 client. */
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'vitest', version: '1.0.0' } },
} as const;

/** Sends a request to the Worker's default export. */
export function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  return SELF.fetch(new Request(`http://localhost:8787${path}`, { ...init, headers: { host: 'localhost:8787', ...init.headers } }));
}

/** Headers with the shared user's bearer token, unless `headers` sets authorization itself ('' means none). */
export async function withAuth(headers: Record<string, string> = {}): Promise<Record<string, string>> {
  if ('authorization' in headers) {
    const { authorization, ...rest } = headers;
    return authorization === '' ? rest : headers;
  }
  return { authorization: `Bearer ${(await signedIn()).accessToken}`, ...headers };
}

/** POSTs one JSON-RPC message (or any body) to /mcp, signed in unless told otherwise. */
export async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call('/mcp', { method: 'POST', headers: await withAuth({ ...MCP_HEADERS, ...headers }), body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** One parsed SSE event. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Parses an SSE body into events. */
export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const field = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') event.data += value;
      }
      return event;
    });
}

/** The JSON-RPC messages in an SSE (or JSON) response body. */
export async function messages(response: Response): Promise<Array<Record<string, unknown>>> {
  const text = await response.text();
  if ((response.headers.get('content-type') ?? '').startsWith('application/json')) return [JSON.parse(text)];
  return parseSse(text)
    .filter((e) => e.data !== '')
    .map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

/** Starts a session; returns its id and the headers later requests need. */
export async function openSession(): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const response = await post(INITIALIZE);
  if (response.status !== 200) throw new Error(`initialize failed: ${response.status} ${await response.text()}`);
  const sessionId = response.headers.get('mcp-session-id');
  if (!sessionId) throw new Error('no session id');
  await response.text();
  const headers = await withAuth({ 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' });
  const ack = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  if (ack.status !== 202) throw new Error(`initialized notification failed: ${ack.status}`);
  return { sessionId, headers };
}

/** Calls a tool in a session and returns the JSON-RPC response message. */
export async function callTool(headers: Record<string, string>, name: string, args: Record<string, unknown>, id = 7): Promise<Record<string, unknown>> {
  const response = await post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, headers);
  const all = await messages(response);
  const reply = all.find((m) => m.id === id);
  if (!reply) throw new Error(`no reply to ${name}: ${JSON.stringify(all)}`);
  return reply;
}

/** The per-request `_meta` envelope of a 2026-07-28 client called `client` (MCP 2026-07-28 names the revision in every request). */
export function modernEnvelope(client: string, version = '2026-07-28'): Record<string, unknown> {
  return { 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientInfo': { name: client, version: '1.0.0' }, 'io.modelcontextprotocol/clientCapabilities': {} };
}

/** One stateless 2026-07-28 tools/call with its envelope and routing headers, as a bearer credential (token or API key): the raw response. */
export function statelessToolCall(credential: string, name: string, args: Record<string, unknown>, id: number, client = 'vitest-modern'): Promise<Response> {
  const body = { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: modernEnvelope(client) } };
  return post(body, { authorization: `Bearer ${credential}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name });
}

/** The `sub` claim of one of our access tokens: the user id the audit trail names. */
export function subjectOf(token: string): string {
  return (JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { sub: string }).sub;
}
