/** Reads and checks a POST body for /mcp: media type, size, JSON, one JSON-RPC message. */
import { MAX_JSON_DEPTH, type GateErrorCode } from '../errors.ts';
import { classify, type McpMessage } from '../mcp/message.ts';

/** The largest POST body accepted, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A parsed message, or the gate error that refuses it. */
export type BodyResult = { ok: true; message: McpMessage } | { ok: false; code: GateErrorCode; detail?: string };

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
  if (declared > MAX_BODY_BYTES) {
    if (request.body) await discardRest(request.body.getReader() as ReadableStreamDefaultReader<Uint8Array>, MAX_DISCARD_BYTES);
    return { ok: false, code: 'body_too_large', detail: `limit ${MAX_BODY_BYTES} bytes` };
  }
  const text = request.headers.has('content-length') ? await readDeclared(request) : await readLimitedText(request.body, MAX_BODY_BYTES);
  if (text === null) return { ok: false, code: 'body_too_large', detail: `limit ${MAX_BODY_BYTES} bytes` };
  // Checked on the text, before JSON.parse: a deeply nested value would overflow the stack of
  // every recursive walk after it (schema checks, structured clone, the SDK, the audit).
  if (jsonDepth(text) > MAX_JSON_DEPTH) return { ok: false, code: 'nesting_too_deep', detail: `limit ${MAX_JSON_DEPTH}` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'parse_error' };
  }
  const classified = classify(raw);
  if (!classified.ok) return { ok: false, code: classified.reason };
  return { ok: true, message: classified.message };
}

/** The deepest nesting of `[` and `{` in JSON text (outside strings), found in one iterative pass. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/** How much of an oversized body is read and thrown away so the 413 reaches the client. */
export const MAX_DISCARD_BYTES = 32 * 1024 * 1024;

/**
 * Reads and drops the rest of a body, up to `max` bytes. A request body left half-read (or
 * cancelled) makes the runtime close the connection with unread data, which resets it: the
 * client then sees a cut connection or the dev server's 500 instead of the 413. Past `max`,
 * the connection is given up (cancelled).
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, max: number): Promise<void> {
  let dropped = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    dropped += value.byteLength;
    if (dropped > max) {
      await reader.cancel();
      return;
    }
  }
}

const decoder = new TextDecoder();

/**
 * Reads a body whose length the request declared (already checked to be at most
 * MAX_BODY_BYTES): the HTTP framing ends it there, so it is read in one native call instead of
 * chunk by chunk (issue 14: the chunk loop was about 8 % of a tool call's thread time). What
 * arrived is checked against the limit again, so nothing larger is accepted whatever the header said.
 */
async function readDeclared(request: Request): Promise<string | null> {
  const bytes = await request.arrayBuffer();
  if (bytes.byteLength > MAX_BODY_BYTES) return null;
  return decoder.decode(bytes);
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
      await discardRest(reader, MAX_DISCARD_BYTES);
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
  return decoder.decode(all);
}
