/** One typed JSON-RPC message: the gate classifies each POST body once into this closed union, which the router, the session and the audit use. */
import { ClientRequestSchema, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { RequestMetaSchema } from '../audit/emit.ts';
import { PrincipalSchema } from './principal.ts';

/** A JSON-RPC request id. */
export type RequestId = string | number;

/** The initialize request's params as stored (replayed to rebuild the server after eviction). */
export const InitializeParamsSchema = z.looseObject({
  protocolVersion: z.string(),
  capabilities: z.looseObject({}),
  clientInfo: z.looseObject({ name: z.string(), version: z.string() }),
});

/** Parsed initialize params. */
export type InitializeParams = z.infer<typeof InitializeParamsSchema>;

const IdSchema = z.union([z.string(), z.number()]);
/** The message as received, checked against the SDK's JSON-RPC schema (handed on to the SDK unchanged). */
const RawSchema = z.custom<JSONRPCMessage>((value) => JSONRPCMessageSchema.safeParse(value).success, 'a JSON-RPC 2.0 message');

/** Every kind of message a client may POST, as a closed union on `kind`. */
export const McpMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('initialize'), id: IdSchema, params: InitializeParamsSchema, raw: RawSchema }),
  z.object({ kind: z.literal('tool_call'), id: IdSchema, name: z.string(), arguments: z.record(z.string(), z.unknown()), raw: RawSchema }),
  z.object({ kind: z.literal('request'), id: IdSchema, method: z.string(), params: z.record(z.string(), z.unknown()).optional(), raw: RawSchema }),
  z.object({ kind: z.literal('notification'), method: z.string(), raw: RawSchema }),
  z.object({ kind: z.literal('response'), id: IdSchema, raw: RawSchema }),
  /** A request of a known method whose params do not fit: answered -32602 by the session, never given to the SDK. */
  z.object({ kind: z.literal('invalid_params'), id: IdSchema, method: z.string(), param: z.string(), detail: z.string(), params: z.record(z.string(), z.unknown()).optional() }),
]);

/** A classified message. */
export type McpMessage = z.infer<typeof McpMessageSchema>;

/** What the router tells the session about a request, besides the request itself (the session's `handle(request, ctx)` context). */
export const SessionCallSchema = z.object({
  sessionId: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  principal: PrincipalSchema,
  /** The classified JSON-RPC message of a POST (the router has read and checked the body). */
  message: McpMessageSchema.optional(),
  /** The RFC 9728 metadata URL, for a 401 when the grant turns out to be revoked. */
  resourceMetadata: z.string(),
  /** Request id, client address and user agent, for the audit trail. */
  meta: RequestMetaSchema.optional(),
});

/** A parsed session call. */
export type SessionCall = z.infer<typeof SessionCallSchema>;

/** Schemas of the requests the SDK knows, by method; their params are checked here so the SDK never sees bad ones. */
const KNOWN = new Map<string, z.ZodType>(ClientRequestSchema.options.map((option) => [option.shape.method.value, option as unknown as z.ZodType]));

/** The result of classifying a JSON value, or why it is not one JSON-RPC message. */
export type Classified = { ok: true; message: McpMessage } | { ok: false; reason: 'invalid_request' | 'batch_not_supported' };

/** Classifies a parsed JSON body; the one place that looks inside a client's message. */
export function classify(value: unknown): Classified {
  if (Array.isArray(value)) return { ok: false, reason: 'batch_not_supported' };
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: 'invalid_request' };
  const raw = parsed.data;
  if (!('method' in raw)) return { ok: true, message: { kind: 'response', id: raw.id ?? '', raw } };
  if (!('id' in raw)) return { ok: true, message: { kind: 'notification', method: raw.method, raw } };
  const id = raw.id;
  const schema = KNOWN.get(raw.method);
  if (schema) {
    const checked = schema.safeParse({ method: raw.method, params: raw.params });
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const param = issue && issue.path.length > 1 ? issue.path.slice(1).join('.') : 'params';
      // The params as sent go along only for the audit of a refused tools/call (sanitised there).
      return { ok: true, message: { kind: 'invalid_params', id, method: raw.method, param, detail: describe(issue), ...(raw.method === 'tools/call' && raw.params ? { params: raw.params } : {}) } };
    }
  }
  const params = raw.params ?? {};
  if (raw.method === 'initialize') {
    const init = InitializeParamsSchema.safeParse(params);
    if (!init.success) return { ok: true, message: { kind: 'invalid_params', id, method: raw.method, param: 'params', detail: 'initialize params are malformed' } };
    return { ok: true, message: { kind: 'initialize', id, params: init.data, raw } };
  }
  if (raw.method === 'tools/call') {
    const name = params.name;
    const args = params.arguments ?? {};
    // The SDK schema above has checked both; these guards only narrow the types.
    if (typeof name !== 'string' || typeof args !== 'object' || args === null || Array.isArray(args)) {
      return { ok: true, message: { kind: 'invalid_params', id, method: raw.method, param: typeof name !== 'string' ? 'name' : 'arguments', detail: 'is malformed', params } };
    }
    return { ok: true, message: { kind: 'tool_call', id, name, arguments: args as Record<string, unknown>, raw } };
  }
  return { ok: true, message: { kind: 'request', id, method: raw.method, ...(raw.params ? { params: raw.params } : {}), raw } };
}

function describe(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'is invalid';
  if (issue.code === 'invalid_type') return `must be ${issue.expected === 'record' ? 'an object' : `a ${issue.expected}`}`;
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map(String).join(', ')}`;
  return 'is invalid';
}

/** The request id of a request, or undefined for notifications and responses. */
export function requestIdOf(message: McpMessage | undefined): RequestId | undefined {
  if (!message) return undefined;
  return message.kind === 'notification' || message.kind === 'response' ? undefined : message.id;
}
