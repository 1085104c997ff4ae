/** Reads and checks a POST body for /mcp: media type, size, JSON, one JSON-RPC message. */
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { GateErrorCode } from '../errors.ts';

/** The largest POST body accepted, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A parsed message, or the gate error that refuses it. */
export type BodyResult = { ok: true; message: JSONRPCMessage } | { ok: false; code: GateErrorCode; detail?: string };

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | null): string | null {
  if (!contentType) return null;
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase();
  return type ? type : null;
}

/** Reads at most MAX_BODY_BYTES and parses one JSON-RPC message; batches are refused. */
export async function readMessage(request: Request): Promise<BodyResult> {
  if (mediaType(request.headers.get('content-type')) !== 'application/json') return { ok: false, code: 'unsupported_media_type' };
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) return { ok: false, code: 'body_too_large', detail: `limit ${MAX_BODY_BYTES} bytes` };
  const text = await readLimitedText(request.body, MAX_BODY_BYTES);
  if (text === null) return { ok: false, code: 'body_too_large', detail: `limit ${MAX_BODY_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'parse_error' };
  }
  if (Array.isArray(raw)) return { ok: false, code: 'batch_not_supported' };
  const parsed = JSONRPCMessageSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, code: 'invalid_request' };
  return { ok: true, message: parsed.data };
}

/** Reads a body as UTF-8 text, or null as soon as it passes `limit` bytes (the rest is never read). */
export async function readLimitedText(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string | null> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}
