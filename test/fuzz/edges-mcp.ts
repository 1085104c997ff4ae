/** Fuzz edges of the /mcp gate: bodies, headers, forged access tokens, API key strings, and reused request ids. */
import fc from 'fast-check';
import { exchange, headerSafe, unchanged, type FuzzContext } from './context.ts';
import { mcpShape, no5xx, noLeak, rpcMessages } from './invariants.ts';
import { tally, type Probe, type Violation } from './runner.ts';

/** A signed-in caller and the session it opened (made by the test before fuzzing). */
export interface McpSetup {
  authorization: string;
  sessionId: string;
}

const TOOLS = ['list_tables', 'describe_table', 'find_customers', 'get_customer', 'list_customer_orders', 'list_open_tickets', 'sql_select', 'support_report'];
const METHODS = ['ping', 'initialize', 'tools/list', 'tools/call', 'resources/list', 'resources/read', 'prompts/list', 'prompts/get', 'logging/setLevel', 'completion/complete', 'notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'server/discover', 'tasks/get'];
const VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2026-07-28', '', '1.0', '2025-11-25, 2025-06-18'];

/** A JSON value with prototype-ish keys and odd numbers mixed in. */
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ __proto__: { admin: true } }, { constructor: { prototype: {} } }, -0, 1e308, Number.MAX_SAFE_INTEGER + 2, '', '\u0000', '\ud800', [], {}) },
);

const id = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.double(), fc.constant({}), fc.constant([1]), fc.boolean());

/** tools/call params: real and unknown names, every kind of arguments. */
const toolParams = fc.record(
  {
    name: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TOOLS) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: jsonish }),
    arguments: fc.oneof(fc.dictionary(fc.constantFrom('table', 'id', 'customer_id', 'query', 'name', 'sql', 'limit', 'status', 'x'), jsonish, { maxKeys: 4 }), jsonish),
    _meta: fc.dictionary(fc.string({ maxLength: 10 }), jsonish, { maxKeys: 3 }),
  },
  { requiredKeys: [] },
);

/** A JSON-RPC-shaped message, most of them almost right. */
const message = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: jsonish }),
    id,
    method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: jsonish }),
    params: fc.oneof({ weight: 3, arbitrary: toolParams }, { weight: 1, arbitrary: jsonish }, { weight: 1, arbitrary: fc.record({ level: fc.oneof(fc.constantFrom('debug', 'info', 'emergency'), fc.string({ maxLength: 10 })), cursor: jsonish, uri: jsonish }, { requiredKeys: [] }) }),
    result: jsonish,
    error: jsonish,
  },
  { requiredKeys: ['jsonrpc', 'method'] },
);

/** JSON nested `depth` levels deep, inside a tools/call's arguments or params._meta. */
export function deepBody(depth: number, where: 'arguments' | '_meta', open = '[', close = ']'): string {
  const nest = `${open.repeat(depth)}${close.repeat(depth)}`;
  const params = where === 'arguments' ? `{"name":"list_tables","arguments":{"a":${nest}}}` : `{"name":"list_tables","arguments":{},"_meta":{"a":${nest}}}`;
  return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${params}}`;
}

/** One /mcp POST body: JSON-RPC messages, raw text, deep nesting, broken JSON. */
export const mcpBody = fc.oneof(
  { weight: 8, arbitrary: message.map((m) => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  { weight: 1, arbitrary: fc.tuple(message.map((m) => JSON.stringify(m)), fc.nat(), fc.string({ maxLength: 3 })).map(([t, at, junk]) => t.slice(0, at % (t.length + 1)) + junk + t.slice(at % (t.length + 1))) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom<'arguments' | '_meta'>('arguments', '_meta'), fc.boolean()).map(([d, w, o]) => (o ? deepBody(d, w) : deepBody(d, w, '{"a":', '}').replace('{"a":}', '{}'))) },
  { weight: 1, arbitrary: fc.array(message, { maxLength: 3 }).map((ms) => JSON.stringify(ms)) },
);

/** The input of the body edge: a body, sent inside the open session or without one. */
export interface BodyInput {
  inSession: boolean;
  body: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What the MCP 2025-11-25 spec requires for a well-formed tools/call with bad params: -32602, not a tool result. */
function expectedInvalidParams(body: string): string | null {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    return null;
  }
  if (!isRecord(m) || m.jsonrpc !== '2.0' || m.method !== 'tools/call' || !(typeof m.id === 'string' || (typeof m.id === 'number' && Number.isInteger(m.id)))) return null;
  const p = m.params;
  if (!isRecord(p)) return null;
  if (typeof p.name !== 'string') return 'name is not a string';
  if (!TOOLS.includes(p.name)) return 'unknown tool';
  if ('arguments' in p && !isRecord(p.arguments)) return 'arguments is not an object';
  return null;
}

function mcpHeaders(ctx: FuzzContext, setup: McpSetup, extra: Record<string, string> = {}): Headers {
  return new Headers({ host: new URL(ctx.origin).host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: setup.authorization, ...extra });
}

/** Edge `mcp-body`: no 5xx, no leak, typed JSON-RPC errors (no -32603, no validator dumps), -32602 for bad tools/call params, no session made by a refusal. */
export function mcpBodyProbe(ctx: FuzzContext, setup: McpSetup): Probe<BodyInput> {
  return async ({ inSession, body }) => {
    const before = await ctx.snapshot(['sessions']);
    const headers = mcpHeaders(ctx, setup, inSession ? { 'mcp-session-id': setup.sessionId, 'mcp-protocol-version': '2025-11-25' } : {});
    const result = await exchange(ctx, new Request(`${ctx.origin}/mcp`, { method: 'POST', headers, body }), body);
    const out: Violation[] = [...result.violations];
    if (result.seen) {
      out.push(...mcpShape(result.seen));
      const expected = expectedInvalidParams(body);
      if (expected && result.seen.status === 200) {
        const reply = rpcMessages(result.seen).find((m) => isRecord(m) && ('result' in m || 'error' in m));
        const code = isRecord(reply) && isRecord(reply.error) ? reply.error.code : undefined;
        if (code !== -32602) out.push({ invariant: 'tools/call with bad params answers -32602', detail: `${expected}: got ${code === undefined ? 'a tool result' : JSON.stringify(code)}` });
      }
      const made = result.seen.status === 200 && result.seen.headers.get('mcp-session-id') && !inSession ? 1 : 0;
      out.push(...unchanged(before, await ctx.snapshot(['sessions']), { sessions: made }));
    }
    return out;
  };
}

/** The input of the header edge. */
export interface HeaderInput {
  method: string;
  headers: Array<[string, string]>;
  body: string | null;
}

/** Edge `mcp-headers`: every method and header combination is refused with the gate's typed errors, never makes a session when refused. */
export function mcpHeaderArbitrary(setup: McpSetup, origin: string): fc.Arbitrary<HeaderInput> {
  const host = new URL(origin).host;
  const printable = fc.string({ maxLength: 60 }).map(headerSafe);
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
  return fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'),
      contentType: opt(fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-rpc', ''), printable)),
      accept: opt(fc.oneof(fc.constantFrom('application/json, text/event-stream', 'application/json', 'text/event-stream', '*/*', 'text/html'), printable)),
      version: opt(fc.oneof(fc.constantFrom(...VERSIONS), printable)),
      session: opt(fc.oneof(fc.constant(setup.sessionId), fc.constant(`${setup.sessionId}x`), fc.constant(setup.sessionId.slice(0, -1)), fc.constant(setup.sessionId.toUpperCase()), printable)),
      origin: fc.option(fc.oneof({ weight: 3, arbitrary: fc.constant(origin) }, { weight: 2, arbitrary: fc.constantFrom('http://evil.example', 'null', `${origin}.evil.example`, 'file://', '') }, { weight: 1, arbitrary: printable }), { nil: undefined, freq: 2 }),
      host: fc.oneof({ weight: 8, arbitrary: fc.constant(host) }, { weight: 2, arbitrary: fc.constantFrom(undefined, 'evil.example', 'localhost', '127.0.0.1:1', '[::1]:8787', `${host}:1`, `${host}@evil.example`, '') }, { weight: 1, arbitrary: printable }),
      authorization: opt(fc.oneof(fc.constant(setup.authorization), fc.constant(`${setup.authorization}x`), fc.constant(setup.authorization.toLowerCase()), fc.constant(`Basic ${btoa('a:b')}`), printable.map((s) => `Bearer ${s}`), printable)),
      lastEventId: opt(printable),
      body: fc.oneof(fc.constant(null), fc.constantFrom('{"jsonrpc":"2.0","id":1,"method":"ping"}', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } })), fc.string({ maxLength: 40 })),
    })
    .map((r) => {
      const headers: Array<[string, string]> = [];
      const add = (name: string, value: string | undefined) => value !== undefined && headers.push([name, value]);
      add('content-type', r.contentType);
      add('accept', r.accept);
      add('mcp-protocol-version', r.version);
      add('mcp-session-id', r.session);
      add('origin', r.origin);
      add('host', r.host);
      add('authorization', r.authorization);
      add('last-event-id', r.lastEventId);
      return { method: r.method, headers, body: r.method === 'GET' || r.method === 'OPTIONS' ? null : r.body };
    });
}

/** Probe of `mcp-headers`. GET streams are cut after the headers (their body never ends). */
export function mcpHeaderProbe(ctx: FuzzContext): Probe<HeaderInput> {
  return async ({ method, headers, body }) => {
    const before = await ctx.snapshot(['sessions']);
    const h = new Headers();
    for (const [k, v] of headers) h.set(k, v);
    const controller = new AbortController();
    let response: Response;
    try {
      response = await ctx.fetch(new Request(`${ctx.origin}/mcp`, { method, headers: h, body, signal: controller.signal }));
      tally(response.status);
    } catch (error) {
      tally('no answer');
      return [{ invariant: 'the server answers', detail: String(error).slice(0, 200) }];
    }
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream') && method === 'GET') {
      controller.abort();
      await response.body?.cancel().catch(() => undefined);
      return response.status >= 500 ? [{ invariant: 'never a 5xx', detail: String(response.status) }] : [];
    }
    const sent = JSON.stringify(headers) + (body ?? '');
    const seen = { status: response.status, headers: response.headers, text: await response.text() };
    const out: Violation[] = [...no5xx(seen), ...noLeak(seen, sent, ctx.secrets), ...mcpShape(seen)];
    const made = seen.status === 200 && seen.headers.get('mcp-session-id') && body?.includes('"initialize"') ? 1 : 0;
    out.push(...unchanged(before, await ctx.snapshot(['sessions']), { sessions: made }));
    return out;
  };
}
